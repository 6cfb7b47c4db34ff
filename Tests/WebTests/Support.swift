// Test helpers: an HTTPServer on its own loop thread, and a raw blocking socket client that
// sends exact bytes and reads responses with a receive timeout (no sleeps: every wait is a
// blocking read or a semaphore with a deadline).
import Testing
import Dispatch
import Foundation
import Synchronization
import IOCore
import HTTP1
import Web
#if canImport(Glibc)
import Glibc
#endif

/// The root suite: server tests run one at a time (timing-based tests stay predictable on a
/// shared 2-core machine).
@Suite(.serialized) struct WebTests {}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// An HTTPServer listening on 127.0.0.1 (ephemeral port) on a dedicated loop thread.
final class TestServer: Sendable {
    let thread: EventLoopThread
    let port: Int
    private let bound: LoopBound<HTTPServer>

    /// `setup` runs on the loop thread before `listen` (add routes, the upgrade hook).
    init(configuration: HTTPServer.Configuration = HTTPServer.Configuration(),
         _ setup: @escaping @Sendable (HTTPServer) -> Void = { _ in }) throws {
        let ready = DispatchSemaphore(value: 0)
        let result = Mutex<(Int, LoopBound<HTTPServer>)?>(nil)
        thread = try EventLoopThread(name: "web-test") { loop in
            let server = HTTPServer(loop: loop, configuration: configuration)
            setup(server)
            let port = (try? server.listen(host: "127.0.0.1", port: 0)) ?? -1
            result.withLock { $0 = (port, LoopBound(server, loop: loop)) }
            ready.signal()
        }
        guard ready.wait(timeout: .now() + 10) == .success, let (port, bound) = result.withLock({ $0 }), port > 0 else {
            thread.stop()
            thread.join()
            throw TestFailure("server did not start")
        }
        self.port = port
        self.bound = bound
    }

    /// Runs `body` on the loop thread and waits for its result.
    func onLoop<T: Sendable>(_ body: @escaping @Sendable (HTTPServer) -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        let value = Mutex<T?>(nil)
        let bound = self.bound
        thread.sender.execute { loop in
            let result = body(bound.value(on: loop))
            value.withLock { $0 = result }
            done.signal()
        }
        guard done.wait(timeout: .now() + 10) == .success, let result = value.withLock({ $0 }) else {
            throw TestFailure("loop job did not run")
        }
        return result
    }

    /// Re-checks `condition` on the loop every 2 ms until it holds or 5 s (monotonic) passed:
    /// close callbacks run at the end of the iteration that closed a connection.
    func eventually(_ condition: @escaping @Sendable (HTTPServer) -> Bool) throws -> Bool {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(5) {
            if try onLoop(condition) { return true }
            pause(milliseconds: 2)
        }
        return false
    }

    /// Shuts the server down (not gracefully), stops the loop, and returns whether the loop
    /// closed cleanly: uv_loop_close succeeded and openHandleCount was 0.
    func stop() -> Bool {
        let bound = self.bound
        thread.sender.execute { loop in
            bound.value(on: loop).shutdown(graceful: false) { loop.stop() }
        }
        return thread.join()
    }
}

/// A parsed response as the raw client saw it.
struct RawResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
    var text: String { String(decoding: body, as: UTF8.self) }
}

/// A blocking TCP client on one socket. Reads time out after `timeout` (SO_RCVTIMEO).
final class RawClient {
    let fd: Int32
    private var pending: [UInt8] = []
    private(set) var sawEOF = false

    init(port: Int, timeout: Duration = .seconds(5)) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket: errno \(errno)") }
        let (seconds, attoseconds) = timeout.components
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let code = errno
            Glibc.close(fd)
            throw TestFailure("connect: errno \(code)")
        }
    }

    private var isClosed = false

    deinit { close() }

    /// Sends FIN (shutdown(SHUT_WR)); reading still works.
    func shutdownWrite() { _ = Glibc.shutdown(fd, Int32(SHUT_WR)) }

    /// Closes the socket (what a real client does after the server's FIN). Idempotent.
    func close() {
        if isClosed { return }
        isClosed = true
        Glibc.close(fd)
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// Reads once into `pending`; false on EOF, timeout or error.
    @discardableResult
    private func fill() -> Bool {
        if sawEOF { return false }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n == 0 { sawEOF = true }
        if n <= 0 { return false }
        pending.append(contentsOf: chunk[0..<n])
        return true
    }

    /// Exactly `count` bytes (fewer on EOF or timeout).
    func read(count: Int) -> [UInt8] {
        while pending.count < count, fill() {}
        let n = min(count, pending.count)
        let out = Array(pending[0..<n])
        pending.removeFirst(n)
        return out
    }

    /// The next response (Content-Length framing; `bodyless` for answers to HEAD), or nil
    /// when the connection ended or timed out first.
    func readResponse(bodyless: Bool = false) -> RawResponse? {
        var headEnd: Int?
        while true {
            if let end = findHeadEnd() { headEnd = end; break }
            if !fill() { return nil }
        }
        guard let headEnd else { return nil }
        let headText = String(decoding: pending[0..<headEnd], as: UTF8.self)
        pending.removeFirst(headEnd + 4)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var response = RawResponse(status: status, headers: headers, body: [])
        if !bodyless, status >= 200, status != 204, status != 304, let length = response.header("Content-Length").flatMap({ Int($0) }) {
            response.body = read(count: length)
            if response.body.count != length { return nil }
        }
        return response
    }

    private func findHeadEnd() -> Int? {
        guard pending.count >= 4 else { return nil }
        for i in 0...(pending.count - 4) where pending[i] == 13 && pending[i + 1] == 10 && pending[i + 2] == 13 && pending[i + 3] == 10 {
            return i
        }
        return nil
    }

    /// True when the peer closes (EOF) before `timeout` with no further bytes.
    func waitsForEOF() -> Bool {
        while pending.isEmpty, fill() {}
        return pending.isEmpty && sawEOF
    }
}

/// Sleeps `milliseconds` between two checks of a condition (a poll, not a spin).
func pause(milliseconds: Int) {
    _ = DispatchSemaphore(value: 0).wait(timeout: .now() + .milliseconds(milliseconds))
}

/// Milliseconds since `start` on the monotonic clock.
func elapsedMilliseconds(since start: ContinuousClock.Instant) -> Int64 {
    let d = ContinuousClock.now - start
    return d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
}

/// A connection delegate for the upgrade tests: echoes every byte.
final class EchoDelegate: TCPConnectionDelegate {
    func connection(_ connection: TCPConnection, didRead bytes: UnsafeRawBufferPointer) {
        _ = connection.send(bytes)
    }
}
