// The HTTP/1.1 server bound to one EventLoop: listeners, the routing table, the connection
// list walked by one sweep timer (every deadline, the cached Date header), graceful shutdown.
//
// Upgrade contract (WebSocket and any other protocol switch):
// - A request whose head asks for an upgrade (`HTTPRequestHead.isUpgrade`) is not given to a
//   route handler. An upgrade request with a body is answered 400 and closed.
// - When its head is complete, `onUpgrade(head, connection, buffered)` runs on the loop
//   thread. `buffered` holds the bytes the client sent after the head (the first frames of
//   the new protocol, possibly empty); later bytes go to the connection's delegate.
// - `.accepted`: the hook has made the connection its own by setting `connection.delegate`
//   (and has written its 101 response). The server forgets the connection at once: no more
//   HTTP parsing, no deadline, not closed by `shutdown`. Reading is left running (resumed if
//   the server had paused it), so the next read goes to the new delegate.
// - `.rejected(status, headers:, body:)`: the server answers that response with
//   `Connection: close` and closes (401/403 from an authentication check, for instance).
// - `.declined`, or no hook: the Upgrade header is ignored (RFC 9110 §7.8 allows it) and the
//   request is served as ordinary HTTP: its route runs, else 404/405; a WebSocket handshake
//   to a path without a route therefore gets 404.
// - A hook that decides later (after async work) returns `.accepted`, keeps the connection
//   with its own delegate, and may refuse afterwards with `HTTPServer.reject(_:status:...)`.
import HTTP1
import IOCore
#if canImport(Glibc)
import Glibc
#endif

/// What the upgrade hook decided; see the contract at the top of HTTPServer.swift.
public enum HTTPUpgradeResult {
    case accepted
    case rejected(HTTPStatus, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [])
    case declined
}

/// An HTTP/1.1 server on one EventLoop. Loop-confined (non-Sendable): create and use it on
/// the loop's thread. For several loops, create one server per loop (same port with
/// `reusePort: true`), each with its own router built from the same route list.
public final class HTTPServer {
    public let loop: EventLoop
    public let configuration: Configuration
    /// The routes. Change them before `listen` (changes apply to the next request).
    public var router: Router<HTTPHandler>
    /// Called for upgrade requests; see the contract at the top of HTTPServer.swift.
    public var onUpgrade: ((HTTPRequestHead, TCPConnection, _ buffered: [UInt8]) -> HTTPUpgradeResult)?

    // The listeners' accept closures and the sweep timer hold the server strongly: it lives
    // while it listens or has connections, even if its creator drops it.
    private var listeners: [TCPListener] = []
    /// Every HTTP connection (upgraded ones are removed); each knows its index (O(1) removal).
    private(set) var connections: [HTTPServerConnection] = []
    private var sweepTimer: LoopTimer?
    /// IMF-fixdate of the current second, refreshed by the sweep timer.
    private(set) var date: String
    private var dateSecond: Int
    private var shutdownCompletions: [() -> Void] = []
    public private(set) var isShuttingDown = false

    /// Deadlines in loop milliseconds, converted once.
    let timeouts: HTTPConnectionTimeouts

    public init(loop: EventLoop, configuration: Configuration = Configuration()) {
        self.loop = loop
        self.configuration = configuration
        self.router = Router(defaultBodyLimit: configuration.parserLimits.defaultMaxBodyBytes)
        dateSecond = time(nil)
        date = HTTPDate.format(secondsSince1970: Int64(dateSecond))
        timeouts = HTTPConnectionTimeouts(header: configuration.headerTimeout.loopMilliseconds,
                                          body: configuration.bodyTimeout.loopMilliseconds,
                                          idle: configuration.idleTimeout.loopMilliseconds,
                                          send: configuration.sendTimeout.loopMilliseconds,
                                          linger: configuration.lingerTimeout.loopMilliseconds)
    }

    /// Adds a route (see `Router.add`): `:name` segments become `request.parameters`.
    /// `bodyLimit` defaults to `configuration.parserLimits.defaultMaxBodyBytes`; a larger body
    /// is answered 413 and the connection closed.
    public func route(_ method: HTTPMethod, _ pattern: String, bodyLimit: Int? = nil, _ handler: @escaping HTTPHandler) {
        router.add(method, pattern, bodyLimit: bodyLimit, handler)
    }

    /// Listens on a numeric address ("127.0.0.1", "::", ...); port 0 picks a free port.
    /// Returns the bound port. Several listeners may feed one server.
    @discardableResult
    public func listen(host: String, port: Int, reusePort: Bool = false) throws(IOError) -> Int {
        precondition(!isShuttingDown, "HTTPServer.listen after shutdown")
        let options = TCPListener.Options(backlog: configuration.backlog, reusePort: reusePort,
                                          connection: configuration.connectionOptions)
        let listener = try TCPListener(loop: loop, host: host, port: port, options: options) { connection in
            self.accept(connection)
        }
        listeners.append(listener)
        if sweepTimer == nil {
            sweepTimer = loop.schedule(after: configuration.sweepInterval, repeating: configuration.sweepInterval) {
                self.sweep()
            }
        }
        return listener.localPort
    }

    /// The ports of the open listeners.
    public var listeningPorts: [Int] { listeners.filter(\.isOpen).map(\.localPort) }

    /// HTTP connections currently open (upgraded ones are not counted).
    public var connectionCount: Int { connections.count }

    /// Stops accepting; open connections carry on. Idempotent.
    public func close() {
        for listener in listeners { listener.close() }
        listeners.removeAll()
        retired.removeAll()  // they hold the server: no cycle once it stops accepting
    }

    /// Stops accepting, then ends every connection and calls `completion` on the loop thread
    /// once none is left. Graceful: idle connections close now, a request in progress (head
    /// or body arriving, or waiting for its handler) finishes and is answered with
    /// `Connection: close`, within the usual deadlines. Not graceful: every connection
    /// closes now (pending responders become cancelled). The sweep timer stops at the end.
    public func shutdown(graceful: Bool = true, completion: @escaping () -> Void = {}) {
        close()
        shutdownCompletions.append(completion)
        isShuttingDown = true
        for connection in connections {
            if graceful { connection.closeWhenIdle() } else { connection.connection.close() }
        }
        if connections.isEmpty {
            // Not from inside this call: the caller may still be setting things up.
            loop.schedule(after: .zero) { [self] in finishShutdownIfDone() }
        }
    }

    /// Writes a complete response with `Connection: close` to a connection the server no
    /// longer owns (an upgrade hook that accepted, then refused after an async check), and
    /// half-closes it. The caller keeps owning it: it closes it on EOF or after its timeout.
    public static func reject(_ connection: TCPConnection, status: HTTPStatus, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        let date = HTTPDate.format(secondsSince1970: Int64(time(nil)))
        let bytes = HTTPResponse.encode(HTTPResponseHead(status: status, headers: headers), body: body,
                                        keepAlive: false, date: date)
        if connection.send(bytes) == .refused { connection.close() } else { connection.shutdown() }
    }

    // MARK: connections

    private func accept(_ tcp: TCPConnection) {
        if isShuttingDown {
            tcp.close()
            return
        }
        let connection = recycledConnection(for: tcp) ?? HTTPServerConnection(server: self, connection: tcp)
        connection.listIndex = connections.count
        connections.append(connection)
        connection.start()
    }

    /// Called once per connection, when it closed or was handed to an upgrade owner.
    func remove(_ connection: HTTPServerConnection) {
        let index = connection.listIndex
        guard index >= 0, index < connections.count, connections[index] === connection else { return }
        let last = connections.removeLast()
        if index < connections.count {
            connections[index] = last
            last.listIndex = index
        }
        connection.listIndex = -1
        if retired.count < HTTPServer.maxRetired, !listeners.isEmpty { retired.append(connection) }
        if isShuttingDown, connections.isEmpty { finishShutdownIfDone() }
    }

    /// Connection objects whose connection closed or was upgraded, kept for the next accepts.
    ///
    /// Why: an upgraded connection's HTTP object dies right after the WebSocket object is
    /// born. Freed, its chunk is split by the next (smaller) WebSocket allocations, and the
    /// remainders, too small for anything allocated per connection, stay as holes between
    /// long-lived objects: measured, 112 bytes per idle WebSocket connection. Recycled, the
    /// objects never go back to malloc, so long-lived objects pack together.
    private var retired: [HTTPServerConnection] = []
    static let maxRetired = 1024

    /// A retired object that nothing else references any more, prepared for `tcp`; nil when
    /// there is none (objects still referenced elsewhere are dropped, not reused).
    private func recycledConnection(for tcp: TCPConnection) -> HTTPServerConnection? {
        while var candidate = retired.popLast() {
            if isKnownUniquelyReferenced(&candidate) {
                candidate.reuse(for: tcp)
                return candidate
            }
        }
        return nil
    }

    private func finishShutdownIfDone() {
        guard isShuttingDown, connections.isEmpty, !shutdownCompletions.isEmpty else { return }
        sweepTimer?.cancel()
        sweepTimer = nil
        let completions = shutdownCompletions
        shutdownCompletions.removeAll()
        for completion in completions { completion() }
    }

    /// Runs every `sweepInterval`: refreshes the Date header and applies each connection's
    /// deadline. Connections close asynchronously, so the list does not change during the walk.
    private func sweep() {
        let second = time(nil)
        if second != dateSecond {
            dateSecond = second
            date = HTTPDate.format(secondsSince1970: Int64(second))
        }
        let now = loop.nowMilliseconds
        var i = 0
        while i < connections.count {
            connections[i].sweep(now: now)
            i += 1
        }
    }

    func log(_ line: String) { configuration.log?(line) }
}
