/// What a board offers a robot description: its pins, which of them read analog voltages, make
/// PWM or raise external interrupts, the pins the firmware keeps, and the build's budget.
///
/// The facts come from `Firmware/boards/BOARD.yaml`, the one source the firmware's generator
/// (`Firmware/tools/robotgen.py`) reads too; `BoardData.swift` holds them compiled in, generated
/// from those files (`robotgen.py swift-boards`) and checked against them by the tests, so an
/// installed `neuraxon` needs no data files beside it.
public struct BoardFacts: Sendable, Equatable {
    /// One pin by its Arduino name (`D13`, `A0`).
    public struct Pin: Sendable, Equatable {
        public var name: String
        /// The AVR port letter (`B`, `C`, `D`, …).
        public var port: Character
        /// The bit within the port, 0…7.
        public var bit: Int
        /// The ADC channel when the pin reads analog voltages.
        public var adc: Int?

        public init(name: String, port: Character, bit: Int, adc: Int? = nil) {
            self.name = name
            self.port = port
            self.bit = bit
            self.adc = adc
        }
    }

    /// A pin with a PWM output.
    public struct PWMOutput: Sendable, Equatable {
        public var pin: String
        /// The timer that makes it, 0…5.
        public var timer: Int
        /// The timer's output: 0 for A, 1 for B.
        public var output: Int

        public init(pin: String, timer: Int, output: Int) {
            self.pin = pin
            self.timer = timer
            self.output = output
        }
    }

    /// A pin with an external interrupt.
    public struct Interrupt: Sendable, Equatable {
        public var pin: String
        /// Its INTn.
        public var number: Int

        public init(pin: String, number: Int) {
            self.pin = pin
            self.number = number
        }
    }

    /// The board's name in descriptions (`atmega328p`).
    public var board: String
    /// As a user knows it: "Arduino Uno (ATmega328P)".
    public var title: String
    /// The flash an AVR build may take, bytes.
    public var flashBudget: Int
    /// The static RAM an AVR build may take, bytes.
    public var ramBudget: Int
    /// Pins the firmware keeps (the serial port the protocol runs on).
    public var reserved: [String]
    /// The timer that makes the firmware's millisecond tick.
    public var tickTimer: Int
    /// The 16-bit timers, the only ones that make 50 Hz servo pulses.
    public var timers16Bit: [Int]
    /// Every pin, in the order of the board's file.
    public var pins: [Pin]
    public var pwm: [PWMOutput]
    public var interrupts: [Interrupt]

    public init(board: String, title: String, flashBudget: Int, ramBudget: Int, reserved: [String], tickTimer: Int,
                timers16Bit: [Int], pins: [Pin], pwm: [PWMOutput], interrupts: [Interrupt]) {
        self.board = board
        self.title = title
        self.flashBudget = flashBudget
        self.ramBudget = ramBudget
        self.reserved = reserved
        self.tickTimer = tickTimer
        self.timers16Bit = timers16Bit
        self.pins = pins
        self.pwm = pwm
        self.interrupts = interrupts
    }

    /// The pin named `name`.
    public func pin(_ name: String) -> Pin? { pins.first { $0.name == name } }

    /// The PWM output on pin `name`.
    public func pwm(on name: String) -> PWMOutput? { pwm.first { $0.pin == name } }

    /// The external interrupt on pin `name`.
    public func interrupt(on name: String) -> Interrupt? { interrupts.first { $0.pin == name } }

    /// The pins as a user reads them: "D0..D13, A0..A5".
    public var pinNames: String {
        let digital = pins.filter { $0.name.hasPrefix("D") }, analog = pins.filter { $0.name.hasPrefix("A") }
        return "\(digital.first?.name ?? "")..\(digital.last?.name ?? ""), \(analog.first?.name ?? "")..\(analog.last?.name ?? "")"
    }
}

extension RobotDescription.Board {
    /// This board's facts (`Firmware/boards/BOARD.yaml`).
    public var facts: BoardFacts {
        switch self {
        case .atmega328p: BoardFacts.atmega328p
        case .atmega2560: BoardFacts.atmega2560
        }
    }
}
