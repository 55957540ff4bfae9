import NeuraxonChannels

/// What a body offers: its sensor and actuator channels in their fixed index order.
///
/// Every reading and every setpoint travels as a signed 16-bit integer in the channel's unit.
/// The mapping file names channels; validation checks each name and range against this list.
/// The channels come from one place: a board's DEVICE_INFO (with its names from CHANNEL_INFO),
/// or the robot description the simulator builds its robot from.
public struct DeviceInfo: Sendable, Equatable {
    /// A short name of the device, e.g. "neuraxon-uno".
    public var name: String
    /// The firmware's version string, or "" when the body has none (a simulated robot).
    public var firmwareVersion: String
    /// The firmware's sampling period in microseconds, or 0 when unknown.
    public var samplePeriodMicros: Int
    public var sensors: [ChannelDescriptor]
    public var actuators: [ChannelDescriptor]

    public init(name: String, firmwareVersion: String = "", samplePeriodMicros: Int = 0,
                sensors: [ChannelDescriptor], actuators: [ChannelDescriptor]) {
        self.name = name
        self.firmwareVersion = firmwareVersion
        self.samplePeriodMicros = samplePeriodMicros
        self.sensors = sensors
        self.actuators = actuators
    }

    /// The channels a robot description declares, as its board reports them.
    public init(description robot: RobotDescription, samplePeriodMicros: Int = 0) {
        self.init(name: robot.boardName, samplePeriodMicros: samplePeriodMicros,
                  sensors: robot.sensorChannels, actuators: robot.actuatorChannels)
    }

    /// The index of the sensor channel called `name`, or `nil`.
    public func sensorIndex(named name: String) -> Int? { sensors.firstIndex { $0.name == name } }

    /// The index of the actuator channel called `name`, or `nil`.
    public func actuatorIndex(named name: String) -> Int? { actuators.firstIndex { $0.name == name } }

    /// The reference robot's channels (`Firmware/robots/reference.yaml`).
    public static let referenceRobot = DeviceInfo(description: .reference)
}

// In a recording's header (Docs/LOG-FORMAT.md): sensors as {name, kind, unit, minimum,
// maximum}, actuators as {name, kind, unit, minimum, maximum, safe_value}, the unit by its
// symbol. Recordings made before actuators carried a kind are read by their unit.
extension DeviceInfo: Codable {
    enum CodingKeys: String, CodingKey {
        case name, sensors, actuators
        case firmwareVersion = "firmware_version", samplePeriodMicros = "sample_period_us"
    }

    private struct Channel: Codable {
        var name: String
        var kind: String?
        var unit: String
        var minimum: Int
        var maximum: Int
        var safeValue: Int?

        enum CodingKeys: String, CodingKey {
            case name, kind, unit, minimum, maximum
            case safeValue = "safe_value"
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func channel(_ ch: Channel, actuator: Bool, at path: CodingKeys) throws -> ChannelDescriptor {
            guard let unit = ChannelDescriptor.Unit.allCases.first(where: { $0.symbol == ch.unit }) else {
                throw DecodingError.dataCorruptedError(forKey: path, in: c, debugDescription: "unknown unit '\(ch.unit)' of channel \(ch.name)")
            }
            let named = ch.kind.flatMap { k in ChannelDescriptor.Kind.allCases.first { $0.name == k } }
            let kind = named ?? (!actuator ? .analog : unit == .perMille ? .motor : unit == .degree ? .servo : .digital)
            return ChannelDescriptor(name: ch.name, kind: kind, unit: unit, minimum: Int16(clamping: ch.minimum),
                                     maximum: Int16(clamping: ch.maximum), safe: Int16(clamping: ch.safeValue ?? 0))
        }
        self.init(name: try c.decode(String.self, forKey: .name),
                  firmwareVersion: try c.decode(String.self, forKey: .firmwareVersion),
                  samplePeriodMicros: try c.decode(Int.self, forKey: .samplePeriodMicros),
                  sensors: try c.decode([Channel].self, forKey: .sensors).map { try channel($0, actuator: false, at: .sensors) },
                  actuators: try c.decode([Channel].self, forKey: .actuators).map { try channel($0, actuator: true, at: .actuators) })
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(firmwareVersion, forKey: .firmwareVersion)
        try c.encode(samplePeriodMicros, forKey: .samplePeriodMicros)
        try c.encode(sensors.map { Channel(name: $0.name, kind: $0.kind.name, unit: $0.unit.symbol,
                                           minimum: Int($0.minimum), maximum: Int($0.maximum)) }, forKey: .sensors)
        try c.encode(actuators.map { Channel(name: $0.name, kind: $0.kind.name, unit: $0.unit.symbol, minimum: Int($0.minimum),
                                             maximum: Int($0.maximum), safeValue: Int($0.safe)) }, forKey: .actuators)
    }
}
