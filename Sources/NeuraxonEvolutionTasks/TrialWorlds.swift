// NeuraxonEvolutionTasks — fitness tasks for NeuraxonEvolution in the simulator.
// Licence: MIT with the Aigarth licence restrictions (no military or dual-use applications);
// see Sources/NeuraxonEvolution/NOTICE.

import Foundation
import NeuraxonEvolution
import NeuraxonSimulation

/// Where a trial takes place: a world and the robot's starting pose in it.
public struct TrialSetup: Sendable, Equatable {
    public var world: World
    public var pose: Pose
    /// A short human-readable description, e.g. `obstacles start 3` or `field 9a3c…`.
    public var label: String
}

/// The worlds tasks are trained and judged on: the world families (`WorldFamily`) when a task
/// names them, else two kinds of world:
///
/// - the built-in world of the task (`obstacles` or `light`) at one of its starting poses, with
///   the heading turned by up to ±`headingJitter`;
/// - generated worlds: an arena of random size with random boxes and discs (and, for light
///   seeking, a light at a random place on the far side), the robot at a random free pose.
///
/// Everything is drawn from one 64-bit seed through `EvolutionRandom`, so a seed names a trial.
/// Training seeds come from `EvolutionRandom.evaluationSeed` folded with `trainingDomain`;
/// held-out seeds are folded with `heldOutDomain`, so the two never meet.
public enum TrialWorlds {
    /// Folded into every training seed before drawing a world.
    static let trainingDomain: UInt64 = 0x7472_6169_6E69_6E67  // "training"
    /// Folded into every held-out seed before drawing a world.
    static let heldOutDomain: UInt64 = 0x6865_6C64_2D6F_7574  // "held-out"
    /// Folded into every validation seed before drawing a world.
    static let validationDomain: UInt64 = 0x7661_6C69_6461_7465  // "validate"
    /// Largest turn applied to a built-in starting heading, radians (45°).
    public static let headingJitter = Double.pi / 4
    /// Smallest gap between the robot's body and any obstacle or wall at a generated start, m.
    public static let startClearance = 0.15

    /// An obstacle field: a w × h arena (w, h uniform in 2.4…3.4 m) with 5–9 obstacles, each a
    /// disc of radius 0.08–0.2 m or a box of sides 0.15–0.5 m at a random angle, and the robot at
    /// a random free pose with a random heading.
    public static func obstacleField(seed: UInt64) -> TrialSetup {
        var rng = EvolutionRandom(seed: seed)
        let w = 2.4 + rng.unit(), h = 2.4 + rng.unit()
        var obstacles: [Obstacle] = []
        for _ in 0..<(5 + rng.below(5)) { obstacles.append(randomObstacle(width: w, height: h, using: &rng)) }
        return place(World(name: "field", arenaWidth: w, arenaHeight: h, obstacles: obstacles, starts: []),
                     seed: seed, using: &rng)
    }

    /// A light arena: a w × h arena (w uniform in 2.6…3.4 m, h in 1.8…2.6 m) with a light of
    /// intensity 1 and falloff 1 m in its east third, 1–3 obstacles in its middle third, and the
    /// robot at a random free pose in its west third, facing anywhere. "Near the light" is within
    /// 0.3 m of it, as in the built-in `light` world.
    public static func lightField(seed: UInt64) -> TrialSetup {
        var rng = EvolutionRandom(seed: seed)
        let w = 2.6 + 0.8 * rng.unit(), h = 1.8 + 0.8 * rng.unit()
        let light = LightSource(position: Vector2(w * (0.72 + 0.18 * rng.unit()), h * (0.2 + 0.6 * rng.unit())),
                                intensity: 1, falloff: 1.0)
        var obstacles: [Obstacle] = []
        for _ in 0..<(1 + rng.below(3)) {
            obstacles.append(.circle(center: Vector2(w * (0.4 + 0.2 * rng.unit()), h * (0.15 + 0.7 * rng.unit())),
                                     radius: 0.08 + 0.08 * rng.unit()))
        }
        let world = World(name: "light-field", arenaWidth: w, arenaHeight: h, obstacles: obstacles,
                          lights: [light], nearLightRadius: 0.3, starts: [])
        return place(world, seed: seed, xRange: 0...(w / 3), using: &rng)
    }

    /// A world of `family` drawn from `seed` (`World.generate(_:seed:)`), from its start.
    /// - Throws: `WorldError` if no valid world could be drawn from the seed.
    public static func family(_ family: WorldFamily, seed: UInt64) throws -> TrialSetup {
        let world = try World.generate(family, seed: seed)
        return TrialSetup(world: world, pose: world.starts[0], label: world.name)
    }

    /// A built-in world at starting pose `seed mod count`, its heading turned by a uniform
    /// amount in ±`headingJitter`.
    public static func builtin(_ world: World, seed: UInt64) -> TrialSetup {
        var rng = EvolutionRandom(seed: seed)
        let index = rng.below(world.starts.count)
        var pose = world.starts[index]
        pose.heading += (2 * rng.unit() - 1) * headingJitter
        return TrialSetup(world: world, pose: pose, label: "\(world.name) start \(index)")
    }

    /// The seed a trial's world is drawn from: the (t mod 256 + 2)-th output of a generator
    /// seeded with `seed` ⊕ `domain`, t the trial number (tasks use far fewer than 256 trials).
    static func worldSeed(_ seed: UInt64, trial: Int, domain: UInt64) -> UInt64 {
        var rng = EvolutionRandom(seed: seed ^ domain)
        for _ in 0...(trial & 0xFF) { _ = rng.next() }
        return rng.next()
    }

    private static func randomObstacle(width w: Double, height h: Double, using rng: inout EvolutionRandom) -> Obstacle {
        let center = Vector2(0.2 + (w - 0.4) * rng.unit(), 0.2 + (h - 0.4) * rng.unit())
        if rng.chance(0.5) { return .circle(center: center, radius: 0.08 + 0.12 * rng.unit()) }
        return .box(center: center, size: Vector2(0.15 + 0.35 * rng.unit(), 0.15 + 0.35 * rng.unit()),
                    angle: Double.pi * rng.unit())
    }

    /// The radius of a circle around the obstacle that holds all of it (a segment: around its
    /// midpoint), and that circle's centre.
    private static func bounds(_ obstacle: Obstacle) -> (center: Vector2, radius: Double) {
        switch obstacle {
        case let .circle(center, radius): return (center, radius)
        case let .box(center, size, _): return (center, 0.5 * (size.x * size.x + size.y * size.y).squareRoot())
        case let .segment(from, to):
            let dx = to.x - from.x, dy = to.y - from.y
            return (Vector2((from.x + to.x) / 2, (from.y + to.y) / 2), 0.5 * (dx * dx + dy * dy).squareRoot())
        }
    }

    /// Puts the robot at a random pose whose body keeps `startClearance` from the walls and from
    /// every obstacle's bounding circle, x within `xRange` (default: the whole arena). If 200
    /// draws find no room, the last obstacle is removed and the search starts again, so a setup
    /// always comes out.
    private static func place(_ world: World, seed: UInt64, xRange: ClosedRange<Double>? = nil,
                              using rng: inout EvolutionRandom) -> TrialSetup {
        var world = world
        let margin = world.robot.bodyRadius + startClearance
        let xs = xRange ?? 0...world.arenaWidth
        let x0 = max(margin, xs.lowerBound), x1 = min(world.arenaWidth - margin, xs.upperBound)
        while true {
            for _ in 0..<200 {
                let p = Vector2(x0 + (x1 - x0) * rng.unit(), margin + (world.arenaHeight - 2 * margin) * rng.unit())
                let free = world.obstacles.allSatisfy { o in
                    let b = bounds(o)
                    let dx = p.x - b.center.x, dy = p.y - b.center.y
                    return (dx * dx + dy * dy).squareRoot() >= b.radius + margin
                }
                if free {
                    let pose = Pose(x: p.x, y: p.y, heading: 2 * Double.pi * rng.unit() - Double.pi)
                    world.starts = [pose]
                    return TrialSetup(world: world, pose: pose,
                                      label: "\(world.name) \(String(seed, radix: 16))")
                }
            }
            world.obstacles.removeLast()
        }
    }
}
