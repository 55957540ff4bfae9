extension World {
    /// The names of the built-in worlds, available without any file.
    public static let builtinNames = ["empty", "obstacles", "light"]

    /// A built-in world by name (`empty`, `obstacles` or `light`), or `nil`.
    public static func builtin(named name: String) -> World? {
        switch name {
        case "empty": return empty
        case "obstacles": return obstacleCourse
        case "light": return lightArena
        default: return nil
        }
    }

    private static func degrees(_ d: Double) -> Double { d * .pi / 180 }

    /// A 2 m × 2 m arena with nothing in it but the robot, and five starting poses.
    public static let empty = World(
        name: "empty", arenaWidth: 2, arenaHeight: 2,
        starts: [
            Pose(x: 1, y: 1, heading: 0),
            Pose(x: 0.5, y: 0.5, heading: degrees(45)),
            Pose(x: 1.5, y: 0.5, heading: degrees(135)),
            Pose(x: 1.5, y: 1.5, heading: degrees(-135)),
            Pose(x: 0.5, y: 1.5, heading: degrees(-45)),
        ])

    /// A 3 m × 3 m obstacle course: boxes, discs and a thin wall spread over the floor, with
    /// six starting poses in the open.
    public static let obstacleCourse = World(
        name: "obstacles", arenaWidth: 3, arenaHeight: 3,
        obstacles: [
            .box(center: Vector2(1.0, 1.0), size: Vector2(0.4, 0.3), angle: 0),
            .box(center: Vector2(2.1, 0.8), size: Vector2(0.3, 0.5), angle: degrees(30)),
            .box(center: Vector2(2.2, 2.3), size: Vector2(0.5, 0.2), angle: degrees(-20)),
            .circle(center: Vector2(1.6, 1.7), radius: 0.15),
            .circle(center: Vector2(0.7, 2.2), radius: 0.2),
            .circle(center: Vector2(2.6, 1.5), radius: 0.1),
            .segment(from: Vector2(1.2, 2.7), to: Vector2(1.6, 2.3)),
            .segment(from: Vector2(0.3, 1.6), to: Vector2(0.8, 1.6)),
        ],
        starts: [
            Pose(x: 0.3, y: 0.3, heading: degrees(45)),
            Pose(x: 2.7, y: 0.3, heading: degrees(135)),
            Pose(x: 0.3, y: 1.2, heading: 0),
            Pose(x: 1.5, y: 1.2, heading: degrees(90)),
            Pose(x: 2.7, y: 2.7, heading: degrees(-135)),
            Pose(x: 1.5, y: 0.3, heading: degrees(90)),
        ])

    /// A 3 m × 2 m arena with one light near the east wall and two small obstacles on the way;
    /// "near the light" is within 0.3 m of it. Eight starting poses on the west side, some facing
    /// away from the light.
    public static let lightArena = World(
        name: "light", arenaWidth: 3, arenaHeight: 2,
        obstacles: [
            .circle(center: Vector2(1.5, 0.6), radius: 0.12),
            .box(center: Vector2(1.6, 1.45), size: Vector2(0.2, 0.2), angle: degrees(15)),
        ],
        lights: [LightSource(position: Vector2(2.6, 1.0), intensity: 1, falloff: 1.0)],
        nearLightRadius: 0.3,
        starts: [
            Pose(x: 0.3, y: 1.0, heading: 0),
            Pose(x: 0.3, y: 0.4, heading: 0),
            Pose(x: 0.3, y: 1.6, heading: 0),
            Pose(x: 0.5, y: 1.0, heading: degrees(90)),
            Pose(x: 0.5, y: 1.0, heading: degrees(-90)),
            Pose(x: 0.8, y: 0.3, heading: degrees(45)),
            Pose(x: 0.8, y: 1.7, heading: degrees(-45)),
            Pose(x: 1.0, y: 1.0, heading: degrees(180)),
        ])
}
