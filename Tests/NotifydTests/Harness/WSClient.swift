// WebSocket clients for the black-box tests: the project's own WebSocketClient on an event
// loop thread; each test talks to its connections through Sendable probes whose received
// messages and close code live in a Watched state.
import Foundation
import IOCore
import Synchronization
import Testing
import TestSupport
import Web
import WebSocket

/// A client event loop on its own thread with one WebSocketClient.
final class ClientLoop: Sendable {
    let thread: EventLoopThread
    private let client: ClientSlot

    /// Where the loop thread leaves its WebSocketClient for the test thread's jobs.
    private final class ClientSlot: Sendable {
        let value = Mutex<LoopBound<WebSocketClient>?>(nil)
    }

    init() throws {
        let slot = ClientSlot()
        client = slot
        let ready = Watched(false)
        thread = try EventLoopThread(name: "ws-test-client") { loop in
            slot.value.withLock { $0 = LoopBound(WebSocketClient(loop: loop), loop: loop) }
            ready.update { $0 = true }
        }
        ready.wait(seconds: 10) { $0 }
    }

    func stop() {
        thread.stop()
        _ = thread.join()
    }

    /// Connects and waits for the handshake's outcome (up to 10 s).
    func connect(port: Int, path: String, headers: [(String, String)] = [], subprotocols: [String] = []) throws -> WSProbe {
        let probe = WSProbe(sender: thread.sender)
        let bound = client.value.withLock { $0 }
        let header = headers.map { (name: $0.0, value: $0.1) }
        thread.sender.execute { loop in
            guard let client = bound?.value(on: loop) else { return }
            let handler = ProbeHandler(probe: probe)
            client.connect(host: "127.0.0.1", port: port, path: path, headers: header, subprotocols: subprotocols,
                           handler: handler) { result in
                switch result {
                case .success(let connection):
                    probe.connection.withLock { $0 = LoopBound(connection, loop: loop) }
                    probe.state.update { $0.phase = .open }
                case .failure(let error):
                    var status: Int?
                    if case .rejected(let code, _) = error { status = code }
                    probe.state.update {
                        $0.phase = .failed
                        $0.rejectedStatus = status
                    }
                }
            }
        }
        let settled = probe.state.wait(seconds: 10) { $0.phase != .connecting }
        try #require(settled, "the WebSocket handshake did not finish")
        return probe
    }
}

/// One client connection as the test thread sees it.
final class WSProbe: Sendable {
    enum Phase: Sendable { case connecting, open, failed, closed }
    struct State: Sendable {
        var phase = Phase.connecting
        var rejectedStatus: Int?
        var texts: [String] = []
        var closeCode: UInt16?
        var closedWithoutCode = false
    }

    let state = Watched(State())
    let connection = Mutex<LoopBound<WebSocketConnection>?>(nil)
    let sender: EventLoop.Sender

    init(sender: EventLoop.Sender) { self.sender = sender }

    var isOpen: Bool { state.read { $0.phase == .open } }

    /// The received messages parsed as JSON objects.
    var messages: [[String: Any]] {
        state.read { $0.texts }.compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }

    /// Waits for the `n`-th message (1-based) and returns all so far.
    @discardableResult
    func waitForMessages(_ n: Int, seconds: Double = 15) -> Bool {
        state.wait(seconds: seconds) { $0.texts.count >= n }
    }

    /// Waits until the connection ended; returns the close code (nil: none or not closed).
    func waitForClose(seconds: Double = 15) -> UInt16? {
        state.wait(seconds: seconds) { $0.phase == .closed }
        return state.read { $0.closeCode }
    }

    func send(_ text: String) {
        let bound = connection.withLock { $0 }
        sender.execute { loop in _ = bound?.value(on: loop).send(text: text) }
    }

    func close() {
        let bound = connection.withLock { $0 }
        sender.execute { loop in bound?.value(on: loop).close(code: .normal) }
    }

    /// Notification ids received, in order (backlog entries first, then live ones).
    var receivedIds: [Int64] {
        var ids: [Int64] = []
        for m in messages {
            if m["type"] as? String == "backlog", let list = m["notifications"] as? [[String: Any]] {
                ids += list.compactMap { ($0["id"] as? NSNumber)?.int64Value }
            } else if m["type"] as? String == "notification", let n = m["notification"] as? [String: Any],
                      let id = (n["id"] as? NSNumber)?.int64Value {
                ids.append(id)
            }
        }
        return ids
    }

    var backlog: [String: Any]? { messages.first { $0["type"] as? String == "backlog" } }
}

/// Loop-side handler: records into the probe.
final class ProbeHandler: WebSocketHandler {
    let probe: WSProbe
    init(probe: WSProbe) { self.probe = probe }

    func webSocket(_ connection: WebSocketConnection, didReceiveText text: UnsafeRawBufferPointer) {
        let s = String(decoding: text, as: UTF8.self)
        probe.state.update { $0.texts.append(s) }
    }

    func webSocket(_ connection: WebSocketConnection, didReceiveBinary data: UnsafeRawBufferPointer) {}

    func webSocketDidClose(_ connection: WebSocketConnection, code: WebSocketCloseCode?) {
        probe.state.update {
            $0.phase = .closed
            $0.closeCode = code?.rawValue
            $0.closedWithoutCode = code == nil
        }
    }
}
