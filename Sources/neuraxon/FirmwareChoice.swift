import ArgumentParser
import NeuraxonEmbodiment

/// `--through-firmware host|library|avr`, shared by `neuraxon sim` and `neuraxon bench sim`.
enum FirmwareChoice: String, ExpressibleByArgument, CaseIterable {
    /// The host build of the firmware (`NEURAXON_FIRMWARE`, or the robot's build in `Firmware/build`).
    case host
    /// The host build of the firmware as a library loaded into this process, with no
    /// pseudo-terminal (`NEURAXON_FIRMWARE_LIB`, or its build in `Firmware/build`).
    case library
    /// The AVR build under the emulation harness (`NEURAXON_AVR_ELF` and `NEURAXON_AVR_HARNESS`,
    /// or their builds in `Firmware/build`).
    case avr

    /// The reference robot's firmware.
    var firmware: FirmwareInTheLoop { firmware(for: .reference) }

    /// `robot`'s firmware: its builds under `Firmware/build` (the environment's paths first).
    func firmware(for robot: FirmwareBuild) -> FirmwareInTheLoop {
        switch self {
        case .host: .host(robot: robot)
        case .library: .library(robot: robot)
        case .avr: .avr(robot: robot)
        }
    }
}
