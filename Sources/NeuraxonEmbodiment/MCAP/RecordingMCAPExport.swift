import Foundation
import Neuraxon

/// Exports a recording (JSON Lines or MCAP, whole or cut off) as a complete MCAP file on the
/// topics of `RecordingTopics` (Docs/LOG-FORMAT.md, "MCAP").
public enum RecordingMCAP {
    /// What an export wrote.
    public struct Export: Sendable, Equatable {
        public var ticks = 0
        public var events = 0
        /// MCAP messages written.
        public var messages = 0
        /// Bytes of the MCAP file.
        public var bytes = 0
        /// Where reading the recording stopped.
        public var stop: ReadStop = .complete
    }

    /// The chunk size of an export: large enough that chunk overhead is small, small enough
    /// that a reader seeking to a time decodes little.
    public static let exportChunkBytes = 256 * 1024

    /// The MCAP file of every tick and event `reader` yields, with the network file the
    /// recording names attached when it can be found.
    public static func encode(_ reader: RecordingReader) throws(RecordingError) -> (bytes: [UInt8], export: Export) {
        let network = reader.header.networkFile(recordingPath: reader.path)
            .flatMap { FileManager.default.contents(atPath: $0) }.map { Array($0) }
        var encoder = try RecordingMCAPEncoder(header: reader.header, networkFile: network, chunkBytes: exportChunkBytes)
        var export = Export()
        while let entry = reader.next() {
            switch entry {
            case let .tick(t):
                encoder.add(t)
                export.ticks += 1
            case let .event(e):
                encoder.add(e)
                export.events += 1
            }
        }
        encoder.finish()
        let bytes = encoder.takeOutput()
        export.messages = encoder.messageCount
        export.bytes = bytes.count
        export.stop = reader.stop ?? .complete
        return (bytes, export)
    }

    /// Writes the MCAP file of `reader`'s recording to `path`, atomically.
    public static func export(_ reader: RecordingReader, to path: String) throws(RecordingError) -> Export {
        let (bytes, export) = try encode(reader)
        do {
            try AtomicFile.replace(path, with: bytes)
        } catch {
            throw RecordingError(path: path, "cannot write the MCAP file: \(error.message)")
        }
        return export
    }
}
