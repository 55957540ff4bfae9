import Foundation

extension World {
    /// The names of the built-in worlds, available without any file.
    public static let builtinNames = ["empty", "obstacles", "light", "track", "room"]

    /// A built-in world by name (`empty`, `obstacles`, `light`, `track` or `room`), or `nil`.
    public static func builtin(named name: String) -> World? {
        switch name {
        case "empty": return empty
        case "obstacles": return obstacleCourse
        case "light": return lightArena
        case "track": return lineTrack
        case "room": return sonarRoom
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

    /// The `track` world's line: a stadium of two 0.6 m straights joined by half circles of
    /// 0.35 m radius (3.40 m around), centred in a 2 m × 1.5 m arena, 2 cm wide, drawn
    /// counter-clockwise from the middle of the bottom straight.
    public static let trackLine: FloorMarking = {
        let radius = 0.35, half = 0.3, centre = Vector2(1.0, 0.75)
        var points: [Vector2] = []
        let arcPieces = 24
        for k in 0...arcPieces {  // the right half circle, bottom to top
            let a = -Double.pi / 2 + Double.pi * Double(k) / Double(arcPieces)
            points.append(Vector2(centre.x + half + radius * cos(a), centre.y + radius * sin(a)))
        }
        for k in 0...arcPieces {  // the left half circle, top to bottom
            let a = Double.pi / 2 + Double.pi * Double(k) / Double(arcPieces)
            points.append(Vector2(centre.x - half + radius * cos(a), centre.y + radius * sin(a)))
        }
        return FloorMarking(points: points, width: 0.02, closed: true)
    }()

    /// A 2 m × 1.5 m floor with a closed dark line (`trackLine`) for a line follower: no
    /// obstacles. Five starting poses on the line, facing along it counter-clockwise.
    public static let lineTrack = World(
        name: "track", arenaWidth: 2, arenaHeight: 1.5, floor: [trackLine],
        starts: [
            Pose(x: 0.9, y: 0.4, heading: 0),
            Pose(x: 1.2, y: 1.1, heading: degrees(180)),
            Pose(x: 0.35, y: 0.75, heading: degrees(-90)),
            Pose(x: 1.65, y: 0.75, heading: degrees(90)),
            Pose(x: 0.8, y: 1.1, heading: degrees(180)),
        ])

    /// A 4 m × 3 m room for a large robot with a scanning ranger: boxes, pillars and a
    /// partition, with five starting poses in the open. Sampled every 30 ms, which a sonar
    /// ping (up to 25 ms) allows.
    public static let sonarRoom = World(
        name: "room", arenaWidth: 4, arenaHeight: 3,
        obstacles: [
            .box(center: Vector2(1.3, 1.0), size: Vector2(0.5, 0.4), angle: 0),
            .box(center: Vector2(2.9, 2.1), size: Vector2(0.6, 0.3), angle: degrees(25)),
            .circle(center: Vector2(2.3, 0.9), radius: 0.2),
            .circle(center: Vector2(1.0, 2.2), radius: 0.15),
            .circle(center: Vector2(3.3, 0.7), radius: 0.15),
            .segment(from: Vector2(2.0, 3.0), to: Vector2(2.0, 2.3)),
        ],
        starts: [
            Pose(x: 0.4, y: 0.4, heading: degrees(45)),
            Pose(x: 3.6, y: 0.4, heading: degrees(135)),
            Pose(x: 0.4, y: 1.6, heading: 0),
            Pose(x: 3.5, y: 2.7, heading: degrees(-135)),
            Pose(x: 2.0, y: 1.6, heading: degrees(-90)),
        ],
        link: LinkSettings(samplePeriodMicros: 30_000))
}
