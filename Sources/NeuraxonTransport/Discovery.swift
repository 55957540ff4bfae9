import CUdev
import Glibc

/// A serial device found through libudev.
public struct SerialDevice: Equatable, Hashable, Sendable, Codable {
    /// The device node, e.g. `/dev/ttyACM0`.
    public var path: String
    /// The stable `/dev/serial/by-id/...` link, if udev made one.
    public var byID: String?
    /// The `/dev/serial/by-path/...` link (the USB port), if udev made one.
    public var byPath: String?
    /// USB vendor id, e.g. 0x2341 for Arduino.
    public var vendorID: UInt16?
    /// USB product id.
    public var productID: UInt16?
    /// The USB serial number string (`ID_SERIAL_SHORT`).
    public var serialNumber: String?
    /// USB manufacturer string.
    public var manufacturer: String?
    /// USB product string.
    public var product: String?
    /// The kernel driver, e.g. `cdc_acm`, `ftdi_sio`, `ch341`, `cp210x`.
    public var driver: String?

    public init(path: String, byID: String? = nil, byPath: String? = nil, vendorID: UInt16? = nil,
                productID: UInt16? = nil, serialNumber: String? = nil, manufacturer: String? = nil,
                product: String? = nil, driver: String? = nil) {
        self.path = path
        self.byID = byID
        self.byPath = byPath
        self.vendorID = vendorID
        self.productID = productID
        self.serialNumber = serialNumber
        self.manufacturer = manufacturer
        self.product = product
        self.driver = driver
    }

    /// "vvvv:pppp" in lowercase hex, or nil without USB ids.
    public var usbID: String? {
        guard let v = vendorID, let p = productID else { return nil }
        return hex4(v) + ":" + hex4(p)
    }

    /// The board or adapter these USB ids belong to, if it is a common one.
    public var knownBoard: KnownBoard? {
        guard let v = vendorID, let p = productID else { return nil }
        return KnownBoard.lookup(vendorID: v, productID: p)
    }
}

/// Common boards and USB-serial adapters, recognised by USB vendor and product id.
public struct KnownBoard: Equatable, Hashable, Sendable, Codable {
    /// A human name, e.g. "Arduino Uno R3".
    public var name: String
    /// Whether opening the port resets the board (DTR wired to RESET, as on Arduino Uno, Mega,
    /// Nano and most CH340/FTDI clones); the handshake then waits for the boot.
    public var resetsOnOpen: Bool
    /// Whether the adapter has an FTDI-style latency timer (16 ms by default; set to 1 ms on open).
    public var hasLatencyTimer: Bool

    static let table: [UInt32: KnownBoard] = {
        func id(_ v: UInt16, _ p: UInt16) -> UInt32 { UInt32(v) << 16 | UInt32(p) }
        func board(_ name: String, resets: Bool = true, latency: Bool = false) -> KnownBoard {
            KnownBoard(name: name, resetsOnOpen: resets, hasLatencyTimer: latency)
        }
        return [
            id(0x2341, 0x0001): board("Arduino Uno"),
            id(0x2341, 0x0043): board("Arduino Uno R3"),
            id(0x2A03, 0x0043): board("Arduino Uno R3 (arduino.org)"),
            id(0x2341, 0x0243): board("Arduino Uno R3 (16U2)"),
            id(0x2341, 0x0010): board("Arduino Mega 2560"),
            id(0x2341, 0x0042): board("Arduino Mega 2560 R3"),
            id(0x2A03, 0x0042): board("Arduino Mega 2560 R3 (arduino.org)"),
            id(0x2341, 0x0058): board("Arduino Nano Every", resets: false),
            id(0x2341, 0x8036): board("Arduino Leonardo", resets: false),
            id(0x2341, 0x8037): board("Arduino Micro", resets: false),
            id(0x2341, 0x0069): board("Arduino Uno R4 Minima", resets: false),
            id(0x1A86, 0x7523): board("CH340 USB-serial (Arduino Nano clone)"),
            id(0x1A86, 0x5523): board("CH341 USB-serial"),
            id(0x1A86, 0x55D4): board("CH9102 USB-serial"),
            id(0x10C4, 0xEA60): board("Silicon Labs CP210x USB-serial"),
            id(0x10C4, 0xEA70): board("Silicon Labs CP2105 USB-serial"),
            id(0x0403, 0x6001): board("FTDI FT232R USB-serial (Arduino Nano)", latency: true),
            id(0x0403, 0x6010): board("FTDI FT2232 USB-serial", latency: true),
            id(0x0403, 0x6011): board("FTDI FT4232 USB-serial", latency: true),
            id(0x0403, 0x6014): board("FTDI FT232H USB-serial", latency: true),
            id(0x0403, 0x6015): board("FTDI FT-X USB-serial", latency: true),
        ]
    }()

    /// The entry for these ids, or nil.
    public static func lookup(vendorID: UInt16, productID: UInt16) -> KnownBoard? {
        table[UInt32(vendorID) << 16 | UInt32(productID)]
    }
}

/// Why discovery or board selection failed.
public enum DiscoveryError: Error, Equatable, Sendable, CustomStringConvertible {
    /// libudev could not be initialised.
    case udevUnavailable(String)
    /// A selector string could not be parsed.
    case badSelector(String)
    /// No present device matches the selector.
    case noMatch(selector: String, available: [String])
    /// More than one device matches; the user must be more specific.
    case ambiguous(selector: String, matches: [String])

    public var description: String {
        switch self {
        case let .udevUnavailable(what):
            return "cannot use libudev (\(what)); pass the port's path, e.g. /dev/ttyACM0"
        case let .badSelector(text):
            return "cannot read the board selector '\(text)': use a path (/dev/ttyACM0, /dev/serial/by-id/...), "
                + "a tty name (ttyACM0), serial:NUMBER, or vendor:product in hex (2341:0043)"
        case let .noMatch(selector, available):
            if available.isEmpty {
                return "no serial device matches \(selector), and none are present: check the cable and `dmesg`"
            }
            return "no serial device matches \(selector); present: \(available.joined(separator: "; "))"
        case let .ambiguous(selector, matches):
            return "\(selector) matches several devices (\(matches.joined(separator: ", "))); select one by "
                + "serial:NUMBER or by its /dev/serial/by-id path"
        }
    }
}

/// How to pick a board so it is found again after its tty name changes.
public enum BoardSelector: Equatable, Hashable, Sendable, CustomStringConvertible {
    /// A device node or link: `/dev/ttyACM0`, `/dev/serial/by-id/...`, or a pseudo-terminal.
    case path(String)
    /// The USB serial number.
    case serialNumber(String)
    /// USB vendor and product id.
    case usbID(vendor: UInt16, product: UInt16)
    /// The only present device that is a known board or adapter.
    case onlyKnownBoard

    /// Parses `/dev/...` or any path with a `/`, a bare tty name (`ttyACM0`), `serial:NUMBER`,
    /// `vvvv:pppp` (hex USB ids), or `auto` (the only known board present).
    public init(parsing text: String) throws(DiscoveryError) {
        let t = text.trimmingWhitespace()
        if t.isEmpty || t == "auto" {
            self = .onlyKnownBoard
        } else if t.contains("/") {
            self = .path(t)
        } else if t.hasPrefix("serial:") {
            let number = String(t.dropFirst("serial:".count))
            guard !number.isEmpty else { throw .badSelector(text) }
            self = .serialNumber(number)
        } else if t.hasPrefix("tty") {
            self = .path("/dev/" + t)
        } else {
            let parts = t.split(separator: ":")
            guard parts.count == 2, parts.allSatisfy({ $0.count == 4 }),
                  let v = UInt16(parts[0], radix: 16), let p = UInt16(parts[1], radix: 16) else {
                throw .badSelector(text)
            }
            self = .usbID(vendor: v, product: p)
        }
    }

    public var description: String {
        switch self {
        case let .path(p): return p
        case let .serialNumber(s): return "serial:\(s)"
        case let .usbID(v, p): return hex4(v) + ":" + hex4(p)
        case .onlyKnownBoard: return "auto"
        }
    }

    /// Whether `device` is the one this selector names.
    public func matches(_ device: SerialDevice) -> Bool {
        switch self {
        case let .path(p):
            if p == device.path || p == device.byID || p == device.byPath { return true }
            guard let number = SerialPort.deviceNumber(of: p) else { return false }
            return number == SerialPort.deviceNumber(of: device.path)
        case let .serialNumber(s): return device.serialNumber == s
        case let .usbID(v, p): return device.vendorID == v && device.productID == p
        case .onlyKnownBoard: return device.knownBoard != nil
        }
    }

    /// The device node to open: a path selector resolves without udev (so pseudo-terminals
    /// work); the others search the devices present now.
    public func resolve() throws(DiscoveryError) -> String {
        if case let .path(p) = self { return p }
        return try resolve(in: try DeviceDiscovery.devices()).path
    }

    /// The single device among `devices` that this selector names.
    public func resolve(in devices: [SerialDevice]) throws(DiscoveryError) -> SerialDevice {
        let found = devices.filter(matches)
        if found.count == 1 { return found[0] }
        if found.isEmpty {
            throw .noMatch(selector: description, available: devices.map(\.summary))
        }
        throw .ambiguous(selector: description, matches: found.map { $0.byID ?? $0.path })
    }
}

extension SerialDevice {
    /// One line: path, ids, serial number and what it is.
    public var summary: String {
        var parts = [path]
        if let id = usbID { parts.append(id) }
        if let s = serialNumber { parts.append("serial \(s)") }
        if let k = knownBoard { parts.append(k.name) } else if let p = product { parts.append(p) }
        return parts.joined(separator: " ")
    }
}

/// Serial-device enumeration over libudev.
public enum DeviceDiscovery {
    /// The serial devices present now, sorted by path: every tty with a USB parent, and
    /// on-board UARTs whose driver reports a real port. Virtual consoles and ptys are left out.
    public static func devices() throws(DiscoveryError) -> [SerialDevice] {
        guard let udev = udev_new() else { throw .udevUnavailable("udev_new failed") }
        defer { udev_unref(udev) }
        guard let enumerate = udev_enumerate_new(udev) else { throw .udevUnavailable("udev_enumerate_new failed") }
        defer { udev_enumerate_unref(enumerate) }
        udev_enumerate_add_match_subsystem(enumerate, "tty")
        udev_enumerate_scan_devices(enumerate)
        var result: [SerialDevice] = []
        var entry = udev_enumerate_get_list_entry(enumerate)
        while let e = entry {
            if let syspath = udev_list_entry_get_name(e), let device = udev_device_new_from_syspath(udev, syspath) {
                if let found = serialDevice(from: device) { result.append(found) }
                udev_device_unref(device)
            }
            entry = udev_list_entry_get_next(e)
        }
        return result.sorted { $0.path < $1.path }
    }

    /// The `SerialDevice` for a udev tty device, or nil if it is not a serial port.
    static func serialDevice(from device: OpaquePointer) -> SerialDevice? {
        guard let node = udev_device_get_devnode(device).map(String.init(cString:)) else { return nil }
        func property(_ names: String...) -> String? {
            for n in names {
                if let v = udev_device_get_property_value(device, n), v.pointee != 0 { return String(cString: v) }
            }
            return nil
        }
        let usb = udev_device_get_parent_with_subsystem_devtype(device, "usb", "usb_device")
        func attribute(_ name: String) -> String? {
            guard let usb, let v = udev_device_get_sysattr_value(usb, name) else { return nil }
            let s = String(cString: v).trimmingWhitespace()
            return s.isEmpty ? nil : s
        }
        var result = SerialDevice(path: node)
        result.vendorID = (property("ID_VENDOR_ID", "ID_USB_VENDOR_ID") ?? attribute("idVendor")).flatMap { UInt16($0, radix: 16) }
        result.productID = (property("ID_MODEL_ID", "ID_USB_MODEL_ID") ?? attribute("idProduct")).flatMap { UInt16($0, radix: 16) }
        result.serialNumber = property("ID_SERIAL_SHORT", "ID_USB_SERIAL_SHORT") ?? attribute("serial")
        result.manufacturer = attribute("manufacturer")
            ?? property("ID_VENDOR_ENC", "ID_USB_VENDOR_ENC").map(unescapeUdev) ?? property("ID_VENDOR", "ID_USB_VENDOR")
        result.product = attribute("product")
            ?? property("ID_MODEL_ENC", "ID_USB_MODEL_ENC").map(unescapeUdev) ?? property("ID_MODEL", "ID_USB_MODEL")
        result.driver = property("ID_USB_DRIVER")
        var links: [String] = []
        var link = udev_device_get_devlinks_list_entry(device)
        while let l = link {
            if let name = udev_list_entry_get_name(l) { links.append(String(cString: name)) }
            link = udev_list_entry_get_next(l)
        }
        if links.isEmpty, let all = property("DEVLINKS") { links = all.split(separator: " ").map(String.init) }
        for name in links {
            if name.hasPrefix("/dev/serial/by-id/") { result.byID = name }
            if name.hasPrefix("/dev/serial/by-path/") { result.byPath = name }
        }
        if usb != nil || result.vendorID != nil { return result }
        // Not USB: keep on-board UARTs whose driver reports a real port (type != 0).
        guard udev_device_get_parent(device) != nil else { return nil }
        if let type = udev_device_get_sysattr_value(device, "type").map(String.init(cString:)),
           type.trimmingWhitespace() == "0" {
            return nil
        }
        return result
    }

    /// Decodes udev's `\x20`-style escapes in `ID_*_ENC` properties.
    static func unescapeUdev(_ s: String) -> String {
        var out: [UInt8] = []
        let bytes = Array(s.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "\\"), i + 3 < bytes.count, bytes[i + 1] == UInt8(ascii: "x"),
               let v = UInt8(String(decoding: bytes[(i + 2)...(i + 3)], as: UTF8.self), radix: 16) {
                out.append(v)
                i += 4
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self).trimmingWhitespace()
    }
}

/// A hot-plug event from the udev monitor.
public struct HotplugEvent: Equatable, Sendable {
    public enum Action: String, Sendable, Codable { case add, remove, change, bind, unbind, other }
    public var action: Action
    public var device: SerialDevice
}

/// Watches serial devices come and go (a udev monitor on the `tty` subsystem).
///
/// Its `fileDescriptor` goes into the same `poll` set as a port; `next()` never blocks.
public final class DeviceMonitor {
    /// Where events come from.
    public enum Source: String, Sendable {
        /// udevd, after its rules ran (USB properties and by-id links set). The normal choice.
        case udev
        /// The kernel directly: works without udevd (containers), with fewer properties.
        case kernel
    }

    private let udev: OpaquePointer
    private let monitor: OpaquePointer
    /// Readable when events are waiting.
    public let fileDescriptor: Int32

    public init(source: Source = .udev) throws(DiscoveryError) {
        guard let u = udev_new() else { throw .udevUnavailable("udev_new failed") }
        guard let m = udev_monitor_new_from_netlink(u, source.rawValue) else {
            udev_unref(u)
            throw .udevUnavailable("cannot create a \(source.rawValue) monitor")
        }
        udev_monitor_filter_add_match_subsystem_devtype(m, "tty", nil)
        guard udev_monitor_enable_receiving(m) >= 0 else {
            udev_monitor_unref(m)
            udev_unref(u)
            throw .udevUnavailable("cannot listen for udev events")
        }
        let fd = udev_monitor_get_fd(m)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        udev = u
        monitor = m
        fileDescriptor = fd
    }

    deinit {
        udev_monitor_unref(monitor)
        udev_unref(udev)
    }

    /// The next waiting event, or nil when none is waiting. Devices that are not serial ports
    /// are skipped.
    public func next() -> HotplugEvent? {
        while let device = udev_monitor_receive_device(monitor) {
            defer { udev_device_unref(device) }
            let action = HotplugEvent.Action(rawValue: udev_device_get_action(device).map(String.init(cString:)) ?? "") ?? .other
            var found = DeviceDiscovery.serialDevice(from: device)
            if found == nil, action == .remove, let node = udev_device_get_devnode(device) {
                found = SerialDevice(path: String(cString: node))  // its parents may be gone already
            }
            guard let found else { continue }
            return HotplugEvent(action: action, device: found)
        }
        return nil
    }

    /// Waits until an event arrives or `deadline` passes.
    public func wait(deadline: MonotonicTime) -> HotplugEvent? {
        while true {
            if let e = next() { return e }
            var p = pollfd(fd: fileDescriptor, events: Int16(POLLIN), revents: 0)
            let timeout = deadline.pollTimeout()
            if timeout == 0 { return nil }
            if poll(&p, 1, timeout) < 0 && errno != EINTR { return nil }
        }
    }
}

func hex4(_ v: UInt16) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 4 - s.count) + s
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }
}
