import Dispatch
import Foundation

/// Turns Ctrl-C into a flag that long-running commands (run, replay, evolve) poll, so they stop
/// cleanly: actuators stopped, files closed, checkpoints written. With `secondQuits`, a second
/// Ctrl-C ends the process at once (exit status 130); `notice` is printed on the first.
final class Interruption: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    private let source: DispatchSourceSignal

    init(notice: String? = nil, secondQuits: Bool = false) {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [weak self] in
            guard let self else { return }
            let already = self.lock.withLock { () -> Bool in
                defer { self.flag = true }
                return self.flag
            }
            if already && secondQuits { exit(130) }
            if !already, let notice { FileHandle.standardError.write(Data(("\n" + notice + "\n").utf8)) }
        }
        source.resume()
    }

    /// Whether Ctrl-C was pressed.
    var happened: Bool { lock.withLock { flag } }

    /// Gives Ctrl-C back its default meaning.
    func release() {
        source.cancel()
        signal(SIGINT, SIG_DFL)
    }
}
