import Foundation

extension World {
    /// The world as a world file (Docs/SIMULATION.md, "World files") that `World.parse(yaml:)`
    /// reads back as this world. Settings equal to their defaults are left out; `comment`, if
    /// given, heads the file as `#` lines.
    public func worldFileText(comment: String? = nil) -> String {
        var lines: [String] = []
        if let comment { lines += comment.split(separator: "\n", omittingEmptySubsequences: false).map { "# \($0)" } }
        let defaults = World(name: name, arenaWidth: 1, arenaHeight: 1, starts: [])
        lines.append("name: \(Self.quoted(name))")
        lines.append("arena: {width: \(Self.number(arenaWidth)), height: \(Self.number(arenaHeight))}")
        if !obstacles.isEmpty {
            lines.append("obstacles:")
            for obstacle in obstacles {
                switch obstacle {
                case let .segment(from, to):
                    lines.append("  - segment: {from: \(Self.point(from)), to: \(Self.point(to))}")
                case let .box(center, size, angle):
                    lines.append("  - box: {center: \(Self.point(center)), size: \(Self.point(size)), angle: \(Self.degrees(angle))}")
                case let .circle(center, radius):
                    lines.append("  - circle: {center: \(Self.point(center)), radius: \(Self.number(radius))}")
                }
            }
        }
        if !lights.isEmpty {
            lines.append("lights:")
            for light in lights {
                lines.append("  - {position: \(Self.point(light.position)), intensity: \(Self.number(light.intensity)), falloff: \(Self.number(light.falloff))}")
            }
        }
        if !floor.isEmpty {
            lines.append("floor:")
            for marking in floor {
                let points = marking.points.map(Self.point).joined(separator: ", ")
                lines.append("  - {points: [\(points)], width: \(Self.number(marking.width)), closed: \(marking.closed)}")
            }
        }
        if ambientLight != defaults.ambientLight { lines.append("ambient_light: \(Self.number(ambientLight))") }
        if lightOcclusion != defaults.lightOcclusion { lines.append("light_occlusion: \(lightOcclusion)") }
        if nearLightRadius != defaults.nearLightRadius { lines.append("near_light_radius: \(Self.number(nearLightRadius))") }
        lines.append("robot:")
        if let first = starts.first { lines.append("  start: \(Self.pose(first))") }
        if starts.count > 1 {
            lines.append("  starts:")
            for pose in starts.dropFirst() { lines.append("    - \(Self.pose(pose))") }
        }
        lines += robotLines(robot)
        if physics != PhysicsSettings() {
            lines.append("physics: {step_ms: \(Self.number(Double(physics.stepMicros) / 1000)), collision: \(physics.collision.rawValue)}")
        }
        if link != LinkSettings() {
            lines.append("link: {sample_period_ms: \(Self.number(Double(link.samplePeriodMicros) / 1000)), "
                         + "command_latency_ms: \(Self.number(Double(link.commandLatencyMicros) / 1000)), "
                         + "dropout: \(Self.number(link.dropout)), "
                         + "failsafe_timeout_ms: \(Self.number(Double(link.failsafeTimeoutMicros) / 1000))}")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The robot section's fields that differ from the reference robot.
    private func robotLines(_ robot: RobotSpec) -> [String] {
        let reference = RobotSpec.reference
        guard robot != reference else { return [] }
        var lines = [
            "  body_radius: \(Self.number(robot.bodyRadius))",
            "  wheel_base: \(Self.number(robot.wheelBase))",
            "  wheel_radius: \(Self.number(robot.wheelRadius))",
            "  max_wheel_speed: \(Self.number(robot.maxWheelSpeed))",
        ]
        if robot.motorTimeConstant != reference.motorTimeConstant {
            lines.append("  motor_time_constant_ms: \(Self.number(robot.motorTimeConstant * 1000))")
        }
        func range(_ s: RangeSensorSpec) -> String {
            "{position: \(Self.point(s.position)), angle: \(Self.degrees(s.angle)), field_of_view: \(Self.degrees(s.fieldOfView)), "
                + "rays: \(s.rays), min_range: \(Self.number(s.minRange)), max_range: \(Self.number(s.maxRange)), "
                + "near_mv: \(Self.number(s.nearMillivolts)), far_mv: \(Self.number(s.farMillivolts)), noise_mv: \(Self.number(s.noiseMillivolts))}"
        }
        func light(_ s: LightSensorSpec) -> String {
            "{position: \(Self.point(s.position)), angle: \(Self.degrees(s.angle)), sensitivity: \(Self.number(s.sensitivity)), noise_mv: \(Self.number(s.noiseMillivolts))}"
        }
        lines += [
            "  sensors:",
            "    range_left: \(range(robot.rangeLeft))",
            "    range_right: \(range(robot.rangeRight))",
            "    light_left: \(light(robot.lightLeft))",
            "    light_right: \(light(robot.lightRight))",
            "    bumper: {arc: \(Self.degrees(robot.bumper.arc)), flip_probability: \(Self.number(robot.bumper.flipProbability))}",
            "    encoders: {ticks_per_revolution: \(Self.number(robot.encoders.ticksPerRevolution)), slip: \(Self.number(robot.encoders.slip))}",
        ]
        return lines
    }

    /// A number as YAML reads it back exactly: the shortest decimal that round-trips, always
    /// with a decimal point and never in exponent form.
    static func number(_ x: Double) -> String {
        let text = "\(x)"
        if !text.contains("e") { return text }
        var fixed = String(format: "%.20f", x)
        while fixed.hasSuffix("0") && !fixed.hasSuffix(".0") { fixed.removeLast() }
        return fixed
    }

    /// Radians as degrees that read back as the same radians (`d · π / 180`): a value within
    /// 10⁻⁹ of a round number of degrees is written as that number when it reads back exactly.
    static func degrees(_ radians: Double) -> String {
        let d = radians * 180 / .pi
        let rounded = (d * 1e9).rounded() / 1e9
        return number(rounded * .pi / 180 == radians ? rounded : d)
    }

    static func point(_ p: Vector2) -> String { "[\(number(p.x)), \(number(p.y))]" }

    static func pose(_ p: Pose) -> String {
        "{x: \(number(p.x)), y: \(number(p.y)), heading: \(degrees(p.heading))}"
    }

    /// A name as a YAML string (quoted, with `"` and `\` escaped).
    static func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
