/// A robot as its description file declares it (Docs/ROBOTS.md): the board, every sensor and
/// actuator with its pins, range and safe value, the limits the board keeps, and where things
/// sit on the body. The firmware's tables are generated from the same file
/// (`Firmware/tools/robotgen.py`); the host builds its channel contract, the mapping check and
/// the simulated robot from it.
///
/// Lengths are millimetres and angles degrees, as in the file; the simulator converts.
public struct RobotDescription: Sendable, Equatable {
    /// The microcontroller board, both at 16 MHz.
    public enum Board: String, Sendable, Equatable, CaseIterable {
        /// Arduino Uno.
        case atmega328p
        /// Arduino Mega 2560.
        case atmega2560
    }

    /// The robot's name (`robot:`).
    public var robot: String
    public var board: Board
    /// What DEVICE_INFO reports as the board's name.
    public var boardName: String
    public var about: String?
    public var limits: Limits
    /// Sensors in the order they are listed. A reflectance array is one entry here and one
    /// channel per pin in `sensorChannels`.
    public var sensors: [Sensor]
    public var actuators: [Actuator]
    /// The body, for the simulator; `nil` when the file gives none.
    public var geometry: BodyGeometry?

    public init(robot: String, board: Board, boardName: String, about: String? = nil, limits: Limits = Limits(),
                sensors: [Sensor], actuators: [Actuator], geometry: BodyGeometry? = nil) {
        self.robot = robot
        self.board = board
        self.boardName = boardName
        self.about = about
        self.limits = limits
        self.sensors = sensors
        self.actuators = actuators
        self.geometry = geometry
    }

    /// Sampling and failsafe bounds the board keeps (DEVICE_INFO), milliseconds.
    public struct Limits: Sendable, Equatable {
        /// The shortest sampling period, or `nil` for what the channels need.
        public var periodMinMilliseconds: Int?
        public var failsafeMinMilliseconds: Int
        public var failsafeMaxMilliseconds: Int

        public init(periodMinMilliseconds: Int? = nil, failsafeMinMilliseconds: Int = 10, failsafeMaxMilliseconds: Int = 250) {
            self.periodMinMilliseconds = periodMinMilliseconds
            self.failsafeMinMilliseconds = failsafeMinMilliseconds
            self.failsafeMaxMilliseconds = failsafeMaxMilliseconds
        }
    }

    /// Where a sensor or actuator sits and looks, in the robot's frame: x forward, y to the
    /// left, z up, millimetres from the middle of the wheel axle; heading counter-clockwise from
    /// straight ahead, degrees. Also what the simulator needs to model the part.
    public struct Placement: Sendable, Equatable {
        public var xMillimetres: Double
        public var yMillimetres: Double
        public var zMillimetres: Double
        public var headingDegrees: Double
        /// The field of view, degrees; `nil` for the part's default.
        public var fieldOfViewDegrees: Double?
        /// The servo that turns this part (a scanning sensor), by channel name.
        public var mount: String?
        /// What the simulator makes of an analog sensor.
        public var model: AnalogModel?
        /// A reflectance array's distance between neighbouring sensors, millimetres.
        public var spacingMillimetres: Double?
        /// An encoder's ticks per wheel revolution.
        public var ticksPerRevolution: Double?

        public init(xMillimetres: Double = 0, yMillimetres: Double = 0, zMillimetres: Double = 0, headingDegrees: Double = 0,
                    fieldOfViewDegrees: Double? = nil, mount: String? = nil, model: AnalogModel? = nil,
                    spacingMillimetres: Double? = nil, ticksPerRevolution: Double? = nil) {
            self.xMillimetres = xMillimetres
            self.yMillimetres = yMillimetres
            self.zMillimetres = zMillimetres
            self.headingDegrees = headingDegrees
            self.fieldOfViewDegrees = fieldOfViewDegrees
            self.mount = mount
            self.model = model
            self.spacingMillimetres = spacingMillimetres
            self.ticksPerRevolution = ticksPerRevolution
        }
    }

    /// What an analog sensor senses, for the simulator (geometry `model`).
    public enum AnalogModel: String, Sendable, Equatable, CaseIterable {
        /// A Sharp GP2Y0A21-style infrared range sensor.
        case irRange = "ir_range"
        /// A photoresistor in a voltage divider.
        case light
    }

    /// The body (top-level `geometry`), millimetres.
    public struct BodyGeometry: Sendable, Equatable {
        public var wheelBaseMillimetres: Double
        public var wheelRadiusMillimetres: Double
        public var bodyLengthMillimetres: Double
        public var bodyWidthMillimetres: Double

        public init(wheelBaseMillimetres: Double, wheelRadiusMillimetres: Double,
                    bodyLengthMillimetres: Double, bodyWidthMillimetres: Double) {
            self.wheelBaseMillimetres = wheelBaseMillimetres
            self.wheelRadiusMillimetres = wheelRadiusMillimetres
            self.bodyLengthMillimetres = bodyLengthMillimetres
            self.bodyWidthMillimetres = bodyWidthMillimetres
        }
    }

    /// One sensor entry of the file.
    public struct Sensor: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            /// An analog input on `pin`, read as `minimum...maximum` millivolts.
            case analog(pin: String, minimum: Int16, maximum: Int16)
            /// A 0/1 input: 1 while `pin` is at its active level.
            case digital(pin: String, pullUp: Bool, activeLow: Bool)
            /// A quadrature encoder: A on an interrupt pin, B on any pin.
            case quadratureEncoder(pinA: String, pinB: String)
            /// A single-channel encoder counting in the sign of `directionFrom`'s last command.
            case singleEncoder(pinA: String, directionFrom: String)
            /// An HC-SR04-style ranger: millimetres, `maximumMillimetres` when no echo returns
            /// within `timeoutMicros`.
            case ultrasonic(trigger: String, echo: String, maximumMillimetres: Int16, timeoutMicros: Int)
            /// A line of reflectance sensors, one channel per pin, named `<name>_0`, `<name>_1`, …
            case reflectance(pins: [String])
        }

        public var name: String
        public var kind: Kind
        public var placement: Placement?
        /// The line of the file the entry starts on (for messages), or 0.
        public var line: Int

        public init(name: String, kind: Kind, placement: Placement? = nil, line: Int = 0) {
            self.name = name
            self.kind = kind
            self.placement = placement
            self.line = line
        }
    }

    /// One actuator entry of the file.
    public struct Actuator: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            /// A DC motor through an H-bridge: signed duty in per mille.
            case motor(pwm: String, in1: String, in2: String, driver: String)
            /// A hobby servo: `minimum...maximum` degrees.
            case servo(pin: String, minimum: Int16, maximum: Int16, pulseMinMicros: Int, pulseMaxMicros: Int)
            /// A digital output (LED, buzzer): 0 off, 1 on.
            case output(pin: String, activeLow: Bool)
        }

        public var name: String
        public var kind: Kind
        /// The value applied at start, on STOP, at HELLO and by the failsafe.
        public var safe: Int16
        public var placement: Placement?
        public var line: Int

        public init(name: String, kind: Kind, safe: Int16, placement: Placement? = nil, line: Int = 0) {
            self.name = name
            self.kind = kind
            self.safe = safe
            self.placement = placement
            self.line = line
        }
    }
}

extension RobotDescription {
    /// The sensor channels in index order, as DEVICE_INFO declares them (protocol version 2:
    /// a ranger is analog in millimetres).
    public var sensorChannels: [ChannelDescriptor] {
        sensors.flatMap { sensor -> [ChannelDescriptor] in
            switch sensor.kind {
            case let .analog(_, minimum, maximum):
                [ChannelDescriptor(name: sensor.name, kind: .analog, unit: .millivolt, minimum: minimum, maximum: maximum)]
            case .digital:
                [ChannelDescriptor(name: sensor.name, kind: .digital, unit: .none, minimum: 0, maximum: 1)]
            case .quadratureEncoder, .singleEncoder:
                [ChannelDescriptor(name: sensor.name, kind: .encoder, unit: .tick, minimum: .min, maximum: .max)]
            case let .ultrasonic(_, _, maximumMillimetres, _):
                [ChannelDescriptor(name: sensor.name, kind: .analog, unit: .millimetre, minimum: 0, maximum: maximumMillimetres)]
            case let .reflectance(pins):
                pins.indices.map {
                    ChannelDescriptor(name: "\(sensor.name)_\($0)", kind: .analog, unit: .millivolt, minimum: 0, maximum: 5000)
                }
            }
        }
    }

    /// The actuator channels in index order, as DEVICE_INFO declares them.
    public var actuatorChannels: [ChannelDescriptor] {
        actuators.map { actuator in
            switch actuator.kind {
            case .motor:
                ChannelDescriptor(name: actuator.name, kind: .motor, unit: .perMille, minimum: -1000, maximum: 1000, safe: actuator.safe)
            case let .servo(_, minimum, maximum, _, _):
                ChannelDescriptor(name: actuator.name, kind: .servo, unit: .degree, minimum: minimum, maximum: maximum, safe: actuator.safe)
            case .output:
                ChannelDescriptor(name: actuator.name, kind: .digital, unit: .none, minimum: 0, maximum: 1, safe: actuator.safe)
            }
        }
    }
}
