// HTTPConnectionState with bytes in and actions out, no sockets: keep-alive, pipelining order,
// 100-continue, upgrade hand-over, lingering close, HTTP/1.0, Connection: close, a parse error
// mid-pipeline, graceful shutdown and the deadlines.
import Testing
import HTTP1

/// A minimal binding: feeds bytes the way Web's HTTPServerConnection does and writes every
/// action the state returns into `log`, one short string per action. Routing is a closure;
/// responses are given by the test (`respond`).
struct Binding {
    static let timeouts = HTTPConnectionTimeouts(header: 100, body: 200, idle: 300, send: 400, linger: 500)
    var state = HTTPConnectionState(limits: HTTPParserLimits())
    var kept: [UInt8] = []
    var log: [String] = []
    var now: UInt64 = 0
    var maxKept = 64 * 1024
    var queuedBytes = 0
    /// The head being received, then the one awaiting its response.
    var head: HTTPRequestHead?
    var awaiting: HTTPRequestHead?
    var route: (HTTPRequestHead) -> HTTPRouteOutcome = { head in
        head.isUpgrade ? .upgrade : .handler(bodyLimit: 1024)
    }
    /// Whether an upgrade owner takes an upgrade request at its end.
    var acceptsUpgrade = true

    init() { state.start(now: 0, timeouts: Self.timeouts) }

    mutating func read(_ text: String) {
        let bytes = Array(text.utf8)
        switch state.didRead(hasKeptInput: !kept.isEmpty) {
        case .discard:
            log.append("discard \(bytes.count)")
        case .keep:
            keep(bytes[...])
        case .parse:
            let used = feed(bytes)
            if used < bytes.count, !state.isDone { keep(bytes[used...]) }
            state.updateDeadline(now: now, timeouts: Self.timeouts)
        }
    }

    private mutating func keep(_ bytes: ArraySlice<UInt8>) {
        kept += bytes
        log.append("keep \(bytes.count)")
        if state.keptInput(kept.count, maxKept: maxKept) { log.append("pauseReading") }
    }

    /// Returns the bytes consumed.
    private mutating func feed(_ bytes: [UInt8]) -> Int {
        state.beginFeeding()
        defer { state.endFeeding() }
        return bytes.withUnsafeBytes { raw -> Int in
            var offset = 0
            while true {
                switch state.next(raw, offset: &offset, now: now, timeouts: Self.timeouts) {
                case .needMore:
                    return offset
                case .head(let head):
                    log.append("head \(head.method) \(head.path) #\(state.serial)")
                    self.head = head
                    switch state.routed(head, route(head)) {
                    case .none: break
                    case .writeContinue: log.append("write 100")
                    case .answerNow: dispatch(head)
                    case .fail(let error): fail(error)
                    }
                case .body(let chunk):
                    log.append("body \(chunk.count)")
                case .end:
                    guard let head else { continue }
                    self.head = nil
                    if head.isUpgrade, acceptsUpgrade {
                        log.append("upgrade, \(raw.count - offset) bytes handed over")
                        if state.upgradeAccepted() { log.append("resumeReading") }
                        return raw.count
                    }
                    if head.isUpgrade { state.upgradeDeclined() }
                    dispatch(head)
                case .discardRest:
                    log.append("discardRest")
                    return raw.count
                case .fail(let error):
                    fail(error)
                    return raw.count
                }
            }
        }
    }

    private mutating func dispatch(_ head: HTTPRequestHead) {
        state.dispatched()
        awaiting = head
        log.append("dispatch \(head.path)")
    }

    private mutating func fail(_ error: HTTPParseError) {
        log.append("write \(error.status.code)")
        head = nil
        lingerClose()
    }

    private mutating func lingerClose() {
        kept = []
        switch state.beginLingeringClose(queuedBytes: queuedBytes, now: now, timeouts: Self.timeouts) {
        case .close: log.append("close")
        case .shutdown(let resume): log.append(resume ? "shutdown, resumeReading" : "shutdown")
        }
    }

    /// The handler answers the awaited request; `backpressure`: the write is queued past the
    /// high-water mark.
    mutating func respond(backpressure: Bool = false) {
        guard let head = awaiting else { log.append("nothing to answer"); return }
        guard let keepAlive = state.responseStarted(serial: state.serial, requestKeepAlive: head.keepAlive) else {
            log.append("response refused")
            return
        }
        awaiting = nil
        log.append("write response \(head.path)\(keepAlive ? "" : ", close")")
        if backpressure, state.sendBackpressured(now: now, timeouts: Self.timeouts) { log.append("pauseReading") }
        perform(state.responseWritten(keepAlive: keepAlive))
    }

    mutating func perform(_ action: HTTPTransportAction) {
        switch action {
        case .none: break
        case .close: log.append("close")
        case .lingerClose: lingerClose()
        case .resume: resume()
        }
    }

    mutating func resume() {
        guard state.canParse else { return }
        if !kept.isEmpty {
            let data = kept
            kept = []
            let used = feed(data)
            if used < data.count, !state.isDone { kept = Array(data[used...]) }
        }
        if state.shouldResumeReading(keptBytes: kept.count, maxKept: maxKept) { log.append("resumeReading") }
        state.updateDeadline(now: now, timeouts: Self.timeouts)
    }

    mutating func writable() { perform(state.becameWritable()) }

    mutating func peerClosed() {
        perform(state.peerClosed(hasKeptInput: !kept.isEmpty, queuedBytes: queuedBytes))
    }

    mutating func tick(at time: UInt64) {
        now = time
        switch state.tick(now: time) {
        case .none: break
        case .close: log.append("close")
        case .fail(let error): fail(error)
        }
    }

    /// Returns the log since the last call.
    mutating func take() -> [String] {
        defer { log = [] }
        return log
    }
}

@Suite struct ConnectionState {
    @Test func keepAliveServesRequestsInTurn() {
        var c = Binding()
        c.read("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(c.take() == ["head GET /a #1", "dispatch /a"])
        #expect(c.state.deadlineKind == .none)  // a handler has it: no timer runs
        c.respond()
        #expect(c.take() == ["write response /a"])
        #expect(c.state.deadlineKind == .idle)
        #expect(c.state.deadline == 300)
        c.read("GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        c.respond()
        #expect(c.take() == ["head GET /b #2", "dispatch /b", "write response /b"])
    }

    @Test func pipelinedRequestsWaitForTheResponseBefore() {
        var c = Binding()
        c.read("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\n")
        // /b and the start of /c are kept, not parsed, while /a is answered.
        #expect(c.take() == ["head GET /a #1", "dispatch /a", "keep 45"])
        c.read("Host: x\r\n\r\n")
        #expect(c.take() == ["keep 11"])
        c.respond()
        #expect(c.take() == ["write response /a", "head GET /b #2", "dispatch /b"])
        c.respond()
        #expect(c.take() == ["write response /b", "head GET /c #3", "dispatch /c"])
        c.respond()
        #expect(c.take() == ["write response /c"])
        #expect(c.kept.isEmpty)
    }

    @Test func aSynchronousResponseDoesNotReenterParsing() {
        // Responses given inside the feeding loop are followed by the loop itself, in order.
        var c = Binding()
        c.state.beginFeeding()
        #expect(c.state.responseWritten(keepAlive: true) == .none)
        c.state.endFeeding()
        #expect(c.state.responseWritten(keepAlive: true) == .resume)
    }

    @Test func keptInputPausesReadingPastItsLimitAndResumesAfter() {
        var c = Binding()
        c.maxKept = 16
        c.read("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        c.read("GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(c.take() == ["head GET /a #1", "dispatch /a", "keep 28", "pauseReading"])
        c.respond()
        #expect(c.take() == ["write response /a", "head GET /b #2", "dispatch /b", "resumeReading"])
    }

    @Test func continueIsSentOnlyWhenTheBodyWillBeRead() {
        var c = Binding()
        c.read("POST /a HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        #expect(c.take() == ["head POST /a #1", "write 100"])
        #expect(c.state.deadlineKind == .body)
        c.read("hello")
        #expect(c.take() == ["body 5", "dispatch /a"])
        c.respond()
        _ = c.take()

        // Chunked: the size is unknown, so 100 Continue goes out.
        c.read("POST /c HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n")
        #expect(c.take() == ["head POST /c #2", "write 100"])
        c.read("0\r\n\r\n")
        c.respond()
        _ = c.take()

        // Too large for the route: no 100 Continue, the parser answers 413.
        c.read("POST /big HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 4096\r\n\r\n")
        #expect(c.take() == ["head POST /big #3", "write 413", "shutdown"])

        // Without Expect: nothing is written before the response.
        var d = Binding()
        d.read("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
        #expect(d.take() == ["head POST /a #1", "body 2", "dispatch /a"])
    }

    @Test func aRequestTheServerAnswersWithABodyUnreadClosesAfterTheAnswer() {
        var c = Binding()
        c.route = { _ in .answeredByServer }
        c.read("POST /missing HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        #expect(c.take() == ["head POST /missing #1", "dispatch /missing"])
        c.respond()
        #expect(c.take() == ["write response /missing, close", "shutdown"])
        // Without a body the connection stays usable.
        var d = Binding()
        d.route = { _ in .answeredByServer }
        d.read("GET /missing HTTP/1.1\r\nHost: x\r\n\r\n")
        d.respond()
        #expect(d.take() == ["head GET /missing #1", "dispatch /missing", "write response /missing"])
    }

    @Test func anAcceptedUpgradeHandsOverTheBytesAfterTheHead() {
        var c = Binding()
        c.read("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\u{81}\u{0}")
        #expect(c.take() == ["head GET /ws #1", "upgrade, 3 bytes handed over"])
        #expect(c.state.isDone)
        #expect(c.state.deadlineKind == .none)
        c.read("more")
        #expect(c.take() == ["discard 4"])
    }

    @Test func aDeclinedUpgradeIsAnOrdinaryRequest() {
        var c = Binding()
        c.acceptsUpgrade = false
        c.read("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        c.respond()
        c.respond()
        #expect(c.take() == ["head GET /ws #1", "dispatch /ws", "keep 28", "write response /ws",
                             "head GET /b #2", "dispatch /b", "write response /b"])
    }

    @Test func aRejectedUpgradeIsAnsweredThenClosed() {
        var c = Binding()
        c.state.upgradeRejected()
        #expect(c.state.responseStarted(serial: c.state.serial, requestKeepAlive: true) == false)
    }

    @Test func anUpgradeWithABodyFails() {
        var c = Binding()
        c.read("POST /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nContent-Length: 3\r\n\r\nabc")
        #expect(c.take() == ["head POST /ws #1", "write 400", "shutdown"])
    }

    @Test func lingeringCloseDiscardsInputUntilThePeerCloses() {
        var c = Binding()
        c.read("GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\n\r\n")
        // Input after a Connection: close request is kept until the response, then dropped.
        #expect(c.take() == ["head GET /a #1", "dispatch /a", "keep 19"])
        c.queuedBytes = 100
        c.respond()
        #expect(c.take() == ["write response /a, close", "shutdown"])
        #expect(c.kept.isEmpty)
        #expect(c.state.deadlineKind == .linger)
        #expect(c.state.deadline == 500)
        c.read("junk")
        #expect(c.take() == ["discard 4"])
        c.peerClosed()
        #expect(c.take() == ["close"])
    }

    @Test func lingeringCloseEndsAtItsDeadline() {
        var c = Binding()
        c.read("GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        c.respond()
        _ = c.take()
        c.tick(at: 499)
        c.tick(at: 500)
        #expect(c.take() == ["close"])
    }

    @Test func http10WithoutKeepAliveClosesAfterTheResponse() {
        var c = Binding()
        c.read("GET /a HTTP/1.0\r\nHost: x\r\n\r\n")
        c.respond()
        #expect(c.take() == ["head GET /a #1", "dispatch /a", "write response /a, close", "shutdown"])
        var d = Binding()
        d.read("GET /a HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
        d.respond()
        #expect(d.take() == ["head GET /a #1", "dispatch /a", "write response /a"])
    }

    @Test func aParseErrorMidPipelineAnswersTheEarlierRequestsFirst() {
        var c = Binding()
        c.read("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nBROKEN\r\n\r\n")
        #expect(c.take() == ["head GET /a #1", "dispatch /a", "keep 38"])
        c.respond()
        #expect(c.take() == ["write response /a", "head GET /b #2", "dispatch /b"])
        c.respond()
        #expect(c.take() == ["write response /b", "write 400", "shutdown"])
        #expect(c.kept.isEmpty)
        c.respond()
        #expect(c.take() == ["nothing to answer"])
    }

    @Test func peerHalfCloseAnswersWhatWasAskedThenCloses() {
        var c = Binding()
        c.read("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        c.peerClosed()
        c.respond()
        #expect(c.take() == ["head GET /a #1", "dispatch /a", "write response /a, close", "close"])
        // Idle: close now, or FIN after what is still queued.
        var d = Binding()
        d.peerClosed()
        #expect(d.take() == ["close"])
        var e = Binding()
        e.queuedBytes = 10
        e.peerClosed()
        #expect(e.take() == ["shutdown"])
    }

    @Test func backpressureHoldsParsingUntilWritable() {
        var c = Binding()
        c.read("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        c.respond(backpressure: true)
        #expect(c.take() == ["head GET /a #1", "dispatch /a", "write response /a", "pauseReading"])
        #expect(c.state.deadlineKind == .write)
        c.read("GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(c.take() == ["keep 28"])
        c.writable()
        #expect(c.take() == ["head GET /b #2", "dispatch /b", "resumeReading"])
    }

    @Test func aStaleResponseIsRefused() {
        var c = Binding()
        c.read("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(c.state.responseStarted(serial: c.state.serial &- 1, requestKeepAlive: true) == nil)
        #expect(c.state.canRespond(serial: c.state.serial))
    }

    @Test func gracefulShutdownWaitsForTheRequestInProgress() {
        var c = Binding()
        #expect(c.state.closeWhenIdle(requestInProgress: false, queuedBytes: 0) == .close)
        var d = Binding()
        d.read("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(d.state.closeWhenIdle(requestInProgress: false, queuedBytes: 0) == .none)
        d.respond()
        #expect(d.take().suffix(2) == ["write response /a, close", "shutdown"])
        var e = Binding()
        e.read("GET /a HTTP/1.1\r\n")
        #expect(e.state.closeWhenIdle(requestInProgress: false, queuedBytes: 0) == .none)
    }

    @Test func deadlinesFollowTheConnection() {
        var c = Binding()
        #expect(c.state.deadlineKind == .head)
        #expect(c.state.deadline == 100)
        c.now = 50
        c.read("GET /a HTTP/1.1\r\n")
        // A trickle of head bytes does not extend the header timeout.
        #expect(c.state.deadline == 100)
        c.tick(at: 100)
        #expect(c.take() == ["write 408", "shutdown"])

        var d = Binding()
        d.read("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhe")
        #expect(d.state.deadlineKind == .body)
        d.tick(at: 200)
        #expect(d.take().suffix(2) == ["write 408", "shutdown"])

        var e = Binding()
        e.read("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
        e.respond()
        #expect(e.state.isIdle)
        e.tick(at: 300)
        #expect(e.take().last == "close")
    }
}
