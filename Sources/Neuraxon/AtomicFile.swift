import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file that is replaced whole or not at all, so a crash or a full disk never leaves it
/// half-written: network files, evolution checkpoints, run summaries.
public enum AtomicFile {
    /// Why a replacement failed: the file concerned and what went wrong, with the system's reason.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public let path: String
        public let message: String
        public var description: String { "\(path): \(message)" }
    }

    /// Writes `bytes` to a temporary file beside `path`, flushes it to disk, renames it over
    /// `path` and flushes the folder, so `path` always holds either its old or its new content.
    /// Temporary files left beside `path` by a writer that was killed are removed first.
    public static func replace(_ path: String, with bytes: [UInt8]) throws(Failure) {
        func failure(_ file: String, _ what: String) -> Failure {
            Failure(path: file, message: "\(what): \(String(cString: strerror(errno)))")
        }
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let temporary = folder + "/" + temporaryPrefix(of: url.lastPathComponent) + "\(getpid())"
        removeStaleTemporaries(of: path)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure(path, "cannot create a file in \(folder) (check that it exists and is writable)") }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                let error = failure(temporary, "cannot write (check free disk space)")
                close(fd)
                unlink(temporary)
                throw error
            }
            written += n
        }
        if fsync(fd) != 0 {
            let error = failure(temporary, "cannot flush the file to disk")
            close(fd)
            unlink(temporary)
            throw error
        }
        close(fd)
        if rename(temporary, path) != 0 {
            let error = failure(path, "cannot rename \(temporary) over it")
            unlink(temporary)
            throw error
        }
        let dir = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 {
            _ = fsync(dir)
            close(dir)
        }
    }

    /// The name of a temporary file beside `name` without its process number: `.NAME.tmp-`.
    static func temporaryPrefix(of name: String) -> String { "." + name + ".tmp-" }

    /// Removes the temporary files beside `path` (`.NAME.tmp-PID`) whose writer no longer runs:
    /// what a writer killed between creating and renaming its temporary file leaves behind.
    /// Those of a writer still running are left alone. Returns how many were removed.
    @discardableResult
    public static func removeStaleTemporaries(of path: String) -> Int {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        let prefix = temporaryPrefix(of: url.lastPathComponent)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return 0 }
        var removed = 0
        for name in names where name.hasPrefix(prefix) {
            guard let pid = pid_t(name.dropFirst(prefix.count)), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) == 0 || errno != ESRCH { continue }  // its writer still runs
            if unlink(folder + "/" + name) == 0 { removed += 1 }
        }
        return removed
    }
}
