import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A bare TCP client to the view's server for the security tests: it sends exactly the HTTP
/// and WebSocket bytes a test says (any Host, Origin or frame size), as a hostile client would.
final class RawClient {
    private let fd: Int32
    private var pending: [UInt8] = []

    /// Connects to 127.0.0.1:`port`.
    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let ok = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard ok == 0 else { throw RawClientError("cannot connect to port \(port)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Reads until `count` bytes are buffered; false at end of stream or after the timeout.
    private func fill(_ count: Int) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while pending.count < count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n <= 0 { return false }
            pending += buffer[0..<n]
        }
        return true
    }

    /// An HTTP/1.1 GET; returns the status code and the headers and body as text.
    static func get(port: Int, path: String, headers: [String: String] = [:]) throws -> (status: Int, text: String) {
        let client = try RawClient(port: port)
        var request = "GET \(path) HTTP/1.1\r\n"
        var all = ["Host": "127.0.0.1:\(port)", "Connection": "close"]
        for (k, v) in headers { all[k] = v }
        for (k, v) in all.sorted(by: { $0.key < $1.key }) where !v.isEmpty { request += "\(k): \(v)\r\n" }
        request += "\r\n"
        client.send(Array(request.utf8))
        _ = client.fill(Int.max)
        let text = String(decoding: client.pending, as: UTF8.self)
        let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, text)
    }

    /// Starts a WebSocket; returns the HTTP status of the answer (101 when upgraded).
    func upgrade(port: Int, origin: String?, host: String? = nil, path: String = "/ws") -> Int {
        var request = "GET \(path) HTTP/1.1\r\nHost: \(host ?? "127.0.0.1:\(port)")\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        request += "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        if let origin { request += "Origin: \(origin)\r\n" }
        request += "\r\n"
        send(Array(request.utf8))
        // The response head.
        while true {
            if let range = findHeadEnd() {
                let head = String(decoding: pending[..<range], as: UTF8.self)
                pending.removeSubrange(..<(range + 4))
                return Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
            }
            guard fill(pending.count + 1) else { return 0 }
        }
    }

    private func findHeadEnd() -> Int? {
        guard pending.count >= 4 else { return nil }
        for i in 0...(pending.count - 4) where pending[i] == 13 && pending[i + 1] == 10 && pending[i + 2] == 13 && pending[i + 3] == 10 { return i }
        return nil
    }

    /// Sends one masked frame (a client's frames are masked).
    func sendFrame(opcode: UInt8 = 1, _ payload: [UInt8], fin: Bool = true) {
        var frame: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        if payload.count < 126 {
            frame.append(0x80 | UInt8(payload.count))
        } else if payload.count < 65536 {
            frame += [0x80 | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xff)]
        } else {
            frame.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((payload.count >> shift) & 0xff)) }
        }
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        frame += mask
        for (i, b) in payload.enumerated() { frame.append(b ^ mask[i % 4]) }
        send(frame)
    }

    func sendText(_ text: String) { sendFrame(Array(text.utf8)) }

    /// The next frame from the server: its opcode and payload; nil at end of stream or timeout.
    func nextFrame() -> (opcode: UInt8, fin: Bool, payload: [UInt8])? {
        guard fill(2) else { return nil }
        let opcode = pending[0] & 0x0f, fin = pending[0] & 0x80 != 0
        var length = Int(pending[1] & 0x7f)
        var offset = 2
        if length == 126 {
            guard fill(4) else { return nil }
            length = Int(pending[2]) << 8 | Int(pending[3])
            offset = 4
        } else if length == 127 {
            guard fill(10) else { return nil }
            length = (2..<10).reduce(0) { $0 << 8 | Int(pending[$1]) }
            offset = 10
        }
        guard fill(offset + length) else { return nil }
        let payload = Array(pending[offset..<(offset + length)])
        pending.removeSubrange(..<(offset + length))
        return (opcode, fin, payload)
    }

    /// The next whole text message (joining continuation frames); nil when the connection
    /// closed (a close frame) or timed out. `closeCode` holds the close frame's code then.
    private(set) var closeCode: Int?
    func nextText() -> String? {
        var text: [UInt8] = []
        while let frame = nextFrame() {
            switch frame.opcode {
            case 8:
                closeCode = frame.payload.count >= 2 ? Int(frame.payload[0]) << 8 | Int(frame.payload[1]) : 1005
                return nil
            case 9, 10: continue
            default:
                // A message is its first frame and its continuations, up to the one with FIN.
                text += frame.payload
                if frame.fin { return String(decoding: text, as: UTF8.self) }
            }
        }
        return nil
    }

    /// Reads text messages until one satisfies `match`, at most `limit` messages.
    func waitFor(limit: Int = 500, _ match: (String) -> Bool) -> String? {
        for _ in 0..<limit {
            guard let text = nextText() else { return nil }
            if match(text) { return text }
        }
        return nil
    }
}

struct RawClientError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
