import Foundation
import Yams

extension World {
    /// Reads a world from YAML text. Lengths are in metres, angles in degrees, times in
    /// milliseconds; every field but `arena` has a default (see `Docs/SIMULATION.md`).
    /// - Parameter source: the file's name, used in error messages.
    /// - Throws: `WorldError` naming the line, the field and the problem.
    public static func parse(yaml: String, source: String = "world") throws(WorldError) -> World {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw WorldFileReader.syntaxError(error, source: source)
        } catch {
            throw WorldError(source: source, field: "", problem: "cannot read the YAML: \(error)")
        }
        guard let root else {
            throw WorldError(source: source, field: "", problem: "the world file is empty; it needs at least `arena: {width: …, height: …}` and `robot: {start: {x: …, y: …}}`")
        }
        var reader = WorldFileReader(source: source)
        let world = try reader.world(root, defaultName: source)
        do {
            try world.validate()
        } catch {
            throw reader.locate(error)
        }
        return world
    }

    /// Reads a world file.
    /// - Throws: `WorldError` if the file cannot be read or is not a valid world.
    public static func load(path: String) throws(WorldError) -> World {
        let text = try readText(path)
        let name = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
        var world = try parse(yaml: text, source: path)
        if world.name == path { world.name = name }
        return world
    }

    /// The world file's text, or an error that says plainly why it cannot be read: no such
    /// file, a folder, no permission, or not a text file.
    static func readText(_ path: String) throws(WorldError) -> String {
        func failure(_ what: String) -> WorldError {
            WorldError(source: path, field: "", problem: what)
        }
        let builtins = World.builtinNames.joined(separator: ", ")
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw failure("no such world file; check the path, or use a built-in world: \(builtins)")
        }
        if isFolder.boolValue { throw failure("a folder, not a world file; name a world file (YAML) or a built-in world: \(builtins)") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw failure("cannot read the world file (check its permissions)")
        }
        guard !data.contains(0), let text = String(data: data, encoding: .utf8) else {
            throw failure("not a text file (it holds binary data or is not UTF-8); a world file is YAML (Docs/SIMULATION.md)")
        }
        return text
    }

    /// A built-in world by name, or else a world file at that path.
    /// - Throws: `WorldError` if it is neither.
    public static func named(_ nameOrPath: String) throws(WorldError) -> World {
        if let world = builtin(named: nameOrPath) { return world }
        return try load(path: nameOrPath)
    }
}

/// Turns a composed YAML tree into a `World`, remembering where each field was written so
/// validation errors can name the line.
struct WorldFileReader {
    let source: String
    private var marks: [String: Mark] = [:]

    init(source: String) {
        self.source = source
    }

    static func syntaxError(_ error: YamlError, source: String) -> WorldError {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
            let .composer(context, problem, mark, _):
            let text = context.map { "\($0.text), " } ?? ""
            return WorldError(source: source, line: mark.line, column: mark.column, field: "", problem: "not valid YAML: \(text)\(problem)")
        case let .duplicatedKeysInMapping(duplicates, context):
            return WorldError(source: source, line: context.mark.line, column: context.mark.column, field: "", problem: "a key appears twice (\(duplicates.joined(separator: ", "))); keep one")
        default:
            return WorldError(source: source, field: "", problem: "not valid YAML: \(error)")
        }
    }

    /// `error` with this file's name and the line of its field (or of the nearest enclosing
    /// field that was written).
    func locate(_ error: WorldError) -> WorldError {
        var located = error
        located.source = source
        var field = error.field
        while !field.isEmpty {
            if let mark = marks[field] {
                located.line = mark.line
                located.column = mark.column
                break
            }
            guard let cut = field.lastIndex(where: { $0 == "." || $0 == "[" }) else { break }
            field = String(field[..<cut])
        }
        return located
    }

    private func fail(_ node: Node?, _ field: String, _ problem: String) -> WorldError {
        WorldError(source: source, line: node?.mark?.line, column: node?.mark?.column, field: field, problem: problem)
    }

    /// The entries of a mapping, refusing keys not in `keys`.
    private mutating func mapping(_ node: Node, _ field: String, keys: [String]) throws(WorldError) -> Fields {
        guard case let .mapping(map) = node else {
            throw fail(node, field, "must be a mapping of keys to values (\(keys.joined(separator: ", ")))")
        }
        var entries: [String: Node] = [:]
        for (keyNode, value) in map {
            let key = keyNode.string ?? ""
            let path = field.isEmpty ? key : "\(field).\(key)"
            guard keys.contains(key) else {
                throw fail(keyNode, path, "unknown key `\(key)`; check its spelling or remove it (known here: \(keys.joined(separator: ", ")))")
            }
            marks[path] = value.mark ?? keyNode.mark
            entries[key] = value
        }
        return Fields(node: node, field: field, entries: entries)
    }

    private struct Fields {
        let node: Node
        let field: String
        let entries: [String: Node]

        func path(_ key: String) -> String { field.isEmpty ? key : "\(field).\(key)" }
    }

    private func required(_ fields: Fields, _ key: String) throws(WorldError) -> Node {
        guard let node = fields.entries[key] else {
            throw fail(fields.node, fields.path(key), "missing field `\(key)`; add it\(fields.field.isEmpty ? "" : " under `\(fields.field)`")")
        }
        return node
    }

    private func number(_ node: Node, _ field: String) throws(WorldError) -> Double {
        guard case .scalar = node, let value = node.float else {
            throw fail(node, field, "must be a number, got `\(node.string ?? "a list or mapping")`")
        }
        guard value.isFinite else {
            throw fail(node, field, "must be a finite number, got `\(node.string ?? "\(value)")`")
        }
        return value
    }

    private func number(_ fields: Fields, _ key: String, default value: Double) throws(WorldError) -> Double {
        guard let node = fields.entries[key] else { return value }
        return try number(node, fields.path(key))
    }

    private func requiredNumber(_ fields: Fields, _ key: String) throws(WorldError) -> Double {
        try number(try required(fields, key), fields.path(key))
    }

    private func degrees(_ fields: Fields, _ key: String, default radians: Double) throws(WorldError) -> Double {
        guard let node = fields.entries[key] else { return radians }
        return try number(node, fields.path(key)) * .pi / 180
    }

    private func micros(_ fields: Fields, _ key: String, default value: Int) throws(WorldError) -> Int {
        guard let node = fields.entries[key] else { return value }
        let ms = try number(node, fields.path(key))
        guard abs(ms) < 1e9 else { throw fail(node, fields.path(key), "\(ms) ms is out of range") }
        return Int((ms * 1000).rounded())
    }

    private func integer(_ fields: Fields, _ key: String, default value: Int) throws(WorldError) -> Int {
        guard let node = fields.entries[key] else { return value }
        guard case .scalar = node, let n = node.int else {
            throw fail(node, fields.path(key), "must be a whole number, got `\(node.string ?? "a list or mapping")`")
        }
        return n
    }

    private func flag(_ fields: Fields, _ key: String, default value: Bool) throws(WorldError) -> Bool {
        guard let node = fields.entries[key] else { return value }
        guard case .scalar = node, let b = node.bool else {
            throw fail(node, fields.path(key), "must be true or false, got `\(node.string ?? "a list or mapping")`")
        }
        return b
    }

    private mutating func point(_ node: Node, _ field: String) throws(WorldError) -> Vector2 {
        guard case let .sequence(items) = node, items.count == 2 else {
            throw fail(node, field, "must be a point written [x, y] in metres")
        }
        let x = try number(items[0], "\(field)[0]")
        let y = try number(items[1], "\(field)[1]")
        return Vector2(x, y)
    }

    private mutating func point(_ fields: Fields, _ key: String, default value: Vector2) throws(WorldError) -> Vector2 {
        guard let node = fields.entries[key] else { return value }
        return try point(node, fields.path(key))
    }

    private mutating func list(_ fields: Fields, _ key: String) throws(WorldError) -> [Node] {
        guard let node = fields.entries[key] else { return [] }
        if case .scalar = node, node.null != nil { return [] }
        guard case let .sequence(items) = node else {
            throw fail(node, fields.path(key), "must be a list (lines starting with `- `)")
        }
        for (i, item) in items.enumerated() { marks["\(fields.path(key))[\(i)]"] = item.mark }
        return Array(items)
    }

    mutating func world(_ root: Node, defaultName: String) throws(WorldError) -> World {
        let top = try mapping(root, "", keys: [
            "name", "arena", "obstacles", "lights", "floor", "ambient_light", "light_occlusion",
            "near_light_radius", "robot", "physics", "link",
        ])
        let name = top.entries["name"]?.string ?? defaultName
        let arena = try mapping(try required(top, "arena"), "arena", keys: ["width", "height"])
        var obstacles: [Obstacle] = []
        for (i, node) in try list(top, "obstacles").enumerated() {
            obstacles.append(try obstacle(node, "obstacles[\(i)]"))
        }
        var lights: [LightSource] = []
        for (i, node) in try list(top, "lights").enumerated() {
            let f = try mapping(node, "lights[\(i)]", keys: ["position", "intensity", "falloff"])
            lights.append(LightSource(
                position: try point(try required(f, "position"), f.path("position")),
                intensity: try number(f, "intensity", default: 1),
                falloff: try number(f, "falloff", default: 0.5)))
        }
        var floor: [FloorMarking] = []
        for (i, node) in try list(top, "floor").enumerated() {
            let f = try mapping(node, "floor[\(i)]", keys: ["points", "width", "closed"])
            var points: [Vector2] = []
            for (k, item) in try list(f, "points").enumerated() { points.append(try point(item, "floor[\(i)].points[\(k)]")) }
            floor.append(FloorMarking(points: points, width: try number(f, "width", default: 0.02),
                                      closed: try flag(f, "closed", default: false)))
        }
        let defaults = World(name: name, arenaWidth: 1, arenaHeight: 1, starts: [])
        guard let robotNode = top.entries["robot"] else {
            throw fail(root, "robot", "missing field `robot`; a world needs at least `robot: {start: {x: …, y: …}}`")
        }
        let (robot, starts) = try robotSection(robotNode)
        var physics = PhysicsSettings()
        if let node = top.entries["physics"] {
            let f = try mapping(node, "physics", keys: ["step_ms", "collision"])
            physics.stepMicros = try micros(f, "step_ms", default: physics.stepMicros)
            if let c = f.entries["collision"] {
                guard let response = c.string.flatMap(CollisionResponse.init(rawValue:)) else {
                    throw fail(c, "physics.collision", "must be `slide` or `stop`, got `\(c.string ?? "?")`")
                }
                physics.collision = response
            }
        }
        var link = LinkSettings()
        if let node = top.entries["link"] {
            let f = try mapping(node, "link", keys: ["sample_period_ms", "command_latency_ms", "dropout", "failsafe_timeout_ms"])
            link.samplePeriodMicros = try micros(f, "sample_period_ms", default: link.samplePeriodMicros)
            link.commandLatencyMicros = try micros(f, "command_latency_ms", default: link.commandLatencyMicros)
            link.dropout = try number(f, "dropout", default: link.dropout)
            link.failsafeTimeoutMicros = try micros(f, "failsafe_timeout_ms", default: link.failsafeTimeoutMicros)
        }
        return World(
            name: name,
            arenaWidth: try requiredNumber(arena, "width"),
            arenaHeight: try requiredNumber(arena, "height"),
            obstacles: obstacles, lights: lights, floor: floor,
            ambientLight: try number(top, "ambient_light", default: defaults.ambientLight),
            lightOcclusion: try flag(top, "light_occlusion", default: defaults.lightOcclusion),
            nearLightRadius: try number(top, "near_light_radius", default: defaults.nearLightRadius),
            robot: robot, starts: starts, physics: physics, link: link)
    }

    private mutating func obstacle(_ node: Node, _ field: String) throws(WorldError) -> Obstacle {
        let kinds = ["segment", "box", "circle"]
        let outer = try mapping(node, field, keys: kinds)
        guard outer.entries.count == 1, let (kind, body) = outer.entries.first else {
            throw fail(node, field, "an obstacle is exactly one of `segment: {from: [x, y], to: [x, y]}`, `box: {center: [x, y], size: [w, h], angle: °}` or `circle: {center: [x, y], radius: r}`")
        }
        let path = "\(field).\(kind)"
        switch kind {
        case "segment":
            let f = try mapping(body, path, keys: ["from", "to"])
            return .segment(from: try point(try required(f, "from"), f.path("from")),
                            to: try point(try required(f, "to"), f.path("to")))
        case "box":
            let f = try mapping(body, path, keys: ["center", "size", "angle"])
            return .box(center: try point(try required(f, "center"), f.path("center")),
                        size: try point(try required(f, "size"), f.path("size")),
                        angle: try degrees(f, "angle", default: 0))
        default:
            let f = try mapping(body, path, keys: ["center", "radius"])
            return .circle(center: try point(try required(f, "center"), f.path("center")),
                           radius: try requiredNumber(f, "radius"))
        }
    }

    private mutating func pose(_ node: Node, _ field: String) throws(WorldError) -> Pose {
        let f = try mapping(node, field, keys: ["x", "y", "heading"])
        return Pose(x: try requiredNumber(f, "x"), y: try requiredNumber(f, "y"),
                    heading: try degrees(f, "heading", default: 0))
    }

    private mutating func robotSection(_ node: Node) throws(WorldError) -> (RobotSpec, [Pose]) {
        let f = try mapping(node, "robot", keys: [
            "start", "starts", "body_radius", "wheel_base", "wheel_radius", "max_wheel_speed",
            "motor_time_constant_ms", "sensors",
        ])
        var starts = [try pose(try required(f, "start"), "robot.start")]
        for (i, item) in try list(f, "starts").enumerated() {
            starts.append(try pose(item, "robot.starts[\(i)]"))
        }
        var robot = RobotSpec.reference
        robot.bodyRadius = try number(f, "body_radius", default: robot.bodyRadius)
        robot.wheelBase = try number(f, "wheel_base", default: robot.wheelBase)
        robot.wheelRadius = try number(f, "wheel_radius", default: robot.wheelRadius)
        robot.maxWheelSpeed = try number(f, "max_wheel_speed", default: robot.maxWheelSpeed)
        robot.motorTimeConstant = try number(f, "motor_time_constant_ms", default: robot.motorTimeConstant * 1000) / 1000
        if let sensorsNode = f.entries["sensors"] {
            let s = try mapping(sensorsNode, "robot.sensors", keys: [
                "range_left", "range_right", "light_left", "light_right", "bumper", "encoders",
            ])
            robot.rangeLeft = try rangeSensor(s.entries["range_left"], "robot.sensors.range_left", robot.rangeLeft)
            robot.rangeRight = try rangeSensor(s.entries["range_right"], "robot.sensors.range_right", robot.rangeRight)
            robot.lightLeft = try lightSensor(s.entries["light_left"], "robot.sensors.light_left", robot.lightLeft)
            robot.lightRight = try lightSensor(s.entries["light_right"], "robot.sensors.light_right", robot.lightRight)
            if let node = s.entries["bumper"] {
                let b = try mapping(node, "robot.sensors.bumper", keys: ["arc", "flip_probability"])
                robot.bumper.arc = try degrees(b, "arc", default: robot.bumper.arc)
                robot.bumper.flipProbability = try number(b, "flip_probability", default: robot.bumper.flipProbability)
            }
            if let node = s.entries["encoders"] {
                let e = try mapping(node, "robot.sensors.encoders", keys: ["ticks_per_revolution", "slip"])
                robot.encoders.ticksPerRevolution = try number(e, "ticks_per_revolution", default: robot.encoders.ticksPerRevolution)
                robot.encoders.slip = try number(e, "slip", default: robot.encoders.slip)
            }
        }
        return (robot, starts)
    }

    private mutating func rangeSensor(_ node: Node?, _ field: String, _ base: RangeSensorSpec) throws(WorldError) -> RangeSensorSpec {
        guard let node else { return base }
        let f = try mapping(node, field, keys: [
            "position", "angle", "field_of_view", "rays", "min_range", "max_range", "near_mv", "far_mv", "noise_mv",
        ])
        var spec = base
        spec.position = try point(f, "position", default: spec.position)
        spec.angle = try degrees(f, "angle", default: spec.angle)
        spec.fieldOfView = try degrees(f, "field_of_view", default: spec.fieldOfView)
        spec.rays = try integer(f, "rays", default: spec.rays)
        spec.minRange = try number(f, "min_range", default: spec.minRange)
        spec.maxRange = try number(f, "max_range", default: spec.maxRange)
        spec.nearMillivolts = try number(f, "near_mv", default: spec.nearMillivolts)
        spec.farMillivolts = try number(f, "far_mv", default: spec.farMillivolts)
        spec.noiseMillivolts = try number(f, "noise_mv", default: spec.noiseMillivolts)
        return spec
    }

    private mutating func lightSensor(_ node: Node?, _ field: String, _ base: LightSensorSpec) throws(WorldError) -> LightSensorSpec {
        guard let node else { return base }
        let f = try mapping(node, field, keys: ["position", "angle", "sensitivity", "noise_mv"])
        var spec = base
        spec.position = try point(f, "position", default: spec.position)
        spec.angle = try degrees(f, "angle", default: spec.angle)
        spec.sensitivity = try number(f, "sensitivity", default: spec.sensitivity)
        spec.noiseMillivolts = try number(f, "noise_mv", default: spec.noiseMillivolts)
        return spec
    }
}
