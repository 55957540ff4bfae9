import Foundation
import Neuraxon
@testable import NeuraxonEmbodiment
import NeuraxonSimulation
import Testing
#if canImport(CAllocationCounter)
import CAllocationCounter
#endif

/// Runs `script` with python3 on `arguments` and returns its standard output (and error).
private func runPython(_ script: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script] + arguments
    let out = Pipe()
    process.standardOutput = out
    process.standardError = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Parses an HTML report as XML with Python's ElementTree (an independent parser) and prints
/// what it holds as JSON: the plots, the path's points, the contacts, every external reference.
private let reportCheckScript = #"""
import json, sys, re
import xml.etree.ElementTree as ET
text = open(sys.argv[1], encoding="utf-8").read()
root = ET.fromstring(text.replace("<!DOCTYPE html>", "", 1))
plots, series, rasters = [], {}, []
for fig in root.iter("figure"):
    pid = fig.get("data-plot")
    if fig.get("class") == "plot":
        plots.append(pid)
        series[pid] = [len(p.get("points").split()) for p in fig.iter("polyline")]
    else:
        rasters.append({"id": pid, "rows": int(fig.get("data-rows")), "columns": int(fig.get("data-columns"))})
world = [s for s in root.iter("svg") if s.get("id") == "world"]
segments = [p.get("points").split() for p in world[0].iter("polyline")] if world else []
path_points = sum(len(s) for s in segments) - max(0, len(segments) - 1)
contacts = len([c for c in world[0].iter("circle") if c.get("class") == "contact"]) if world else 0
refs = []
for e in root.iter():
    for k, v in e.attrib.items():
        if k in ("href", "src", "xlink:href") and not v.startswith("data:image/png;base64,"):
            refs.append(v)
summary = {r[0].text: r[1].text for r in next(t for t in root.iter("table") if t.get("id") == "summary")}
print(json.dumps({"plots": plots, "series": series, "rasters": rasters, "world": bool(world), "path_points": path_points,
                  "contacts": contacts, "refs": refs, "scripts": len(list(root.iter("script"))),
                  "http": "http:" in text or "https:" in text, "summary": summary,
                  "obstacles": len([e for e in root.iter() if (e.get("class") or "").startswith("obstacle")]),
                  "lights": len([e for e in root.iter() if e.get("class") == "light"])}))
"""#

/// Checks a PNG file with Python: signature, chunk CRCs, IHDR, and the zlib data decoded.
private let pngCheckScript = #"""
import sys, struct, zlib, json
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "signature"
pos, chunks, idat = 8, [], b""
while pos < len(data):
    (n,) = struct.unpack(">I", data[pos:pos+4]); kind = data[pos+4:pos+8]; body = data[pos+8:pos+8+n]
    (crc,) = struct.unpack(">I", data[pos+8+n:pos+12+n])
    assert zlib.crc32(kind + body) & 0xffffffff == crc, "CRC of %s" % kind
    chunks.append(kind.decode()); pos += 12 + n
    if kind == b"IHDR": w, h, depth, color, comp, filt, inter = struct.unpack(">IIBBBBB", body)
    if kind == b"IDAT": idat += body
raw = zlib.decompress(idat)
assert len(raw) == (w * 3 + 1) * h, "decoded size"
assert all(raw[y * (w * 3 + 1)] == 0 for y in range(h)), "filter bytes"
print(json.dumps({"width": w, "height": h, "depth": depth, "color": color, "chunks": chunks, "decoded": len(raw)}))
"""#

@Suite(.serialized) struct ReportTests {
    /// A simulated run of `seconds` in the obstacle world with the avoid preset, recorded.
    static func simulatedRecording(in folder: TemporaryFolder, seconds: Double, neurons: Bool = false, name: String = "run.jsonl")
        throws -> (path: String, network: NeuraxonNetwork, ticks: Int) {
        let world = try World.named("obstacles")
        let network = try RobotPreset.avoid.network(seed: 3)
        let robot = try SimulatedRobot(world: world, seed: 3, start: 0)
        let mapping = try RobotPreset.avoid.mapping(device: DeviceInfo(simulated: robot))
        var header = RecordingHeader(mapping: mapping, network: NetworkIdentity(seed: 3), dtMillis: network.dt)
        header.world = world.worldFileText()
        let path = folder.file(name)
        let recorder = try Recorder(path: path, header: header, waitWhenFull: true)
        if neurons { recorder.recordNeurons(of: network) }
        let outcome = try SimulationRun.run(robot: robot, network: network, mapping: mapping, durationSeconds: seconds, recorder: recorder)
        #expect(outcome.endReason == .durationReached)
        return (path, network, outcome.counters.ticks)
    }

    static func check(html path: String) throws -> [String: Any] {
        let result = try runPython(reportCheckScript, [path])
        #expect(result.status == 0, "\(result.output)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any], "\(result.output)")
    }

    @Test("--record-neurons: every tick holds every neuron's state, the last tick the network's final states; a file without them reads as before")
    func neuronStatesAreRecorded() throws {
        let folder = TemporaryFolder()
        let (path, network, ticks) = try Self.simulatedRecording(in: folder, seconds: 2, neurons: true)
        let reader = try RecordingReader(path: path)
        var read = 0
        var last: TickRecord?
        var changed = false
        while let t = reader.nextTick() {
            #expect(t.neurons?.count == network.neuronCount)
            if let previous = last?.neurons, previous != t.neurons { changed = true }
            last = t
            read += 1
        }
        #expect(reader.stop == .complete)
        #expect(read == ticks)
        #expect(last?.neurons == network.states(), "the last tick holds the states the run ended with")
        #expect(changed, "the states change over the run")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let second = text.split(separator: "\n")[1]
        #expect(second.contains(",\"neurons\":\""), "\(second.prefix(400))")

        let (plain, _, _) = try Self.simulatedRecording(in: folder, seconds: 0.5, name: "plain.jsonl")
        let old = try RecordingReader(path: plain)
        var plainTicks = 0
        while let t = old.nextTick() { #expect(t.neurons == nil); plainTicks += 1 }
        #expect(old.stop == .complete && plainTicks > 90)
    }

    @Test("a neuron state other than -, 0 or + stops reading there, saying so")
    func badNeuronStatesAreReported() throws {
        let folder = TemporaryFolder()
        let (path, _, _) = try Self.simulatedRecording(in: folder, seconds: 0.2, neurons: true)
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines[5] = lines[5].replacingOccurrences(of: ",\"neurons\":\"", with: ",\"neurons\":\"x")
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let reader = try RecordingReader(path: path)
        var n = 0
        while reader.nextTick() != nil { n += 1 }
        #expect(n == 4)
        guard case let .damaged(line, _, reason) = reader.stop else { Issue.record("\(String(describing: reader.stop))"); return }
        #expect(line == 6)
        #expect(reason.contains("`neurons` holds `x`; each neuron is `-`, `0` or `+`"), "\(reason)")
    }

    #if canImport(CAllocationCounter)
    @Test("handing a tick with every neuron's state to the recorder allocates nothing on the tick thread")
    func neuronRecordingAllocatesNothing() throws {
        let folder = TemporaryFolder()
        let network = try RobotPreset.avoid.network(seed: 3)
        let mapping = try Mapping(yaml: RobotPreset.avoid.mappingYAML, device: .referenceRobot, inputCount: network.inputCount, outputCount: network.outputCount)
        let recorder = try Recorder(path: folder.file("run.jsonl"), header: RecordingHeader(mapping: mapping, network: NetworkIdentity(), dtMillis: network.dt),
                                    waitWhenFull: true)
        recorder.recordNeurons(of: network)
        let core = try ControlCore(mapping: mapping, network: network)
        var frame = SensorFrame(channelCount: 7)
        for i in 0..<100 {
            frame.readings = sweepReadings(i); frame.count = 7; frame.timestampMicros = UInt64(i) * 5000
            core.process(frame)
            recorder.record(core, frame: frame, sentNanos: 0)
        }
        nx_alloc_counter_start()
        for _ in 0..<1000 { recorder.record(core, frame: frame, sentNanos: 0) }
        let allocations = nx_alloc_counter_stop()
        try recorder.finish()
        #expect(allocations == 0)
    }
    #endif

    @Test("down-sampling: groups of the smallest power of two that fits maxPoints; the path keeps one pose per group")
    func downSamplingFollowsItsRule() throws {
        let folder = TemporaryFolder()
        let (path, _, ticks) = try Self.simulatedRecording(in: folder, seconds: 10)
        #expect(ticks > 1900)
        for maxPoints in [4096, 2048, 1000, 256, 100, 7] {
            let data = try ReportData(path: path, maxPoints: maxPoints)
            let expected = ReportData.groups(ticks: ticks, maxPoints: maxPoints)
            #expect(data.ticks == ticks && data.poses == ticks)
            #expect(data.groupSize == expected.groupSize, "maxPoints \(maxPoints)")
            #expect(data.groupSeconds.count == expected.groups && data.path.count == expected.groups, "maxPoints \(maxPoints)")
            #expect(data.raw.allSatisfy { $0.mean.count == expected.groups })
            #expect(data.inputs.groups == expected.groups)
            #expect(expected.groups <= maxPoints && (expected.groupSize == 1 || (ticks + expected.groupSize / 2 - 1) / (expected.groupSize / 2) > maxPoints))
        }
        // Every tick kept: the path is every pose, and the means are the readings themselves.
        let full = try ReportData(path: path, maxPoints: 4096)
        let reader = try RecordingReader(path: path)
        var k = 0
        while let t = reader.nextTick() {
            #expect(full.path[k].x == t.pose!.x && full.path[k].y == t.pose!.y)
            #expect(full.raw[0].mean[k] == Double(t.raw[0]))
            k += 1
        }
        // Grouped: a group's band holds its mean, and the mean of group 0 is that of its ticks.
        let grouped = try ReportData(path: path, maxPoints: 100)
        let first = try RecordingReader(path: path)
        var sum = 0.0
        for _ in 0..<grouped.groupSize { sum += Double(first.nextTick()!.raw[0]) }
        #expect(abs(grouped.raw[0].mean[0] - sum / Double(grouped.groupSize)) < 1e-9)
        for s in grouped.raw { for g in s.mean.indices where s.mean[g].isFinite { #expect(s.minimum[g] <= s.mean[g] + 1e-9 && s.mean[g] <= s.maximum[g] + 1e-9) } }
    }

    @Test("the HTML report of a simulated run is well-formed, self-contained, and holds the world, the path, one plot per channel and the metrics")
    func simulatedReport() throws {
        let folder = TemporaryFolder()
        let (path, network, ticks) = try Self.simulatedRecording(in: folder, seconds: 12, neurons: true)
        try Data(#"{"collisions": 3, "coverage": 0.25, "world": "obstacles", "nested": {"a": true}}"#.utf8).write(to: URL(fileURLWithPath: path + ".metrics.json"))
        let data = try ReportData(path: path, maxPoints: 512)
        let html = ReportHTML.render(data, title: "run.jsonl", metrics: try ReportMetrics.rows(besideRecording: path))
        let out = folder.file("run.html")
        try html.write(toFile: out, atomically: true, encoding: .utf8)
        let r = try Self.check(html: out)
        let h = data.header
        let expectedPlots = h.device.sensors.indices.map { "raw-\($0)-\(h.device.sensors[$0].name)" }
            + h.valueNames.indices.map { "value-\($0)-\(h.valueNames[$0])" }
            + h.device.actuators.indices.map { "setpoint-\($0)-\(h.device.actuators[$0].name)" } + ["neuromodulators", "latency"]
        #expect(r["plots"] as? [String] == expectedPlots)
        let groups = ReportData.groups(ticks: ticks, maxPoints: 512)
        #expect(r["path_points"] as? Int == groups.groups, "the path's points: one per group of \(groups.groupSize) ticks")
        #expect(r["world"] as? Bool == true)
        let world = try World.named("obstacles")
        #expect(r["obstacles"] as? Int == world.obstacles.count)
        #expect(r["lights"] as? Int == world.lights.count)
        #expect(r["contacts"] as? Int == data.contacts.count)
        #expect((r["refs"] as? [Any])?.isEmpty == true, "\(r["refs"] ?? "")")
        #expect(r["scripts"] as? Int == 0)
        #expect(r["http"] as? Bool == false)
        let rasters = try #require(r["rasters"] as? [[String: Any]])
        #expect(rasters.map { $0["id"] as? String } == ["trits", "neurons"])
        #expect(rasters.map { $0["rows"] as? Int } == [h.inputCount + h.outputCount, network.neuronCount])
        #expect(rasters.allSatisfy { $0["columns"] as? Int == groups.groups })
        let summary = try #require(r["summary"] as? [String: String])
        #expect(summary["ticks"] == "\(ticks)")
        #expect(summary["world"] == "obstacles")
        #expect(summary["neuron states"] == "recorded (\(network.neuronCount) neurons)")
        #expect(html.contains("<th>collisions</th><td>3</td>") && html.contains("<th>coverage</th><td>0.25</td>") && html.contains("<th>nested.a</th><td>true</td>"))
        let series = try #require(r["series"] as? [String: [Int]])
        #expect(series["neuromodulators"]?.count == 4)
    }

    @Test("hostile channel and network names are escaped: the page stays well-formed and gains no element")
    func hostileNamesAreEscaped() throws {
        let folder = TemporaryFolder()
        let (path, _, _) = try Self.simulatedRecording(in: folder, seconds: 0.5)
        var lines = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n")
        var header = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        let hostile = "</svg><script>alert(\"x\")</script>&amp;'\u{1}"
        var device = header["device"] as! [String: Any]
        var sensors = device["sensors"] as! [[String: Any]]
        sensors[0]["name"] = hostile
        device["sensors"] = sensors
        device["name"] = hostile
        header["device"] = device
        var names = header["value_names"] as! [String]
        names[0] = hostile
        header["value_names"] = names
        var net = header["network"] as! [String: Any]
        net["path"] = "<img src=x onerror=alert(1)>.json"
        header["network"] = net
        lines[0] = String(decoding: try JSONSerialization.data(withJSONObject: header), as: UTF8.self)
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let data = try ReportData(path: path)
        #expect(data.raw[0].name == hostile)
        let out = folder.file("hostile.html")
        try ReportHTML.render(data, title: "<title>").write(toFile: out, atomically: true, encoding: .utf8)
        let r = try Self.check(html: out)
        #expect(r["scripts"] as? Int == 0)
        #expect((r["refs"] as? [Any])?.isEmpty == true)
        let html = try String(contentsOfFile: out, encoding: .utf8)
        #expect(!html.contains("<script") && !html.contains("<img") && !html.contains("<b>"))
        #expect(html.contains("&lt;/svg&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;amp;&#39;\u{fffd}"))
        #expect((r["plots"] as? [String])?.first == "raw-0-__svg__script_alert__x____script__amp___")
    }

    @Test("an MCAP recording gives the same report data as the JSON Lines it was exported from: world, path, every plot")
    func mcapRecordingReport() throws {
        let folder = TemporaryFolder()
        let (path, _, ticks) = try Self.simulatedRecording(in: folder, seconds: 3)
        let mcap = folder.file("run.mcap")
        _ = try RecordingMCAP.export(try RecordingReader(path: path), to: mcap)
        let a = try ReportData(path: path, maxPoints: 256)
        let b = try ReportData(path: mcap, maxPoints: 256)
        #expect(b.ticks == ticks && b.stop == .complete)
        #expect(b.world == a.world && b.world != nil)
        #expect(b.path == a.path && b.path.count == ReportData.groups(ticks: ticks, maxPoints: 256).groups)
        #expect(zip(a.raw, b.raw).allSatisfy { $0.mean == $1.mean })
        #expect(zip(a.setpoints, b.setpoints).allSatisfy { $0.mean == $1.mean })
        #expect(zip(a.modulators, b.modulators).allSatisfy { $0.mean == $1.mean })
    }

    @Test("a recording cut mid-line gives a report of what could be read, saying where reading stopped")
    func cutRecording() throws {
        let folder = TemporaryFolder()
        let (path, _, ticks) = try Self.simulatedRecording(in: folder, seconds: 2)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let text = String(decoding: bytes, as: UTF8.self)
        let lineStarts = text.utf8.indices.filter { text.utf8[$0] == 0x0a }.map { text.utf8.distance(from: text.utf8.startIndex, to: $0) + 1 }
        let cut = lineStarts[200] + 40   // 40 bytes into line 202 (tick 200)
        try bytes.prefix(cut).write(to: URL(fileURLWithPath: path))
        let data = try ReportData(path: path)
        #expect(data.ticks == 200)
        #expect(data.recordedTicks == nil && ticks > 200)
        let html = ReportHTML.render(data, title: "run.jsonl")
        #expect(html.contains("id=\"read-stop\""))
        #expect(ReportHTML.stopText(data).contains("stopped at line 202 (byte \(lineStarts[200])): the last line is cut short"), "\(ReportHTML.stopText(data))")
        #expect(ReportHTML.stopText(data).contains("the report shows the 200 ticks before it"))
        let out = folder.file("cut.html")
        try html.write(toFile: out, atomically: true, encoding: .utf8)
        _ = try Self.check(html: out)
    }

    @Test("a run on a robot (no world, no pose) gives a report without the path and with every plot")
    func robotRecordingReport() throws {
        let folder = TemporaryFolder()
        let network = ProbeNetwork()
        let path = folder.file("robot.jsonl")
        let recorder = try Recorder(path: path, header: RecordingHeader(mapping: referenceMapping, network: NetworkIdentity(), dtMillis: network.dt))
        let core = try ControlCore(mapping: referenceMapping, network: network)
        let body = ScriptedBody(count: 600, periodMicros: 5000, readings: sweepReadings)
        var frame = SensorFrame(channelCount: 7)
        while body.nextFrame(into: &frame, timeoutMicros: 1000) == .frame {
            core.process(frame)
            recorder.record(core, frame: frame, sentNanos: frame.hostReceiveNanos + 150_000)
        }
        try recorder.finish()
        let data = try ReportData(path: path)
        #expect(data.ticks == 600 && data.world == nil && data.path.isEmpty)
        #expect(data.contactCount == 2, "the bumper is pressed for 15 of every 300 frames")
        #expect(abs(data.latencyP50Micros - 150) <= 1)
        let out = folder.file("robot.html")
        try ReportHTML.render(data, title: "robot.jsonl").write(toFile: out, atomically: true, encoding: .utf8)
        let r = try Self.check(html: out)
        #expect(r["world"] as? Bool == false)
        let plotCount: Int = 7 + 5 + 3 + 2   // raw channels, calibrated values, setpoints, neuromodulators and latency
        #expect((r["plots"] as? [String])?.count == plotCount)
        #expect((r["series"] as? [String: [Int]])?["latency"] == [600])
    }

    @Test("the PNG images decode (signature, CRCs, IHDR, zlib data) at the sizes given, and the encoder's data equals its pixels")
    func pngImagesDecode() throws {
        let folder = TemporaryFolder()
        let (path, _, _) = try Self.simulatedRecording(in: folder, seconds: 3, neurons: true)
        let data = try ReportData(path: path, maxPoints: 256)
        let images = ReportPNG.images(data)
        try ReportPNG.write(images, to: folder.file("figures"))
        #expect(images.map(\.fileName).first == "path.png")
        #expect(images.contains { $0.fileName == "neurons.png" } && images.contains { $0.fileName == "trits.png" })
        #expect(images.count == 1 + ReportPlots(data).timePlots.count + 2)
        for image in images {
            let result = try runPython(pngCheckScript, [folder.file("figures/" + image.fileName)])
            #expect(result.status == 0, "\(image.fileName): \(result.output)")
            let r = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
            #expect(r["width"] as? Int == image.width && r["height"] as? Int == image.height, "\(image.fileName)")
            #expect(r["depth"] as? Int == 8 && r["color"] as? Int == 2)
            #expect(r["chunks"] as? [String] == ["IHDR", "IDAT", "IEND"])
        }
        #expect(ReportPNG.plotWidth == 1200 && images[1].width == 1200 && images[1].height == 300)
        let index = try String(contentsOfFile: folder.file("figures/index.txt"), encoding: .utf8)
        #expect(index.split(separator: "\n").count == images.count)

        // Pixels survive the round trip through Python's zlib exactly.
        var image = PNGImage(width: 37, height: 11)
        for x in 0..<37 { for y in 0..<11 where (x * y) % 5 == 0 { image.set(x, y, PNGImage.Color(UInt8(x * 7), UInt8(y * 20), 99)) } }
        let file = folder.file("small.png")
        try Data(image.pngData()).write(to: URL(fileURLWithPath: file))
        let round = try runPython(#"""
import sys, struct, zlib
d = open(sys.argv[1], "rb").read(); pos = 8; idat = b""
while pos < len(d):
    (n,) = struct.unpack(">I", d[pos:pos+4]); k = d[pos+4:pos+8]
    if k == b"IDAT": idat += d[pos+8:pos+8+n]
    pos += 12 + n
raw = zlib.decompress(idat); w = 37
print("".join("%02x" % b for y in range(11) for b in raw[y*(w*3+1)+1:(y+1)*(w*3+1)]))
"""#, [file])
        #expect(round.output.trimmingCharacters(in: .whitespacesAndNewlines) == image.pixels.map { String(format: "%02x", $0) }.joined())
    }

    @Test("the deflate stream decodes with Python's zlib for inputs with no, short and long repeats")
    func deflateRoundTrip() throws {
        let folder = TemporaryFolder()
        var inputs: [[UInt8]] = [[], [7], Array("abcabcabcabc".utf8), [UInt8](repeating: 0, count: 70_000)]
        var x: UInt32 = 12345
        inputs.append((0..<50_000).map { _ in x = x &* 1_103_515_245 &+ 12345; return UInt8(truncatingIfNeeded: x >> 16) })
        inputs.append((0..<100_000).map { UInt8(truncatingIfNeeded: ($0 % 40_000) / 3) })
        for (k, input) in inputs.enumerated() {
            let file = folder.file("d\(k)")
            try Data(Deflate.zlib(input)).write(to: URL(fileURLWithPath: file))
            let r = try runPython("import sys, zlib, hashlib; print(hashlib.sha256(zlib.decompress(open(sys.argv[1],'rb').read())).hexdigest())", [file])
            #expect(r.output.trimmingCharacters(in: .whitespacesAndNewlines) == SHA256.hex(of: input), "input \(k): \(r.output)")
        }
        #expect(Deflate.zlib([UInt8](repeating: 0, count: 70_000)).count < 1000)
    }
}
