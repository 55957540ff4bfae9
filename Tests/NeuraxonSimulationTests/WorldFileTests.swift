import Foundation
import Testing
@testable import NeuraxonSimulation

@Suite("World files and built-in worlds")
struct WorldFileTests {
    /// The YAML of the complete example in `Docs/SIMULATION.md`.
    func documentedExample() throws -> String {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("Docs/SIMULATION.md"), encoding: .utf8)
        let start = try #require(text.range(of: "```yaml\n"))
        let end = try #require(text.range(of: "```", range: start.upperBound..<text.endIndex))
        return String(text[start.upperBound..<end.lowerBound])
    }

    @Test("the documented complete example parses into the world it describes")
    func documentedWorld() throws {
        let world = try World.parse(yaml: try documentedExample(), source: "example.yaml")
        #expect(world.name == "corridor")
        #expect(world.arenaWidth == 3 && world.arenaHeight == 2)
        #expect(world.obstacles.count == 3)
        #expect(world.obstacles[2] == .circle(center: Vector2(2.2, 0.5), radius: 0.1))
        #expect(world.lights == [LightSource(position: Vector2(2.7, 1.7), intensity: 1, falloff: 0.5)])
        #expect(world.starts.count == 2)
        #expect(abs(world.starts[0].heading - .pi / 2) < 1e-12)
        #expect(world.robot == RobotSpec.reference)  // the example spells out the defaults
        #expect(world.physics == PhysicsSettings())
        #expect(world.link == LinkSettings())
        #expect(world.nearLightRadius == 0.3 && world.ambientLight == 0.02 && world.lightOcclusion)
    }

    @Test("a minimal world needs only the arena and a start")
    func minimalWorld() throws {
        let world = try World.parse(yaml: "arena: {width: 1, height: 1}\nrobot: {start: {x: 0.5, y: 0.5}}\n")
        #expect(world.robot == .reference && world.obstacles.isEmpty && world.starts == [Pose(x: 0.5, y: 0.5, heading: 0)])
        _ = try SimulatedRobot(world: world, seed: 0)
    }

    func parseError(_ yaml: String) -> WorldError? {
        do {
            _ = try World.parse(yaml: yaml, source: "bad.yaml")
            return nil
        } catch {
            return error
        }
    }

    @Test("an unknown key is refused with its line, its path and the keys allowed there")
    func unknownKey() throws {
        let error = try #require(parseError("""
            arena:
              widht: 2
              height: 2
            robot: {start: {x: 1, y: 1}}
            """))
        #expect(error.line == 2 && error.field == "arena.widht")
        #expect(error.description.hasPrefix("bad.yaml:2:3: arena.widht: unknown key `widht`"))
        #expect(error.problem.contains("width, height"))
    }

    @Test("a missing field is named with its place")
    func missingField() throws {
        let error = try #require(parseError("""
            arena: {width: 2, height: 2}
            obstacles:
              - circle: {center: [1, 1]}
            robot: {start: {x: 0.3, y: 0.3}}
            """))
        #expect(error.field == "obstacles[0].circle.radius")
        #expect(error.line == 3)
        #expect(error.problem.contains("missing field `radius`"))
        let noArena = try #require(parseError("robot: {start: {x: 1, y: 1}}"))
        #expect(noArena.field == "arena" && noArena.problem.contains("missing"))
    }

    @Test("a negative radius is refused at its line")
    func negativeRadius() throws {
        let error = try #require(parseError("""
            arena: {width: 2, height: 2}
            obstacles:
              - circle:
                  center: [1, 1]
                  radius: -0.1
            robot: {start: {x: 0.3, y: 0.3}}
            """))
        #expect(error.field == "obstacles[0].circle.radius")
        #expect(error.line == 5)
        #expect(error.problem.contains("greater than 0") && error.problem.contains("-0.1"))
    }

    @Test("a robot starting inside a wall or obstacle is refused, naming what it overlaps")
    func startInsideWall() throws {
        let wall = try #require(parseError("""
            arena: {width: 2, height: 2}
            robot:
              start: {x: 0.02, y: 1}
            """))
        #expect(wall.field == "robot.start" && wall.line == 3)
        #expect(wall.problem.contains("west arena wall"))
        let box = try #require(parseError("""
            arena: {width: 2, height: 2}
            obstacles:
              - box: {center: [1, 1], size: [0.5, 0.5]}
            robot:
              start: {x: 0.5, y: 0.5}
              starts:
                - {x: 1, y: 1.1, heading: 90}
            """))
        #expect(box.field == "robot.starts[0]" && box.line == 7)
        #expect(box.problem.contains("obstacles[0]"))
    }

    @Test("NaN, text instead of numbers and bad YAML are refused with their lines", arguments: [
        ("arena: {width: 2, height: 2}\nlights:\n  - {position: [1, 1], intensity: .nan}\nrobot: {start: {x: 0.3, y: 0.3}}", 3, "lights[0].intensity", "finite"),
        ("arena: {width: 2, height: two}\nrobot: {start: {x: 0.3, y: 0.3}}", 1, "arena.height", "must be a number"),
        ("arena: {width: 2, height: 2}\nrobot: {start: {x: 0.3, y: 0.3}}\nphysics: {collision: bounce}", 3, "physics.collision", "slide"),
        ("arena: {width: 2, height: 2}\nrobot: {start: {x: 0.3, y: 0.3}, sensors: {range_left: {rays: 0}}}", 2, "robot.sensors.range_left.rays", "1 to 64"),
        ("arena: {width: 2, height: 2}\nrobot: {start: {x: 0.3, y: 0.3}}\nlink: {sample_period_ms: 2.5}", 3, "link.sample_period_ms", "whole number of physics steps"),
        ("arena: {width: 2, height: 2\nrobot: {start: {x: 0.3, y: 0.3}}", 2, "", "not valid YAML"),
        ("arena: {width: 2, height: 2}\nrobot:\n  start: {x: 0.3, y: 0.3}\n  max_wheel_speed: 5000", 4, "robot.max_wheel_speed", "at most 100 m/s"),
        ("arena: {width: 2, height: 2}\nrobot: {start: {x: 0.3, y: 0.3}}\nphysics:\n  step_ms: 0", 4, "physics.step_ms", "more than 0"),
        ("arena: {width: 2, height: 2}\nrobot: {start: {x: 0.3, y: 0.3}, colour: red}", 2, "robot.colour", "unknown key"),
        ("arena: {width: 2, height: 2}\nobstacles:\n  - circle: {center: [1, 1], radius: 0.1}\n    box: {center: [1, 1], size: [1, 1]}\nrobot: {start: {x: 0.3, y: 0.3}}", 3, "obstacles[0]", "exactly one of"),
        ("arena: {width: 2, height: 2}\nobstacles:\n  - segment: {from: [1, 1], to: [1]}\nrobot: {start: {x: 0.3, y: 0.3}}", 3, "obstacles[0].segment.to", "[x, y]"),
    ])
    func badValues(yaml: String, line: Int, field: String, problem: String) throws {
        let error = try #require(parseError(yaml))
        #expect(error.line == line)
        #expect(error.field == field)
        #expect(error.problem.contains(problem), "\(error)")
    }

    @Test("an empty or unreadable file gets a clear error")
    func emptyAndMissingFiles() throws {
        let empty = try #require(parseError(""))
        #expect(empty.problem.contains("empty"))
        #expect(throws: WorldError.self) { try World.load(path: "/nonexistent/world.yaml") }
        do {
            _ = try World.named("/nonexistent/world.yaml")
        } catch {
            #expect(error.description.contains("empty, obstacles, light"))
        }
    }

    @Test("a world file is read from disk and named after the file")
    func loadFromDisk() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("arena-\(UInt32.random(in: 0...UInt32.max)).yaml").path
        try "arena: {width: 1.5, height: 1}\nrobot: {start: {x: 0.5, y: 0.5}}\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let world = try World.named(path)
        #expect(world.arenaWidth == 1.5)
        #expect(world.name.hasPrefix("arena-") && !world.name.hasSuffix(".yaml"))
    }

    @Test("every built-in world is valid and every one of its starting poses can start a run", arguments: World.builtinNames)
    func builtins(name: String) throws {
        let world = try #require(World.builtin(named: name))
        #expect(world.name == name)
        try world.validate()
        #expect(world.starts.count >= 5)
        for start in world.starts.indices {
            let robot = try SimulatedRobot(world: world, seed: 1, start: start)
            robot.nextFrame()
            #expect(robot.metrics.collisions == 0)
        }
        #expect(throws: WorldError.self) { try SimulatedRobot(world: world, seed: 1, start: world.starts.count) }
        #expect(World.builtin(named: "nowhere") == nil)
    }
}
