import Foundation
import Glibc
import NeuraxonEmbodiment
import NeuraxonTransport

/// The host-built firmware (`make -C Firmware host`, Docs/FIRMWARE.md), or `$NEURAXON_FIRMWARE`.
enum SerialFirmware {
    static let firmwareFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Firmware").path

    /// The executable, built once per test run.
    static let binary = Result { () throws(FirmwareProcessError) -> String in
        if let given = ProcessInfo.processInfo.environment["NEURAXON_FIRMWARE"] { return given }
        return try FirmwareProcess.build(in: firmwareFolder, targets: ["host"], products: ["build/host/neuraxon-firmware"])[0]
    }

    /// The real AVR build under its emulation harness, built once per test run.
    static let avr = Result { () throws(FirmwareProcessError) -> FirmwareInTheLoop in
        let paths = try FirmwareProcess.build(in: firmwareFolder, targets: ["avr", "sim"],
                                              products: ["build/sim/nx-avr-harness", "build/avr/neuraxon-uno.elf"])
        return .avr(harness: paths[0], elf: paths[1])
    }
}

extension FirmwareProcess {
    /// Starts the host firmware with unique id `firmwareID` (16 hex digits) and waits for its pty.
    convenience init(firmwareID: String = "6e78686f73740001") throws {
        try self.init(executable: SerialFirmware.binary.get(), arguments: ["--id", firmwareID])
    }
}

/// A stable path (a symbolic link in a temporary folder) that can be re-pointed at a new
/// firmware's pty, as a board that comes back under the same name.
final class SerialStableLink {
    let folder = TemporaryFolder()
    var path: String { folder.file("robot") }

    func point(at target: String) {
        unlink(path)
        symlink(target, path)
    }
}
