// The server side: takes WebSocket upgrades from an HTTPServer's upgrade hook, lets the
// application accept or refuse each one before the 101, and owns the open connections (one
// sweep timer for all their deadlines, counters, graceful shutdown with 1001).
import HTTP1
import IOCore
import WebSocket

/// An upgrade request as the accept callback sees it, before any answer was written.
public struct WebSocketUpgradeRequest {
    public let head: HTTPRequestHead
    /// The subprotocols the client offered (Sec-WebSocket-Protocol), in order.
    public let offeredSubprotocols: [String]
    /// Whether permessage-deflate will be negotiated if accepted.
    public let deflateNegotiated: Bool
    let tcp: TCPConnection

    /// The path, still percent-encoded ("/ws").
    public var path: String { head.path }
    /// The query after `?`, still encoded ("userId=7&access_token=..."); nil when none.
    public var query: String? { head.query }
    public var headers: HTTPHeaders { head.headers }
    /// The peer's address (one syscall per call).
    public var remoteAddress: SocketAddress? { tcp.remoteAddress }
}

/// The accept callback's answer.
public enum WebSocketAcceptDecision {
    /// Upgrade: write the 101 (with `subprotocol`, which must be one the client offered, or
    /// none) and deliver this connection's events to `handler`.
    case accept(subprotocol: String? = nil, handler: any WebSocketHandler)
    /// Do not upgrade: answer this response with `Connection: close` (401, 403, 429, ...).
    case reject(HTTPStatus, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [])
}

/// WebSocket server on one loop. Loop-confined (non-Sendable): create and use it on the loop
/// thread; for several loops create one per loop, each attached to that loop's HTTPServer.
public final class WebSocketServer {
    public let loop: EventLoop
    /// The configuration and this loop's DeflateContext (use `context.deflate` to build
    /// compressed `WebSocketPreparedMessage`s).
    public let context: WebSocketContext
    /// Whether permessage-deflate may be negotiated.
    public let allowDeflate: Bool
    /// Decides each upgrade; runs on the loop thread inside the HTTP read.
    public var accept: (WebSocketUpgradeRequest) -> WebSocketAcceptDecision
    let hub: WebSocketHub
    public private(set) var isShuttingDown = false

    /// `sweepInterval`: period of the one timer that applies every connection's ping, pong and
    /// close deadlines (each fires up to one interval late).
    public init(loop: EventLoop, context: WebSocketContext = WebSocketContext(), allowDeflate: Bool = true,
                sweepInterval: Duration = .seconds(1),
                accept: @escaping (WebSocketUpgradeRequest) -> WebSocketAcceptDecision) {
        self.loop = loop
        self.context = context
        self.allowDeflate = allowDeflate
        self.accept = accept
        hub = WebSocketHub(loop: loop, context: context, sweepInterval: sweepInterval)
    }

    public var configuration: WebSocketConfiguration { context.configuration }
    /// An object of the application that every connection of this server reaches through
    /// `WebSocketConnection.applicationData` (e.g. the session registry), so per-connection
    /// handlers need not store it: memory per idle connection is a headline figure.
    public var applicationData: AnyObject? {
        get { hub.applicationData }
        set { hub.applicationData = newValue }
    }
    public var counters: WebSocketCounters { hub.counters }
    /// The open connections (order is not stable: removal swaps in the last one).
    public var connections: [WebSocketConnection] { hub.connections }
    /// Messages shorter than this are sent uncompressed even with deflate negotiated.
    public var compressionThreshold: Int {
        get { hub.compressionThreshold }
        set { hub.compressionThreshold = newValue }
    }

    /// Installs this server into `http`'s upgrade hook for `paths` (exact paths, "/ws"; empty:
    /// every path). Upgrades to other paths, and non-WebSocket upgrades, go to the hook that
    /// was installed before (or are declined, i.e. served as plain HTTP). The HTTPServer keeps
    /// this server alive through its hook.
    public func attach(to http: HTTPServer, paths: [String] = []) {
        let previous = http.onUpgrade
        let paths = Set(paths)
        http.onUpgrade = { [self] head, tcp, buffered in
            guard head.isWebSocketUpgrade, paths.isEmpty || paths.contains(head.path) else {
                return previous?(head, tcp, buffered) ?? .declined
            }
            return upgrade(head: head, tcp: tcp, buffered: buffered)
        }
    }

    /// Sends a close frame with 1001 to every connection and stops taking upgrades (they get
    /// 503). Each connection ends when its peer answers, or after the close timeout.
    /// `completion` runs on the loop thread once no connection is left.
    public func shutdown(completion: @escaping () -> Void = {}) {
        isShuttingDown = true
        if hub.count == 0 {
            loop.schedule(after: .zero) { completion() }
            return
        }
        let previous = hub.onEmpty
        hub.onEmpty = {
            previous?()
            completion()
        }
        let now = loop.nowMilliseconds
        hub.forEachConnection { connection in
            if connection.state.shutdown(now: now, configuration: hub.configuration) {
                connection.writeClose(.goingAway, reason: "server shutdown")
            } else if connection.state.phase == .closed {
                connection.tcp.close()
            }
        }
    }

    // MARK: upgrade

    /// The upgrade hook body (HTTPServer's contract): validate, ask `accept`, then write the 101
    /// and hand the connection to a WebSocketConnection.
    func upgrade(head: HTTPRequestHead, tcp: TCPConnection, buffered: [UInt8]) -> HTTPUpgradeResult {
        if isShuttingDown { return WebSocketServer.rejection(.unavailable("shutting_down", retryAfter: 1)) }
        let headers = head.headers.fields.map { (name: $0.name, value: $0.value) }
        let validated = WebSocketServerHandshake.respond(
            method: head.method.rawValue, httpVersion: (head.version.major, head.version.minor), headers: headers,
            configuration: WebSocketServerConfiguration(subprotocols: [], allowDeflate: allowDeflate))
        let handshake: WebSocketServerHandshakeAccept
        switch validated {
        case .failure(let rejection):
            return WebSocketServer.httpRejection(rejection)
        case .success(let accepted):
            handshake = accepted
        }
        let request = WebSocketUpgradeRequest(head: head, offeredSubprotocols: handshake.offeredSubprotocols,
                                              deflateNegotiated: handshake.deflate != nil, tcp: tcp)
        switch accept(request) {
        case .reject(let status, let headers, let body):
            return .rejected(status, headers: headers, body: body)
        case .accept(let subprotocol, let handler):
            var response = handshake.responseHead
            if let subprotocol {
                guard handshake.offeredSubprotocols.contains(subprotocol) else {
                    return WebSocketServer.rejection(HTTPError(.internalServerError, "internal error"))
                }
                // Insert the chosen protocol before the blank line ending the 101.
                response.removeLast(2)
                response.append(contentsOf: Array("Sec-WebSocket-Protocol: \(subprotocol)\r\n\r\n".utf8))
            }
            let state = WebSocketConnectionState(role: .server, openedAt: loop.nowMilliseconds,
                                                 deflate: handshake.deflate, configuration: hub.configuration)
            let connection = WebSocketConnection(tcp: tcp, hub: hub, state: state, handler: handler)
            tcp.delegate = connection
            hub.add(connection)
            tcp.send(response)
            handler.webSocketDidOpen(connection)
            if !buffered.isEmpty, connection.isOpen {
                var input = buffered
                input.withUnsafeMutableBytes { connection.feed($0) }
            }
            return .accepted
        }
    }

    /// An upgrade refused with the services' JSON error body and the error's headers.
    static func rejection(_ error: HTTPError) -> HTTPUpgradeResult {
        var headers = error.headers
        headers.replace(name: "Content-Type", value: "application/json")
        return .rejected(error.status, headers: headers, body: error.jsonBody)
    }

    /// The codec's rejection as the HTTP server's: same status, the extra headers it carries
    /// (Allow, Upgrade, Sec-WebSocket-Version), the reason as the JSON error's message.
    static func httpRejection(_ rejection: WebSocketHandshakeRejection) -> HTTPUpgradeResult {
        var headers = HTTPHeaders()
        let text = String(decoding: rejection.responseHead, as: UTF8.self)
        let head = text.split(separator: "\r\n\r\n", maxSplits: 1).first ?? ""
        for line in head.split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[..<colon])
            let lower = name.lowercased()
            if lower == "content-type" || lower == "content-length" || lower == "connection" { continue }
            headers.add(name: name, value: String(line[line.index(after: colon)...].drop { $0 == " " }))
        }
        let status = HTTPStatus(rejection.status)
        headers.add(name: "Content-Type", value: "application/json")
        return .rejected(status, headers: headers, body: ErrorBody.json(code: status.errorCode, message: rejection.reason))
    }
}
