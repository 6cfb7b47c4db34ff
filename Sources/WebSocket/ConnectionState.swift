// The connection-level state machine: close handshake, timers, slow consumers. It never
// touches a socket; the binding performs the actions it returns.

/// What the binding does after feeding bytes. Payload pointers follow the parser's rule: valid
/// until the next call to `next` on this connection.
public enum WebSocketAction {
    /// The read buffer is consumed; wait for the next read.
    case needMore
    /// Deliver a complete text message (UTF-8 checked) to the application.
    case text(UnsafeRawBufferPointer)
    /// Deliver a complete binary message to the application.
    case binary(UnsafeRawBufferPointer)
    /// Write a pong frame with this payload.
    case sendPong(UnsafeRawBufferPointer)
    /// Write a close frame with this code (nil: an empty close body, the echo of a close that
    /// had none). Then close the transport once the write completes if told so; otherwise
    /// (a client answering the server's close) wait for the server to close it, and `tick`
    /// closes it after closeTimeout.
    case sendClose(WebSocketCloseCode?, closeTransportAfterWrite: Bool)
    /// Close the transport now (the close handshake is complete).
    case closeTransport
}

/// What the binding does when a connection's deadline passes.
public enum WebSocketTimerAction: Equatable, Sendable {
    case none
    /// Write a ping frame (empty payload, or anything up to 125 bytes).
    case sendPing
    /// Close the transport now: handshake timeout, no answer to a ping, or close timeout.
    case closeTransport
}

/// Whether an outbound message may be queued.
public enum WebSocketSendDecision: Equatable, Sendable {
    /// Queue it.
    case send
    /// Past the outbound hard limit: drop the message, queue a close frame with
    /// `WebSocketConnectionState.slowConsumerCode` (ahead of nothing else), and send nothing more.
    case closeSlowConsumer
    /// The connection is not open (handshaking or closing): drop the message.
    case notOpen
}

/// One connection's protocol state. A value type the binding keeps inline in its connection
/// object; every method is called on that connection's loop thread.
public struct WebSocketConnectionState {
    public enum Phase: UInt8, Sendable {
        /// Waiting for the upgrade to complete.
        case handshaking
        case open
        /// We sent a close frame; waiting for the peer's.
        case closeSent
        /// (Client) we answered the server's close; waiting for it to close the transport.
        case closeReceived
        /// Nothing more is sent or delivered; the transport is (being) closed.
        case closed
    }

    /// The code this side sent in its close frame (a failure, a local close, a slow consumer).
    public static let slowConsumerCode = WebSocketCloseCode.policyViolation

    // Stored properties are declared widest first so the state packs into 83 bytes (Swift
    // lays them out in declaration order); the binding keeps it inline per connection.
    var deadline: UInt64
    var lastActivity: UInt64
    var parser: WebSocketFrameParser
    public let role: WebSocketRole
    public private(set) var phase: Phase
    var awaitingPong = false
    var windowBits: UInt8 = 0
    /// The code the peer sent (nil if it sent none or has not closed).
    public private(set) var peerCloseCode: WebSocketCloseCode?
    /// The code this side sent, if it sent a close frame.
    public private(set) var localCloseCode: WebSocketCloseCode?
    /// The window bits to compress outgoing messages with (pass to DeflateContext.compress or
    /// PreparedFrame), nil when permessage-deflate was not negotiated.
    public var compressionWindowBits: Int? { windowBits == 0 ? nil : Int(windowBits) }
    /// When `tick` next has something to do (ms, loop clock); nil once closed.
    public var nextDeadline: UInt64? { phase == .closed ? nil : deadline }


    /// A connection whose upgrade is still in progress (server: request not yet answered;
    /// client: 101 not yet received). `tick` closes it after handshakeTimeout.
    public init(role: WebSocketRole, handshakeStartedAt now: UInt64, configuration: WebSocketConfiguration) {
        self.role = role
        phase = .handshaking
        parser = WebSocketFrameParser(role: role)
        deadline = now &+ configuration.handshakeTimeout
        lastActivity = now
    }

    /// A connection that is open already (the handshake happened elsewhere).
    public init(role: WebSocketRole, openedAt now: UInt64, deflate: PerMessageDeflateParameters?,
                configuration: WebSocketConfiguration) {
        self.init(role: role, handshakeStartedAt: now, configuration: configuration)
        handshakeCompleted(deflate: deflate, now: now, configuration: configuration)
    }

    /// The upgrade succeeded: frames flow from now on, and the idle timer starts.
    public mutating func handshakeCompleted(deflate: PerMessageDeflateParameters?, now: UInt64,
                                            configuration: WebSocketConfiguration) {
        guard phase == .handshaking else { return }
        phase = .open
        windowBits = deflate.map { UInt8($0.sendWindowBits(role: role)) } ?? 0
        parser = WebSocketFrameParser(role: role, compression: deflate != nil)
        lastActivity = now
        deadline = now &+ configuration.pingInterval
    }

    public var isOpen: Bool { phase == .open }

    /// Feeds received bytes (see `WebSocketFrameParser.next` for the buffer contract: it is
    /// unmasked in place). Call until `.needMore`. Frames arriving in a phase that takes none
    /// (closing, closed) are consumed silently.
    public mutating func next(_ buffer: UnsafeMutableRawBufferPointer, offset: inout Int, now: UInt64,
                              context: WebSocketContext) -> WebSocketAction {
        while true {
            switch phase {
            case .handshaking, .closeReceived, .closed:
                offset = buffer.count
                return .needMore
            case .open, .closeSent:
                break
            }
            let event = parser.next(buffer, offset: &offset, maxMessageSize: context.configuration.maxMessageSize,
                                    deflate: context.deflate)
            if case .needMore = event { return .needMore }
            lastActivity = now
            switch event {
            case .needMore:
                return .needMore
            case .text(let p):
                if phase == .open { return .text(p) }
            case .binary(let p):
                if phase == .open { return .binary(p) }
            case .ping(let p):
                if phase == .open { return .sendPong(p) }
            case .pong:
                if awaitingPong {
                    awaitingPong = false
                    deadline = now &+ context.configuration.pingInterval
                }
            case .close(let code, _):
                peerCloseCode = code
                if phase == .closeSent {
                    phase = .closed
                    return .closeTransport
                }
                localCloseCode = code
                if role == .server {
                    phase = .closed
                    return .sendClose(code, closeTransportAfterWrite: true)
                }
                phase = .closeReceived
                deadline = now &+ context.configuration.closeTimeout
                return .sendClose(code, closeTransportAfterWrite: false)
            case .failure(let code):
                let wasOpen = phase == .open
                phase = .closed
                if !wasOpen { return .closeTransport }
                localCloseCode = code
                return .sendClose(code, closeTransportAfterWrite: true)
            }
        }
    }

    /// Starts a close from this side (1000 normal, 1001 on shutdown, 1011 on an internal
    /// error, ...). Returns true when the binding must write a close frame with `code` now;
    /// false when there is nothing to send (already closing, or still handshaking, in which
    /// case the phase becomes closed and the binding just closes the transport).
    public mutating func close(code: WebSocketCloseCode, now: UInt64, configuration: WebSocketConfiguration) -> Bool {
        switch phase {
        case .open:
            phase = .closeSent
            localCloseCode = code
            deadline = now &+ configuration.closeTimeout
            return true
        case .handshaking:
            phase = .closed
            return false
        case .closeSent, .closeReceived, .closed:
            return false
        }
    }

    /// The server is shutting down: close with 1001 (see `close`).
    public mutating func shutdown(now: UInt64, configuration: WebSocketConfiguration) -> Bool {
        close(code: .goingAway, now: now, configuration: configuration)
    }

    /// The slow-consumer rule, applied by the binding before queueing `bytes` more when
    /// `queuedBytes` are still unwritten. Past `outboundHardLimit` the connection moves to
    /// closeSent with 1008 and the close timer runs.
    public mutating func admit(bytes: Int, queuedBytes: Int, now: UInt64,
                               configuration: WebSocketConfiguration) -> WebSocketSendDecision {
        guard phase == .open else { return .notOpen }
        if queuedBytes + bytes > configuration.outboundHardLimit {
            _ = close(code: Self.slowConsumerCode, now: now, configuration: configuration)
            return .closeSlowConsumer
        }
        return .send
    }

    /// The transport is gone (EOF, error, or closed by the binding).
    public mutating func transportClosed() {
        phase = .closed
    }

    /// Runs the timers. The binding calls it at or after `nextDeadline` (calling earlier is
    /// harmless and returns `.none`). Liveness counts any frame from the peer, not only pongs.
    public mutating func tick(now: UInt64, configuration: WebSocketConfiguration) -> WebSocketTimerAction {
        guard now >= deadline else { return .none }
        switch phase {
        case .closed:
            return .none
        case .handshaking, .closeSent, .closeReceived:
            phase = .closed
            return .closeTransport
        case .open:
            if awaitingPong {
                let pingSentAt = deadline &- configuration.pongTimeout
                guard lastActivity >= pingSentAt else {
                    phase = .closed
                    return .closeTransport
                }
                awaitingPong = false
            }
            let idleUntil = lastActivity &+ configuration.pingInterval
            if now < idleUntil {
                deadline = idleUntil
                return .none
            }
            awaitingPong = true
            deadline = now &+ configuration.pongTimeout
            return .sendPing
        }
    }
}
