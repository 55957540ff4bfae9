import Foundation
import NeuraxonTransport

/// The firmware builds these tests run: the host build (`make -C Firmware host`), or
/// `$NEURAXON_FIRMWARE`, and the real AVR build with its simavr harness (`make -C Firmware avr sim`).
enum HostFirmware {
    static let firmwareFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Firmware").path

    /// The host firmware executable.
    static func binary() throws -> String {
        if let given = ProcessInfo.processInfo.environment["NEURAXON_FIRMWARE"] { return given }
        return try built.get()
    }

    private static let built = Result { () throws(FirmwareProcessError) in
        try FirmwareProcess.build(in: firmwareFolder, targets: ["host"], products: ["build/host/neuraxon-firmware"])[0]
    }

    /// The simavr harness and the AVR firmware image.
    static let emulated = Result { () throws(FirmwareProcessError) in
        let paths = try FirmwareProcess.build(in: firmwareFolder, targets: ["avr", "sim"],
                                              products: ["build/sim/nx-avr-harness", "build/avr/neuraxon-uno.elf"])
        return (paths[0], paths[1])
    }
}

extension FirmwareProcess {
    /// Starts the host build with unique id `firmwareID` (16 hex digits), or with `avr` the real
    /// AVR build under emulation, and waits for its pty. Inside a umockdev test bed the firmware
    /// runs outside it (no LD_PRELOAD).
    convenience init(firmwareID: String = "6e78686f73740001", avr: Bool = false) throws {
        var environment = ProcessInfo.processInfo.environment
        environment["LD_PRELOAD"] = nil
        if avr {
            let (harness, elf) = try HostFirmware.emulated.get()
            try self.init(executable: harness, arguments: [elf], environment: environment)
        } else {
            try self.init(executable: HostFirmware.binary(), arguments: ["--id", firmwareID], environment: environment)
        }
    }
}
