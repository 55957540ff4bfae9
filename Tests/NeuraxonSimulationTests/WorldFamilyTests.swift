import Foundation
import Testing
@testable import NeuraxonSimulation

@Suite("World families")
struct WorldFamilyTests {
    static let seeds: [UInt64] = Array(1...60)

    @Test("every generated world is valid, reads back from its file as itself, and its light can be reached",
          arguments: WorldFamily.allCases)
    func valid(family: WorldFamily) throws {
        for seed in Self.seeds {
            let world = try World.generate(family, seed: seed)
            try world.validate()
            #expect(world.name == "\(family.rawValue)-\(seed)")
            let text = world.worldFileText(comment: "test")
            let read = try World.parse(yaml: text, source: "generated.yaml")
            #expect(read == world, "seed \(seed):\n\(text)")
            #expect(world.goalIsReachable(), "seed \(seed): the light cannot be reached\n\(text)")
            // The start is free: the robot can be built there (validate checks it too).
            _ = try SimulatedRobot(world: read, seed: 1)
            switch family {
            case .corridor, .doorways, .lightBehind: #expect(world.lights.count == 1)
            case .clutter, .arena: #expect(world.lights.isEmpty)
            }
            if family == .lightBehind { #expect(world.lightIsHidden(), "seed \(seed)") }
        }
    }

    @Test("the same family and seed give the same file; other seeds give other worlds", arguments: WorldFamily.allCases)
    func deterministic(family: WorldFamily) throws {
        let a = try World.generate(family, seed: 7).worldFileText()
        let b = try World.generate(family, seed: 7).worldFileText()
        #expect(a == b)
        let others = try Set((8...12).map { try World.generate(family, seed: $0).worldFileText() })
        #expect(others.count == 5 && !others.contains(a))
    }

    @Test("families keep their documented parameters")
    func parameters() throws {
        var corridorWidths: [Double] = [], discRadii: [Double] = [], doorways: [Double] = []
        var turns = Set<Int>()
        for seed in Self.seeds {
            let corridor = try World.generate(.corridor, seed: seed)
            // Walls: 3 or 4 legs a side, then the two end caps; a cap's length is the width.
            guard case let .segment(a, b) = corridor.obstacles[corridor.obstacles.count - 1] else { Issue.record("no cap"); continue }
            corridorWidths.append((a - b).length)
            turns.insert((corridor.obstacles.count - 2) / 2 - 1)

            for case let .circle(_, r) in try World.generate(.clutter, seed: seed).obstacles { discRadii.append(r) }

            // A doorway is the gap between the two pieces of one wall.
            let rooms = try World.generate(.doorways, seed: seed).obstacles
            for k in stride(from: 0, to: rooms.count, by: 2) {
                guard case let .segment(_, end) = rooms[k], case let .segment(start, _) = rooms[k + 1] else { continue }
                doorways.append((start - end).length)
            }

            let pillars = try World.generate(.arena, seed: seed).obstacles
            #expect((4...10).contains(pillars.count))
        }
        #expect(corridorWidths.min()! >= 0.4 - 1e-9 && corridorWidths.max()! <= 1.0 + 1e-9)
        #expect(corridorWidths.min()! < 0.5 && corridorWidths.max()! > 0.9)
        #expect(turns == [2, 3])
        #expect(discRadii.min()! >= 0.02 && discRadii.min()! < 0.025 && discRadii.max()! <= 0.1)
        #expect(doorways.min()! >= 0.35 - 1e-9 && doorways.min()! < 0.4 && doorways.max()! <= 0.7 + 1e-9)
    }

    @Test("the path search finds a way through a doorway the body fits, and none through a closed or narrow one")
    func pathSearch() throws {
        func room(door: Double?) -> World {
            // A wall across a 3 m × 2 m arena at x = 1.5, with a doorway of `door` metres at y = 1.
            var obstacles: [Obstacle] = []
            if let door {
                obstacles = [.segment(from: Vector2(1.5, 0), to: Vector2(1.5, 1 - door / 2)),
                             .segment(from: Vector2(1.5, 1 + door / 2), to: Vector2(1.5, 2))]
            } else {
                obstacles = [.segment(from: Vector2(1.5, 0), to: Vector2(1.5, 2))]
            }
            return World(name: "door", arenaWidth: 3, arenaHeight: 2, obstacles: obstacles,
                         lights: [LightSource(position: Vector2(2.7, 1))], starts: [Pose(x: 0.3, y: 1, heading: 0)])
        }
        #expect(room(door: 0.35).goalIsReachable())
        #expect(!room(door: nil).goalIsReachable())
        #expect(!room(door: 0.12).goalIsReachable())  // the body is 0.12 m wide
        // Without a light there is no goal to miss.
        var dark = room(door: nil)
        dark.lights = []
        #expect(dark.goalIsReachable())
    }

    @Test("a written world file keeps non-default settings")
    func writerKeepsSettings() throws {
        var world = World.obstacleCourse
        world.robot.bodyRadius = 0.08
        world.robot.rangeLeft.noiseMillivolts = 0
        world.link.dropout = 0.25
        world.physics.collision = .stop
        world.ambientLight = 0.1
        let read = try World.parse(yaml: world.worldFileText(), source: "w.yaml")
        #expect(read == world)
        #expect(try World.parse(yaml: World.lightArena.worldFileText()) == World.lightArena)
    }
}
