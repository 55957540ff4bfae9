import Dispatch
import Foundation
import Glibc
import NeuraxonTransport
import Synchronization

/// The one way every long-running command (`run`, `sim`, `replay`, `net run`, `evolve`, `probe`)
/// hears that it should stop: SIGINT (Ctrl-C), SIGTERM (what service managers send) and SIGHUP
/// (a dropped terminal or SSH session) all make the same `StopRequest`, which the command hands
/// to the control loop, the link session, the simulation run or checks in its own loop. The
/// command then stops cleanly (actuators to safe values and STOP, the recording's end record,
/// the summary, its files written) and exits with `ExitStatus.stopped(by:)`: 130, 143 or 129.
final class StopSignals: @unchecked Sendable {
    /// The signals that stop a command.
    static let handled: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// The request the signals make; pass it to whatever does the work.
    let request = StopRequest()
    private var sources: [DispatchSourceSignal] = []
    /// The signals this command handles: those not ignored when it started.
    private let handledHere = StopSignals.handled.filter { !StopSignals.ignoredAtStart($0) }
    /// Signals received so far.
    private let received = Atomic<Int>(0)
    private let queue = DispatchQueue(label: "neuraxon-stop-signals")

    /// Starts listening.
    /// - Parameters:
    ///   - notice: what the first signal prints on standard error, after its name (e.g.
    ///     "stopping after this generation"); nil prints "stopping…".
    ///   - secondQuits: a second signal ends the process at once, with the status of the first
    ///     (for commands whose clean stop can take long).
    init(notice: String? = nil, secondQuits: Bool = false) {
        sources = handledHere.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [self] in
                let count = received.add(1, ordering: .relaxed).newValue
                if count == 1 {
                    request.request(signal: number)
                    let text = "\n\(Self.name(of: number)): " + (notice ?? "stopping…")
                        + (secondQuits ? " (\(Self.name(of: number)) again to quit now)" : "") + "\n"
                    FileHandle.standardError.write(Data(text.utf8))
                } else if secondQuits {
                    exit(ExitStatus.stopped(by: request.signal ?? number))
                }
            }
            source.resume()
            return source
        }
    }

    /// Whether `signal` was already ignored when the command started: `nohup` ignores SIGHUP, and
    /// a shell ignores SIGINT for a script's background jobs. Such a signal stays ignored, as the
    /// one who started the command asked.
    static func ignoredAtStart(_ signal: Int32) -> Bool {
        var current = sigaction()
        guard sigaction(signal, nil, &current) == 0 else { return false }
        return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == 1   // SIG_IGN
    }

    /// Whether a stop was asked for.
    var isRequested: Bool { request.isRequested }

    /// The exit status for a command that stopped because it was asked to (nil if it was not).
    var exitStatus: Int32? {
        request.signal.map { ExitStatus.stopped(by: $0 == 0 ? SIGINT : $0) }
    }

    /// What stopped the command, for its summary ("stopped by SIGTERM").
    var cause: String? { signalName.map { "stopped by " + $0 } }

    /// The name of the signal that stopped the command ("SIGTERM").
    var signalName: String? { request.signal.map(Self.name(of:)) }

    /// Ends the command with the stopped status when a stop was asked for; call it once the
    /// command has finished its clean stop.
    func exitIfStopped() throws {
        if let exitStatus { throw ExitStatus.code(exitStatus) }
    }

    /// Gives the signals it handles back their default meaning (the process dies on the next one).
    func release() {
        for source in sources { source.cancel() }
        for number in handledHere { signal(number, SIG_DFL) }
    }

    static func name(of signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        case SIGHUP: return "SIGHUP"
        case 0: return "request"
        default: return "signal \(signal)"
        }
    }
}
