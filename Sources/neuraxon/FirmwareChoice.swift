import ArgumentParser
import NeuraxonEmbodiment

/// `--through-firmware host|library|avr`, shared by `neuraxon sim` and `neuraxon bench sim`.
enum FirmwareChoice: String, ExpressibleByArgument, CaseIterable {
    /// The host build of the firmware (`NEURAXON_FIRMWARE`, or its build in `Firmware/build`).
    case host
    /// The host build of the firmware as a library loaded into this process, with no
    /// pseudo-terminal (`NEURAXON_FIRMWARE_LIB`, or its build in `Firmware/build`).
    case library
    /// The AVR build under the emulation harness (`NEURAXON_AVR_ELF` and `NEURAXON_AVR_HARNESS`,
    /// or their builds in `Firmware/build`).
    case avr

    var firmware: FirmwareInTheLoop {
        switch self {
        case .host: .host()
        case .library: .library()
        case .avr: .avr()
        }
    }
}
