// The incremental HTTP/1.1 request parser: bytes in, one event out per call.
//
// Contract for the socket binding (one parser per connection, used on the connection's loop
// thread only; the struct holds no references but is not meant to be shared):
//
//     var rest = UnsafeRawBufferPointer(readBuffer)     // valid for this read callback only
//     loop: while true {
//         let step = parser.feed(rest)
//         rest = UnsafeRawBufferPointer(rebasing: rest[step.consumed...])
//         switch step.event {
//         case .needMore: break loop                      // every byte was consumed
//         case .head(let head): route it; parser.setBodyLimit(route.bodyLimit)
//         case .body(let chunk): copy or process chunk now  // it points into the read buffer
//         case .end(let trailers): run the handler; respond
//         case .paused: break loop                        // upgrade accepted or Connection: close:
//                                                         // `rest` is not HTTP for this parser
//         case .error(let e): answer e.status, close
//         }
//     }
//
// Keep calling `feed` until `.needMore` or `.paused`, even with an empty buffer: a message
// without a body completes (`.end`) without needing another byte. Pipelined requests are
// returned one event at a time from the same buffer. Body chunks never copy: they are slices
// of the caller's buffer. The head is accumulated in one reusable [UInt8] (capacity kept
// between messages; `releaseBuffer()` drops it when a connection goes idle).

/// What one call to `feed` found. `.body` points into the buffer passed to that call.
public enum HTTPParserEvent {
    /// Everything given was consumed and no event is complete: feed more bytes.
    case needMore
    /// A complete head. Choose the route's body limit now with `setBodyLimit`.
    case head(HTTPRequestHead)
    /// Body bytes (de-chunked), a slice of the buffer given to `feed`; valid only until
    /// that buffer is reused.
    case body(UnsafeRawBufferPointer)
    /// The message is complete; `trailers` holds a chunked body's trailer fields, if any.
    case end(trailers: HTTPHeaders?)
    /// The parser stopped after a complete message: the request was an upgrade (the bytes
    /// that follow belong to the new protocol) or did not keep the connection alive
    /// (what follows must be ignored). `consumed` is 0.
    case paused
    /// The request is invalid: answer `status` and close. Every later call repeats it.
    case error(HTTPParseError)
}

/// One event and how many bytes of the given buffer the parser consumed to produce it.
public struct HTTPParseStep {
    public let event: HTTPParserEvent
    public let consumed: Int
}

/// Where the parser is, for the binding's timers: start the header timeout (408) when the
/// phase leaves `.idle`, stop it at `.receivingBody`; apply the idle timeout in `.idle`.
public enum HTTPParserPhase: Sendable, Equatable {
    /// Between messages; no byte of the next one has arrived (empty lines are skipped here).
    case idle
    /// Part of a head has arrived.
    case receivingHead
    /// The head was delivered; the body (possibly empty) is not complete yet.
    case receivingBody
    /// An upgrade request completed: the connection now belongs to another protocol,
    /// unless the caller declines with `resumeAfterDeclinedUpgrade()`.
    case upgraded
    /// A message without keep-alive completed: no further request will be parsed.
    case closed
    /// An error was returned.
    case failed
}

public struct HTTPRequestParser {
    enum State {
        case idle
        case head
        case bodyStart
        case fixed(UInt64)
        case chunkSize(UInt64, digits: Int)
        case chunkSizeWhitespace(UInt64)
        case chunkExtension(UInt64, bytes: Int, quoted: Bool, escaped: Bool)
        case chunkSizeLF(UInt64)
        case chunkData(UInt64)
        case chunkDataCR
        case chunkDataLF
        case trailers
        case upgraded
        case closed
        case failed(HTTPParseError)
    }

    public let limits: HTTPParserLimits
    var state: State = .idle
    /// The head (or trailer section) received so far.
    var buffer: [UInt8] = []
    /// Index in `buffer` where the current line starts.
    var lineStart = 0
    /// Index just past the request line's LF; 0 while the request line is incomplete.
    var requestLineEnd = 0
    var fieldLines = 0
    /// The request line, parsed as soon as it is complete (so 400/414/505 come early).
    var requestLine: (HTTPMethod, String, HTTPVersion)?
    var framing: HTTPBodyFraming = .none
    var keepAlive = true
    var isUpgrade = false
    var bodyLimit: UInt64
    var bodyReceived: UInt64 = 0

    public init(limits: HTTPParserLimits = HTTPParserLimits()) {
        self.limits = limits
        self.bodyLimit = UInt64(max(0, limits.defaultMaxBodyBytes))
    }

    public var phase: HTTPParserPhase {
        switch state {
        case .idle: return .idle
        case .head: return .receivingHead
        case .upgraded: return .upgraded
        case .closed: return .closed
        case .failed: return .failed
        default: return .receivingBody
        }
    }

    /// True while a message is partly received (head or body).
    public var isMessageInProgress: Bool {
        phase == .receivingHead || phase == .receivingBody
    }

    /// Sets the body limit of the current message; call it after `.head` and before feeding
    /// more bytes. A declared Content-Length above it fails with 413 before any body byte is
    /// delivered; a chunked body fails with 413 at the chunk that crosses it. Each new
    /// message starts with `limits.defaultMaxBodyBytes`.
    public mutating func setBodyLimit(_ maxBytes: Int) {
        bodyLimit = UInt64(max(0, maxBytes))
    }

    /// After an upgrade request the caller chose not to upgrade (it answered with an
    /// ordinary response): parsing resumes with the next request when the connection is
    /// kept alive.
    public mutating func resumeAfterDeclinedUpgrade() {
        guard case .upgraded = state else { return }
        state = keepAlive ? .idle : .closed
    }

    /// Frees the head buffer's storage. Call when the connection goes idle to keep idle
    /// connections small; the next head allocates again.
    public mutating func releaseBuffer() {
        if case .head = state { return }
        if case .trailers = state { return }
        buffer = []
    }

    /// Consumes bytes up to the next event. See the file comment for the calling loop.
    public mutating func feed(_ input: UnsafeRawBufferPointer) -> HTTPParseStep {
        let n = input.count
        var i = 0
        while true {
            switch state {
            case .idle:
                while i < n, input[i] == ASCII.cr || input[i] == ASCII.lf { i += 1 }
                if i == n { return HTTPParseStep(event: .needMore, consumed: i) }
                startMessage()

            case .head, .trailers:
                if i == n { return HTTPParseStep(event: .needMore, consumed: i) }
                var j = i
                while j < n, input[j] != ASCII.lf { j += 1 }
                let end = j < n ? j + 1 : n
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[i..<end]))
                i = end
                let result: LineResult
                if case .head = state {
                    result = j < n ? headLineComplete() : headPartial()
                } else {
                    result = j < n ? trailerLineComplete() : trailerPartial()
                }
                switch result {
                case .more: continue
                case .failed(let e): return fail(e, consumed: i)
                case .event(let event): return HTTPParseStep(event: event, consumed: i)
                }

            case .bodyStart:
                switch framing {
                case .none:
                    return finish(trailers: nil, consumed: i)
                case .contentLength(let length):
                    if length > bodyLimit {
                        return fail(HTTPParseError(.payloadTooLarge, "Content-Length exceeds the body limit"), consumed: i)
                    }
                    state = .fixed(length)
                case .chunked:
                    state = .chunkSize(0, digits: 0)
                }

            case .fixed(let remaining):
                if remaining == 0 { return finish(trailers: nil, consumed: i) }
                if i == n { return HTTPParseStep(event: .needMore, consumed: i) }
                let take = Int(min(remaining, UInt64(n - i)))
                state = .fixed(remaining - UInt64(take))
                bodyReceived += UInt64(take)
                let chunk = UnsafeRawBufferPointer(rebasing: input[i..<(i + take)])
                return HTTPParseStep(event: .body(chunk), consumed: i + take)

            case .chunkData(let remaining):
                if remaining == 0 { state = .chunkDataCR; continue }
                if i == n { return HTTPParseStep(event: .needMore, consumed: i) }
                let take = Int(min(remaining, UInt64(n - i)))
                state = .chunkData(remaining - UInt64(take))
                let chunk = UnsafeRawBufferPointer(rebasing: input[i..<(i + take)])
                return HTTPParseStep(event: .body(chunk), consumed: i + take)

            case .upgraded, .closed:
                return HTTPParseStep(event: .paused, consumed: 0)

            case .failed(let e):
                return HTTPParseStep(event: .error(e), consumed: 0)

            default:
                // The byte-at-a-time states of chunked framing.
                if i == n { return HTTPParseStep(event: .needMore, consumed: i) }
                if let e = chunkFramingByte(input[i]) { return fail(e, consumed: i) }
                i += 1
            }
        }
    }

    // MARK: message boundaries

    mutating func startMessage() {
        state = .head
        buffer.removeAll(keepingCapacity: true)
        lineStart = 0
        requestLineEnd = 0
        requestLine = nil
        fieldLines = 0
        bodyReceived = 0
        bodyLimit = UInt64(max(0, limits.defaultMaxBodyBytes))
    }

    mutating func finish(trailers: HTTPHeaders?, consumed: Int) -> HTTPParseStep {
        state = isUpgrade ? .upgraded : (keepAlive ? .idle : .closed)
        return HTTPParseStep(event: .end(trailers: trailers), consumed: consumed)
    }

    mutating func fail(_ error: HTTPParseError, consumed: Int) -> HTTPParseStep {
        state = .failed(error)
        return HTTPParseStep(event: .error(error), consumed: consumed)
    }

    // MARK: head and trailer lines

    enum LineResult {
        case more
        case failed(HTTPParseError)
        case event(HTTPParserEvent)
    }

    /// The request line is bounded by the target limit plus room for method and version.
    var requestLineLimit: Int { limits.maxTargetBytes + 64 }

    func headPartial() -> LineResult {
        if requestLineEnd == 0 {
            if buffer.count > requestLineLimit { return .failed(requestLineTooLong()) }
        } else if buffer.count > limits.maxHeadBytes {
            return .failed(HTTPParseError(.requestHeaderFieldsTooLarge, "request head too large"))
        }
        return .event(.needMore)
    }

    /// The error for a request line past `requestLineLimit`. It looks only at the first
    /// `requestLineLimit + 1` bytes, so the answer does not depend on how the bytes were split:
    /// a space there means the method ended and the target is what is too long.
    func requestLineTooLong() -> HTTPParseError {
        buffer.prefix(requestLineLimit + 1).contains(ASCII.sp)
            ? HTTPParseError(.uriTooLong, "request-target too long")
            : HTTPParseError(.badRequest, "invalid method")
    }

    /// A line ending in LF was appended to `buffer`.
    mutating func headLineComplete() -> LineResult {
        let lineLength = buffer.count - lineStart
        if requestLineEnd == 0 {
            if buffer.count > requestLineLimit { return .failed(requestLineTooLong()) }
            requestLineEnd = buffer.count
            let parsed = buffer.withUnsafeBufferPointer {
                HTTPHeadParser.parseRequestLine($0, end: requestLineEnd, limits: limits)
            }
            switch parsed {
            case .failure(let e): return .failed(e)
            case .success(let line): requestLine = line
            }
        } else if buffer.count > limits.maxHeadBytes {
            // Size first, as `headPartial` does, so the error does not depend on the split.
            return .failed(HTTPParseError(.requestHeaderFieldsTooLarge, "request head too large"))
        } else if lineLength == 2, buffer[lineStart] == ASCII.cr {
            return headComplete()
        } else if lineLength == 1 {
            return .failed(HTTPParseError(.badRequest, "bare LF in header section"))
        } else {
            fieldLines += 1
            if fieldLines > limits.maxHeaderCount {
                return .failed(HTTPParseError(.requestHeaderFieldsTooLarge, "too many header fields"))
            }
        }
        lineStart = buffer.count
        return .more
    }

    mutating func headComplete() -> LineResult {
        guard let (method, target, version) = requestLine else {
            return .failed(HTTPParseError(.internalServerError, "head without a request line"))
        }
        requestLine = nil
        let result = buffer.withUnsafeBufferPointer {
            HTTPHeadParser.parse($0, from: requestLineEnd, method: method, target: target, version: version)
        }
        switch result {
        case .failure(let e):
            return .failed(e)
        case .success(let head):
            framing = head.framing
            keepAlive = head.keepAlive
            isUpgrade = head.upgrade != nil
            buffer.removeAll(keepingCapacity: true)
            state = .bodyStart
            return .event(.head(head))
        }
    }

    func trailerPartial() -> LineResult {
        buffer.count > limits.maxTrailerBytes
            ? .failed(HTTPParseError(.requestHeaderFieldsTooLarge, "trailer section too large"))
            : .event(.needMore)
    }

    mutating func trailerLineComplete() -> LineResult {
        let lineLength = buffer.count - lineStart
        if buffer.count > limits.maxTrailerBytes {
            return .failed(HTTPParseError(.requestHeaderFieldsTooLarge, "trailer section too large"))
        }
        if lineLength == 2, buffer[lineStart] == ASCII.cr {
            if buffer.count == 2 {
                buffer.removeAll(keepingCapacity: true)
                return finishLine(trailers: nil)
            }
            let parsed = buffer.withUnsafeBufferPointer {
                HTTPHeadParser.parseFieldLines($0, from: 0, to: $0.count - 2)
            }
            buffer.removeAll(keepingCapacity: true)
            switch parsed {
            case .failure(let e): return .failed(e)
            case .success(let trailers): return finishLine(trailers: trailers)
            }
        }
        if lineLength == 1 { return .failed(HTTPParseError(.badRequest, "bare LF in trailer section")) }
        fieldLines += 1
        if fieldLines > limits.maxHeaderCount {
            return .failed(HTTPParseError(.requestHeaderFieldsTooLarge, "too many trailer fields"))
        }
        lineStart = buffer.count
        return .more
    }

    mutating func finishLine(trailers: HTTPHeaders?) -> LineResult {
        state = isUpgrade ? .upgraded : (keepAlive ? .idle : .closed)
        return .event(.end(trailers: trailers))
    }
}
