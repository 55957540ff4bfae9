import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A problem with one of the user's files, worded for the user: which file, what is wrong and
/// what to do. Its `kind` says whether an input could not be read or an output could not be
/// (or must not be) written, which the command line turns into its exit status.
public struct FileProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// An input file does not exist.
        case missing
        /// An input names a folder, not a file.
        case folder
        /// An input exists but cannot be read (permissions, I/O).
        case unreadable
        /// An input that should be text holds binary data or is not UTF-8.
        case notText
        /// An output names a file that is also an input of the same command.
        case outputIsInput
        /// An output would replace a file that must not be replaced without being asked
        /// (an evolution checkpoint without `--resume` or `--force`).
        case wouldReplace
        /// An output cannot be created: its folder does not exist or is not writable, or it
        /// names a folder.
        case cannotCreate
    }

    public let kind: Kind
    /// The file concerned, as the user wrote it.
    public let path: String
    public let message: String

    public init(_ kind: Kind, path: String, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    /// Whether the problem is with an input (as opposed to an output).
    public var isInput: Bool {
        switch kind {
        case .missing, .folder, .unreadable, .notText: return true
        case .outputIsInput, .wouldReplace, .cannotCreate: return false
        }
    }

    public var description: String { message }
}

/// Reading the user's input files with plain errors: a missing file, a folder, an unreadable file
/// and a binary file each get their own message naming the file.
public enum InputFile {
    /// Checks that `path` names a readable regular file (or a device or pipe), without reading it.
    /// - Parameter what: what the file is for the user, e.g. "the network file".
    public static func check(_ path: String, what: String) throws(FileProblem) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = errno
            if reason == ENOENT || reason == ENOTDIR {
                throw FileProblem(.missing, path: path, "\(what) \(path) does not exist: check the path")
            }
            throw FileProblem(.unreadable, path: path, "cannot read \(what) \(path): \(String(cString: strerror(reason)))")
        }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            throw FileProblem(.folder, path: path, "\(what) \(path) is a folder, not a file: name a file in it")
        }
        guard access(path, R_OK) == 0 else {
            let reason = errno
            throw FileProblem(.unreadable, path: path, "cannot read \(what) \(path): \(String(cString: strerror(reason))) (check its permissions)")
        }
    }

    /// The whole content of `path`.
    /// - Throws: `FileProblem` (`missing`, `folder`, `unreadable`).
    public static func bytes(_ path: String, what: String) throws(FileProblem) -> [UInt8] {
        try check(path, what: what)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = errno
            throw FileProblem(.unreadable, path: path, "cannot read \(what) \(path): \(String(cString: strerror(reason)))")
        }
        defer { close(fd) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = errno
                throw FileProblem(.unreadable, path: path, "cannot read \(what) \(path): \(String(cString: strerror(reason)))")
            }
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<n])
        }
        return result
    }

    /// The content of `path` as UTF-8 text.
    /// - Throws: `FileProblem` (`missing`, `folder`, `unreadable`, or `notText` for a file with
    ///   NUL bytes or that is not UTF-8, such as a binary or an image).
    public static func text(_ path: String, what: String) throws(FileProblem) -> String {
        let data = try bytes(path, what: what)
        guard !data.contains(0), let text = String(validating: data, as: UTF8.self) else {
            throw FileProblem(.notText, path: path, "\(what) \(path) is not a text file (it holds binary data or is not UTF-8): check that you named the right file")
        }
        return text
    }
}

/// The files one command reads and writes, checked together before any work starts, so that a
/// long run never ends in a lost result or a destroyed input.
///
/// The rules, the same for every command:
/// - every input exists and can be read;
/// - no output is also an input, or another output: files are compared by identity (device and
///   inode, or the resolved path of a file yet to be made), not by spelling, so `./n.json` and
///   `n.json`, a symbolic link and its target, and two hard links are the same file;
/// - every output's folder exists and is writable, and no output names a folder;
/// - a protected output (an evolution checkpoint) is not replaced unless the user asked for it.
public struct FilePlan: Sendable {
    struct Entry: Sendable {
        let path: String
        let what: String
    }

    private var inputs: [Entry] = []
    private var outputs: [Entry] = []
    private var protected: [(entry: Entry, howToReplace: String)] = []

    public init() {}

    /// Adds an input; `nil` is ignored. `what` names it for the user, e.g. "the network file".
    public mutating func input(_ path: String?, _ what: String) {
        if let path { inputs.append(Entry(path: path, what: what)) }
    }

    /// Adds an output; `nil` is ignored. `what` names it for the user, e.g. "--record".
    public mutating func output(_ path: String?, _ what: String) {
        if let path { outputs.append(Entry(path: path, what: what)) }
    }

    /// Adds an output that must not be replaced if it exists; `howToReplace` says how the user
    /// asks for it (e.g. "continue it with --resume, or pass --force to start over").
    public mutating func protectedOutput(_ path: String, _ what: String, howToReplace: String) {
        let entry = Entry(path: path, what: what)
        outputs.append(entry)
        protected.append((entry, howToReplace))
    }

    /// Checks every rule; the first broken one is thrown.
    /// - Throws: `FileProblem`.
    public func check() throws(FileProblem) {
        for input in inputs { try InputFile.check(input.path, what: input.what) }
        for (i, output) in outputs.enumerated() {
            try Self.checkCreatable(output)
            let id = FileIdentity(output.path)
            for input in inputs where FileIdentity(input.path) == id {
                let spelled = input.path == output.path ? "" : " (\(input.path))"
                throw FileProblem(.outputIsInput, path: output.path,
                                  "\(output.what) \(output.path) is \(input.what)\(spelled): writing it would destroy it; name a new file")
            }
            for other in outputs[..<i] where FileIdentity(other.path) == id {
                throw FileProblem(.outputIsInput, path: output.path,
                                  "\(output.what) \(output.path) is also \(other.what): name two different files")
            }
        }
        for (entry, how) in protected where FileManager.default.fileExists(atPath: entry.path) {
            throw FileProblem(.wouldReplace, path: entry.path, "\(entry.what) \(entry.path) already exists and would be replaced: \(how)")
        }
    }

    private static func checkCreatable(_ output: Entry) throws(FileProblem) {
        var info = stat()
        if stat(output.path, &info) == 0 {
            if (info.st_mode & S_IFMT) == S_IFDIR {
                throw FileProblem(.cannotCreate, path: output.path, "\(output.what) \(output.path) is a folder: name a file")
            }
            if (info.st_mode & S_IFMT) == S_IFREG, access(output.path, W_OK) != 0 {
                let reason = errno
                throw FileProblem(.cannotCreate, path: output.path, "cannot write \(output.what) \(output.path): \(String(cString: strerror(reason)))")
            }
            return
        }
        let folder = FileIdentity.folder(of: output.path)
        var folderInfo = stat()
        guard stat(folder, &folderInfo) == 0 else {
            throw FileProblem(.cannotCreate, path: output.path,
                              "cannot create \(output.what) \(output.path): the folder \(folder) does not exist; create it first")
        }
        guard (folderInfo.st_mode & S_IFMT) == S_IFDIR else {
            throw FileProblem(.cannotCreate, path: output.path, "cannot create \(output.what) \(output.path): \(folder) is not a folder")
        }
        guard access(folder, W_OK | X_OK) == 0 else {
            let reason = errno
            throw FileProblem(.cannotCreate, path: output.path,
                              "cannot create \(output.what) \(output.path) in \(folder): \(String(cString: strerror(reason)))")
        }
    }
}

/// Which file a path names: its device and inode when it exists, else its resolved path (the
/// real path of its folder plus its name), so that two spellings of one file compare equal.
public enum FileIdentity: Hashable, Sendable {
    case inode(device: UInt64, inode: UInt64)
    case path(String)

    public init(_ path: String) {
        var info = stat()
        if stat(path, &info) == 0 {
            self = .inode(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            return
        }
        let folder = Self.folder(of: path)
        let name = (path as NSString).lastPathComponent
        if let resolved = realpath(folder, nil) {
            defer { free(resolved) }
            self = .path(String(cString: resolved) + "/" + name)
        } else {
            self = .path((path as NSString).standardizingPath)
        }
    }

    /// The folder a path's file lives in ("." for a bare name).
    static func folder(of path: String) -> String {
        let folder = (path as NSString).deletingLastPathComponent
        return folder.isEmpty ? "." : folder
    }
}
