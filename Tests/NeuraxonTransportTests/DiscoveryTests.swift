import Foundation
import Glibc
import NeuraxonProtocol
import Testing
@testable import NeuraxonTransport

@Suite("Discovery and hot-plug over libudev, with umockdev's fake USB boards")
struct DiscoveryTests {
    @Test("a fake USB Arduino with a serial number is listed with its ids, and a CH340 by its ID_USB_* names")
    func umockdevListsFakeBoards() throws {
        let name = "umockdevListsFakeBoards"
        if Umockdev.isChild(name) {
            let bed = try Testbed()
            try bed.add(FakeBoards.uno)
            try bed.add(FakeBoards.ch340)
            let devices = try DeviceDiscovery.devices()
            for d in devices { Umockdev.report("device \(d.summary) byid=\(d.byID ?? "-")") }
            let uno = try BoardSelector.serialNumber(FakeBoards.unoSerial).resolve(in: devices)
            #expect(uno.path == "/dev/ttyACM0")
            #expect(uno.vendorID == 0x2341 && uno.productID == 0x0043)
            #expect(uno.manufacturer == "Arduino (www.arduino.cc)")
            #expect(uno.product == "Arduino Uno")
            #expect(uno.byID == FakeBoards.unoByID)
            #expect(uno.knownBoard?.name == "Arduino Uno R3")
            let ch340 = try BoardSelector(parsing: "1a86:7523").resolve(in: devices)
            #expect(ch340.path == "/dev/ttyUSB0" && ch340.serialNumber == nil)
            #expect(ch340.knownBoard?.resetsOnOpen == true)
            #expect(throws: DiscoveryError.self) { _ = try BoardSelector.onlyKnownBoard.resolve(in: devices) }
            return
        }
        let run = try Umockdev.runChild(name)
        #expect(run.status == 0, "child failed:\n\(run.output)")
        #expect(run.reports.contains("device /dev/ttyACM0 2341:0043 serial \(FakeBoards.unoSerial) Arduino Uno R3 byid=\(FakeBoards.unoByID)"))
        #expect(run.reports.contains { $0.hasPrefix("device /dev/ttyUSB0 1a86:7523") })
    }

    @Test("hot-plug add and remove events arrive through the monitor's file descriptor")
    func umockdevHotplug() throws {
        let name = "umockdevHotplug"
        if Umockdev.isChild(name) {
            let bed = try Testbed()
            let monitor = try DeviceMonitor()
            try bed.add(FakeBoards.uno)
            let added = monitor.wait(deadline: .now().adding(milliseconds: 3000))
            #expect(added?.action == .add)
            #expect(added?.device.serialNumber == FakeBoards.unoSerial)
            Umockdev.report("event \(added?.action.rawValue ?? "none") \(added?.device.summary ?? "")")
            bed.send("remove", syspath: FakeBoards.unoTTYSyspath)
            let removed = monitor.wait(deadline: .now().adding(milliseconds: 3000))
            #expect(removed?.action == .remove)
            #expect(removed?.device.path == "/dev/ttyACM0")
            Umockdev.report("event \(removed?.action.rawValue ?? "none") \(removed?.device.path ?? "")")
            #expect(monitor.wait(deadline: .now().adding(milliseconds: 100)) == nil)
            return
        }
        let run = try Umockdev.runChild(name)
        #expect(run.status == 0, "child failed:\n\(run.output)")
        #expect(run.reports.contains("event add /dev/ttyACM0 2341:0043 serial \(FakeBoards.unoSerial) Arduino Uno R3"))
        #expect(run.reports.contains("event remove /dev/ttyACM0"))
    }

    @Test("discovery plus open reaches the firmware through the fake Arduino's tty, selected by serial number")
    func umockdevReachesFirmware() throws {
        let name = "umockdevReachesFirmware"
        if Umockdev.isChild(name) {
            // The firmware runs in the parent (outside the test bed); its pty comes in the environment.
            let firmwarePath = try #require(ProcessInfo.processInfo.environment["NEURAXON_FIRMWARE_PTY"])
            let bed = try Testbed()
            try bed.add(FakeBoards.uno)
            try bed.redirectNode("ttyACM0", to: firmwarePath)
            var options = SessionOptions(selector: .serialNumber(FakeBoards.unoSerial),
                                         config: LinkConfig(periodMilliseconds: 10, failsafeMilliseconds: 100, sensorMask: 0x7F))
            options.monitor = nil
            let session = LinkSession(options: options)
            let info = try session.connect()
            #expect(session.devicePath == "/dev/ttyACM0")
            let samples = collect(session, count: 10)
            #expect(samples.count == 10)
            Umockdev.report("connected \(session.devicePath ?? "-") board \(info.board) id \(info.uniqueIDHex) samples \(samples.count)")
            session.stop()
            return
        }
        let firmware = try FirmwareProcess(firmwareID: "00000000000000c1")
        defer { firmware.quit() }
        let run = try Umockdev.runChild(name, environment: ["NEURAXON_FIRMWARE_PTY": firmware.path])
        #expect(run.status == 0, "child failed:\n\(run.output)")
        #expect(run.reports.contains("connected /dev/ttyACM0 board neuraxon-host id 00000000000000c1 samples 10"))
    }

    @Test("unplug and replug: the session finds the same board again by serial number on the udev add event")
    func umockdevReplugReconnects() throws {
        let name = "umockdevReplugReconnects"
        if Umockdev.isChild(name) {
            let bed = try Testbed()
            var board = try ScriptedBoard.responder()
            try bed.add(FakeBoards.uno)
            try bed.redirectNode("ttyACM0", to: board.pty.path)
            var options = SessionOptions(selector: .serialNumber(FakeBoards.unoSerial),
                                         config: LinkConfig(periodMilliseconds: 20, failsafeMilliseconds: 100, sensorMask: 1))
            options.monitor = .udev
            options.reconnectPollMilliseconds = 5000  // only the udev event can bring it back in time
            let session = LinkSession(options: options)
            try session.connect()
            #expect(!pump(session, milliseconds: 300) { session.state != .streaming }, "the link dropped while the board answered")

            board.finish()
            board.pty.close()
            bed.unplug(syspaths: FakeBoards.unoSyspaths)
            #expect(pump(session, milliseconds: 2000) { session.state == .reconnecting })

            // Back under a new tty name, as after a real replug.
            board = try ScriptedBoard.responder()
            try bed.add(FakeBoards.uno(tty: "ttyACM1"))
            try bed.redirectNode("ttyACM1", to: board.pty.path)
            let plugged = MonotonicTime.now()
            #expect(pump(session, milliseconds: 3000) { session.state == .streaming })
            let took = MonotonicTime.now().milliseconds(since: plugged)
            #expect(took <= 1500, "reconnected \(took) ms after the add event")
            #expect(session.counters.reconnects == 1)
            #expect(session.activeConfig == options.config)
            #expect(session.devicePath == "/dev/ttyACM1")
            Umockdev.report("reconnects \(session.counters.reconnects) on \(session.devicePath ?? "-")")
            session.stop()
            board.finish()
            return
        }
        let run = try Umockdev.runChild(name)
        #expect(run.status == 0, "child failed:\n\(run.output)")
        #expect(run.reports.contains("reconnects 1 on /dev/ttyACM1"))
    }

    @Test("board selectors parse every documented form and reject the rest with advice")
    func selectorParsing() throws {
        #expect(try BoardSelector(parsing: "/dev/ttyACM0") == .path("/dev/ttyACM0"))
        #expect(try BoardSelector(parsing: "ttyUSB1") == .path("/dev/ttyUSB1"))
        #expect(try BoardSelector(parsing: "serial:ABC123") == .serialNumber("ABC123"))
        #expect(try BoardSelector(parsing: "2341:0043") == .usbID(vendor: 0x2341, product: 0x0043))
        #expect(try BoardSelector(parsing: "auto") == .onlyKnownBoard)
        for bad in ["serial:", "2341:43", "banana", "zzzz:0043"] {
            #expect(throws: DiscoveryError.badSelector(bad)) { _ = try BoardSelector(parsing: bad) }
        }
        #expect(DiscoveryError.badSelector("x").description.contains("serial:NUMBER"))
        let devices = [SerialDevice(path: "/dev/ttyACM0", vendorID: 0x2341, productID: 0x0043, serialNumber: "A"),
                       SerialDevice(path: "/dev/ttyACM1", vendorID: 0x2341, productID: 0x0043, serialNumber: "B")]
        #expect(try BoardSelector.serialNumber("B").resolve(in: devices).path == "/dev/ttyACM1")
        #expect(throws: DiscoveryError.ambiguous(selector: "2341:0043", matches: ["/dev/ttyACM0", "/dev/ttyACM1"])) {
            _ = try BoardSelector.usbID(vendor: 0x2341, product: 0x0043).resolve(in: devices)
        }
        #expect(throws: DiscoveryError.self) { _ = try BoardSelector.serialNumber("C").resolve(in: devices) }
    }

    @Test("enumeration on this machine returns only real serial ports, never virtual consoles or ptys")
    func enumerationOnHost() throws {
        let pty = try PseudoTerminal()
        let devices = try DeviceDiscovery.devices()
        #expect(!devices.contains { $0.path == pty.path })
        #expect(!devices.contains { $0.path.hasPrefix("/dev/tty") && Int($0.path.dropFirst(8)) != nil })
    }
}
