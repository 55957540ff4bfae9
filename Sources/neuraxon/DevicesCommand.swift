import ArgumentParser
import Foundation
import Glibc
import NeuraxonTransport

/// `neuraxon devices`: the serial devices present, and with `--watch` their comings and goings.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List serial devices (path, by-id link, USB ids, serial number, known board).",
        discussion: "Select a board for other commands by path, by-id link, serial:NUMBER or vendor:product "
            + "(e.g. 2341:0043). With --watch, hot-plug events are printed as they happen until Ctrl-C."
    )

    @Flag(help: "Keep running and print add and remove events as they happen.")
    var watch = false

    @Flag(help: "Print JSON (one array; with --watch, one object per line).")
    var json = false

    @Flag(help: "With --watch: take events from the kernel instead of udevd (for machines without udevd).")
    var kernel = false

    func run() throws {
        let devices = try DeviceDiscovery.devices()
        if json && !watch {
            print(try Self.json(devices.map(DeviceRecord.init)))
        } else if json {
            for d in devices { print(try Self.json(EventRecord(event: "present", device: DeviceRecord(d)))) }
        } else {
            print(Self.table(devices))
        }
        guard watch else { return }
        let monitor = try DeviceMonitor(source: kernel ? .kernel : .udev)
        if !json { print("watching for serial devices (Ctrl-C to stop)…") }
        fflush(nil)
        while true {
            var p = pollfd(fd: monitor.fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, -1) > 0 else { continue }
            while let event = monitor.next() {
                if json {
                    print(try Self.json(EventRecord(event: event.action.rawValue, device: DeviceRecord(event.device))))
                } else {
                    print("\(event.action.rawValue.padding(toLength: 7, withPad: " ", startingAt: 0)) \(event.device.summary)"
                        + (event.device.byID.map { "  \($0)" } ?? ""))
                }
                fflush(nil)
            }
        }
    }

    /// The device list as an aligned table.
    static func table(_ devices: [SerialDevice]) -> String {
        if devices.isEmpty {
            return "no serial devices found (plug a board in, check `dmesg`, or watch with `neuraxon devices --watch`)"
        }
        let header = ["PATH", "VID:PID", "SERIAL", "PRODUCT", "BOARD", "BY-ID"]
        let rows = devices.map { d in
            [d.path, d.usbID ?? "-", d.serialNumber ?? "-", d.product ?? "-", d.knownBoard?.name ?? "-", d.byID ?? "-"]
        }
        let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.enumerated().map { i, cell in
                i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    static func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// One device as printed in JSON (ids as hex strings, the known board by name).
    struct DeviceRecord: Encodable {
        var path: String
        var byID: String?
        var byPath: String?
        var vendorID: String?
        var productID: String?
        var serialNumber: String?
        var manufacturer: String?
        var product: String?
        var driver: String?
        var knownBoard: String?
        var resetsOnOpen: Bool?

        init(_ d: SerialDevice) {
            path = d.path
            byID = d.byID
            byPath = d.byPath
            vendorID = d.usbID.map { String($0.prefix(4)) }
            productID = d.usbID.map { String($0.suffix(4)) }
            serialNumber = d.serialNumber
            manufacturer = d.manufacturer
            product = d.product
            driver = d.driver
            knownBoard = d.knownBoard?.name
            resetsOnOpen = d.knownBoard?.resetsOnOpen
        }
    }

    struct EventRecord: Encodable {
        var event: String
        var device: DeviceRecord
    }
}
