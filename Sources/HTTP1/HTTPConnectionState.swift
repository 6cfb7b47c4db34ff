// The connection-level state machine of an HTTP/1.1 server connection: keep-alive,
// pipelining order, 100-continue, upgrade hand-over, lingering close and the deadlines. It
// never touches a socket; the binding (Web's HTTPServerConnection) performs the actions it
// returns, as WebSocketConnectionState does for WebSocket.
//
// Ordering: a request is dispatched only when every earlier response was written (or
// queued); while one is pending, `next` returns `.needMore` without parsing, the binding keeps
// the input, and feeds it again after `responseWritten` says `.resume`. So responses leave in
// request order with at most one request in flight.

/// Timeouts in loop milliseconds, passed to every call that may start a deadline (the state
/// does not store them: it is kept inline per connection).
public struct HTTPConnectionTimeouts: Sendable, Equatable {
    /// From the accept, or from the first byte of a later head, to the end of the head.
    public var header: UInt64
    /// Between two body chunks.
    public var body: UInt64
    /// Between a response and the next request's first byte.
    public var idle: UInt64
    /// While a write is backpressured.
    public var send: UInt64
    /// From the FIN to the peer's EOF during a lingering close.
    public var linger: UInt64

    public init(header: UInt64, body: UInt64, idle: UInt64, send: UInt64, linger: UInt64) {
        self.header = header
        self.body = body
        self.idle = idle
        self.send = send
        self.linger = linger
    }
}

/// Which deadline the state holds; `tick` acts on it.
public enum HTTPConnectionDeadline: UInt8, Sendable {
    case none, idle, head, body, write, linger
}

/// What the binding does next while feeding input with `next`.
public enum HTTPConnectionAction {
    /// Stop feeding. Bytes from `offset` on (if any) cannot be parsed now: keep them (see
    /// `keptInput`) and feed them again after a `.resume`.
    case needMore
    /// A head arrived (its serial is `serial`). Route it, then call `routed`.
    case head(HTTPRequestHead)
    /// Body bytes: copy them now (they point into the buffer given to `next`).
    case body(UnsafeRawBufferPointer)
    /// The message is complete. An upgrade request goes to `upgradeAccepted`,
    /// `upgradeRejected` or `upgradeDeclined`; any other request to `dispatched`.
    /// The bytes after `offset` follow the message (for an accepted upgrade: the new protocol's).
    case end
    /// No request follows on this connection: drop the rest of the input (`offset` is at
    /// its end).
    case discardRest
    /// The input is not valid HTTP: answer the error and call `beginLingeringClose` (`offset`
    /// is at the end of the input; the rest is dropped).
    case fail(HTTPParseError)
}

/// How the binding routed a head, told to `routed`.
public enum HTTPRouteOutcome: Equatable, Sendable {
    /// A handler takes the request; its body may be up to this many bytes.
    case handler(bodyLimit: Int)
    /// The server answers itself (404, 405, 400).
    case answeredByServer
    /// An upgrade request: the upgrade owner decides at `.end`.
    case upgrade
}

/// What the binding does after `routed`.
public enum HTTPHeadAction: Equatable {
    /// Keep feeding.
    case none
    /// Write `HTTP/1.1 100 Continue` now, then keep feeding.
    case writeContinue
    /// Answer the request now without reading its body; the connection closes after the
    /// answer (`Connection: close`) because the body will not be read.
    case answerNow
    /// Answer this error and call `beginLingeringClose`.
    case fail(HTTPParseError)
}

/// What the binding does with bytes the socket just delivered.
public enum HTTPReadDisposition: Equatable, Sendable {
    /// Feed them to `next`.
    case parse
    /// Parsing waits (a response is pending or input is kept already): append them to the
    /// kept input.
    case keep
    /// The connection is lingering or finished: drop them.
    case discard
}

/// What the binding does to the transport.
public enum HTTPTransportAction: Equatable, Sendable {
    case none
    /// Close the socket now.
    case close
    /// Call `beginLingeringClose`.
    case lingerClose
    /// Feed the kept input again (`canParse` holds), then call `keptInput` to learn whether
    /// reading resumes.
    case resume
}

/// What the binding does when it starts a lingering close.
public enum HTTPLingerAction: Equatable, Sendable {
    /// The peer is gone and nothing is queued: close now.
    case close
    /// Send FIN after the queued bytes, keep reading (resume it if told) to discard input
    /// until the peer's EOF or the linger deadline.
    case shutdown(resumeReading: Bool)
}

/// What the binding does when a deadline passes (`tick`).
public enum HTTPTimerAction: Equatable {
    case none
    /// Close the socket now (idle, write or linger deadline, or a head timeout between heads).
    case close
    /// Answer this 408 and call `beginLingeringClose`.
    case fail(HTTPParseError)
}

/// One server connection's protocol state: a value the binding keeps inline in its connection
/// object. Every method is called on that connection's loop thread.
public struct HTTPConnectionState {
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
        /// Inside the binding's feeding loop: a response given synchronously must not re-enter it.
        static let processing = Flags(rawValue: 1 << 4)
        static let readPaused = Flags(rawValue: 1 << 5)
        static let peerEOF = Flags(rawValue: 1 << 6)
        /// Closed, or handed to an upgrade owner: nothing more happens here.
        static let finished = Flags(rawValue: 1 << 7)
    }

    // Widest first, so the state packs without padding between fields.
    public var parser: HTTPRequestParser
    /// When the deadline of kind `deadlineKind` passes (loop milliseconds).
    public private(set) var deadline: UInt64 = 0
    /// Number of the latest request; a response is accepted only for it. Keeps counting
    /// across `reset`, so a stale responder never answers for a later connection's request.
    public private(set) var serial: UInt32 = 0
    public private(set) var deadlineKind: HTTPConnectionDeadline = .none
    var flags: Flags = []

    public init(limits: HTTPParserLimits) {
        parser = HTTPRequestParser(limits: limits)
    }

    /// Prepares the state for a newly accepted connection (the binding recycles objects).
    public mutating func reset(limits: HTTPParserLimits) {
        parser = HTTPRequestParser(limits: limits)
        deadline = 0
        deadlineKind = .none
        flags = []
    }

    /// The connection was accepted: the header timeout runs from now.
    public mutating func start(now: UInt64, timeouts: HTTPConnectionTimeouts) {
        setDeadline(.head, now, timeouts.header)
    }

    /// Whether input may be parsed now.
    public var canParse: Bool {
        flags.isDisjoint(with: [.awaitingResponse, .awaitingWritable, .lingering, .finished])
    }

    /// Whether the connection is lingering or finished (nothing more is parsed or answered).
    public var isDone: Bool { !flags.isDisjoint(with: [.lingering, .finished]) }

    public var isLingering: Bool { flags.contains(.lingering) }

    /// Whether a response to request `serial` is awaited now.
    public func canRespond(serial: UInt32) -> Bool {
        serial == self.serial && flags.contains(.awaitingResponse) && flags.isDisjoint(with: [.lingering, .finished])
    }

    // MARK: input

    /// Decides what to do with bytes just read; `hasKeptInput`: earlier input is still kept.
    public func didRead(hasKeptInput: Bool) -> HTTPReadDisposition {
        if isDone { return .discard }
        return !canParse || hasKeptInput ? .keep : .parse
    }

    /// The binding's feeding loop starts (`beginFeeding`) and ends (`endFeeding`); a response
    /// written in between does not ask for `.resume` (the loop goes on by itself).
    public mutating func beginFeeding() { flags.insert(.processing) }
    public mutating func endFeeding() { flags.remove(.processing) }

    /// Parses `buffer` from `offset`, advancing it, until an event for the binding. Call
    /// again after handling every action but `.needMore`.
    public mutating func next(_ buffer: UnsafeRawBufferPointer, offset: inout Int, now: UInt64,
                              timeouts: HTTPConnectionTimeouts) -> HTTPConnectionAction {
        guard canParse else { return .needMore }
        let step = parser.feed(UnsafeRawBufferPointer(rebasing: buffer[offset...]))
        offset += step.consumed
        switch step.event {
        case .needMore:
            return .needMore
        case .head(let head):
            serial &+= 1
            return .head(head)
        case .body(let chunk):
            setDeadline(.body, now, timeouts.body)  // inactivity: each chunk extends it
            return .body(chunk)
        case .end:
            return .end
        case .paused:
            offset = buffer.count
            return .discardRest
        case .error(let error):
            offset = buffer.count
            return .fail(error)
        }
    }

    /// The binding routed the head `next` returned. Sets the body limit and decides on
    /// 100-continue: sent only when the body will be read (a route takes it and a declared
    /// length fits the limit).
    public mutating func routed(_ head: HTTPRequestHead, _ outcome: HTTPRouteOutcome) -> HTTPHeadAction {
        switch outcome {
        case .upgrade:
            return head.framing == .none ? .none : .fail(HTTPParseError(.badRequest, "upgrade request with a body"))
        case .answeredByServer:
            // After the message when it has no body, so the connection stays usable; now and
            // then close when a body would follow.
            if head.framing == .none { return .none }
            flags.insert(.closeAfterResponse)
            return .answerNow
        case .handler(let bodyLimit):
            parser.setBodyLimit(bodyLimit)
            guard head.expectsContinue else { return .none }
            switch head.framing {
            case .none: return .none
            case .contentLength(let length): return length <= UInt64(bodyLimit) ? .writeContinue : .none
            case .chunked: return .writeContinue
            }
        }
    }

    /// A request went to its handler (or the server's own answer): parsing waits for the response.
    public mutating func dispatched() {
        flags.insert(.awaitingResponse)
        deadlineKind = .none
    }

    /// The upgrade owner took the connection (it set its own delegate). Returns whether the
    /// binding must resume reading, which this side had paused.
    public mutating func upgradeAccepted() -> Bool {
        flags.insert(.finished)
        deadlineKind = .none
        let resume = flags.contains(.readPaused)
        flags.remove(.readPaused)
        return resume
    }

    /// The upgrade owner answered with a rejection: respond to it, then close.
    public mutating func upgradeRejected() {
        flags.insert(.closeAfterResponse)
        flags.insert(.awaitingResponse)
    }

    /// No upgrade owner took the request: it is an ordinary request. Route it again and
    /// dispatch it.
    public mutating func upgradeDeclined() {
        parser.resumeAfterDeclinedUpgrade()
    }

    /// Input was kept (`keptBytes` in total now). Returns whether reading must pause: kept
    /// input beyond `maxKept` bytes.
    public mutating func keptInput(_ keptBytes: Int, maxKept: Int) -> Bool {
        guard keptBytes > maxKept, !flags.contains(.readPaused) else { return false }
        flags.insert(.readPaused)
        return true
    }

    /// After kept input was fed again: whether reading resumes (it was paused, the kept input
    /// fits, and nothing else holds it).
    public mutating func shouldResumeReading(keptBytes: Int, maxKept: Int) -> Bool {
        guard flags.contains(.readPaused), keptBytes <= maxKept,
              flags.isDisjoint(with: [.awaitingWritable, .lingering, .finished]) else { return false }
        flags.remove(.readPaused)
        return true
    }

    // MARK: output

    /// A response for request `serial` is about to be written: returns nil when it is not the
    /// awaited one (stale, or the connection is done), else whether it keeps the connection
    /// alive (`requestKeepAlive`: what the request asked for).
    public mutating func responseStarted(serial: UInt32, requestKeepAlive: Bool) -> Bool? {
        guard canRespond(serial: serial) else { return nil }
        flags.remove(.awaitingResponse)
        return requestKeepAlive && !flags.contains(.closeAfterResponse)
    }

    /// The response went to the socket: `.lingerClose` after a closing response, `.resume`
    /// to parse what was kept, `.none` inside the feeding loop (it goes on by itself).
    public func responseWritten(keepAlive: Bool) -> HTTPTransportAction {
        if !keepAlive { return .lingerClose }
        return flags.contains(.processing) ? .none : .resume
    }

    /// A send reported backpressure: parsing waits and the write deadline runs. Returns
    /// whether reading must pause.
    public mutating func sendBackpressured(now: UInt64, timeouts: HTTPConnectionTimeouts) -> Bool {
        flags.insert(.awaitingWritable)
        setDeadline(.write, now, timeouts.send)
        guard !flags.contains(.readPaused) else { return false }
        flags.insert(.readPaused)
        return true
    }

    /// The socket drained after backpressure.
    public mutating func becameWritable() -> HTTPTransportAction {
        guard flags.contains(.awaitingWritable) else { return .none }
        flags.remove(.awaitingWritable)
        return flags.contains(.lingering) ? .none : .resume
    }

    // MARK: closing

    /// The peer half-closed. `hasKeptInput`: unparsed input is kept; `queuedBytes`: response
    /// bytes not yet written.
    public mutating func peerClosed(hasKeptInput: Bool, queuedBytes: Int) -> HTTPTransportAction {
        flags.insert(.peerEOF)
        if flags.contains(.lingering) { return .close }
        if flags.contains(.awaitingResponse) || hasKeptInput {
            flags.insert(.closeAfterResponse)  // answer what was asked, then close
            return .none
        }
        return queuedBytes > 0 ? .lingerClose : .close  // FIN after the queued response
    }

    /// After the last response: FIN once the queue is written, then read and discard until
    /// the peer's EOF (unread input would make close send RST and could destroy the response
    /// at the peer), bounded by the linger deadline. The binding drops kept input.
    public mutating func beginLingeringClose(queuedBytes: Int, now: UInt64,
                                             timeouts: HTTPConnectionTimeouts) -> HTTPLingerAction {
        flags.insert(.lingering)
        if flags.contains(.peerEOF), queuedBytes == 0 { return .close }
        let resume = flags.contains(.readPaused)
        flags.remove(.readPaused)
        setDeadline(.linger, now, timeouts.linger)
        return .shutdown(resumeReading: resume)
    }

    /// Graceful shutdown: close now when idle, else after the response in progress.
    /// `requestInProgress`: a head arrived whose message is not dispatched yet.
    public mutating func closeWhenIdle(requestInProgress: Bool, queuedBytes: Int) -> HTTPTransportAction {
        if isDone { return .none }
        if flags.contains(.awaitingResponse) || requestInProgress || parser.phase == .receivingHead {
            flags.insert(.closeAfterResponse)
            return .none
        }
        return queuedBytes == 0 ? .close : .lingerClose
    }

    /// The transport closed.
    public mutating func closed() { flags.insert(.finished) }

    // MARK: deadlines

    /// Picks the deadline that fits the state after input was handled. A deadline of the
    /// same kind is kept, so a trickle of bytes cannot extend the header timeout.
    public mutating func updateDeadline(now: UInt64, timeouts: HTTPConnectionTimeouts) {
        if isDone { return }
        if flags.contains(.awaitingWritable) {
            if deadlineKind != .write { setDeadline(.write, now, timeouts.send) }
            return
        }
        if flags.contains(.awaitingResponse) {
            deadlineKind = .none
            return
        }
        switch parser.phase {
        case .idle:
            if serial == 0 {
                if deadlineKind != .head { setDeadline(.head, now, timeouts.header) }
            } else if deadlineKind != .idle {
                setDeadline(.idle, now, timeouts.idle)
            }
        case .receivingHead:
            if deadlineKind != .head { setDeadline(.head, now, timeouts.header) }
        case .receivingBody:
            if deadlineKind != .body { setDeadline(.body, now, timeouts.body) }
        case .upgraded, .closed, .failed:
            break
        }
    }

    /// Whether the connection is idle between requests (the binding may give back buffers).
    public var isIdle: Bool { deadlineKind == .idle }

    /// Called by the binding's sweep timer: acts on a passed deadline, once.
    public mutating func tick(now: UInt64) -> HTTPTimerAction {
        guard deadlineKind != .none, now >= deadline else { return .none }
        let kind = deadlineKind
        deadlineKind = .none
        switch kind {
        case .none:
            return .none
        case .idle, .write, .linger:
            return .close
        case .head:
            if parser.phase == .receivingHead { return .fail(HTTPParseError(.requestTimeout, "request head not received in time")) }
            return .close
        case .body:
            return .fail(HTTPParseError(.requestTimeout, "request body not received in time"))
        }
    }

    private mutating func setDeadline(_ kind: HTTPConnectionDeadline, _ now: UInt64, _ milliseconds: UInt64) {
        deadlineKind = kind
        deadline = now &+ milliseconds
    }
}
