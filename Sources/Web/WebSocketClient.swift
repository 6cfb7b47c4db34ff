// The client side: TCP connect, the opening handshake (request head out, the 101 read with a
// small response-head parser and checked by the codec), then the same WebSocketConnection as
// the server's, in the client role (masked frames).
import IOCore
import WebSocket

/// Why a client connection did not open.
public enum WebSocketConnectError: Error, CustomStringConvertible {
    /// The TCP connect failed (or the address did not parse).
    case io(IOError)
    /// The server answered with another status than 101 (401, 403, 404, ...).
    case rejected(status: Int, headers: [(name: String, value: String)])
    /// The 101 did not pass the RFC 6455 checks, or the response head was malformed.
    case handshake(String)
    /// No complete 101 within the configuration's handshake timeout.
    case timeout
    /// The connection closed before the handshake completed.
    case closed(IOError?)

    public var description: String {
        switch self {
        case .io(let e): return "connect: \(e)"
        case .rejected(let status, _): return "rejected with status \(status)"
        case .handshake(let reason): return "handshake: \(reason)"
        case .timeout: return "handshake timeout"
        case .closed(let e): return "closed during the handshake" + (e.map { ": \($0)" } ?? "")
        }
    }
}

/// The client's handshake in progress (one per connecting connection, dropped once open).
final class WebSocketClientPending {
    let handshake: WebSocketClientHandshake
    var parser = WebSocketResponseHeadParser()
    let completion: (Result<WebSocketConnection, WebSocketConnectError>) -> Void
    var timedOut = false

    init(handshake: WebSocketClientHandshake, completion: @escaping (Result<WebSocketConnection, WebSocketConnectError>) -> Void) {
        self.handshake = handshake
        self.completion = completion
    }
}

/// Opens client WebSocket connections on one loop. Loop-bound (non-Sendable): create and use it
/// on the loop thread. Its connections share one WebSocketContext (configuration and the
/// loop's DeflateContext) and one sweep timer, like a server's.
public final class WebSocketClient {
    public let loop: EventLoop
    public let context: WebSocketContext
    let hub: WebSocketHub

    /// `sweepInterval`: period of the one timer applying every connection's deadlines
    /// (handshake, ping, pong, close).
    public init(loop: EventLoop, context: WebSocketContext = WebSocketContext(), sweepInterval: Duration = .seconds(1)) {
        self.loop = loop
        self.context = context
        hub = WebSocketHub(loop: loop, context: context, sweepInterval: sweepInterval)
    }

    public var counters: WebSocketCounters { hub.counters }
    /// Open (or handshaking) connections.
    public var connections: [WebSocketConnection] { hub.connections }
    /// Messages shorter than this are sent uncompressed even with deflate negotiated.
    public var compressionThreshold: Int {
        get { hub.compressionThreshold }
        set { hub.compressionThreshold = newValue }
    }

    /// Connects to `host` (numeric IPv4/IPv6) and `port`, optionally from `sourceAddress`,
    /// and performs the opening handshake for `path` ("/ws?userId=7"). `headers` go into the
    /// request verbatim (Authorization, Origin, ...). `completion` runs once on the loop
    /// thread, never inside this call: `.success` with an open connection (its handler got
    /// `webSocketDidOpen` just before), or the reason it failed. Frames the server sent right
    /// after its 101 are delivered after `completion`.
    public func connect(host: String, port: Int, path: String = "/", sourceAddress: String? = nil,
                        headers: [(name: String, value: String)] = [], subprotocols: [String] = [],
                        offerDeflate: Bool = false, handler: any WebSocketHandler,
                        completion: @escaping (Result<WebSocketConnection, WebSocketConnectError>) -> Void) {
        let hostHeader = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        let handshake = WebSocketClientHandshake(host: hostHeader, path: path, subprotocols: subprotocols,
                                                 offerDeflate: offerDeflate, extraHeaders: headers)
        let hub = self.hub
        let started = loop.nowMilliseconds
        do {
            try TCPConnection.connect(on: loop, host: host, port: port, sourceAddress: sourceAddress) { result in
                switch result {
                case .failure(let error):
                    completion(.failure(.io(error)))
                case .success(let tcp):
                    let state = WebSocketConnectionState(role: .client, handshakeStartedAt: started, configuration: hub.configuration)
                    let connection = WebSocketConnection(tcp: tcp, hub: hub, state: state, handler: handler)
                    connection.pending = WebSocketClientPending(handshake: handshake, completion: completion)
                    hub.add(connection)
                    tcp.start(delegate: connection)
                    tcp.send(handshake.requestHead)
                }
            }
        } catch {
            loop.schedule(after: .zero) { completion(.failure(.io(error))) }
        }
    }

    /// Closes every connection with 1000 (or `code`); handshaking ones are dropped.
    public func closeAll(code: WebSocketCloseCode = .normal) {
        hub.forEachConnection { $0.close(code: code) }
    }
}

extension WebSocketConnection {
    /// Client role: reads the server's answer to the upgrade request.
    func clientHandshakeRead(_ bytes: UnsafeRawBufferPointer) {
        guard let pending else { return }
        switch pending.parser.feed(bytes) {
        case .needMore:
            return
        case .invalid(let reason):
            failHandshake(pending, .handshake(reason))
        case .complete(let status, let headers, let consumed):
            if status != 101 {
                failHandshake(pending, .rejected(status: status, headers: headers))
                return
            }
            switch pending.handshake.validate(status: status, headers: headers) {
            case .failure(let error):
                failHandshake(pending, .handshake(error.reason))
            case .success(let accept):
                self.pending = nil
                state.handshakeCompleted(deflate: accept.deflate, now: hub.loop.nowMilliseconds, configuration: hub.configuration)
                handler?.webSocketDidOpen(self)
                pending.completion(.success(self))
                if consumed < bytes.count, tcp.isOpen {
                    // Same buffer contract as `connection(_:didRead:)`.
                    feed(UnsafeMutableRawBufferPointer(mutating: UnsafeRawBufferPointer(rebasing: bytes[consumed...])))
                }
            }
        }
    }

    private func failHandshake(_ pending: WebSocketClientPending, _ error: WebSocketConnectError) {
        self.pending = nil
        handler = nil
        tcp.close()
        pending.completion(.failure(error))
    }
}
