import Foundation
import NeuraxonChannels

/// A dark line painted on the floor: a polyline through `points` (metres), `width` metres wide,
/// closed back to its first point when `closed`. Reflectance sensors read low over it
/// (`ReflectanceModel`); it does not block anything.
public struct FloorMarking: Sendable, Equatable {
    public var points: [Vector2]
    public var width: Double
    public var closed: Bool

    public init(points: [Vector2], width: Double = 0.02, closed: Bool = false) {
        self.points = points
        self.width = width
        self.closed = closed
    }

    /// The marking's straight pieces.
    var segments: [(Vector2, Vector2)] {
        guard points.count >= 2 else { return [] }
        var pieces = (1..<points.count).map { (points[$0 - 1], points[$0]) }
        if closed && points.count > 2 { pieces.append((points[points.count - 1], points[0])) }
        return pieces
    }

    /// The length of the marking's centre line, metres.
    public var length: Double { segments.reduce(0) { $0 + ($1.1 - $1.0).length } }

    /// The distance from `p` to the marking's centre line, metres.
    public func distance(to p: Vector2) -> Double {
        var best = Double.infinity
        for (a, b) in segments { best = min(best, (p - WallSegment(from: a, to: b).closestPoint(to: p)).length) }
        return best
    }
}

/// A QTR-style analog reflectance sensor looking at the floor from a few millimetres up. It sees
/// a spot of radius `spotRadius`; with c the share of that spot covered by a dark marking
/// (approximated along the line's normal: c = clamp((w/2 + ρ − d) / (2ρ), 0, 1), d the distance
/// from the spot's centre to the marking's centre line, w its width, ρ the spot radius) it
/// answers V = V_light + c · (V_dark − V_light) millivolts, so it reads low over a dark line,
/// plus Gaussian noise of `noiseMillivolts`, clamped to 0…5000 mV.
public enum ReflectanceModel {
    public static let spotRadius = 0.004
    public static let lightFloorMillivolts = 4200.0
    public static let darkLineMillivolts = 300.0
    public static let noiseMillivolts = 30.0

    /// The noiseless output over a floor whose nearest marking's centre line is `distance`
    /// metres away and `width` metres wide.
    public static func millivolts(distance: Double, width: Double) -> Double {
        let covered = min(max((width / 2 + spotRadius - distance) / (2 * spotRadius), 0), 1)
        return lightFloorMillivolts + covered * (darkLineMillivolts - lightFloorMillivolts)
    }
}

/// An HC-SR04-style ultrasonic ranger. It casts `rays` rays over its cone (`fov_deg`, default
/// 30°) and takes the nearest hit d (metres). The echo returns after t = 2d / c (c = 343 m/s);
/// with no hit, d beyond `max_mm` or t beyond `timeout_us` it reads `max_mm`. Otherwise it
/// reads d in millimetres, no less than `minimumRange` (the transducer's blind zone), plus
/// Gaussian noise of σ = `noiseMillimetres` + `noiseShare` · d, clamped to 0…`max_mm`.
public enum UltrasonicModel {
    public static let speedOfSound = 343.0
    public static let minimumRange = 0.02
    public static let rays = 7
    public static let defaultFieldOfViewDegrees = 30.0
    public static let noiseMillimetres = 3.0
    public static let noiseShare = 0.01

    /// The noiseless reading in millimetres for a nearest echo at `distance` metres.
    public static func millimetres(distance: Double, maximumMillimetres: Int16, timeoutMicros: Int) -> Double {
        let maximum = Double(maximumMillimetres)
        let flight = 2 * distance / speedOfSound * 1e6
        if !distance.isFinite || distance * 1000 >= maximum || (timeoutMicros > 0 && flight > Double(timeoutMicros)) {
            return maximum
        }
        return max(distance, minimumRange) * 1000
    }
}

/// How fast a simulated servo turns toward its setpoint, degrees per second (a hobby servo's
/// 60° in 0.15 s).
public enum ServoModel {
    public static let degreesPerSecond = 400.0
}

/// Which wheel a motor or an encoder belongs to.
enum WheelSide: Int, Sendable {
    case left = 0, right = 1
}

/// A contact switch on the rim of the disc-shaped body: it closes when a wall or obstacle comes
/// within 1 mm of the body inside an arc of `arc` radians centred on `axis` (a unit vector in the
/// robot's frame: its geometry's `heading_deg`). The arc is the world's bumper arc where the
/// world's `robot:` section changes it, else the switch's `fov_deg`, else 180°.
struct ContactSwitch: Sendable, Equatable {
    let axis: Vector2
    let arc: Double
}

/// What the simulator makes of one sensor entry of a description.
enum SensorModel: Sendable {
    /// Reads the channel's minimum (no geometry, or nothing the simulator models).
    case constant(channel: Int, value: Int16)
    /// `RangeSensorSpec` (ir_range); `mount` is the actuator index of the servo turning it.
    case irRange(channel: Int, spec: RangeSensorSpec, rays: [Vector2], mount: Int?)
    /// `LightSensorSpec` (light).
    case light(channel: Int, spec: LightSensorSpec, axis: Vector2, mount: Int?)
    /// A contact switch (`ContactSwitch`), `index` in `RobotLayout.contactSwitches`.
    case contact(channel: Int, index: Int)
    /// An encoder on a wheel: a single-channel one counts in the sign of `directionMotor`'s
    /// last command; a quadrature one counts the wheel's true direction.
    case encoder(channel: Int, side: WheelSide, ticksPerRadian: Double, directionMotor: Int?)
    /// `UltrasonicModel`.
    case ultrasonic(channel: Int, position: Vector2, rays: [Vector2], maximum: Int16, timeoutMicros: Int, mount: Int?)
    /// `ReflectanceModel`, one channel per sensor from `firstChannel`.
    case reflectance(firstChannel: Int, positions: [Vector2])
}

/// The simulated robot's make-up, derived from its description and its world: the body and
/// drive (`spec`), a model per sensor entry, each actuator's role.
struct RobotLayout: Sendable {
    let description: RobotDescription
    let sensorChannels: [ChannelDescriptor]
    let actuatorChannels: [ChannelDescriptor]
    /// The world's robot settings with the description's body and sensor geometry applied.
    let spec: RobotSpec
    let sensors: [SensorModel]
    /// Per actuator: the wheel side of a motor, `nil` for others.
    let motorSides: [WheelSide?]
    /// Actuator indices of servos.
    let servos: [Int]
    /// Every contact switch the description places, in the order of its channels (at most 16,
    /// the protocol's channel limit).
    let contactSwitches: [ContactSwitch]

    init(description: RobotDescription, world robotInWorld: RobotSpec) {
        self.description = description
        sensorChannels = description.sensorChannels
        actuatorChannels = description.actuatorChannels
        let defaults = RobotSpec.reference
        var spec = robotInWorld
        if let body = description.geometry {
            // The world's robot section overrides the description where it differs from the
            // defaults (an experiment with another body).
            if spec.bodyRadius == defaults.bodyRadius {
                spec.bodyRadius = max(body.bodyLengthMillimetres, body.bodyWidthMillimetres) / 2000
            }
            if spec.wheelBase == defaults.wheelBase { spec.wheelBase = body.wheelBaseMillimetres / 1000 }
            if spec.wheelRadius == defaults.wheelRadius { spec.wheelRadius = body.wheelRadiusMillimetres / 1000 }
        }

        var sides: [WheelSide?] = []
        var servos: [Int] = []
        for (i, actuator) in description.actuators.enumerated() {
            switch actuator.kind {
            case .motor: sides.append(Self.side(actuator.placement, name: actuator.name))
            case .servo: sides.append(nil); servos.append(i)
            case .output: sides.append(nil)
            }
        }
        motorSides = sides
        self.servos = servos
        func actuatorIndex(_ name: String?) -> Int? {
            guard let name else { return nil }
            return description.actuators.firstIndex { $0.name == name }
        }

        var models: [SensorModel] = []
        var channel = 0
        var irCount = 0, lightCount = 0
        var switches: [ContactSwitch] = []
        for sensor in description.sensors {
            let place = sensor.placement
            let position = place.map { Vector2($0.xMillimetres / 1000, $0.yMillimetres / 1000) } ?? .zero
            let heading = (place?.headingDegrees ?? 0) * .pi / 180
            let mount = actuatorIndex(place?.mount)
            switch sensor.kind {
            case let .analog(_, minimum, _):
                switch place?.model {
                case .irRange?:
                    var range = irCount == 0 ? spec.rangeLeft : spec.rangeRight
                    let base = irCount == 0 ? defaults.rangeLeft : defaults.rangeRight
                    if range.position == base.position { range.position = position }
                    if range.angle == base.angle { range.angle = heading }
                    if range.fieldOfView == base.fieldOfView, let fov = place?.fieldOfViewDegrees {
                        range.fieldOfView = fov * .pi / 180
                    }
                    if irCount == 0 { spec.rangeLeft = range } else if irCount == 1 { spec.rangeRight = range }
                    irCount += 1
                    models.append(.irRange(channel: channel, spec: range, rays: Self.rayDirections(range), mount: mount))
                case .light?:
                    var light = lightCount == 0 ? spec.lightLeft : spec.lightRight
                    let base = lightCount == 0 ? defaults.lightLeft : defaults.lightRight
                    if light.position == base.position { light.position = position }
                    if light.angle == base.angle { light.angle = heading }
                    if lightCount == 0 { spec.lightLeft = light } else if lightCount == 1 { spec.lightRight = light }
                    lightCount += 1
                    models.append(.light(channel: channel, spec: light, axis: Vector2(angle: light.angle), mount: mount))
                case nil:
                    models.append(.constant(channel: channel, value: minimum))
                }
                channel += 1
            case .digital:
                if let place {
                    var arc = robotInWorld.bumper.arc
                    if let fov = place.fieldOfViewDegrees, robotInWorld.bumper.arc == defaults.bumper.arc {
                        arc = fov * .pi / 180
                    }
                    // the first switch's arc is the robot's bumper arc
                    if switches.isEmpty { spec.bumper.arc = arc }
                    let axis = place.headingDegrees == 0 ? Vector2(1, 0) : Vector2(angle: heading)
                    models.append(.contact(channel: channel, index: switches.count))
                    switches.append(ContactSwitch(axis: axis, arc: arc))
                } else {
                    models.append(.constant(channel: channel, value: 0))
                }
                channel += 1
            case .quadratureEncoder, .singleEncoder:
                var directionMotor: Int?
                var side = Self.side(place, name: sensor.name)
                if case let .singleEncoder(_, from) = sensor.kind {
                    directionMotor = actuatorIndex(from)
                    if place == nil, let m = directionMotor, let s = sides[m] { side = s }
                }
                let worldTicks = spec.encoders.ticksPerRevolution
                let ticks = worldTicks != defaults.encoders.ticksPerRevolution ? worldTicks : place?.ticksPerRevolution ?? worldTicks
                if let side {
                    models.append(.encoder(channel: channel, side: side, ticksPerRadian: ticks / (2 * .pi),
                                           directionMotor: directionMotor))
                } else {
                    models.append(.constant(channel: channel, value: 0))
                }
                channel += 1
            case let .ultrasonic(_, _, maximum, timeout):
                if place != nil {
                    let fov = (place?.fieldOfViewDegrees ?? UltrasonicModel.defaultFieldOfViewDegrees) * .pi / 180
                    let rays = (0..<UltrasonicModel.rays).map { ray in
                        Vector2(angle: heading + fov * (Double(ray) / Double(UltrasonicModel.rays - 1) - 0.5))
                    }
                    models.append(.ultrasonic(channel: channel, position: position, rays: rays, maximum: maximum,
                                              timeoutMicros: timeout, mount: mount))
                } else {
                    models.append(.constant(channel: channel, value: 0))
                }
                channel += 1
            case let .reflectance(pins):
                if place != nil {
                    let spacing = (place?.spacingMillimetres ?? 8) / 1000
                    let middle = Double(pins.count - 1) / 2
                    let across = Vector2(angle: heading + .pi / 2)
                    models.append(.reflectance(firstChannel: channel, positions: pins.indices.map {
                        position + across * ((middle - Double($0)) * spacing)
                    }))
                } else {
                    for k in pins.indices { models.append(.constant(channel: channel + k, value: 0)) }
                }
                channel += pins.count
            }
        }
        sensors = models
        contactSwitches = switches
        self.spec = spec
    }

    /// A part's wheel side: the sign of its geometry's y (left positive), else its name
    /// containing `left` or `right`; `nil` if neither tells.
    static func side(_ place: RobotDescription.Placement?, name: String) -> WheelSide? {
        if let y = place?.yMillimetres, y != 0 { return y > 0 ? .left : .right }
        if name.contains("left") { return .left }
        if name.contains("right") { return .right }
        return nil
    }

    /// `rays` directions spread evenly over the field of view around the sensor's axis.
    static func rayDirections(_ spec: RangeSensorSpec) -> [Vector2] {
        (0..<spec.rays).map { ray in
            let offset = spec.rays == 1 ? 0 : spec.fieldOfView * (Double(ray) / Double(spec.rays - 1) - 0.5)
            return Vector2(angle: spec.angle + offset)
        }
    }
}
