/// What a body offers: its sensor and actuator channels in their fixed index order.
///
/// Every reading and every setpoint travels as a signed 16-bit integer in the channel's unit.
/// The mapping file names channels; validation checks each name and range against this list.
public struct DeviceInfo: Sendable, Equatable, Codable {
    /// A short name of the device, e.g. "neuraxon-reference-robot".
    public var name: String
    /// The firmware's version string, or "" when the body has none (a simulated robot).
    public var firmwareVersion: String
    /// The firmware's sampling period in microseconds, or 0 when unknown.
    public var samplePeriodMicros: Int
    public var sensors: [SensorChannel]
    public var actuators: [ActuatorChannel]

    enum CodingKeys: String, CodingKey {
        case name, sensors, actuators
        case firmwareVersion = "firmware_version", samplePeriodMicros = "sample_period_us"
    }

    public init(name: String, firmwareVersion: String = "", samplePeriodMicros: Int = 0,
                sensors: [SensorChannel], actuators: [ActuatorChannel]) {
        self.name = name
        self.firmwareVersion = firmwareVersion
        self.samplePeriodMicros = samplePeriodMicros
        self.sensors = sensors
        self.actuators = actuators
    }

    /// The index of the sensor channel called `name`, or `nil`.
    public func sensorIndex(named name: String) -> Int? { sensors.firstIndex { $0.name == name } }

    /// The index of the actuator channel called `name`, or `nil`.
    public func actuatorIndex(named name: String) -> Int? { actuators.firstIndex { $0.name == name } }

    /// The reference robot's channel list, shared by the firmware, the simulator and the host.
    public static let referenceRobot = DeviceInfo(
        name: "neuraxon-reference-robot",
        sensors: [
            SensorChannel(name: "range_left", kind: .analog, unit: "mV", minimum: 0, maximum: 5000),
            SensorChannel(name: "range_right", kind: .analog, unit: "mV", minimum: 0, maximum: 5000),
            SensorChannel(name: "light_left", kind: .analog, unit: "mV", minimum: 0, maximum: 5000),
            SensorChannel(name: "light_right", kind: .analog, unit: "mV", minimum: 0, maximum: 5000),
            SensorChannel(name: "bumper", kind: .digital, unit: "", minimum: 0, maximum: 1),
            SensorChannel(name: "wheel_left", kind: .encoder, unit: "ticks", minimum: -32768, maximum: 32767),
            SensorChannel(name: "wheel_right", kind: .encoder, unit: "ticks", minimum: -32768, maximum: 32767),
        ],
        actuators: [
            ActuatorChannel(name: "motor_left", unit: "‰", minimum: -1000, maximum: 1000, safeValue: 0),
            ActuatorChannel(name: "motor_right", unit: "‰", minimum: -1000, maximum: 1000, safeValue: 0),
            ActuatorChannel(name: "servo", unit: "°", minimum: 0, maximum: 180, safeValue: 90),
        ])
}

/// One sensor channel of a device.
public struct SensorChannel: Sendable, Equatable, Codable {
    /// How a channel's readings are to be read.
    public enum Kind: String, Sendable, Codable {
        /// A voltage or other continuous level, in `unit`.
        case analog
        /// 0 or 1.
        case digital
        /// A wrapping 16-bit counter.
        case encoder
    }

    public var name: String
    public var kind: Kind
    /// The unit of a raw reading, e.g. "mV".
    public var unit: String
    /// The smallest valid raw reading, in `unit`.
    public var minimum: Int
    /// The largest valid raw reading, in `unit`.
    public var maximum: Int

    public init(name: String, kind: Kind, unit: String, minimum: Int, maximum: Int) {
        self.name = name
        self.kind = kind
        self.unit = unit
        self.minimum = minimum
        self.maximum = maximum
    }
}

/// One actuator channel of a device.
public struct ActuatorChannel: Sendable, Equatable, Codable {
    public var name: String
    /// The unit of a setpoint, e.g. "‰" (per mille duty) or "°".
    public var unit: String
    /// The smallest valid setpoint, in `unit`.
    public var minimum: Int
    /// The largest valid setpoint, in `unit`.
    public var maximum: Int
    /// The setpoint that stops the actuator (a motor's 0, a servo's centre).
    public var safeValue: Int

    enum CodingKeys: String, CodingKey {
        case name, unit, minimum, maximum
        case safeValue = "safe_value"
    }

    public init(name: String, unit: String, minimum: Int, maximum: Int, safeValue: Int) {
        self.name = name
        self.unit = unit
        self.minimum = minimum
        self.maximum = maximum
        self.safeValue = safeValue
    }
}
