// One HTTP connection: feeds the parser from the loop's shared read buffer, routes each head,
// collects the body, runs one handler at a time (pipelined requests wait, in order), writes
// responses with backpressure, and keeps one deadline that the server's sweep timer applies.
import HTTP1
import IOCore

private let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

/// The delegate of one accepted connection. Loop thread only; every method runs from a
/// TCPConnection callback, the sweep timer, or a responder on the same loop.
///
/// Ordering: a request's handler runs only when every earlier response was written (or
/// queued); while it is pending, input is kept in `inbound` and parsed after its response,
/// so responses leave in request order with at most one request in flight.
final class HTTPServerConnection: TCPConnectionDelegate {
    /// Which deadline `deadline` holds; the sweep acts on it.
    enum Deadline: UInt8 { case none, idle, head, body, write, linger }

    struct Flags: OptionSet {
        let rawValue: UInt8
        /// A handler has the request; parsing waits for its response.
        static let awaitingResponse = Flags(rawValue: 1 << 0)
        /// A send reported backpressure; parsing and reading wait until it drains.
        static let awaitingWritable = Flags(rawValue: 1 << 1)
        /// FIN requested after the last response; input is discarded until EOF or the deadline.
        static let lingering = Flags(rawValue: 1 << 2)
        /// The next response says `Connection: close` (graceful shutdown, peer EOF).
        static let closeAfterResponse = Flags(rawValue: 1 << 3)
        /// Inside `process`: a response given synchronously must not re-enter it.
        static let processing = Flags(rawValue: 1 << 4)
        static let readPaused = Flags(rawValue: 1 << 5)
        static let peerEOF = Flags(rawValue: 1 << 6)
        /// Closed, or handed to an upgrade owner: nothing more happens here.
        static let finished = Flags(rawValue: 1 << 7)
    }

    let server: HTTPServer
    /// Set once per use: the server recycles connection objects (see `HTTPServer.accept`).
    private(set) var connection: TCPConnection
    var parser: HTTPRequestParser
    /// Input that arrived while parsing waits; no storage otherwise.
    var inbound: [UInt8] = []
    /// The request whose head arrived and whose body is arriving; nil between requests.
    var current: HTTPResponder?
    /// Position in the server's connection list (-1 once removed).
    var listIndex = -1
    var deadline: UInt64 = 0
    var deadlineKind: Deadline = .none
    var flags: Flags = []
    /// Number of the latest request; a responder answers only for its own.
    var serial: UInt32 = 0

    init(server: HTTPServer, connection: TCPConnection) {
        self.server = server
        self.connection = connection
        self.parser = HTTPRequestParser(limits: server.configuration.parserLimits)
    }

    /// Prepares a retired object for a new accepted connection, as `init` would. Called by the
    /// server only when it holds the sole reference (no responder or closure can still see
    /// the previous connection). `serial` keeps counting, so even a stale responder could
    /// not answer for a request of the new connection.
    func reuse(for connection: TCPConnection) {
        self.connection = connection
        parser = HTTPRequestParser(limits: server.configuration.parserLimits)
        inbound = []
        current = nil
        listIndex = -1
        deadline = 0
        deadlineKind = .none
        flags = []
    }

    /// Starts reading; the header timeout runs from the accept.
    func start() {
        setDeadline(.head, server.headerTimeoutMs)
        connection.start(delegate: self)
    }

    var canParse: Bool {
        flags.isDisjoint(with: [.awaitingResponse, .awaitingWritable, .lingering, .finished])
    }

    func canRespond(serial: UInt32) -> Bool {
        serial == self.serial && flags.contains(.awaitingResponse) && flags.isDisjoint(with: [.lingering, .finished])
    }

    func log(_ line: String) { server.log(line) }

    // MARK: TCPConnectionDelegate

    func connection(_ connection: TCPConnection, didRead bytes: UnsafeRawBufferPointer) {
        if !flags.isDisjoint(with: [.lingering, .finished]) { return }
        if !canParse || !inbound.isEmpty {
            keep(bytes)
            return
        }
        let used = process(bytes)
        if used < bytes.count, flags.isDisjoint(with: [.lingering, .finished]) {
            keep(UnsafeRawBufferPointer(rebasing: bytes[used...]))
        }
        updateDeadline()
    }

    func connectionDidReadEOF(_ connection: TCPConnection) {
        flags.insert(.peerEOF)
        if flags.contains(.lingering) {
            connection.close()
        } else if flags.contains(.awaitingResponse) || !inbound.isEmpty {
            flags.insert(.closeAfterResponse)  // answer what was asked, then close
        } else if connection.queuedBytes > 0 {
            beginLingeringClose()  // FIN after the queued response, then close
        } else {
            connection.close()
        }
    }

    func connectionDidBecomeWritable(_ connection: TCPConnection) {
        guard flags.contains(.awaitingWritable) else { return }
        flags.remove(.awaitingWritable)
        if flags.contains(.lingering) { return }
        resume()
    }

    func connectionDidClose(_ connection: TCPConnection, error: IOError?) {
        flags.insert(.finished)
        current = nil  // breaks the responder -> connection cycle
        inbound = []
        server.remove(self)
    }

    // MARK: parsing

    /// Copies input that cannot be parsed now; pauses reading past the configured amount.
    private func keep(_ bytes: UnsafeRawBufferPointer) {
        inbound.append(contentsOf: bytes)
        if inbound.count > server.configuration.maxBufferedInput, !flags.contains(.readPaused) {
            flags.insert(.readPaused)
            connection.pauseReading()
        }
    }

    /// Parses `input` until it is used up or parsing must wait; returns the bytes consumed.
    /// Body chunks are copied before returning: `input` is the shared read buffer or a
    /// temporary copy of `inbound`.
    private func process(_ input: UnsafeRawBufferPointer) -> Int {
        flags.insert(.processing)
        defer { flags.remove(.processing) }
        var rest = input
        while canParse {
            let step = parser.feed(rest)
            rest = UnsafeRawBufferPointer(rebasing: rest[step.consumed...])
            switch step.event {
            case .needMore:
                return input.count - rest.count
            case .head(let head):
                receivedHead(head)
            case .body(let chunk):
                current?.body.append(contentsOf: chunk)
                setDeadline(.body, server.bodyTimeoutMs)  // inactivity: each chunk extends it
            case .end:
                if receivedEnd(buffered: rest) { return input.count }
            case .paused:
                return input.count  // no request follows on this connection: drop the rest
            case .error(let error):
                fail(error)
                return input.count
            }
        }
        return input.count - rest.count
    }

    private func receivedHead(_ head: HTTPRequestHead) {
        serial &+= 1
        let responder = HTTPResponder(connection: self, head: head, serial: serial)
        current = responder
        if head.isUpgrade {
            if head.framing != .none { fail(HTTPParseError(.badRequest, "upgrade request with a body")) }
            return
        }
        let bodyLimit = route(responder, head)
        guard case .handler = responder.target else {
            // Answered by the server: after the message when it has no body, so the
            // connection stays usable; now and then close when a body would follow.
            if head.framing != .none {
                flags.insert(.closeAfterResponse)
                current = nil
                dispatch(responder)
            }
            return
        }
        if head.expectsContinue {
            switch head.framing {
            case .none: break
            case .contentLength(let length): if length <= UInt64(bodyLimit) { write(continueResponse) }
            case .chunked: write(continueResponse)
            }
        }
    }

    /// Routes the head into `responder.target`, sets the parser's body limit for a found
    /// route and returns it (0 otherwise). HEAD falls back to the GET route, without a body.
    private func route(_ responder: HTTPResponder, _ head: HTTPRequestHead) -> Int {
        var match = server.router.match(method: head.method, path: head.path)
        if head.method == .HEAD {
            responder.context.omitBody = true
            if case .found = match {} else if case .found = server.router.match(method: .GET, path: head.path) {
                match = server.router.match(method: .GET, path: head.path)
            }
        }
        switch match {
        case .found(let handler, let parameters, let bodyLimit):
            responder.target = .handler(handler, parameters)
            parser.setBodyLimit(bodyLimit)
            return bodyLimit
        case .notFound:
            responder.target = .error(HTTPError(.notFound, "not found"), [:])
        case .methodNotAllowed(var allowed):
            if allowed.contains(.GET), !allowed.contains(.HEAD) { allowed.append(.HEAD) }
            let allow = RouteMatch<HTTPHandler>.allowHeader(allowed)
            responder.target = .error(HTTPError(.methodNotAllowed, "method not allowed"), ["Allow": allow])
        case .invalidPath:
            responder.target = .error(HTTPError(.badRequest, "invalid path"), [:])
        }
        return 0
    }

    /// The message ended. Returns true when the connection was handed to an upgrade owner
    /// (`buffered`, the input after the head, went with it).
    private func receivedEnd(buffered: UnsafeRawBufferPointer) -> Bool {
        guard let responder = current else { return false }
        current = nil
        if case .upgrade = responder.target, let head = responder.head {
            switch server.onUpgrade?(head, connection, Array(buffered)) ?? .declined {
            case .accepted:
                detach()
                return true
            case .rejected(let status, let headers, let body):
                flags.insert(.closeAfterResponse)
                flags.insert(.awaitingResponse)
                responder.dispatched = true
                responder.respond(status, headers: headers, body: body)
                return false
            case .declined:
                parser.resumeAfterDeclinedUpgrade()
                _ = route(responder, head)
            }
        }
        dispatch(responder)
        return false
    }

    /// Gives a complete request to its handler, or answers it when the server decided.
    private func dispatch(_ responder: HTTPResponder) {
        flags.insert(.awaitingResponse)
        deadlineKind = .none
        responder.dispatched = true
        switch responder.target {
        case .handler(let handler, let parameters):
            guard let head = responder.head else { return }
            let request = HTTPRequest(head: head, parameters: parameters, body: responder.body, connection: connection)
            // The request owns head and body now; the responder keeps neither, nor the handler.
            responder.head = nil
            responder.body = []
            responder.target = .upgrade
            handler(request, responder)
        case .error(let error, let headers):
            server.configuration.onUnroutedError?(responder.requestMethod, responder.requestPath, error)
            responder.respond(error: error, headers: headers)
        case .upgrade:
            responder.respond(error: HTTPError(.internalServerError, "internal error"))
        }
    }

    /// Continues after a response went out or the socket drained: parses what was kept,
    /// then reads again.
    private func resume() {
        guard canParse else { return }
        if !inbound.isEmpty {
            let data = inbound
            inbound = []
            let used = data.withUnsafeBytes { process($0) }
            if used < data.count, flags.isDisjoint(with: [.lingering, .finished]) {
                inbound = used == 0 ? data : Array(data[used...])
            }
        }
        if flags.contains(.readPaused), inbound.count <= server.configuration.maxBufferedInput,
           flags.isDisjoint(with: [.awaitingWritable, .lingering, .finished]) {
            flags.remove(.readPaused)
            connection.resumeReading()
        }
        updateDeadline()
    }

    // MARK: responses

    /// Writes the response of request `context.serial` if it is still the one awaited.
    func sendResponse(_ context: HTTPResponder.Context, _ status: HTTPStatus, _ headers: HTTPHeaders, _ body: [UInt8]) {
        guard canRespond(serial: context.serial) else { return }
        flags.remove(.awaitingResponse)
        let keepAlive = context.keepAlive && !flags.contains(.closeAfterResponse)
        var head = HTTPResponseHead(status: status, headers: headers)
        if let name = server.configuration.serverName { head.headers.replace(name: "Server", value: name) }
        write(HTTPResponse.encode(head, body: body, keepAlive: keepAlive, requestVersion: context.version,
                                  date: server.date, omitBody: context.omitBody))
        if !keepAlive {
            beginLingeringClose()
        } else if !flags.contains(.processing) {
            resume()
        }
    }

    private func write(_ bytes: [UInt8]) {
        switch connection.send(bytes) {
        case .written, .queued, .closed:
            break
        case .backpressure:
            flags.insert(.awaitingWritable)
            setDeadline(.write, server.sendTimeoutMs)
            if !flags.contains(.readPaused) {
                flags.insert(.readPaused)
                connection.pauseReading()
            }
        case .refused:
            connection.close()
        }
    }

    /// Answers a parse error (or a timeout) with its status and closes.
    func fail(_ error: HTTPParseError) {
        if let observe = server.configuration.onUnroutedError {
            observe(current?.requestMethod ?? HTTPMethod("-"), current?.requestPath ?? "-",
                    HTTPError(error.status, code: error.status.errorCode, message: error.reason))
        }
        current = nil
        write(HTTPResponse.error(error, date: server.date))
        beginLingeringClose()
    }

    /// After the last response: FIN once the queue is written, then read and discard until
    /// the peer's EOF (unread input would make close send RST and could destroy the response
    /// at the peer), bounded by the linger deadline.
    func beginLingeringClose() {
        flags.insert(.lingering)
        current = nil
        inbound = []
        if flags.contains(.peerEOF), connection.queuedBytes == 0 {
            connection.close()
            return
        }
        connection.shutdown()
        if flags.contains(.readPaused) {
            flags.remove(.readPaused)
            connection.resumeReading()
        }
        setDeadline(.linger, server.lingerTimeoutMs)
    }

    /// Hands the connection to the upgrade owner, which already set its delegate.
    private func detach() {
        flags.insert(.finished)
        current = nil
        inbound = []
        deadlineKind = .none
        if flags.contains(.readPaused) {
            flags.remove(.readPaused)
            connection.resumeReading()
        }
        server.remove(self)
    }

    /// Graceful shutdown: close now when idle, else after the response in progress.
    func closeWhenIdle() {
        if !flags.isDisjoint(with: [.lingering, .finished]) { return }
        if flags.contains(.awaitingResponse) || current != nil || parser.phase == .receivingHead {
            flags.insert(.closeAfterResponse)
        } else if connection.queuedBytes == 0 {
            connection.close()
        } else {
            beginLingeringClose()
        }
    }
}
