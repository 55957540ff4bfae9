import Glibc

/// Why a serial-port operation failed. Each case names the device and its `description` tells a
/// user what to do about it.
public enum SerialError: Error, Equatable, CustomStringConvertible, Sendable {
    /// `open` failed with EACCES. `deviceGroup` owns the device node; `userGroups` are the
    /// groups this process runs with; `listedInGroup` says whether /etc/group already lists the
    /// user in `deviceGroup` (then only a new login is missing).
    case permissionDenied(path: String, deviceGroup: String, userGroups: [String], listedInGroup: Bool)
    /// The path does not exist. `available` lists the serial devices that do.
    case noSuchDevice(path: String, available: [String])
    /// Another open file holds the port (TIOCEXCL or flock). `holders` names the processes found
    /// with the device open, as "pid 1234 (name)"; it may be empty when they cannot be seen.
    case busy(path: String, holders: [String])
    /// The path exists but is not a terminal device.
    case notATerminal(path: String)
    /// A setting read back from the driver differs from the one requested.
    case settingMismatch(path: String, setting: String, requested: String, actual: String)
    /// The device does not support an operation (modem lines on a pseudo-terminal).
    case unsupported(path: String, operation: String)
    /// The device went away: hang-up, EIO, ENODEV or end of file.
    case disconnected(path: String, reason: String)
    /// A deadline passed before the operation completed.
    case timedOut(path: String, operation: String)
    /// Any other failed system call, with its errno.
    case system(path: String, operation: String, errno: Int32)
    /// The port was used after `close()`.
    case closed(path: String)

    public var description: String {
        switch self {
        case let .permissionDenied(path, group, groups, listed):
            let have = groups.isEmpty ? "no supplementary groups" : "groups " + groups.joined(separator: ", ")
            if listed {
                return "permission denied on \(path): the device belongs to group '\(group)' and your account is "
                    + "listed in it, but this login session predates that (it runs with \(have)); "
                    + "log out and in again (or run `newgrp \(group)`)"
            }
            return "permission denied on \(path): the device belongs to group '\(group)' and you are not in it "
                + "(this process runs with \(have)); run `sudo usermod -aG \(group) $USER` and log in again, "
                + "or install the udev rule from Docs/TRANSPORT.md"
        case let .noSuchDevice(path, available):
            if available.isEmpty {
                return "no such device \(path), and no USB serial devices (ttyACM, ttyUSB) are present: check the cable and "
                    + "`dmesg`, then run `neuraxon devices`"
            }
            return "no such device \(path); serial devices present: \(available.joined(separator: ", ")) "
                + "(run `neuraxon devices` for details)"
        case let .busy(path, holders):
            if holders.isEmpty {
                return "\(path) is busy: another program has it open exclusively; close it (serial monitor, "
                    + "ModemManager, another neuraxon) and try again"
            }
            return "\(path) is busy: held by \(holders.joined(separator: ", ")); close that program and try again"
        case let .notATerminal(path):
            return "\(path) is not a serial device (not a terminal); pass a tty such as /dev/ttyACM0 or a "
                + "/dev/serial/by-id path"
        case let .settingMismatch(path, setting, requested, actual):
            return "\(path) did not accept \(setting) \(requested) (the driver reports \(actual)); pick a "
                + "value this adapter supports"
        case let .unsupported(path, operation):
            return "\(operation) is not supported on this device (\(path) has no modem lines, e.g. a "
                + "pseudo-terminal)"
        case let .disconnected(path, reason):
            return "\(path) disconnected (\(reason)); it will be found again when it reappears"
        case let .timedOut(path, operation):
            return "\(operation) on \(path) timed out"
        case let .system(path, operation, code):
            return "\(operation) failed on \(path): \(String(cString: strerror(code))) (errno \(code))"
        case let .closed(path):
            return "\(path) was used after it was closed"
        }
    }
}
