import Foundation
@testable import NeuraxonChannels
import Testing

/// The host's checker against the firmware's (`Firmware/tools/robotgen.py`): the same refused
/// descriptions refused at the same lines, the same channels declared for every valid one.
@Suite("The robot description checker")
struct DescriptionCheckerTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardized.path
    static let generator = root + "/Firmware/tools/robotgen.py"

    /// The corpus files with what each must get: `# expect LINE: fragment`.
    static func corpus() throws -> [(path: String, expects: [(line: Int, fragment: String)])] {
        let folder = root + "/Firmware/robots/tests"
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }.sorted()
        return try names.map { name in
            let path = folder + "/" + name
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let expects = text.split(separator: "\n").filter { $0.hasPrefix("# expect ") }.compactMap { line -> (Int, String)? in
                let rest = line.dropFirst("# expect ".count)
                guard let colon = rest.range(of: ": "), let number = Int(rest[..<colon.lowerBound]) else { return nil }
                return (number, String(rest[colon.upperBound...]))
            }
            return (path, expects)
        }
    }

    @Test("every description of the shared corpus is refused at the lines, with the fixes, robotgen.py gives")
    func sharedCorpus() throws {
        let files = try Self.corpus()
        #expect(files.count >= 40)
        for (path, expects) in files {
            #expect(!expects.isEmpty, "\(path) states no '# expect LINE: fragment'")
            do {
                _ = try RobotDescription.load(path: path)
                Issue.record("\(path) was accepted")
            } catch {
                #expect(error.cause == .invalid)
                for (line, fragment) in expects {
                    #expect(error.problems.contains { $0.line == line && $0.message.contains(fragment) },
                            "\(path): expected line \(line) with '\(fragment)', got\n\(error)")
                }
                #expect(error.description.split(separator: "\n").allSatisfy { $0.hasPrefix(path + ":") })
            }
        }
    }

    @Test("for every file of the corpus both checkers report the same problems, word for word, at the same lines")
    func sameWords() throws {
        let script = """
            import json, os, sys
            sys.path.insert(0, os.path.dirname(sys.argv[1]))
            import robotgen
            folder = os.path.join(os.path.dirname(os.path.dirname(sys.argv[1])), "robots", "tests")
            out = {}
            for f in sorted(os.listdir(folder)):
                try:
                    robotgen.load_and_check(os.path.join(folder, f))
                    out[f] = []
                except robotgen.DescriptionError as e:
                    out[f] = [[line, message] for line, message in e.errors]
            print(json.dumps(out))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, Self.generator]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python3 with PyYAML is needed (scripts/install-deps.sh)")
        let python = try #require(try JSONSerialization.jsonObject(with: data) as? [String: [[Any]]])
        #expect(python.count >= 40)
        for (name, expected) in python {
            var swift: [RobotDescriptionError.Problem] = []
            do { _ = try RobotDescription.load(path: Self.root + "/Firmware/robots/tests/" + name) } catch { swift = error.problems }
            let theirs = expected.map { RobotDescriptionError.Problem(line: $0[0] as? Int ?? -1, message: $0[1] as? String ?? "") }
            // YAML syntax errors are worded by each side's YAML parser: the line and the prefix agree
            let syntax = "not valid YAML: "
            func comparable(_ p: RobotDescriptionError.Problem) -> RobotDescriptionError.Problem {
                p.message.hasPrefix(syntax) ? .init(line: p.line, message: syntax) : p
            }
            #expect(swift.map(comparable) == theirs.map(comparable), "\(name)")
        }
    }

    @Test("600 random robots with one random mistake each (a pin, a number, a line dropped or repeated) get the same problems from both checkers")
    func sameWordsOnMutants() throws {
        let script = """
            import json, os, random, re, sys
            sys.path.insert(0, os.path.dirname(sys.argv[1]))
            import robotgen
            pins = ["D%d" % n for n in range(0, 60)] + ["A%d" % n for n in range(0, 17)] + ["B3", "13"]
            out = []
            for seed in range(600):
                rnd = random.Random(seed)
                lines = robotgen.random_description(seed).splitlines()
                k = rnd.randrange(1, len(lines))
                how = rnd.choice(["pin", "number", "drop", "repeat"])
                if how == "pin":
                    spots = [i for i, l in enumerate(lines) if re.search(r"\\b[DA][0-9]+\\b", l)]
                    k = rnd.choice(spots)
                    found = re.findall(r"\\b[DA][0-9]+\\b", lines[k])
                    lines[k] = lines[k].replace(rnd.choice(found), rnd.choice(pins), 1)
                elif how == "number":
                    spots = [i for i, l in enumerate(lines) if re.search(r": -?[0-9]+", l) and not l.startswith("#")]
                    if spots:
                        k = rnd.choice(spots)
                        found = re.findall(r": (-?[0-9]+)", lines[k])
                        lines[k] = lines[k].replace(": " + rnd.choice(found), ": %d" % rnd.choice([-5, 0, 1, 7, 181, 999, 1001, 5001, 40000]), 1)
                elif how == "drop":
                    del lines[k]
                else:
                    lines.insert(k, lines[k])
                text = "\\n".join(lines) + "\\n"
                try:
                    robotgen.check(robotgen.load(text, "x"), "x")
                    errors = []
                except robotgen.DescriptionError as e:
                    errors = [[line, message] for line, message in e.errors]
                out.append(dict(text=text, errors=errors))
            print(json.dumps(out))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, Self.generator]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python3 with PyYAML is needed (scripts/install-deps.sh)")
        let cases = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(cases.count == 600)
        var refused = 0
        for item in cases {
            let text = item["text"] as? String ?? ""
            let theirs = (item["errors"] as? [[Any]] ?? []).map {
                RobotDescriptionError.Problem(line: $0[0] as? Int ?? -1, message: $0[1] as? String ?? "")
            }
            var ours: [RobotDescriptionError.Problem] = []
            do { _ = try RobotDescription(yaml: text, file: "x") } catch { ours = error.problems }
            let syntax = "not valid YAML: "
            func comparable(_ p: RobotDescriptionError.Problem) -> RobotDescriptionError.Problem {
                p.message.hasPrefix(syntax) ? .init(line: p.line, message: syntax) : p
            }
            #expect(ours.map(comparable) == theirs.map(comparable), "\(text)")
            if !theirs.isEmpty { refused += 1 }
        }
        #expect(refused > 200, "most mistakes are mistakes")
    }

    @Test("every problem is reported at once, in line order, as FILE:LINE: message")
    func everyProblem() throws {
        let path = Self.root + "/Firmware/robots/tests/every-problem.yaml"
        do {
            _ = try RobotDescription.load(path: path)
            Issue.record("accepted")
        } catch {
            #expect(error.problems.map(\.line) == [10, 24])
            #expect(error.description.hasPrefix(path + ":10: sensor 'range' 'pin' is D8, which has no analog input: use one of A0"))
        }
    }

    @Test("a file that cannot be read is told apart from a wrong one")
    func unreadable() {
        #expect(throws: RobotDescriptionError.self) { try RobotDescription.load(path: "/nonexistent/robot.yaml") }
        do {
            _ = try RobotDescription.load(path: "/nonexistent/robot.yaml")
        } catch {
            #expect(error.cause == .unreadable)
            #expect(error.description == "/nonexistent/robot.yaml: cannot read the description: no such file")
        }
    }

    /// What robotgen.py says each description declares, and the descriptions: the shipped robots
    /// and the random valid robots its tests make (one Python process for all).
    static func declaredByGenerator(seeds: Range<Int>) throws -> [(text: String, declared: [String: Any])] {
        let script = """
            import json, os, sys
            sys.path.insert(0, os.path.dirname(sys.argv[1]))
            import robotgen
            folder = os.path.join(os.path.dirname(os.path.dirname(sys.argv[1])), "robots")
            texts = [open(os.path.join(folder, f)).read() for f in sorted(os.listdir(folder)) if f.endswith(".yaml")]
            texts += [robotgen.random_description(s) for s in range(int(sys.argv[2]), int(sys.argv[3]))]
            out = [dict(text=t, declared=robotgen.declared(robotgen.check(robotgen.load(t, "x"), "x"))) for t in texts]
            print(json.dumps(out))
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, generator, String(seeds.lowerBound), String(seeds.upperBound)]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python3 with PyYAML is needed (scripts/install-deps.sh)")
        let list = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        return list.map { ($0["text"] as? String ?? "", $0["declared"] as? [String: Any] ?? [:]) }
    }

    static func wire(_ c: ChannelDescriptor) -> [String: String] {
        let unit = switch c.unit {
        case .none: "none"
        case .millivolt: "millivolt"
        case .tick: "tick"
        case .perMille: "per_mille"
        case .degree: "degree"
        case .millimetre: "millimetre"
        }
        return ["name": c.name, "kind": c.kind.name, "unit": unit, "min": String(c.minimum), "max": String(c.maximum),
                "safe": String(c.safe)]
    }

    static func wire(_ d: [String: Any]) -> [String: String] {
        d.mapValues { "\($0)" }
    }

    @Test("the shipped robots and 200 random valid robots declare the same channels, limits and board name in both checkers")
    func agreesOnValidRobots() throws {
        let all = try Self.declaredByGenerator(seeds: 0..<200)
        #expect(all.count >= 203)
        for (text, declared) in all {
            let robot: RobotDescription
            do { robot = try RobotDescription(yaml: text, file: "robot.yaml") } catch {
                Issue.record("refused:\n\(error)\n\(text)")
                continue
            }
            #expect(robot.boardName == declared["board_name"] as? String, "\(text)")
            #expect(robot.board.rawValue == declared["board"] as? String)
            #expect(robot.periodMinMilliseconds == declared["period_min_ms"] as? Int, "\(text)")
            #expect(robot.limits.failsafeMinMilliseconds == declared["failsafe_min_ms"] as? Int)
            #expect(robot.limits.failsafeMaxMilliseconds == declared["failsafe_max_ms"] as? Int)
            let sensors = (declared["sensors"] as? [[String: Any]] ?? []).map(Self.wire)
            let actuators = (declared["actuators"] as? [[String: Any]] ?? []).map(Self.wire)
            #expect(robot.sensorChannels.map(Self.wire) == sensors, "\(text)")
            #expect(robot.actuatorChannels.map(Self.wire) == actuators, "\(text)")
        }
    }

    @Test("the compiled-in board facts equal Firmware/boards/*.yaml")
    func boardFacts() throws {
        let folder = Self.root + "/Firmware/boards"
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }.sorted()
        #expect(names.map { String($0.dropLast(5)) } == BoardFacts.all.map(\.board))
        for name in names {
            let node = try #require(try LinedYAML.read(String(contentsOfFile: folder + "/" + name, encoding: .utf8)))
            let facts = try #require(BoardFacts.all.first { $0.board + ".yaml" == name })
            func int(_ v: LinedYAML?) -> Int? { if case let .integer(n)? = v?.content { n } else { nil } }
            #expect(node["title"]?.string == facts.title)
            #expect(int(node["flash_budget"]) == facts.flashBudget)
            #expect(int(node["ram_budget"]) == facts.ramBudget)
            #expect(node["reserved"]?.elements?.compactMap(\.string) == facts.reserved)
            #expect(int(node["tick_timer"]) == facts.tickTimer)
            #expect(node["timers_16bit"]?.elements?.compactMap(int) == facts.timers16Bit)
            #expect((node["pins"]?.entries ?? []).map { p in
                BoardFacts.Pin(name: p.key, port: Character(p.value["port"]?.string ?? "?"), bit: int(p.value["bit"]) ?? -1,
                               adc: int(p.value["adc"]))
            } == facts.pins)
            #expect((node["pwm"]?.entries ?? []).map { p in
                BoardFacts.PWMOutput(pin: p.key, timer: int(p.value["timer"]) ?? -1, output: p.value["output"]?.string == "B" ? 1 : 0)
            } == facts.pwm)
            #expect((node["interrupts"]?.entries ?? []).map { BoardFacts.Interrupt(pin: $0.key, number: int($0.value) ?? -1) }
                    == facts.interrupts)
        }
    }

    @Test("YAML 1.1 typing: a quoted number is a string, yes is true, a plain 13 a number")
    func typing() throws {
        let value = try #require(try LinedYAML.read("a: '13'\nb: yes\nc: 13\nd: 2.5\ne: ~\n"))
        #expect(value["a"]?.content == .string("13"))
        #expect(value["b"]?.content == .boolean(true))
        #expect(value["c"]?.content == .integer(13))
        #expect(value["d"]?.content == .number(2.5))
        #expect(value["e"]?.content == .null)
        #expect(value["c"]?.line == 3)
        let floats = try #require(try LinedYAML.read("a: 1e3\nb: 1.0e+3\nc: .5\nd: -2.\ne: 1.5e3\n"))
        #expect(floats["a"]?.content == .string("1e3"))
        #expect(floats["b"]?.content == .number(1000))
        #expect(floats["c"]?.content == .number(0.5))
        #expect(floats["d"]?.content == .number(-2))
        #expect(floats["e"]?.content == .string("1.5e3"))
    }
}
