/// One sensor or actuator channel, as a board's DEVICE_INFO (and, from protocol version 2,
/// CHANNEL_INFO) or a robot description declares it. Every reading and every setpoint travels
/// as a signed 16-bit integer in the channel's unit (Docs/PROTOCOL.md section 6).
///
/// This is the one channel type of the package: the protocol encodes and decodes it, the
/// simulator builds its robot's channels as it, and the mapping is checked against it by name.
public struct ChannelDescriptor: Sendable, Equatable, Hashable {
    /// Bytes per descriptor in DEVICE_INFO: u8 kind, u8 unit, i16 min, i16 max, i16 safe.
    public static let wireLength = 8

    /// What a channel is. Raw values are the protocol's `kind` byte.
    public enum Kind: UInt8, Sendable, CaseIterable {
        /// A continuous level (a voltage, a distance) in `unit`.
        case analog = 1
        /// 0 or 1.
        case digital = 2
        /// A wrapping 16-bit tick counter.
        case encoder = 3
        /// A motor's signed duty in per mille.
        case motor = 4
        /// A hobby servo's angle in degrees.
        case servo = 5

        /// The name used in files and messages.
        public var name: String {
            switch self {
            case .analog: "analog"
            case .digital: "digital"
            case .encoder: "encoder"
            case .motor: "motor"
            case .servo: "servo"
            }
        }
    }

    /// A channel's unit. Raw values are the protocol's `unit` byte. `millimetre` is version 2's:
    /// a board sends it to a version-1 host as `none` with the same range.
    public enum Unit: UInt8, Sendable, CaseIterable {
        case none = 0, millivolt = 1, tick = 2, perMille = 3, degree = 4, millimetre = 5

        /// The first protocol version that lists this unit.
        public var introducedInVersion: UInt8 { self == .millimetre ? 2 : 1 }

        /// The unit's symbol as printed and written in files: "mV", "ticks", "‰", "°", "mm",
        /// or "" for none.
        public var symbol: String {
            switch self {
            case .none: ""
            case .millivolt: "mV"
            case .tick: "ticks"
            case .perMille: "‰"
            case .degree: "°"
            case .millimetre: "mm"
            }
        }
    }

    /// The channel's name: 1…24 of `a-z`, `0-9`, `_`, starting with a letter; "" when a
    /// version-1 board did not say.
    public var name: String
    public var kind: Kind
    public var unit: Unit
    /// The smallest value, in `unit`.
    public var minimum: Int16
    /// The largest value, in `unit` (for an encoder the whole Int16 range it wraps around).
    public var maximum: Int16
    /// Actuators: the value applied at start, on STOP and by the failsafe. Sensors: 0.
    public var safe: Int16

    public init(name: String = "", kind: Kind, unit: Unit, minimum: Int16, maximum: Int16, safe: Int16 = 0) {
        self.name = name
        self.kind = kind
        self.unit = unit
        self.minimum = minimum
        self.maximum = maximum
        self.safe = safe
    }

    /// `minimum...maximum`.
    public var range: ClosedRange<Int16> { minimum...maximum }

    /// `value` brought into `range`.
    public func clamped(_ value: Int16) -> Int16 { min(max(value, minimum), maximum) }
}
