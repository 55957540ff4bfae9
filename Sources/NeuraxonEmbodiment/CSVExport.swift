import Neuraxon
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Exports the per-tick columns of a recording as CSV (one header row, one row per tick).
///
/// Columns: tick, t_us, seq, host_ns, sent_ns, steps, raw_<sensor>…, value_<encoder>…,
/// in_<k>…, out_<k>…, set_<actuator>…, the four neuromodulator levels, then the counters.
/// A value that could not be computed is an empty cell.
public enum RecordingCSV {
    /// The header row's column names for a recording with `header`.
    public static func columns(_ header: RecordingHeader) -> [String] {
        ["tick", "t_us", "seq", "host_ns", "sent_ns", "steps"]
            + header.device.sensors.map { "raw_\($0.name)" }
            + header.valueNames.map { "value_\($0)" }
            + (0..<header.inputCount).map { "in_\($0)" }
            + (0..<header.outputCount).map { "out_\($0)" }
            + header.device.actuators.map { "set_\($0.name)" }
            + Neuromodulator.allCases.map(\.rawValue)
            + ["overruns", "late", "reading_errors", "clock_resets", "dropped", "record_drops"]
    }

    /// Writes the CSV of every tick `reader` yields to the file descriptor `fd`.
    /// - Returns: the number of rows written, and where reading stopped.
    public static func export(_ reader: RecordingReader, to fd: Int32) throws(RecordingError) -> (rows: Int, stop: ReadStop) {
        var out = JSONOutput()
        out.bytes.append(contentsOf: columns(reader.header).joined(separator: ",").utf8)
        out.bytes.append(0x0a)
        var rows = 0
        let sensors = reader.header.device.sensors.count, actuators = reader.header.device.actuators.count
        while let t = reader.nextTick() {
            out.int(t.tick); comma(&out); out.int(t.timestampMicros); comma(&out); out.int(t.sequence); comma(&out)
            out.int(t.hostReceiveNanos); comma(&out); out.int(t.hostSendNanos); comma(&out); out.int(t.steps)
            for k in 0..<sensors { comma(&out); if k < t.raw.count { out.int(t.raw[k]) } }
            for v in t.values { comma(&out); if v.isFinite { out.double(v) } }
            for v in t.inputs { comma(&out); out.int(v.rawValue) }
            for v in t.outputs { comma(&out); out.int(v.rawValue) }
            for k in 0..<actuators { comma(&out); if k < t.setpoints.count { out.int(t.setpoints[k]) } }
            for v in t.modulators { comma(&out); if v.isFinite { out.double(v) } }
            let c = t.counters
            for v in [c.overruns, c.lateTicks, c.readingErrors, c.clockResets, c.droppedFrames, c.recordDrops] {
                comma(&out); out.int(v)
            }
            out.bytes.append(0x0a)
            rows += 1
            if out.bytes.count > 1 << 20 { try flush(&out, fd, reader.path) }
        }
        try flush(&out, fd, reader.path)
        return (rows, reader.stop ?? .complete)
    }

    private static func comma(_ out: inout JSONOutput) { out.bytes.append(UInt8(ascii: ",")) }

    private static func flush(_ out: inout JSONOutput, _ fd: Int32, _ path: String) throws(RecordingError) {
        var offset = 0
        while offset < out.bytes.count {
            let n = out.bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw RecordingError(path: path, "writing the CSV failed (\(String(cString: strerror(errno))))")
            }
            offset += n
        }
        out.bytes.removeAll(keepingCapacity: true)
    }
}
