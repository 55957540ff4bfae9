import Foundation

/// Why a robot description was refused: every problem found, each with its line, in line order
/// (`FILE:LINE: message`, as `robotgen.py check` prints them).
public struct RobotDescriptionError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Problem: Sendable, Equatable {
        /// The line of the file (1-based), or 0 when the problem is the whole file.
        public var line: Int
        public var message: String

        public init(line: Int, message: String) {
            self.line = line
            self.message = message
        }
    }

    /// Whether the file could not be read at all, or was read and is wrong.
    public enum Cause: Sendable, Equatable {
        /// No such file, a folder, no permission, or not UTF-8 text.
        case unreadable
        /// The text is not a valid description.
        case invalid
    }

    /// The file as named by the user.
    public var file: String
    public var problems: [Problem]
    public var cause: Cause

    public init(file: String, problems: [Problem], cause: Cause = .invalid) {
        self.file = file
        self.problems = problems
        self.cause = cause
    }

    public var description: String {
        problems.map { $0.line > 0 ? "\(file):\($0.line): \($0.message)" : "\(file): \($0.message)" }
            .joined(separator: "\n")
    }
}

extension RobotDescription {
    /// Reads and checks the description at `path` with every rule of Docs/ROBOTS.md (the rules of
    /// `Firmware/tools/robotgen.py check`), reporting every problem at once.
    public static func load(path: String) throws(RobotDescriptionError) -> RobotDescription {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            throw RobotDescriptionError(file: path, problems: [.init(line: 0, message: "cannot read the description: it is a folder, not a file")],
                                        cause: .unreadable)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            let why = FileManager.default.fileExists(atPath: path) ? "permission denied" : "no such file"
            throw RobotDescriptionError(file: path, problems: [.init(line: 0, message: "cannot read the description: \(why)")],
                                        cause: .unreadable)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw RobotDescriptionError(file: path, problems: [.init(line: 0, message: "cannot read the description: it is not UTF-8 text")],
                                        cause: .unreadable)
        }
        return try RobotDescription(yaml: text, file: path)
    }

    /// Parses and checks a description from YAML text; `file` names it in errors.
    public init(yaml: String, file: String) throws(RobotDescriptionError) {
        let root: LinedYAML?
        do {
            root = try LinedYAML.read(yaml)
        } catch {
            throw RobotDescriptionError(file: file, problems: Self.ordered(error.problems.map { .init(line: $0.line, message: $0.message) }))
        }
        guard let root else {
            throw RobotDescriptionError(file: file, problems: [.init(line: 1, message: "the file is empty: start with 'robot:', 'board:', 'board_name:', 'sensors:' and 'actuators:'")])
        }
        var checker = DescriptionChecker()
        guard let description = checker.check(root), checker.problems.isEmpty else {
            throw RobotDescriptionError(file: file, problems: Self.ordered(checker.problems))
        }
        self = description
    }

    /// `problems` by line, those of one line in the order found.
    private static func ordered(_ problems: [RobotDescriptionError.Problem]) -> [RobotDescriptionError.Problem] {
        problems.enumerated().sorted { ($0.element.line, $0.offset) < ($1.element.line, $1.offset) }.map(\.element)
    }
}

extension RobotDescription {
    /// The names of the shipped robots, sorted.
    public static var shippedNames: [String] { shippedText.keys.sorted() }

    /// The shipped robot called `name` (`Firmware/robots/<name>.yaml`), or `nil`.
    public static func shipped(_ name: String) -> RobotDescription? {
        guard let text = shippedText[name] else { return nil }
        return try? RobotDescription(yaml: text, file: "Firmware/robots/\(name).yaml")
    }

    /// The reference robot (`Firmware/robots/reference.yaml`): what the simulator and the
    /// examples use unless told otherwise.
    public static let reference: RobotDescription = {
        guard let robot = shipped("reference") else { preconditionFailure("the embedded reference robot does not load") }
        return robot
    }()

    /// A shipped robot's name or a description file's path, read.
    public static func named(_ nameOrPath: String) throws(RobotDescriptionError) -> RobotDescription {
        if let text = shippedText[nameOrPath] { return try RobotDescription(yaml: text, file: "Firmware/robots/\(nameOrPath).yaml") }
        return try load(path: nameOrPath)
    }
}
