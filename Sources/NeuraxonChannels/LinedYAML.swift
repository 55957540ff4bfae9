import Yams

/// A YAML value with the line it starts on, typed as YAML 1.1 reads a plain scalar (so `13`
/// is a number, `yes` is true and `'13'` a string): what a checker needs to name the line of
/// each problem and to say what was written instead of what was wanted.
struct LinedYAML: Sendable, Equatable {
    enum Content: Sendable, Equatable {
        /// Entries in the order written; no key twice.
        case mapping([Entry])
        case sequence([LinedYAML])
        case string(String)
        case integer(Int)
        case number(Double)
        case boolean(Bool)
        case null
    }

    /// One `key: value` of a mapping.
    struct Entry: Sendable, Equatable {
        var key: String
        /// The line of the key (1-based).
        var keyLine: Int
        var value: LinedYAML
    }

    var content: Content
    /// The line the value starts on (1-based).
    var line: Int

    /// A problem found while reading the text, with its line.
    struct Problem: Error, Sendable, Equatable {
        var line: Int
        var message: String
    }

    /// Reads `text`; `nil` when it holds no document. Throws every problem of the text itself
    /// (not valid YAML, a key given twice, a key that is not a word), each with its line.
    static func read(_ text: String) throws(ProblemList) -> LinedYAML? {
        var text = text
        var problems: [Problem] = []
        var root: Node?
        // Yams stops at the first mapping with a key twice: each repeat is reported, its key set
        // aside under a name no file uses, and the text read again, so every repeat is reported.
        for round in 0... {
            do {
                root = try Yams.compose(yaml: text)
                break
            } catch let error as YamlError {
                if case let .duplicatedKeysInMapping(duplicates, context) = error, round < 1000, let key = duplicates.first,
                   let again = repeatedKeyLine(key, after: context.mark, in: text) {
                    problems.append(Problem(line: again, message: "key '\(key)' given twice (first on line \(context.mark.line)): keep one"))
                    text = setAside(key, line: again, in: text, as: setAsidePrefix + String(round))
                    continue
                }
                throw ProblemList([problem(of: error, in: text)])
            } catch {
                throw ProblemList([Problem(line: 1, message: "not valid YAML")])
            }
        }
        guard let root else { return nil }
        let value = convert(root, &problems)
        if !problems.isEmpty { throw ProblemList(problems) }
        return value
    }

    /// The prefix of a repeated key set aside while reading (never a key of a description).
    private static let setAsidePrefix = "nx-repeated-key-"

    /// `text` with `key` at the start of line `line` (1-based) renamed `name`.
    private static func setAside(_ key: String, line: Int, in text: String, as name: String) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let original = lines[line - 1]
        let spaces = original.prefix { $0 == " " }
        let body = original.dropFirst(spaces.count)
        for spelling in [key, "\"\(key)\"", "'\(key)'"] where body.hasPrefix(spelling) {
            lines[line - 1] = spaces + name + body.dropFirst(spelling.count)
            break
        }
        return lines.joined(separator: "\n")
    }

    /// Problems found together.
    struct ProblemList: Error, Sendable, Equatable {
        var problems: [Problem]
        init(_ problems: [Problem]) { self.problems = problems }
    }

    // MARK: access

    /// The mapping's entries, or `nil` when this is not a mapping.
    var entries: [Entry]? {
        if case let .mapping(e) = content { return e }
        return nil
    }

    /// The value of `key` in a mapping.
    subscript(key: String) -> LinedYAML? {
        entries?.first { $0.key == key }?.value
    }

    /// The elements of a sequence.
    var elements: [LinedYAML]? {
        if case let .sequence(e) = content { return e }
        return nil
    }

    var string: String? {
        if case let .string(s) = content { return s }
        return nil
    }

    /// The value as Python's `repr` writes it (`'D14'`, `14`, `True`, `None`), so a message
    /// quotes what the user wrote the same way `robotgen.py` does.
    var quoted: String {
        switch content {
        case let .string(s):
            return s.contains("'") && !s.contains("\"") ? "\"\(s)\"" : "'\(s.replacingOccurrences(of: "'", with: "\\'"))'"
        case let .integer(n): return String(n)
        case let .number(x): return LinedYAML.pythonNumber(x)
        case let .boolean(b): return b ? "True" : "False"
        case .null: return "None"
        case let .sequence(items): return "[" + items.map(\.quoted).joined(separator: ", ") + "]"
        case let .mapping(entries):
            return "{" + entries.map { "'\($0.key)': \($0.value.quoted)" }.joined(separator: ", ") + "}"
        }
    }

    /// A number as Python's `str` writes it: `2.5`, `3.0`, `inf`.
    static func pythonNumber(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        return "\(x)"
    }

    // MARK: reading

    private static func convert(_ node: Node, _ problems: inout [Problem]) -> LinedYAML {
        let line = node.mark?.line ?? 1
        switch node {
        case let .mapping(mapping):
            var entries: [Entry] = []
            for (key, value) in mapping {
                let keyLine = key.mark?.line ?? line
                let keyValue = key.scalar.map { convert(.scalar($0), &problems) }
                if let set = keyValue?.string, set.hasPrefix(setAsidePrefix) { continue }
                guard let word = keyValue?.string else {
                    problems.append(Problem(line: keyLine, message: "a key must be a word, got \(keyValue?.quoted ?? "a list or mapping")"))
                    continue
                }
                entries.append(Entry(key: word, keyLine: keyLine, value: convert(value, &problems)))
            }
            return LinedYAML(content: .mapping(entries), line: line)
        case let .sequence(sequence):
            return LinedYAML(content: .sequence(sequence.map { convert($0, &problems) }), line: line)
        case let .scalar(scalar):
            return LinedYAML(content: typed(scalar), line: line)
        case let .alias(alias):
            return LinedYAML(content: .string(alias.anchor.rawValue), line: line)
        }
    }

    /// A scalar as YAML 1.1 types it: quoted or tagged `!!str` stays a string; a plain one is a
    /// boolean, whole number, number or null when it reads as one.
    private static func typed(_ scalar: Node.Scalar) -> Content {
        let node = Node.scalar(scalar)
        switch Resolver.default.resolveTag(of: node) {
        case .bool: return node.bool.map(Content.boolean) ?? .string(scalar.string)
        case .int:
            if let n = node.int { return .integer(n) }
            return node.float.map(Content.number) ?? .string(scalar.string)
        case .float:
            guard isYAML11Float(scalar.string) else { return .string(scalar.string) }
            return node.float.map(Content.number) ?? .string(scalar.string)
        case .null: return .null
        default: return .string(scalar.string)
        }
    }

    /// Whether `text` is a float as YAML 1.1 (and PyYAML) reads one: a dot is needed and an
    /// exponent carries its sign (`1.5`, `1.0e+3`, `.5`, `.inf`), so `1e3` stays a string.
    private static func isYAML11Float(_ text: String) -> Bool {
        var rest = Substring(text.replacingOccurrences(of: "_", with: ""))
        if rest.first == "-" || rest.first == "+" { rest = rest.dropFirst() }
        if [".inf", ".Inf", ".INF"].contains(rest) { return true }
        if [".nan", ".NaN", ".NAN"].contains(text) { return true }
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        rest = rest.dropFirst(digits.count)
        guard rest.first == "." else { return false }
        rest = rest.dropFirst()
        let fraction = rest.prefix { $0.isASCII && $0.isNumber }
        guard !(digits.isEmpty && fraction.isEmpty) else { return false }
        rest = rest.dropFirst(fraction.count)
        if rest.isEmpty { return true }
        guard rest.first == "e" || rest.first == "E" else { return false }
        rest = rest.dropFirst()
        guard rest.first == "-" || rest.first == "+" else { return false }
        rest = rest.dropFirst()
        return !rest.isEmpty && rest.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// A Yams error as a problem with its line, worded as YAML readers word it.
    private static func problem(of error: YamlError, in text: String) -> Problem {
        switch error {
        case let .scanner(_, problem, mark, _), let .parser(_, problem, mark, _), let .composer(_, problem, mark, _):
            return Problem(line: max(mark.line, 1), message: "not valid YAML: \(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            let key = duplicates.first ?? ""
            let first = context.mark.line
            let again = repeatedKeyLine(key, after: context.mark, in: text) ?? first
            return Problem(line: again, message: "key '\(key)' given twice (first on line \(first)): keep one")
        case let .reader(problem, _, _, _):
            return Problem(line: 1, message: "not valid YAML: \(problem)")
        default:
            return Problem(line: 1, message: "not valid YAML")
        }
    }

    /// The line where `key`, first written at `first`, is written again at the same indentation
    /// before the mapping ends (Yams reports only the first).
    private static func repeatedKeyLine(_ key: String, after first: Mark, in text: String) -> Int? {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let column = first.column - 1
        guard first.line >= 1 else { return nil }
        var index = first.line   // the line after the first (0-based index of line first + 1)
        while index < lines.count {
            let scalars = Array(lines[index].unicodeScalars)
            let spaces = scalars.prefix { $0 == " " }.count
            let rest = scalars.dropFirst(spaces)
            index += 1
            if rest.isEmpty || rest.first == "#" { continue }
            if spaces < column { return nil }
            guard spaces == column else { continue }
            let body = String(String.UnicodeScalarView(rest))
            for spelling in [key, "\"\(key)\"", "'\(key)'"] where body.hasPrefix(spelling) {
                if body.dropFirst(spelling.count).drop(while: { $0 == " " }).first == ":" { return index }
            }
        }
        return nil
    }
}
