// The WebSocket side of notifyd bound to the HTTP server's upgrade hook. Until the Web
// module's WebSocketServer exists this binding only runs the pre-upgrade checks: a refused
// request gets its 4xx before any 101, an accepted one is answered 503.
import HTTP1
import Web

extension Notifyd {
    func installWebSocket() {
        server.onUpgrade = { [weak self] head, _, _ in
            guard let self, let decision = self.decideUpgrade(head) else { return .declined }
            switch decision {
            case .failure(let r):
                return .rejected(r.status, headers: r.headers, body: r.body)
            case .success:
                let r = AuthRejection(.serviceUnavailable, "websocket_unavailable")
                return .rejected(r.status, headers: r.headers, body: r.body)
            }
        }
    }
}
