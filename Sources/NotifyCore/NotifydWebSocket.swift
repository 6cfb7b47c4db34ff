// The WebSocket side of notifyd: the Web module's WebSocketServer on the HTTP server's upgrade
// hook for `/ws` and `/`, each accepted connection bridged to a Hub session.
//
// The accept callback runs the pre-upgrade checks (Notifyd.decideUpgrade): a refused request
// gets its 400/401/403/429/503 with `{"error":"<name>"}` and no 101. An accepted one echoes
// the `bearer.<jwt>` subprotocol when the token came that way (browsers drop a connection
// whose 101 selects none of the offered protocols).
import HTTP1
import IOCore
import Web
import WebSocket

/// Bridges one WebSocketConnection and its Session. Loop-confined. The session holds this
/// object as its transport; this object holds the session and the connection (which holds
/// it as its handler) until the connection closes, which breaks both cycles. The references
/// are strong on purpose: a weak one would give every connection a side-table allocation.
final class SessionConnection: WebSocketHandler, SessionTransport {
    private let hub: Hub
    private var connection: WebSocketConnection?
    private var session: Session?

    init(hub: Hub) { self.hub = hub }

    func attach(_ session: Session) { self.session = session }

    func webSocketDidOpen(_ connection: WebSocketConnection) {
        self.connection = connection
        if let session { hub.open(session) }
    }

    func webSocket(_ connection: WebSocketConnection, didReceiveText text: UnsafeRawBufferPointer) {
        if let session { hub.received(text: text, from: session) }
    }

    func webSocket(_ connection: WebSocketConnection, didReceiveBinary data: UnsafeRawBufferPointer) {
        if let session { hub.receivedBinary(from: session) }
    }

    func webSocketDidClose(_ connection: WebSocketConnection, code: WebSocketCloseCode?) {
        if let session { hub.sessionClosed(session) }
        session = nil
        self.connection = nil
    }

    func send(_ frame: PreparedFrame) -> SessionSendResult {
        guard let connection, connection.isOpen else { return .closed }
        switch connection.send(frame) {
        case .sent, .backpressure:
            return .queued
        case .closed, .incompatible:
            // An open connection that refuses a frame was just closed by the outbound limit.
            return connection.localCloseCode == WebSocketConnectionState.slowConsumerCode ? .closedSlowConsumer : .closed
        }
    }

    func close(code: WebSocketCloseCode, reason: String) {
        connection?.close(code: code, reason: reason)
    }
}

extension Notifyd {
    /// The WebSocket limits of `config` in the codec's terms (milliseconds, bytes).
    static func webSocketConfiguration(_ config: NotifydConfig) -> WebSocketConfiguration {
        var c = WebSocketConfiguration()
        c.maxMessageSize = config.maxClientMessageBytes
        c.handshakeTimeout = UInt64(config.handshakeTimeout.milliseconds)
        c.pingInterval = UInt64(config.pingInterval.milliseconds)
        c.pongTimeout = UInt64(config.pongTimeout.milliseconds)
        c.outboundHardLimit = config.outboundLimitBytes
        return c
    }

    func installWebSocket() -> WebSocketServer {
        let context = WebSocketContext(configuration: Self.webSocketConfiguration(config))
        let ws = WebSocketServer(loop: loop, context: context) { [weak self] request in
            guard let self, let decision = self.decideUpgrade(request.head) else {
                let r = AuthRejection(.notFound, "not_found")
                return .reject(r.status, headers: r.headers, body: r.body)
            }
            switch decision {
            case .failure(let r):
                return .reject(r.status, headers: r.headers, body: r.body)
            case .success(let grant):
                let bridge = SessionConnection(hub: self.hub)
                bridge.attach(Session(grant: grant, transport: bridge))
                return .accept(subprotocol: grant.subprotocol, handler: bridge)
            }
        }
        ws.attach(to: server, paths: ["/ws", "/"])
        return ws
    }
}

extension Duration {
    /// Whole milliseconds (at least 1 for a positive duration).
    var milliseconds: Int64 {
        let (s, atto) = components
        let ms = s * 1000 + atto / 1_000_000_000_000_000
        return ms == 0 && atto > 0 ? 1 : ms
    }
}
