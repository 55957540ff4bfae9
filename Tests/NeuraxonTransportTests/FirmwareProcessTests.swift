import Foundation
import Glibc
import NeuraxonTransport
import Testing

@Suite struct FirmwareProcessTests {
    @Test("a firmware process let go of ends its child, and its pipes are closed")
    func lettingGoEndsTheFirmware() throws {
        var pid: pid_t = 0
        do {
            let firmware = try FirmwareProcess()
            pid = firmware.process.processIdentifier
            #expect(kill(pid, 0) == 0)
        }
        // Dropping the last reference quits the firmware and reaps it: the pid is gone.
        let deadline = Date().addingTimeInterval(10)
        while kill(pid, 0) == 0 && Date() < deadline { usleep(10_000) }
        #expect(kill(pid, 0) != 0 && errno == ESRCH, "firmware \(pid) still runs after its FirmwareProcess was released")
    }
}
