import ArgumentParser
import NeuraxonProtocol
import NeuraxonTransport

/// The link options of every command that opens a board (`probe`, `run`, `bench link`): which
/// board, the line speed, the sampling period and the failsafe timeout. One set of names, one set
/// of defaults (the protocol's own, `LinkConfig()`), and the protocol's limits
/// (`ProtocolLimits.failsafeMilliseconds`), checked before the port is opened.
struct LinkArguments: ParsableArguments {
    @Option(help: "The serial port: /dev/ttyACM0, a /dev/serial/by-id link, a tty name or a pseudo-terminal.")
    var port: String?

    @Option(help: "Which board instead of a port: serial:NUMBER, vvvv:pppp (USB ids in hex) or auto (the only known board present; the default).")
    var board: String?

    @Option(parsing: .unconditional, help: "Line speed in bits per second (standard or custom).")
    var baud: Int = Int(SerialConfiguration().baudRate)

    @Option(parsing: .unconditional, help: "Sampling period in ms: one sensor frame (and one control tick) per period.")
    var period: Int = Int(LinkConfig().periodMilliseconds)

    @Option(parsing: .unconditional, help: ArgumentHelp("Failsafe timeout in ms (\(ProtocolLimits.failsafeMilliseconds.lowerBound)…\(ProtocolLimits.failsafeMilliseconds.upperBound)): the board stops its actuators this long after the last command or heartbeat."))
    var failsafe: Int = Int(LinkConfig().failsafeMilliseconds)

    @Option(help: "Enabled sensors: all (every sensor the board declares), or a bit mask (bit i = sensor i), e.g. 0x7f.")
    var mask: String = "all"

    @Option(name: .customLong("protocol"), parsing: .unconditional,
            help: ArgumentHelp("The newest protocol version to offer (\(ProtocolLimits.version)…\(ProtocolLimits.newestVersion)); a board of an older one is spoken to in its own."))
    var protocolVersion: Int = Int(ProtocolLimits.newestVersion)

    @Option(parsing: .unconditional,
            help: "After the handshake, ask the board to switch the line to this speed (e.g. 1000000); a board that cannot stays at --baud.")
    var lineBaud: Int?

    @Flag(help: "Do not drop DTR when the port closes (clears HUPCL), so the next open does not reset the board.")
    var noReset = false

    @Option(parsing: .unconditional, help: "Handshake timeout in ms (2500 covers a board that resets on open).")
    var handshakeTimeout: Double = 2500

    func validate() throws {
        if port != nil && board != nil { throw ValidationError("give --port or --board, not both") }
        if let board {
            do { _ = try BoardSelector(parsing: board) } catch { throw ValidationError("--board: \(error)") }
        }
        guard sensorMask != nil else { throw ValidationError("--mask must be all or a number such as 0x7f or 127") }
        guard (Int(ProtocolLimits.version)...Int(ProtocolLimits.newestVersion)).contains(protocolVersion) else {
            throw ValidationError("--protocol \(protocolVersion) is not a version this host speaks: use \(ProtocolLimits.version)…\(ProtocolLimits.newestVersion)")
        }
        if let lineBaud, !(50...Int(UInt32.max)).contains(lineBaud) {
            throw ValidationError("--line-baud \(lineBaud) is not a line speed: use one such as 1000000")
        }
        if lineBaud != nil && protocolVersion < 2 {
            throw ValidationError("--line-baud needs protocol version 2 (the speed switch is version 2's): drop --protocol 1")
        }
        guard baud >= 50 && baud <= Int(UInt32.max) else {
            throw ValidationError("--baud \(baud) is not a line speed: use one such as 115200")
        }
        guard (1...Int(UInt16.max)).contains(period) else {
            throw ValidationError("--period \(period) is not a sampling period: use 1 ms or more (`neuraxon probe` shows the board's own limits)")
        }
        let limits = ProtocolLimits.failsafeMilliseconds
        guard (Int(limits.lowerBound)...Int(limits.upperBound)).contains(failsafe) else {
            throw ValidationError("--failsafe \(failsafe) is outside \(limits.lowerBound)…\(limits.upperBound) ms, the protocol's range")
        }
        guard failsafe > period else {
            throw ValidationError("--failsafe (\(failsafe) ms) must be longer than --period (\(period) ms), or the board stops between two commands")
        }
        guard handshakeTimeout.isFinite && handshakeTimeout >= 100 && handshakeTimeout <= 60_000 else {
            throw ValidationError("--handshake-timeout must be 100…60000 ms")
        }
    }

    /// The sensor mask as a number (nil when `--mask` is not one).
    var sensorMask: UInt16? {
        mask == "all" ? LinkConfig.allSensors : mask.hasPrefix("0x") ? UInt16(mask.dropFirst(2), radix: 16) : UInt16(mask)
    }

    /// The board: `--port`, else `--board`, else the only known board present.
    func selector() throws -> BoardSelector {
        try BoardSelector(parsing: port ?? board ?? "auto")
    }

    /// The link configuration these options ask for.
    var config: LinkConfig {
        LinkConfig(periodMilliseconds: UInt16(period), failsafeMilliseconds: UInt16(failsafe), sensorMask: sensorMask ?? LinkConfig.allSensors)
    }

    /// Session options for `selector`, honouring `stopRequest` in every wait.
    func sessionOptions(selector: BoardSelector, stopRequest: StopRequest?) -> SessionOptions {
        var options = SessionOptions(selector: selector, serial: SerialConfiguration(baudRate: UInt32(baud), hangUpOnClose: !noReset),
                                     config: config)
        options.handshakeTimeoutMilliseconds = handshakeTimeout
        options.stopRequest = stopRequest
        options.protocolVersion = UInt8(protocolVersion)
        options.lineBaudRate = lineBaud.map(UInt32.init)
        return options
    }
}
