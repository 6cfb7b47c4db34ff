// Helpers for the WebSocket binding tests: an HTTPServer + WebSocketServer (+ a WebSocketClient)
// on one loop thread, a recording handler, and raw-socket WebSocket framing for peers that
// misbehave on purpose (never read, never answer pings, fragment by hand).
import Testing
import Dispatch
import Synchronization
import IOCore
import HTTP1
import Web
import WebSocket

/// Everything a test observes from the loop, behind a lock.
final class WSEvents: Sendable {
    struct Snapshot: Sendable {
        var texts: [[UInt8]] = []
        var binaries: [[UInt8]] = []
        var opened = 0
        var closes: [UInt16?] = []
    }
    let state = Mutex(Snapshot())
    var snapshot: Snapshot { state.withLock { $0 } }
}

/// Records events into a WSEvents; echoes when `echo` is set.
final class RecordingHandler: WebSocketHandler {
    let events: WSEvents
    let echo: Bool
    init(_ events: WSEvents, echo: Bool) {
        self.events = events
        self.echo = echo
    }
    func webSocketDidOpen(_ connection: WebSocketConnection) {
        events.state.withLock { $0.opened += 1 }
    }
    func webSocket(_ connection: WebSocketConnection, didReceiveText text: UnsafeRawBufferPointer) {
        events.state.withLock { $0.texts.append(Array(text)) }
        if echo { connection.send(text: text) }
    }
    func webSocket(_ connection: WebSocketConnection, didReceiveBinary data: UnsafeRawBufferPointer) {
        events.state.withLock { $0.binaries.append(Array(data)) }
        if echo { connection.send(binary: data) }
    }
    func webSocketDidClose(_ connection: WebSocketConnection, code: WebSocketCloseCode?) {
        events.state.withLock { $0.closes.append(code?.rawValue) }
    }
}

/// The loop-side objects of a WSTestServer.
final class WSSide {
    let http: HTTPServer
    let ws: WebSocketServer
    let client: WebSocketClient
    init(http: HTTPServer, ws: WebSocketServer, client: WebSocketClient) {
        self.http = http
        self.ws = ws
        self.client = client
    }
}

/// HTTPServer + WebSocketServer (echoing, recording into `serverEvents`) and a WebSocketClient
/// on one loop thread, listening on 127.0.0.1.
final class WSTestServer: Sendable {
    let thread: EventLoopThread
    let port: Int
    let serverEvents = WSEvents()
    private let bound: LoopBound<WSSide>

    /// `accept` decides upgrades (default: accept with the recording echo handler).
    init(configuration: WebSocketConfiguration = WebSocketConfiguration(), sweep: Duration = .milliseconds(50),
         accept: (@Sendable (WebSocketUpgradeRequest, WSEvents) -> WebSocketAcceptDecision)? = nil) throws {
        let ready = DispatchSemaphore(value: 0)
        let result = Mutex<(Int, LoopBound<WSSide>)?>(nil)
        let events = serverEvents
        thread = try EventLoopThread(name: "ws-test") { loop in
            let http = HTTPServer(loop: loop)
            let handler = RecordingHandler(events, echo: true)
            let ws = WebSocketServer(loop: loop, context: WebSocketContext(configuration: configuration), sweepInterval: sweep) { request in
                accept?(request, events) ?? .accept(handler: handler)
            }
            ws.attach(to: http, paths: ["/ws"])
            let client = WebSocketClient(loop: loop, context: WebSocketContext(configuration: configuration), sweepInterval: sweep)
            let port = (try? http.listen(host: "127.0.0.1", port: 0)) ?? -1
            result.withLock { $0 = (port, LoopBound(WSSide(http: http, ws: ws, client: client), loop: loop)) }
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
    func onLoop<T: Sendable>(_ body: @escaping @Sendable (WSSide) -> T) throws -> T {
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

    /// Re-checks `condition` on the loop every 2 ms until it holds or `seconds` (monotonic) passed.
    func eventually(seconds: Int = 5, _ condition: @escaping @Sendable (WSSide) -> Bool) throws -> Bool {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < .seconds(seconds) {
            if try onLoop(condition) { return true }
            pause(milliseconds: 2)
        }
        return false
    }

    /// Stops everything abruptly, then returns whether the loop closed with no handle left.
    func stop() -> Bool {
        let bound = self.bound
        thread.sender.execute { loop in
            let side = bound.value(on: loop)
            for c in side.ws.connections { c.abort() }
            for c in side.client.connections { c.abort() }
            side.http.shutdown(graceful: false) { loop.stop() }
        }
        return thread.join()
    }
}

/// One server frame as a raw peer reads it.
struct RawFrame {
    var fin: Bool
    var rsv1: Bool
    var opcode: UInt8
    var payload: [UInt8]
    var closeCode: UInt16? { opcode == 8 && payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil }
}

extension RawClient {
    /// Sends the opening handshake for `path`; returns the server's response.
    func webSocketHandshake(path: String = "/ws", extra: String = "") -> RawResponse? {
        send("GET \(path) HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\(extra)\r\n")
        return readResponse()
    }

    /// A masked client frame.
    static func frame(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        payload.withUnsafeBytes {
            WebSocketFrameEncoder.append(opcode: opcode, payload: $0, fin: fin, maskKey: 0x1234_5678, to: &out)
        }
        return out
    }

    static func closeFrame(_ code: UInt16, _ reason: String = "") -> [UInt8] {
        frame(.close, [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8))
    }

    /// Reads one unmasked server frame; nil on EOF or timeout.
    func readFrame() -> RawFrame? {
        let head = read(count: 2)
        guard head.count == 2 else { return nil }
        var length = Int(head[1] & 0x7F)
        if length == 126 {
            let b = read(count: 2)
            guard b.count == 2 else { return nil }
            length = Int(b[0]) << 8 | Int(b[1])
        } else if length == 127 {
            let b = read(count: 8)
            guard b.count == 8 else { return nil }
            length = b.reduce(0) { $0 << 8 | Int($1) }
        }
        let payload = read(count: length)
        guard payload.count == length else { return nil }
        return RawFrame(fin: head[0] & 0x80 != 0, rsv1: head[0] & 0x40 != 0, opcode: head[0] & 0x0F, payload: payload)
    }
}
