import NeuraxonChannels
import NeuraxonProtocol

/// Where a session stands. Transitions are reported through `LinkSession.onEvent`.
public enum LinkState: String, Equatable, Sendable, CustomStringConvertible {
    /// No port open; `connect` has not run, or it failed.
    case disconnected
    /// Port open; HELLO sent, waiting for DEVICE_INFO.
    case handshaking
    /// DEVICE_INFO received; CONFIG sent, waiting for CONFIG_ACK.
    case configuring
    /// Configured: sensor frames arrive, commands go out.
    case streaming
    /// The link was lost; the session looks for the same board and reconnects when it reappears.
    /// It stays in this state through each reconnect attempt's handshake and configuration.
    case reconnecting
    /// `stop()` ran: actuators made safe and the port closed.
    case stopped

    public var description: String { rawValue }
}

/// Something the session wants a caller to know. Delivered on the session's thread.
public enum LinkEvent: Equatable, Sendable, CustomStringConvertible {
    /// The state changed.
    case state(LinkState)
    /// A handshake completed with `board` on `path`.
    case connected(path: String, board: BoardInfo)
    /// The port was opened; `latency` says what was done about adapter latency.
    case portOpened(path: String, latency: LatencySetting)
    /// The link was declared lost.
    case linkLost(reason: String)
    /// The same board answered again, `milliseconds` after the loss, with the configuration restored.
    case reconnected(path: String, afterMilliseconds: Double)
    /// A different board answered where the session's board used to be; it was left alone.
    case wrongBoard(path: String, expected: String, found: String)
    /// The board rejected one of our frames.
    case boardError(ErrorReport)
    /// The speed switch of Docs/PROTOCOL.md section 12 is over: `requested` was asked for and
    /// `inForce` is the line's speed now (the same when the switch worked), baud.
    case lineSpeed(requested: UInt32, inForce: UInt32)

    public var description: String {
        switch self {
        case let .state(s): return "state \(s)"
        case let .connected(path, board):
            return "connected to \(board.board) (firmware \(board.firmwareVersionString), id \(board.uniqueIDHex)) on \(path)"
        case let .portOpened(path, latency): return "opened \(path): \(latency)"
        case let .linkLost(reason): return "link lost: \(reason)"
        case let .reconnected(path, ms): return "reconnected on \(path) after \(Int(ms.rounded())) ms"
        case let .wrongBoard(path, expected, found): return "\(path) has board \(found), not \(expected); waiting for \(expected)"
        case let .boardError(report): return "board rejected a frame: \(report)"
        case let .lineSpeed(requested, inForce):
            return requested == inForce ? "line raised to \(inForce) baud"
                : "line kept at \(inForce) baud: the board did not take \(requested) baud"
        }
    }
}

/// Why a session operation failed.
public enum LinkError: Error, Equatable, Sendable, CustomStringConvertible {
    case serial(SerialError)
    case discovery(DiscoveryError)
    /// No DEVICE_INFO after `attempts` HELLOs. `bytesHeard` and `badFrames` say whether
    /// anything came back at all.
    case noAnswer(path: String, attempts: Int, bytesHeard: Int, badFrames: Int)
    /// The board speaks another protocol version.
    case versionMismatch(path: String, host: UInt8, board: UInt8)
    /// A version-2 board refused to name one of its channels (GET_CHANNEL answered with ERROR).
    case namesRefused(path: String, report: ErrorReport)
    /// A different board answered than the one this session was connected to.
    case wrongBoard(path: String, expected: String, found: String)
    /// The board refused the configuration.
    case configRejected(path: String, config: LinkConfig, report: ErrorReport)
    /// The configuration does not fit the board (checked before it is sent).
    case configInvalid(String)
    /// The board did not acknowledge within the time allowed.
    case noAcknowledgement(path: String, what: String)
    /// The operation needs a connected session.
    case notConnected
    /// A stop was requested (`SessionOptions.stopRequest`) before the operation finished.
    case stopped

    public var description: String {
        switch self {
        case let .serial(e): return e.description
        case let .discovery(e): return e.description
        case let .noAnswer(path, attempts, bytes, bad):
            if bytes == 0 {
                return "no answer from \(path) after \(attempts) HELLOs: nothing came back. Check that the Neuraxon "
                    + "firmware is flashed, the board is powered, and this is the right port (`neuraxon devices`)"
            }
            return "no valid answer from \(path) after \(attempts) HELLOs: \(bytes) bytes came back but \(bad) frames "
                + "were garbage. Check the baud rate (both sides must agree; default 115200) and that the board runs "
                + "the Neuraxon firmware, not another sketch"
        case let .versionMismatch(path, host, board):
            return "protocol version mismatch on \(path): this host speaks version \(host), the board speaks version "
                + "\(board). Flash the firmware that matches this neuraxon, or use a neuraxon that speaks version \(board)"
        case let .namesRefused(path, report):
            return "the board on \(path) refused to name its channels (\(report)). Flash matching firmware, "
                + "or speak protocol version 1 to it"
        case let .wrongBoard(path, expected, found):
            return "\(path) answered as board \(found), not \(expected); select the board explicitly (serial:NUMBER)"
        case let .configRejected(path, config, report):
            let field: String
            switch report.detail {
            case 1: field = "sampling period \(config.periodMilliseconds) ms"
            case 2: field = "failsafe timeout \(config.failsafeMilliseconds) ms"
            case 3: field = "sensor mask 0x\(String(config.sensorMask, radix: 16))"
            default: field = "configuration"
            }
            return "the board on \(path) refused the \(field) (\(report)); pick a value within the limits that "
                + "`neuraxon probe` prints"
        case let .configInvalid(why): return "invalid link configuration: \(why)"
        case let .noAcknowledgement(path, what): return "the board on \(path) did not acknowledge \(what) in time"
        case .notConnected: return "the session is not connected; call connect() first"
        case .stopped: return "stopped on request before the board answered"
        }
    }
}

/// Round-trip times of PING → PONG, kept in a fixed ring of the most recent samples.
public struct RoundTripStatistics: Sendable {
    /// How many recent samples the percentiles cover.
    public static let capacity = 4096
    private var ring: [Double]
    private var next = 0
    /// Samples recorded in total.
    public private(set) var count = 0
    /// Smallest and largest sample, ms.
    public private(set) var minimum = Double.infinity
    public private(set) var maximum = 0.0

    public init() { ring = [Double](repeating: 0, count: Self.capacity) }

    /// Becomes a copy of `other`, element by element: allocates nothing (both hold
    /// `capacity` samples), so a real-time thread can keep a copy for another thread to read.
    public mutating func copy(from other: RoundTripStatistics) {
        ring.withUnsafeMutableBufferPointer { to in
            other.ring.withUnsafeBufferPointer { from in
                for k in 0..<min(to.count, from.count) { to[k] = from[k] }
            }
        }
        next = other.next
        count = other.count
        minimum = other.minimum
        maximum = other.maximum
    }

    /// Records one round trip of `milliseconds`. Does not allocate.
    public mutating func record(_ milliseconds: Double) {
        ring[next] = milliseconds
        next = (next + 1) % Self.capacity
        count += 1
        minimum = min(minimum, milliseconds)
        maximum = max(maximum, milliseconds)
    }

    /// The `p`-th percentile (0...100) of the recent samples, ms (nearest rank), or nil with no samples.
    /// Allocates a sorted copy: call it for reports, not per tick.
    public func percentile(_ p: Double) -> Double? {
        let n = min(count, Self.capacity)
        guard n > 0 else { return nil }
        let sorted = ring[0..<n].sorted()
        let rank = Int((p / 100 * Double(n)).rounded(.up)) - 1
        return sorted[max(0, min(n - 1, rank))]
    }

    /// Median round trip, ms.
    public var p50: Double? { percentile(50) }
    /// 99th percentile round trip, ms.
    public var p99: Double? { percentile(99) }
}
