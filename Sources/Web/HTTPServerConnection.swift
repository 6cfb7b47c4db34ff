// One HTTP connection: feeds the parser from the loop's shared read buffer, routes each head,
// collects the body, runs one handler at a time (pipelined requests wait, in order), writes
// responses with backpressure, and keeps one deadline that the server's sweep timer applies.
import HTTP1
import IOCore

private let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

/// The delegate of one accepted connection: a thin driver of `HTTPConnectionState`, which
/// decides keep-alive, pipelining order, 100-continue, upgrade hand-over, lingering close and
/// the deadlines; this class routes, runs handlers and performs the socket actions. Loop
/// thread only; every method runs from a TCPConnection callback, the sweep timer, or a
/// responder on the same loop.
///
/// Ordering: a request's handler runs only when every earlier response was written (or
/// queued); while it is pending, input is kept in `inbound` and parsed after its response,
/// so responses leave in request order with at most one request in flight.
final class HTTPServerConnection: TCPConnectionDelegate {
    let server: HTTPServer
    /// Set once per use: the server recycles connection objects (see `HTTPServer.accept`).
    private(set) var connection: TCPConnection
    var state: HTTPConnectionState
    /// Input that arrived while parsing waits; no storage otherwise.
    var inbound: [UInt8] = []
    /// The request whose head arrived and whose body is arriving; nil between requests.
    var current: HTTPResponder?
    /// Position in the server's connection list (-1 once removed).
    var listIndex = -1

    init(server: HTTPServer, connection: TCPConnection) {
        self.server = server
        self.connection = connection
        self.state = HTTPConnectionState(limits: server.configuration.parserLimits)
    }

    /// Prepares a retired object for a new accepted connection, as `init` would. Called by the
    /// server only when it holds the sole reference (no responder or closure can still see
    /// the previous connection). The state's serial keeps counting, so even a stale responder
    /// could not answer for a request of the new connection.
    func reuse(for connection: TCPConnection) {
        self.connection = connection
        state.reset(limits: server.configuration.parserLimits)
        inbound = []
        current = nil
        listIndex = -1
    }

    private var now: UInt64 { server.loop.nowMilliseconds }
    private var timeouts: HTTPConnectionTimeouts { server.timeouts }

    /// Starts reading; the header timeout runs from the accept.
    func start() {
        state.start(now: now, timeouts: timeouts)
        connection.start(delegate: self)
    }

    func canRespond(serial: UInt32) -> Bool { state.canRespond(serial: serial) }

    func log(_ line: String) { server.log(line) }

    // MARK: TCPConnectionDelegate

    func connection(_ connection: TCPConnection, didRead bytes: UnsafeRawBufferPointer) {
        switch state.didRead(hasKeptInput: !inbound.isEmpty) {
        case .discard:
            return
        case .keep:
            keep(bytes)
            return
        case .parse:
            let used = process(bytes)
            if used < bytes.count, !state.isDone {
                keep(UnsafeRawBufferPointer(rebasing: bytes[used...]))
            }
            state.updateDeadline(now: now, timeouts: timeouts)
        }
    }

    func connectionDidReadEOF(_ connection: TCPConnection) {
        perform(state.peerClosed(hasKeptInput: !inbound.isEmpty, queuedBytes: connection.queuedBytes))
    }

    func connectionDidBecomeWritable(_ connection: TCPConnection) {
        perform(state.becameWritable())
    }

    func connectionDidClose(_ connection: TCPConnection, error: IOError?) {
        state.closed()
        current = nil  // breaks the responder -> connection cycle
        inbound = []
        server.remove(self)
    }

    private func perform(_ action: HTTPTransportAction) {
        switch action {
        case .none: break
        case .close: connection.close()
        case .lingerClose: beginLingeringClose()
        case .resume: resume()
        }
    }

    // MARK: parsing

    /// Copies input that cannot be parsed now; pauses reading past the configured amount.
    private func keep(_ bytes: UnsafeRawBufferPointer) {
        inbound.append(contentsOf: bytes)
        if state.keptInput(inbound.count, maxKept: server.configuration.maxBufferedInput) {
            connection.pauseReading()
        }
    }

    /// Parses `input` until it is used up or parsing must wait; returns the bytes consumed.
    /// Body chunks are copied before returning: `input` is the shared read buffer or a
    /// temporary copy of `inbound`.
    private func process(_ input: UnsafeRawBufferPointer) -> Int {
        state.beginFeeding()
        defer { state.endFeeding() }
        var offset = 0
        while true {
            switch state.next(input, offset: &offset, now: now, timeouts: timeouts) {
            case .needMore:
                return offset
            case .head(let head):
                receivedHead(head)
            case .body(let chunk):
                current?.body.append(contentsOf: chunk)
            case .end:
                if receivedEnd(buffered: UnsafeRawBufferPointer(rebasing: input[offset...])) { return input.count }
            case .discardRest:
                return input.count  // no request follows on this connection: drop the rest
            case .fail(let error):
                fail(error)
                return input.count
            }
        }
    }

    private func receivedHead(_ head: HTTPRequestHead) {
        let responder = HTTPResponder(connection: self, head: head, serial: state.serial)
        current = responder
        let outcome: HTTPRouteOutcome
        if head.isUpgrade {
            outcome = .upgrade
        } else if let bodyLimit = route(responder, head) {
            outcome = .handler(bodyLimit: bodyLimit)
        } else {
            outcome = .answeredByServer
        }
        switch state.routed(head, outcome) {
        case .none:
            break
        case .writeContinue:
            write(continueResponse)
        case .answerNow:
            current = nil
            dispatch(responder)
        case .fail(let error):
            fail(error)
        }
    }

    /// Routes the head into `responder.target` and returns the found route's body limit (nil
    /// when the server answers itself). HEAD falls back to the GET route, without a body.
    private func route(_ responder: HTTPResponder, _ head: HTTPRequestHead) -> Int? {
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
        return nil
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
                state.upgradeRejected()
                responder.dispatched = true
                responder.respond(status, headers: headers, body: body)
                return false
            case .declined:
                state.upgradeDeclined()
                _ = route(responder, head)
            }
        }
        dispatch(responder)
        return false
    }

    /// Gives a complete request to its handler, or answers it when the server decided.
    private func dispatch(_ responder: HTTPResponder) {
        state.dispatched()
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
        guard state.canParse else { return }
        if !inbound.isEmpty {
            let data = inbound
            inbound = []
            let used = data.withUnsafeBytes { process($0) }
            if used < data.count, !state.isDone {
                inbound = used == 0 ? data : Array(data[used...])
            }
        }
        if state.shouldResumeReading(keptBytes: inbound.count, maxKept: server.configuration.maxBufferedInput) {
            connection.resumeReading()
        }
        state.updateDeadline(now: now, timeouts: timeouts)
    }

    // MARK: responses

    /// Writes the response of request `context.serial` if it is still the one awaited.
    func sendResponse(_ context: HTTPResponder.Context, _ status: HTTPStatus, _ headers: HTTPHeaders, _ body: [UInt8]) {
        guard let keepAlive = state.responseStarted(serial: context.serial, requestKeepAlive: context.keepAlive) else { return }
        var head = HTTPResponseHead(status: status, headers: headers)
        if let name = server.configuration.serverName { head.headers.replace(name: "Server", value: name) }
        write(HTTPResponse.encode(head, body: body, keepAlive: keepAlive, requestVersion: context.version,
                                  date: server.date, omitBody: context.omitBody))
        perform(state.responseWritten(keepAlive: keepAlive))
    }

    private func write(_ bytes: [UInt8]) {
        switch connection.send(bytes) {
        case .written, .queued, .closed:
            break
        case .backpressure:
            if state.sendBackpressured(now: now, timeouts: timeouts) { connection.pauseReading() }
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

    /// After the last response: see `HTTPConnectionState.beginLingeringClose`.
    func beginLingeringClose() {
        current = nil
        inbound = []
        switch state.beginLingeringClose(queuedBytes: connection.queuedBytes, now: now, timeouts: timeouts) {
        case .close:
            connection.close()
        case .shutdown(let resumeReading):
            connection.shutdown()
            if resumeReading { connection.resumeReading() }
        }
    }

    /// Hands the connection to the upgrade owner, which already set its delegate.
    private func detach() {
        current = nil
        inbound = []
        if state.upgradeAccepted() { connection.resumeReading() }
        server.remove(self)
    }

    /// Graceful shutdown: close now when idle, else after the response in progress.
    func closeWhenIdle() {
        perform(state.closeWhenIdle(requestInProgress: current != nil, queuedBytes: connection.queuedBytes))
    }

    /// Called by the server's sweep timer.
    func sweep(now: UInt64) {
        if state.isIdle {
            // Idle for a sweep period: give back the head buffer and any pipelining buffer.
            state.parser.releaseBuffer()
            if inbound.isEmpty, inbound.capacity > 0 { inbound = [] }
        }
        switch state.tick(now: now) {
        case .none: break
        case .close: connection.close()
        case .fail(let error): fail(error)
        }
    }
}
