// Test helpers: a private database per test, a service on port 0 in-process, a blocking HTTP
// client on a raw socket, and a recording AMQP consumer. No sleeps: every wait is on the
// condition itself with a deadline.
import Foundation
import Testing
import Synchronization
import AMQP
import Events
import HTTP1
import PG
import ServiceKit
import TestSupport
import Tokens

/// Service tests run one at a time: they share one broker, which one of them restarts.
@Suite(.serialized) struct ServicesTests {}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

let testKeys: JWTKeySet = {
    guard let key = try? JWTKey(kid: "test1", secret: Array("services-test-secret-0123456789abcdef".utf8)),
          let set = try? JWTKeySet(current: key) else { preconditionFailure("test key") }
    return set
}()

/// A database of its own for one test, dropped by `drop()`.
struct TestDatabase {
    let name: String
    let url: String

    init() throws {
        name = "t_" + String(EventID.random().prefix(8)).replacingOccurrences(of: "-", with: "")
        let admin = try PGConnection(url: try Servers.postgresURL(database: "postgres"))
        try admin.execute("CREATE DATABASE \(name)")
        url = try Servers.postgresURL(database: name)
    }

    func drop() {
        guard let admin = try? PGConnection(url: (try? Servers.postgresURL(database: "postgres")) ?? "") else { return }
        _ = try? admin.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// Runs one query on a fresh connection (assertions on tables, the outbox).
    func query(_ sql: String, _ params: [PGValue?] = []) throws -> PGResult {
        try PGConnection(url: url).query(sql, params)
    }
}

/// A log file a service writes to (at info), read back by the test. Call `remove()` after
/// the service stopped.
struct LogCapture {
    let path = NSTemporaryDirectory() + "service-log-\(UUID().uuidString).log"
    let fd: Int32

    init() { fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o600) }

    /// For `RunningService(configure:)`.
    func configure(_ config: inout ServiceConfig) {
        config.logFileDescriptor = fd
        config.logLevel = .info
    }

    var lines: [Substring] { ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n") }

    func remove() {
        close(fd)
        unlink(path)
    }
}

/// A service running in-process on 127.0.0.1, port 0, with its own database.
final class RunningService {
    let host: ServiceHost
    let database: TestDatabase
    let queue: String

    init(_ definition: some ServiceDefinition, name: String, amqp: Bool = false,
         configure: (inout ServiceConfig) -> Void = { _ in }) throws {
        database = try TestDatabase()
        queue = "\(database.name).\(name)"
        var config = ServiceConfig(name: name, port: 0, databaseURL: database.url,
                                   amqpURL: amqp ? try Servers.amqpURL() : nil, jwtKeys: testKeys, databaseThreads: 2,
                                   queueName: queue, relayMaxBackoff: .milliseconds(500),
                                   scrypt: ScryptParameters(n: 1 << 12, r: 8, p: 1),
                                   dataDirectory: NSTemporaryDirectory() + database.name, logLevel: .warning)
        configure(&config)
        host = try ServiceHost.start(definition, config: config)
    }

    var port: Int { host.port }

    func stop() {
        host.stop()
        database.drop()
        if host.config.amqpURL != nil { deleteQueue(queue) }
    }

    func request(_ method: String, _ path: String, token: String? = nil, json: String? = nil,
                 headers: [(String, String)] = [], body: [UInt8]? = nil) throws -> Response {
        var all = headers
        if let token { all.append(("Authorization", "Bearer " + token)) }
        var payload = body ?? []
        if let json {
            payload = Array(json.utf8)
            all.append(("Content-Type", "application/json"))
        }
        return try HTTPTestClient.send(port: port, method: method, path: path, headers: all, body: payload)
    }
}

func token(_ userId: Int64, role: String = "user") -> String {
    Authenticator(keys: testKeys).issue(userId: userId, role: role, ttl: 3600)
}

struct Response {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
    var text: String { String(decoding: body, as: UTF8.self) }
    var json: JSONValue { (try? JSONParser.parse(body)) ?? .null }
}

/// One request per connection (`Connection: close`), read to EOF with a 10 s receive timeout.
enum HTTPTestClient {
    static func send(port: Int, method: String, path: String, headers: [(String, String)], body: [UInt8]) throws -> Response {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
        defer { close(fd) }
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { throw TestFailure("connect: errno \(errno)") }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        let out = Array(head.utf8) + body
        var offset = 0
        while offset < out.count {
            let n = out.withUnsafeBytes { Foundation.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { break }
            offset += n
        }
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            received.append(contentsOf: chunk[0..<n])
        }
        guard let end = findHeadEnd(received) else { throw TestFailure("no response head: \(String(decoding: received, as: UTF8.self))") }
        let lines = String(decoding: received[0..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw TestFailure("bad status line \(lines[0])") }
        var fields: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        return Response(status: status, headers: fields, body: Array(received[(end + 4)...]))
    }

    private static func findHeadEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for i in 0...(bytes.count - 4) where bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 {
            return i
        }
        return nil
    }
}

/// Records every event delivered to a test queue bound to `keys` on instaverse.events.
final class EventRecorder: Sendable {
    let queue: String
    private let state: RecorderState

    init(keys: [EventType]) throws {
        queue = "t" + String(EventID.random().prefix(8)) + ".recorder"
        var config = try AMQPConsumerConfig(url: try Servers.amqpURL(), queue: queue, bindingKeys: keys.map(\.routingKey))
        config.reconnectMaxDelay = .milliseconds(500)
        let state = RecorderState()
        self.state = state
        let consumer = try AMQPConsumer(config: config, onState: { change in
            if case .connected = change { state.connected.withLock { $0 = true } }
        }, onBatch: { batch in
            let decoded = batch.compactMap { try? Event.decode($0.body) }
            state.events.withLock { $0.append(contentsOf: decoded) }
            if let last = batch.last { state.consumer.withLock { $0 }?.ack(upTo: last.tag) }
        })
        state.consumer.withLock { $0 = consumer }
        try consumer.start()
    }

    var isConnected: Bool { state.connected.withLock { $0 } }
    var received: [Event] { state.events.withLock { $0 } }

    func stop() {
        state.consumer.withLock { $0 }?.stop()
        deleteQueue(queue)
    }
}

final class RecorderState: Sendable {
    let events = Mutex<[Event]>([])
    let connected = Mutex(false)
    let consumer = Mutex<AMQPConsumer?>(nil)
}

func deleteQueue(_ queue: String) {
    guard let url = try? Servers.amqpURL(), let endpoint = try? AMQPEndpoint(url: url),
          let admin = try? AMQPAdmin(endpoint: endpoint) else { return }
    try? admin.deleteQueue(queue)
    try? admin.deleteQueue(queue + ".dead")
}
