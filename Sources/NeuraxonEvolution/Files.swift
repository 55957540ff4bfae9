// NeuraxonEvolution — Aigarth-style evolution of Neuraxon networks.
// Licence: MIT with the Aigarth licence restrictions (no military or dual-use applications);
// see Sources/NeuraxonEvolution/NOTICE.

import Foundation
import Neuraxon
#if canImport(Glibc)
import Glibc
#endif

/// The few file operations the run needs: atomic replacement (checkpoints, trimmed logs) and
/// appending one line (the generation log).
enum Files {
    /// Replaces `path` with `bytes` atomically (`AtomicFile.replace`).
    static func replaceAtomically(_ path: String, with bytes: [UInt8]) throws(EvolutionError) {
        do { try AtomicFile.replace(path, with: bytes) } catch { throw .file(path: error.path, message: error.message) }
    }

    /// Appends one line (a newline is added) to `path`, creating the file if needed.
    static func appendLine(_ path: String, _ line: String) throws(EvolutionError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure(path, "cannot open the log for appending") }
        defer { close(fd) }
        try writeAll(fd, Array((line + "\n").utf8), path)
    }

    /// The file's bytes, or nil when it does not exist.
    static func read(_ path: String) throws(EvolutionError) -> [UInt8]? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw failure(path, "cannot read the file") }
        return Array(data)
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], _ path: String) throws(EvolutionError) {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure(path, "cannot write")
            }
            written += n
        }
    }

    private static func failure(_ path: String, _ what: String) -> EvolutionError {
        .file(path: path, message: "\(what): \(String(cString: strerror(errno)))")
    }
}
