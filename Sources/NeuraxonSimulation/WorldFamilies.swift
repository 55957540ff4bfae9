import Foundation

/// Families of worlds drawn from a seed (`World.generate(_:seed:)`), each with the parameters
/// below (lengths in metres; every length is drawn to the millimetre and every angle to the
/// whole degree, so a world written to a file reads back as the same world). Every generated
/// world uses the reference robot and the default physics and link settings, has one starting
/// pose, passes `World.validate()`, and, when it has a light, passes `World.goalIsReachable()`.
public enum WorldFamily: String, CaseIterable, Sendable {
    /// A corridor 0.4–1 m wide (to the centimetre) of 3 or 4 straight legs joined by 90° turns
    /// (2 or 3 turns): the first leg runs east and is 0.9–1.8 m long, the legs after it turn
    /// north or south and back east in turn; eastward legs are 0.9–1.8 m (and at least the
    /// width + 0.4 m), north–south legs the width + 0.3 m to 1.6 m. Closed at both ends. The
    /// robot starts 0.25 m into the first leg facing east; a light (intensity 1, falloff 0.5 m)
    /// stands 0.2 m before the far end. The arena is the corridor's bounding box plus 0.1 m.
    case corridor
    /// A 2.5–4 m × 2.5–4 m room of 20–45 discs of radius 2–10 cm (most near 2 cm: r = 0.02 +
    /// 0.08·u², u uniform), at least 1 cm apart, none within 0.2 m of the robot's body at the
    /// start. Narrow gaps between discs may be closed to the robot. No light.
    case clutter
    /// A grid of 2–3 × 1–2 equal rooms, each 1.2–1.8 m a side; every wall between two rooms has
    /// one doorway 0.35–0.7 m wide at a random place (at least 0.1 m from the wall's ends). The
    /// robot starts in the middle of the south-west room facing a random way; a light
    /// (intensity 1, falloff 1 m) is in the middle of the opposite room.
    case doorways
    /// A 3–4 m × 2.4–3.2 m arena crossed from south to north by 1 or 2 walls, evenly spaced,
    /// each with 1 or 2 gaps 0.4–0.7 m wide (at least 0.15 m from the arena's walls and 0.2 m
    /// from each other). The robot starts 0.35 m from the west wall facing a random way; a light
    /// (intensity 1, falloff 1 m) stands 0.3 m from the east wall, and the straight line between
    /// them always meets a wall: the light is hidden until the robot finds a gap.
    case lightBehind = "light-behind"
    /// An open 2.5–5 m × 2.5–5 m arena with 4–10 pillars, discs of radius 5–20 cm and square
    /// boxes of 10–40 cm turned by any whole degree, every pillar at least 0.3 m from the
    /// arena's walls, 0.35 m from every other pillar and 0.3 m from the robot's body at the
    /// start. No light.
    case arena

    /// The family names as the command line takes them.
    public static var names: [String] { allCases.map(\.rawValue) }
}

extension World {
    /// How many draws `generate` makes before giving up (each draw is checked; in practice the
    /// first or second is kept).
    static let generationAttempts = 1000

    /// A world of `family` drawn from `seed`: the same family and seed always give the same
    /// world. Its name is `FAMILY-SEED`.
    /// - Throws: `WorldError` if no valid world was drawn in `generationAttempts` tries (never
    ///   seen: the families are drawn so that almost every draw is valid).
    public static func generate(_ family: WorldFamily, seed: UInt64) throws(WorldError) -> World {
        for attempt in 0..<generationAttempts {
            var draw = WorldDraw(random: SimulationRandom(seed: seed, stream: 16 &+ UInt64(attempt)))
            var world: World
            switch family {
            case .corridor: world = draw.corridor()
            case .clutter: world = draw.clutter()
            case .doorways: world = draw.doorways()
            case .lightBehind: world = draw.lightBehind()
            case .arena: world = draw.arena()
            }
            world.name = "\(family.rawValue)-\(seed)"
            guard (try? world.validate()) != nil, world.goalIsReachable() else { continue }
            if family == .lightBehind, !world.lightIsHidden() { continue }
            return world
        }
        throw WorldError(field: "", problem: "no valid \(family.rawValue) world was drawn from seed \(seed) in \(generationAttempts) tries; try another seed")
    }

    /// Whether the straight line from the first starting pose to every light meets a wall.
    func lightIsHidden() -> Bool {
        guard let start = starts.first else { return false }
        let geometry = WorldGeometry(self)
        return lights.allSatisfy { light in
            let d = (light.position - start.position).length
            return d > 0 && geometry.castRay(from: start.position, direction: (light.position - start.position) * (1 / d), limit: d) < d
        }
    }
}

/// One draw of a world's parameters from a random stream.
private struct WorldDraw {
    var random: SimulationRandom

    /// A length uniform in lo…hi, to the millimetre.
    mutating func length(_ lo: Double, _ hi: Double) -> Double {
        millimetres(lo + (hi - lo) * random.uniform())
    }

    /// A whole number uniform in the range.
    mutating func whole(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(random.next() % UInt64(range.count))
    }

    /// A whole number of degrees 0…359, in radians as a world file gives them.
    mutating func heading() -> Double {
        radians(whole(0...359))
    }

    func millimetres(_ x: Double) -> Double { (x * 1000).rounded() / 1000 }
    func radians(_ degrees: Int) -> Double { Double(degrees) * .pi / 180 }

    func world(width: Double, height: Double, obstacles: [Obstacle], lights: [LightSource] = [], start: Pose) -> World {
        World(name: "", arenaWidth: width, arenaHeight: height, obstacles: obstacles, lights: lights, starts: [start])
    }

    mutating func corridor() -> World {
        let width = (40 + Double(whole(0...60))) / 100
        let turns = whole(2...3)
        var directions = [Vector2(1, 0)]
        var lengths = [length(max(0.9, width + 0.4), 1.8)]
        for leg in 1...turns {
            if leg % 2 == 1 {
                directions.append(Vector2(0, random.chance(0.5) ? 1 : -1))
                lengths.append(length(width + 0.3, 1.6))
            } else {
                directions.append(Vector2(1, 0))
                lengths.append(length(max(0.9, width + 0.4), 1.8))
            }
        }
        var points = [Vector2.zero]
        for (d, l) in zip(directions, lengths) { points.append(points[points.count - 1] + d * l) }
        let half = width / 2
        func normal(_ d: Vector2) -> Vector2 { Vector2(-d.y, d.x) }
        var left = [points[0] + normal(directions[0]) * half]
        var right = [points[0] - normal(directions[0]) * half]
        for k in 1..<directions.count {
            let miter = (normal(directions[k - 1]) + normal(directions[k])) * half
            left.append(points[k] + miter)
            right.append(points[k] - miter)
        }
        left.append(points[points.count - 1] + normal(directions[directions.count - 1]) * half)
        right.append(points[points.count - 1] - normal(directions[directions.count - 1]) * half)
        let all = left + right
        let shift = Vector2(0.1 - all.map(\.x).min()!, 0.1 - all.map(\.y).min()!)
        func placed(_ p: Vector2) -> Vector2 { Vector2(millimetres(p.x + shift.x), millimetres(p.y + shift.y)) }
        var obstacles: [Obstacle] = []
        for wall in [left, right] {
            for k in 1..<wall.count { obstacles.append(.segment(from: placed(wall[k - 1]), to: placed(wall[k]))) }
        }
        obstacles.append(.segment(from: placed(left[0]), to: placed(right[0])))
        obstacles.append(.segment(from: placed(left[left.count - 1]), to: placed(right[right.count - 1])))
        let start = placed(points[0] + directions[0] * 0.25)
        let last = directions[directions.count - 1]
        let light = placed(points[points.count - 1] - last * 0.2)
        return world(width: millimetres(all.map(\.x).max()! + shift.x + 0.1),
                     height: millimetres(all.map(\.y).max()! + shift.y + 0.1),
                     obstacles: obstacles, lights: [LightSource(position: light, intensity: 1, falloff: 0.5)],
                     start: Pose(x: start.x, y: start.y, heading: 0))
    }

    mutating func clutter() -> World {
        let width = length(2.5, 4), height = length(2.5, 4)
        let start = Pose(x: length(0.3, width - 0.3), y: length(0.3, height - 0.3), heading: heading())
        let count = whole(20...45)
        var discs: [(Vector2, Double)] = []
        var tries = 0
        while discs.count < count && tries < 100 * count {
            tries += 1
            let u = random.uniform()
            let r = millimetres(0.02 + 0.08 * u * u)
            let c = Vector2(length(r, width - r), length(r, height - r))
            if (c - start.position).length < r + 0.06 + 0.2 { continue }
            if discs.contains(where: { ($0.0 - c).length < $0.1 + r + 0.01 }) { continue }
            discs.append((c, r))
        }
        return world(width: width, height: height, obstacles: discs.map { .circle(center: $0.0, radius: $0.1) }, start: start)
    }

    mutating func doorways() -> World {
        let columns = whole(2...3), rows = whole(1...2)
        let roomWidth = length(1.2, 1.8), roomHeight = length(1.2, 1.8)
        var obstacles: [Obstacle] = []
        /// A wall from `a` along `direction` for `span` metres, with one doorway in it.
        func wall(from a: Vector2, direction: Vector2, span: Double) {
            let door = length(0.35, 0.7)
            let at = length(0.1, span - door - 0.1)
            obstacles.append(.segment(from: a, to: placedPoint(a + direction * at)))
            obstacles.append(.segment(from: placedPoint(a + direction * (at + door)), to: placedPoint(a + direction * span)))
        }
        for column in 1..<columns {
            for row in 0..<rows {
                wall(from: placedPoint(Vector2(Double(column) * roomWidth, Double(row) * roomHeight)),
                     direction: Vector2(0, 1), span: roomHeight)
            }
        }
        for row in 1..<rows {
            for column in 0..<columns {
                wall(from: placedPoint(Vector2(Double(column) * roomWidth, Double(row) * roomHeight)),
                     direction: Vector2(1, 0), span: roomWidth)
            }
        }
        let start = placedPoint(Vector2(roomWidth / 2, roomHeight / 2))
        let light = placedPoint(Vector2((Double(columns) - 0.5) * roomWidth, (Double(rows) - 0.5) * roomHeight))
        return world(width: millimetres(Double(columns) * roomWidth), height: millimetres(Double(rows) * roomHeight),
                     obstacles: obstacles, lights: [LightSource(position: light, intensity: 1, falloff: 1)],
                     start: Pose(x: start.x, y: start.y, heading: heading()))
    }

    func placedPoint(_ p: Vector2) -> Vector2 { Vector2(millimetres(p.x), millimetres(p.y)) }

    mutating func lightBehind() -> World {
        let width = length(3, 4), height = length(2.4, 3.2)
        let walls = whole(1...2)
        var obstacles: [Obstacle] = []
        for k in 1...walls {
            let x = millimetres(width * Double(k) / Double(walls + 1))
            // Gaps: drawn one after the other up the wall, each 0.4–0.7 m, with room left for the next.
            let gapCount = whole(1...2)
            var gaps: [(Double, Double)] = []
            var floor = 0.15
            for g in 0..<gapCount {
                let size = length(0.4, 0.7)
                let roomLeft = Double(gapCount - g - 1) * (0.7 + 0.2) + 0.15
                let top = height - roomLeft - size
                guard top > floor else { break }
                let y = length(floor, top)
                gaps.append((y, millimetres(y + size)))
                floor = y + size + 0.2
            }
            var y = 0.0
            for (from, to) in gaps {
                obstacles.append(.segment(from: Vector2(x, y), to: Vector2(x, from)))
                y = to
            }
            obstacles.append(.segment(from: Vector2(x, y), to: Vector2(x, height)))
        }
        let start = Pose(x: 0.35, y: length(0.4, height - 0.4), heading: heading())
        let light = Vector2(millimetres(width - 0.3), length(0.4, height - 0.4))
        return world(width: width, height: height, obstacles: obstacles,
                     lights: [LightSource(position: light, intensity: 1, falloff: 1)], start: start)
    }

    mutating func arena() -> World {
        let width = length(2.5, 5), height = length(2.5, 5)
        let start = Pose(x: length(0.3, width - 0.3), y: length(0.3, height - 0.3), heading: heading())
        let count = whole(4...10)
        var pillars: [(obstacle: Obstacle, centre: Vector2, reach: Double)] = []
        var tries = 0
        while pillars.count < count && tries < 100 * count {
            tries += 1
            let isDisc = random.chance(0.5)
            let size = isDisc ? length(0.05, 0.2) : length(0.1, 0.4)
            let reach = isDisc ? size : size / 2 * 2.0.squareRoot()
            let margin = reach + 0.3
            guard width - margin > margin, height - margin > margin else { continue }
            let c = Vector2(length(margin, width - margin), length(margin, height - margin))
            if (c - start.position).length < reach + 0.06 + 0.3 { continue }
            if pillars.contains(where: { ($0.centre - c).length < $0.reach + reach + 0.35 }) { continue }
            let obstacle: Obstacle = isDisc ? .circle(center: c, radius: size)
                : .box(center: c, size: Vector2(size, size), angle: heading())
            pillars.append((obstacle, c, reach))
        }
        return world(width: width, height: height, obstacles: pillars.map(\.obstacle), start: start)
    }
}
