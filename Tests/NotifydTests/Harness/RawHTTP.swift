// A blocking raw-socket HTTP/1.1 client for the tests: one request per connection
// (`Connection: close`), the whole answer read to EOF. Also opens raw WebSocket handshakes
// (to see the exact refusal status, or to hold a client that never reads).
import Foundation
import Testing

struct HTTPAnswer {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }
    var text: String { String(decoding: body, as: UTF8.self) }
    /// The body as a JSON object (nil when it is not one).
    var json: [String: Any]? { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] }
}

struct SocketError: Error, CustomStringConvertible {
    let what: String
    var description: String { "\(what): \(String(cString: strerror(errno)))" }
}

/// A connected blocking TCP socket to 127.0.0.1:port with 10 s send/receive timeouts.
final class RawSocket {
    let fd: Int32

    init(port: Int, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError(what: "socket") }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw SocketError(what: "connect")
        }
    }

    deinit { close(fd) }

    func write(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw SocketError(what: "send") }
            sent += n
        }
    }

    /// Reads what is there (blocking up to the timeout); empty at EOF.
    func readSome(max: Int = 65536) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max)
        let n = recv(fd, &buffer, max, 0)
        if n < 0 { throw SocketError(what: "recv") }
        return Array(buffer[0..<n])
    }

    func readToEOF() throws -> [UInt8] {
        var all: [UInt8] = []
        while true {
            let chunk = try readSome()
            if chunk.isEmpty { return all }
            all += chunk
        }
    }

    /// Reads until the end of an HTTP head; returns the head and whatever followed it.
    func readHead() throws -> (HTTPAnswer, [UInt8]) {
        var all: [UInt8] = []
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        while true {
            if let range = all.firstRange(of: end) {
                let head = try parseHead(Array(all[..<range.lowerBound]))
                return (head, Array(all[range.upperBound...]))
            }
            let chunk = try readSome()
            if chunk.isEmpty { throw SocketError(what: "EOF before the end of the head") }
            all += chunk
        }
    }
}

func parseHead(_ bytes: [UInt8]) throws -> HTTPAnswer {
    let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
    let statusParts = lines[0].split(separator: " ")
    guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw SocketError(what: "bad status line \(lines[0])") }
    var headers: [(String, String)] = []
    for line in lines.dropFirst() where !line.isEmpty {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
    }
    return HTTPAnswer(status: status, headers: headers, body: [])
}

enum HTTP {
    /// Sends one request and returns the complete answer.
    static func request(port: Int, _ method: String, _ path: String, token: String? = nil,
                        headers: [(String, String)] = [], body: [UInt8] = []) throws -> HTTPAnswer {
        let socket = try RawSocket(port: port)
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        if !body.isEmpty || method == "PUT" || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        try socket.write(Array(head.utf8) + body)
        let all = try socket.readToEOF()
        guard let split = all.firstRange(of: Array("\r\n\r\n".utf8)) else { throw SocketError(what: "no HTTP head in answer") }
        var answer = try parseHead(Array(all[..<split.lowerBound]))
        answer.body = Array(all[split.upperBound...])
        return answer
    }

    static func get(port: Int, _ path: String, token: String? = nil) throws -> HTTPAnswer {
        try request(port: port, "GET", path, token: token)
    }

    static func put(port: Int, _ path: String, token: String? = nil) throws -> HTTPAnswer {
        try request(port: port, "PUT", path, token: token)
    }

    /// A WebSocket opening handshake on a raw socket. Returns the answer's head and the socket
    /// (positioned after the head) and the bytes that followed the head.
    static func upgrade(port: Int, path: String, headers: [(String, String)] = [], receiveBuffer: Int32? = nil) throws
        -> (HTTPAnswer, RawSocket, [UInt8]) {
        let socket = try RawSocket(port: port, receiveBuffer: receiveBuffer)
        var head = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        head += "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "\r\n"
        try socket.write(Array(head.utf8))
        let (answer, rest) = try socket.readHead()
        if answer.status != 101 {
            // A refusal carries a Content-Length body and then the server closes.
            var body = rest
            if let length = answer.header("Content-Length").flatMap(Int.init) {
                while body.count < length {
                    let more = try socket.readSome()
                    if more.isEmpty { break }
                    body += more
                }
            }
            var full = answer
            full.body = body
            return (full, socket, [])
        }
        return (answer, socket, rest)
    }
}
