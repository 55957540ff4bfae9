import Foundation
import Glibc
@testable import NeuraxonTransport

/// Runs parts of a test inside a umockdev test bed (Debian's `umockdev`), where libudev sees
/// fake USB devices and their device nodes are pseudo-terminals.
///
/// The test bed needs libumockdev's preload library from process start, so a test runs its
/// in-bed half in a child: this test binary again, under `umockdev-wrapper`, filtered to the
/// same test, with `NEURAXON_UMOCKDEV_CHILD` naming it. The child's expectations decide its
/// exit status; it reports facts back on stdout lines starting with `UMOCKDEV: `.
enum Umockdev {
    static let childVariable = "NEURAXON_UMOCKDEV_CHILD"

    /// True in the child run for the test called `name`.
    static func isChild(_ name: String) -> Bool {
        ProcessInfo.processInfo.environment[childVariable] == name
    }

    /// Runs this binary's test `name` inside a fresh test bed; returns its exit status and the
    /// `UMOCKDEV: ` lines it printed.
    static func runChild(_ name: String, environment extra: [String: String] = [:]) throws
        -> (status: Int32, reports: [String], output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/umockdev-wrapper")
        let me = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        process.arguments = [me, "--testing-library", "swift-testing", "--filter", name]
        var environment = ProcessInfo.processInfo.environment
        environment[childVariable] = name
        environment.merge(extra) { $1 }
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let watchdog = Thread { [process] in  // a child that hangs is ended, and its output shows why
            let end = MonotonicTime.now().adding(milliseconds: 60_000)
            while process.isRunning && MonotonicTime.now() < end { usleep(20_000) }
            if process.isRunning { process.terminate() }
        }
        watchdog.start()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        let reports = output.split(separator: "\n").compactMap { line -> String? in
            guard let r = line.range(of: "UMOCKDEV: ") else { return nil }
            return String(line[r.upperBound...])
        }
        return (process.terminationStatus, reports, output)
    }

    static func report(_ text: String) {
        let line = "UMOCKDEV: \(text)\n"
        _ = line.withCString { Glibc.write(1, $0, strlen($0)) }
    }
}

/// libumockdev's test-bed calls, reached with dlopen (the library is GObject-based; these
/// four plain C functions are all the tests need).
final class Testbed {
    private typealias New = @convention(c) () -> OpaquePointer?
    private typealias AddFromString = @convention(c) (OpaquePointer, UnsafePointer<CChar>, UnsafeMutableRawPointer?) -> Int32
    private typealias Uevent = @convention(c) (OpaquePointer, UnsafePointer<CChar>, UnsafePointer<CChar>) -> Void
    private typealias RootDir = @convention(c) (OpaquePointer) -> UnsafeMutablePointer<CChar>?
    private typealias Remove = @convention(c) (OpaquePointer, UnsafePointer<CChar>) -> Void

    private let bed: OpaquePointer
    private let addFromString: AddFromString
    private let uevent: Uevent
    private let remove: Remove
    /// The test bed's root folder (`$UMOCKDEV_DIR`).
    let root: String

    init() throws {
        guard let lib = dlopen("libumockdev.so.0", RTLD_NOW) else { throw TestFailure("cannot load libumockdev.so.0") }
        func symbol<T>(_ name: String, _: T.Type) throws -> T {
            guard let s = dlsym(lib, name) else { throw TestFailure("libumockdev lacks \(name)") }
            return unsafeBitCast(s, to: T.self)
        }
        let make = try symbol("umockdev_testbed_new", New.self)
        addFromString = try symbol("umockdev_testbed_add_from_string", AddFromString.self)
        uevent = try symbol("umockdev_testbed_uevent", Uevent.self)
        let rootDir = try symbol("umockdev_testbed_get_root_dir", RootDir.self)
        remove = try symbol("umockdev_testbed_remove_device", Remove.self)
        guard let b = make() else { throw TestFailure("umockdev_testbed_new failed") }
        bed = b
        guard let r = rootDir(b) else { throw TestFailure("no test bed root") }
        root = String(cString: r)
        free(r)
    }

    /// Adds the devices of a umockdev description (this emits their "add" events).
    func add(_ description: String) throws {
        guard addFromString(bed, description, nil) != 0 else { throw TestFailure("umockdev rejected the description") }
    }

    /// Sends a uevent (`add`, `remove`, `change`) for the device at `syspath`.
    func send(_ action: String, syspath: String) {
        uevent(bed, syspath, action)
    }

    /// Unplugs the devices at `syspaths` (children first): a "remove" uevent for each, then
    /// their sysfs entries and nodes go.
    func unplug(syspaths: [String]) {
        for path in syspaths { uevent(bed, path, "remove") }
        for path in syspaths { remove(bed, path) }
    }

    /// Points the fake device node `/dev/<name>` at `target` (another terminal, e.g. a firmware's pty).
    func redirectNode(_ name: String, to target: String) throws {
        let link = root + "/dev/" + name
        unlink(link)
        guard symlink(target, link) == 0 else { throw TestFailure("cannot point \(link) at \(target)") }
    }
}

/// A USB Arduino Uno R3 as umockdev describes one: the tty, its cdc_acm interface and the
/// USB device with vendor 2341, product 0043 and a serial number.
enum FakeBoards {
    static let unoSerial = "8573531303135171A0E1"
    static let unoTTYSyspath = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/tty/ttyACM0"
    /// The Uno's tty, its interface and its USB device: everything an unplug removes.
    static let unoSyspaths = [unoTTYSyspath, "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0",
                              "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2"]
    static let unoByID = "/dev/serial/by-id/usb-Arduino__www.arduino.cc__0043_8573531303135171A0E1-if00"

    static let uno = uno(tty: "ttyACM0")

    /// The Uno with its tty named `tty` (a replugged board may come back under a new name).
    static func uno(tty: String) -> String {
        """
        P: /devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0/tty/\(tty)
        N: \(tty)
        E: DEVNAME=/dev/\(tty)
        E: SUBSYSTEM=tty
        E: MAJOR=166
        E: MINOR=0
        E: ID_BUS=usb
        E: ID_VENDOR=Arduino__www.arduino.cc_
        E: ID_VENDOR_ENC=Arduino\\x20\\x28www.arduino.cc\\x29
        E: ID_VENDOR_ID=2341
        E: ID_MODEL=0043
        E: ID_MODEL_ID=0043
        E: ID_SERIAL=Arduino__www.arduino.cc__0043_8573531303135171A0E1
        E: ID_SERIAL_SHORT=8573531303135171A0E1
        E: ID_USB_DRIVER=cdc_acm
        E: ID_USB_INTERFACE_NUM=00
        E: DEVLINKS=\(unoByID) /dev/serial/by-path/pci-0000:00:14.0-usb-0:2:1.0
        A: dev=166:0

        P: /devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0
        E: DEVTYPE=usb_interface
        E: DRIVER=cdc_acm
        E: SUBSYSTEM=usb
        A: bInterfaceClass=02
        A: bInterfaceNumber=00

        P: /devices/pci0000:00/0000:00:14.0/usb1/1-2
        N: bus/usb/001/004
        E: DEVNAME=/dev/bus/usb/001/004
        E: DEVTYPE=usb_device
        E: DRIVER=usb
        E: SUBSYSTEM=usb
        A: idVendor=2341
        A: idProduct=0043
        A: serial=8573531303135171A0E1
        A: manufacturer=Arduino (www.arduino.cc)
        A: product=Arduino Uno
        A: busnum=1
        A: devnum=4

        """
    }

    /// A CH340 adapter (a Nano clone) with no serial number, using only the ID_USB_* names.
    static let ch340 = """
        P: /devices/pci0000:00/0000:00:14.0/usb1/1-3/1-3:1.0/ttyUSB0/tty/ttyUSB0
        N: ttyUSB0
        E: DEVNAME=/dev/ttyUSB0
        E: SUBSYSTEM=tty
        E: ID_USB_VENDOR_ID=1a86
        E: ID_USB_MODEL_ID=7523
        E: ID_USB_MODEL=USB2.0-Serial
        E: ID_USB_DRIVER=ch341
        A: dev=188:0

        P: /devices/pci0000:00/0000:00:14.0/usb1/1-3/1-3:1.0/ttyUSB0
        E: SUBSYSTEM=usb-serial
        E: DRIVER=ch341-uart

        P: /devices/pci0000:00/0000:00:14.0/usb1/1-3/1-3:1.0
        E: DEVTYPE=usb_interface
        E: DRIVER=ch341
        E: SUBSYSTEM=usb

        P: /devices/pci0000:00/0000:00:14.0/usb1/1-3
        N: bus/usb/001/005
        E: DEVTYPE=usb_device
        E: SUBSYSTEM=usb
        A: idVendor=1a86
        A: idProduct=7523
        A: product=USB2.0-Serial

        """
}
