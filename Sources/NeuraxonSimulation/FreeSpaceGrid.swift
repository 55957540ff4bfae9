/// A square grid over the arena marking where the robot's centre can be, and which of those
/// places it can reach from a start. Used for coverage (`CoverageGrid`) and for checking that a
/// generated world's goal can be reached (`World.goalIsReachable()`).
///
/// A cell is free when a disc of radius `clearance` centred at the cell's centre lies inside
/// the arena and touches no wall or obstacle. Two side-by-side free cells are joined when the
/// disc also fits at the midpoint between their centres; with cells no wider than the
/// clearance, no wall, however thin, lies between two joined cells.
struct FreeSpaceGrid {
    /// The cell side, metres.
    let cell: Double
    let columns: Int
    let rows: Int
    let clearance: Double
    /// Row-major from the arena's south-west corner.
    let free: [Bool]
    private let world: World
    private let geometry: WorldGeometry

    init(world: World, geometry: WorldGeometry, cell: Double, clearance: Double) {
        self.cell = cell
        self.clearance = clearance
        self.world = world
        self.geometry = geometry
        columns = max(1, Int((world.arenaWidth / cell).rounded(.up)))
        rows = max(1, Int((world.arenaHeight / cell).rounded(.up)))
        var free = [Bool](repeating: false, count: columns * rows)
        for i in free.indices {
            let centre = Vector2((Double(i % columns) + 0.5) * cell, (Double(i / columns) + 0.5) * cell)
            free[i] = world.insideArena(centre, margin: clearance) && geometry.overlap(circleAt: centre, radius: clearance) == nil
        }
        self.free = free
    }

    /// The cell holding `p` (clamped to the grid).
    func index(of p: Vector2) -> Int {
        let column = min(max(Int(p.x / cell), 0), columns - 1)
        let row = min(max(Int(p.y / cell), 0), rows - 1)
        return row * columns + column
    }

    func centre(of i: Int) -> Vector2 {
        Vector2((Double(i % columns) + 0.5) * cell, (Double(i / columns) + 0.5) * cell)
    }

    private func fits(_ p: Vector2) -> Bool {
        world.insideArena(p, margin: clearance) && geometry.overlap(circleAt: p, radius: clearance) == nil
    }

    /// The free cells reachable from `start`: a breadth-first search from the free cells of
    /// the 3 × 3 block around it that the disc reaches in a straight line (checked at the
    /// midpoint), through joined neighbours.
    func reachable(from start: Vector2) -> [Bool] {
        var reached = [Bool](repeating: false, count: free.count)
        var queue: [Int] = []
        let home = index(of: start)
        let (hc, hr) = (home % columns, home / columns)
        for dr in -1...1 {
            for dc in -1...1 {
                let c = hc + dc, r = hr + dr
                guard c >= 0, c < columns, r >= 0, r < rows else { continue }
                let i = r * columns + c
                if free[i] && !reached[i] && (i == home || fits((start + centre(of: i)) * 0.5)) {
                    reached[i] = true
                    queue.append(i)
                }
            }
        }
        var head = 0
        while head < queue.count {
            let i = queue[head]
            head += 1
            let c = i % columns, r = i / columns
            for (dc, dr) in [(1, 0), (-1, 0), (0, 1), (0, -1)] {
                let nc = c + dc, nr = r + dr
                guard nc >= 0, nc < columns, nr >= 0, nr < rows else { continue }
                let j = nr * columns + nc
                if free[j] && !reached[j] && fits((centre(of: i) + centre(of: j)) * 0.5) {
                    reached[j] = true
                    queue.append(j)
                }
            }
        }
        return reached
    }
}

extension World {
    /// Whether the robot, from its first starting pose, can reach "near the light" (within
    /// `nearLightRadius` of a light) of each light: a path search on a 5 cm grid with a
    /// clearance of the body radius plus 1.5 cm (so the path keeps clear of walls between the
    /// grid's checks). `true` in a world without lights.
    public func goalIsReachable() -> Bool {
        guard !lights.isEmpty, let start = starts.first else { return true }
        let grid = FreeSpaceGrid(world: self, geometry: WorldGeometry(self), cell: 0.05,
                                 clearance: robot.bodyRadius + 0.015)
        let reached = grid.reachable(from: start.position)
        return lights.allSatisfy { light in
            reached.indices.contains { reached[$0] && (grid.centre(of: $0) - light.position).length <= nearLightRadius }
        }
    }
}
