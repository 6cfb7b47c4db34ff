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

/// The session is its connection's handler, and the connection is the session's transport:
/// no bridge object between them (memory per idle session is a headline figure). The
/// connection holds the session (as handler) and the session holds the connection (as
/// transport) until the connection closes: the WebSocket layer then drops its handler and the
/// hub unlinks the session, which breaks the cycle. The hub is the server's
/// `applicationData`, shared by every connection, so the session does not store it.
extension Session: WebSocketHandler {
    public func webSocketDidOpen(_ connection: WebSocketConnection) {
        transport = connection
        (connection.applicationData as? Hub)?.open(self)
    }

    public func webSocket(_ connection: WebSocketConnection, didReceiveText text: UnsafeRawBufferPointer) {
        (connection.applicationData as? Hub)?.received(text: text, from: self)
    }

    public func webSocket(_ connection: WebSocketConnection, didReceiveBinary data: UnsafeRawBufferPointer) {
        (connection.applicationData as? Hub)?.receivedBinary(from: self)
    }

    public func webSocketDidClose(_ connection: WebSocketConnection, code: WebSocketCloseCode?) {
        if let hub = connection.applicationData as? Hub {
            hub.sessionClosed(self)
        } else {
            phase = .closed
        }
        transport = nil
    }
}

extension WebSocketConnection: SessionTransport {
    public func transmit(_ frame: PreparedFrame) -> SessionSendResult {
        guard isOpen else { return .closed }
        switch send(frame) {
        case .sent, .backpressure:
            return .queued
        case .closed, .incompatible:
            // An open connection that refuses a frame was just closed by the outbound limit.
            return localCloseCode == WebSocketConnectionState.slowConsumerCode ? .closedSlowConsumer : .closed
        }
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

    /// Sets the accept callback (the pre-upgrade checks) and hooks `webSockets` into
    /// `server`'s upgrades. Called once, at the end of init.
    func installWebSocket() {
        webSockets.accept = { [weak self] request in
            guard let self, let decision = self.decideUpgrade(request.head) else {
                let r = AuthRejection(.notFound, "not_found")
                return .reject(r.status, headers: r.headers, body: r.body)
            }
            switch decision {
            case .failure(let r):
                return .reject(r.status, headers: r.headers, body: r.body)
            case .success(let grant):
                return .accept(subprotocol: grant.subprotocol, handler: Session(grant: grant))
            }
        }
        webSockets.applicationData = hub
        webSockets.attach(to: server, paths: ["/ws", "/"])
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
