import Dispatch
import Foundation

/// Turns Ctrl-C into a flag that long-running commands (run, replay, evolve) poll, so they stop
/// cleanly: actuators stopped, files closed, checkpoints written.
final class Interruption: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    private let source: DispatchSourceSignal

    init() {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [weak self] in self?.set() }
        source.resume()
    }

    private func set() {
        lock.lock()
        flag = true
        lock.unlock()
    }

    var happened: Bool {
        lock.lock()
        defer { lock.unlock() }
        return flag
    }
}
