// One WebSocket connection on the I/O core: the codec's connection state inline, the read path
// from the loop's shared read buffer, the close handshake's transport side, and the timers
// applied by the owner's sweep. Sends are in WebSocketConnection+Send.swift.
import IOCore
import WebSocket

/// Receives one connection's events, always on its loop's thread. The connection holds its
/// handler strongly until `webSocketDidClose`, then drops it (a session that holds its
/// connection forms a cycle that the close breaks).
public protocol WebSocketHandler: AnyObject {
    /// The connection is open: a server's 101 is queued, or a client's 101 was checked.
    /// Called once, before any message. The default does nothing.
    func webSocketDidOpen(_ connection: WebSocketConnection)
    /// A complete text message, UTF-8 already validated. `text` is valid only during the call
    /// (it points into the loop's read buffer, a reassembly buffer, or the loop's inflate
    /// output): copy what must outlive it. Sending from inside the call is fine.
    func webSocket(_ connection: WebSocketConnection, didReceiveText text: UnsafeRawBufferPointer)
    /// A complete binary message; same lifetime rule as text.
    func webSocket(_ connection: WebSocketConnection, didReceiveBinary data: UnsafeRawBufferPointer)
    /// The transport is closed; called exactly once, last. `code` is the peer's close code,
    /// else the code this side sent, else nil (the connection ended without a close frame:
    /// 1006 in RFC 6455 terms).
    func webSocketDidClose(_ connection: WebSocketConnection, code: WebSocketCloseCode?)
    /// Queued bytes fell to the low watermark after a send returned `.backpressure`. The
    /// default does nothing.
    func webSocketDidBecomeWritable(_ connection: WebSocketConnection)
}

extension WebSocketHandler {
    public func webSocketDidOpen(_ connection: WebSocketConnection) {}
    public func webSocketDidBecomeWritable(_ connection: WebSocketConnection) {}
}

/// What a send did.
public enum WebSocketSendStatus: Equatable, Sendable {
    /// Written to the kernel, or queued below the high watermark.
    case sent
    /// Queued, but the queue is above the high watermark: slow down until
    /// `webSocketDidBecomeWritable`.
    case backpressure
    /// Not sent: the connection is closing or closed, or this send pushed it past the
    /// outbound hard limit and it is now being closed as a slow consumer (1008).
    case closed
    /// Not sent: a compressed PreparedFrame to a connection that did not negotiate
    /// permessage-deflate with a window at least as large, or a PreparedFrame (an unmasked
    /// server frame) on a client connection.
    case incompatible
}

/// A WebSocket connection, server or client role. Loop-bound (non-Sendable): every method runs
/// on its loop's thread. Created by `WebSocketServer` (on an accepted upgrade) or
/// `WebSocketClient` (on connect); lives until `webSocketDidClose`.
///
/// Memory: this object (152 bytes, a 160-byte glibc chunk: the codec's 83-byte state inline,
/// the TCP handle reference, the hub, the handler and a linger deadline) plus the
/// TCPConnection's one allocation; no buffer while idle, no timer of its own, no slot in any
/// list (the hub's sweep walks the loop's handles). A client's handshake state lives in the
/// hub while the handshake runs.
public final class WebSocketConnection: TCPConnectionDelegate {
    /// The socket. Sending raw bytes on it would corrupt the stream; use the send methods.
    public let tcp: TCPConnection
    let hub: WebSocketHub
    var handler: (any WebSocketHandler)?
    /// After our last frame: close the transport at this time even if the peer never sends
    /// EOF (0: none).
    var lingerUntil: UInt64 = 0
    /// Counted by the hub (between `add` and `remove`).
    var inHub = false
    /// A client handshake is in progress: its state is in `hub.pendingClients`.
    var clientHandshaking = false
    // Last: the state's 8-byte fields align right after the one-byte flags above.
    var state: WebSocketConnectionState

    /// A client's opening handshake while it is in progress; nil otherwise. Kept in the hub,
    /// keyed by this object, so server connections carry no field for it.
    var pending: WebSocketClientPending? {
        get { clientHandshaking ? hub.pendingClients[ObjectIdentifier(self)] : nil }
        set {
            if let newValue {
                hub.pendingClients[ObjectIdentifier(self)] = newValue
                clientHandshaking = true
            } else if clientHandshaking {
                hub.pendingClients[ObjectIdentifier(self)] = nil
                clientHandshaking = false
            }
        }
    }

    init(tcp: TCPConnection, hub: WebSocketHub, state: WebSocketConnectionState, handler: any WebSocketHandler) {
        self.tcp = tcp
        self.hub = hub
        self.state = state
        self.handler = handler
        // The codec's slow-consumer rule decides first; the socket's own hard limit sits just
        // above it so the 1008 close frame still fits behind a full queue.
        let hard = min(hub.configuration.outboundHardLimit + 4096, 65_535 * 1024)
        var limits = tcp.writeLimits
        if limits.hardLimit < hard {
            limits.hardLimit = hard
            limits.highWatermark = min(limits.highWatermark, hard)
            tcp.writeLimits = limits
        }
    }

    public var role: WebSocketRole { state.role }
    /// True while messages may be sent and received.
    public var isOpen: Bool { state.isOpen && tcp.isOpen }
    /// The codec's phase (handshaking, open, closeSent, closeReceived, closed).
    public var phase: WebSocketConnectionState.Phase { state.phase }
    /// The code the peer sent in its close frame, if any.
    public var peerCloseCode: WebSocketCloseCode? { state.peerCloseCode }
    /// The code this side sent in its close frame, if any.
    public var localCloseCode: WebSocketCloseCode? { state.localCloseCode }
    /// Whether permessage-deflate was negotiated.
    public var isCompressionNegotiated: Bool { state.compressionWindowBits != nil }
    /// Bytes accepted by sends and not yet written to the kernel.
    public var queuedBytes: Int { tcp.queuedBytes }
    /// The server's `applicationData` (nil for client connections).
    public var applicationData: AnyObject? { hub.applicationData }

    /// Replaces the handler (e.g. once an asynchronous authentication finished).
    public func setHandler(_ handler: any WebSocketHandler) {
        if tcp.isOpen || self.handler != nil { self.handler = handler }
    }

    // MARK: TCPConnectionDelegate (loop thread, from IOCore)

    /// Contract with IOCore: `bytes` points into the loop's shared read buffer, which the loop
    /// owns, allocated writable, and does not touch again until this call returns. The codec
    /// unmasks in place, so the pointer is converted with `UnsafeMutableRawBufferPointer(mutating:)`;
    /// nothing here keeps it beyond the call (message payloads are handed to the handler
    /// during it).
    public func connection(_ connection: TCPConnection, didRead bytes: UnsafeRawBufferPointer) {
        if clientHandshaking {
            clientHandshakeRead(bytes)
            return
        }
        feed(UnsafeMutableRawBufferPointer(mutating: bytes))
    }

    public func connectionDidReadEOF(_ connection: TCPConnection) {
        // The peer will send nothing more: a WebSocket without its read side is over. Let
        // an unwritten close frame drain (bounded by the linger deadline), else close now.
        if tcp.queuedBytes == 0 {
            tcp.close()
        } else {
            closeTransportGracefully()
        }
    }

    public func connectionDidBecomeWritable(_ connection: TCPConnection) {
        handler?.webSocketDidBecomeWritable(self)
    }

    public func connectionDidClose(_ connection: TCPConnection, error: IOError?) {
        state.transportClosed()
        hub.remove(self)
        if let pending {
            self.pending = nil
            handler = nil
            pending.completion(.failure(pending.timedOut ? .timeout : .closed(error)))
            return
        }
        let handler = self.handler
        self.handler = nil
        handler?.webSocketDidClose(self, code: state.peerCloseCode ?? state.localCloseCode)
    }

    // MARK: read path

    /// Feeds received bytes to the codec and performs its actions. `buffer` is writable
    /// scratch (the loop's read buffer or a private copy) consumed entirely by this call.
    func feed(_ buffer: UnsafeMutableRawBufferPointer) {
        var offset = 0
        let now = hub.loop.nowMilliseconds
        while true {
            switch state.next(buffer, offset: &offset, now: now, context: hub.context) {
            case .needMore:
                return
            case .text(let text):
                hub.counters.messagesIn += 1
                handler?.webSocket(self, didReceiveText: text)
            case .binary(let data):
                hub.counters.messagesIn += 1
                handler?.webSocket(self, didReceiveBinary: data)
            case .sendPong(let payload):
                writeControl(.pong, payload)
            case .sendClose(let code, let closeTransportAfterWrite):
                writeClose(code, reason: "")
                if closeTransportAfterWrite { closeTransportGracefully() }
            case .closeTransport:
                closeTransportGracefully()
            }
        }
    }

    // MARK: closing

    /// Starts the close handshake with `code` (1000 by default) and a UTF-8 `reason` (cut to
    /// 123 bytes). The peer's answer, or the close timeout, ends the connection. A connection
    /// still handshaking is simply closed. Idempotent.
    public func close(code: WebSocketCloseCode = .normal, reason: String = "") {
        if state.close(code: code, now: hub.loop.nowMilliseconds, configuration: hub.configuration) {
            writeClose(code, reason: reason)
        } else if state.phase == .closed, pending != nil {
            tcp.close()
        }
    }

    /// Closes the transport at once, without a close frame (the peer sees 1006).
    public func abort() { tcp.close() }

    /// The handshake is over (or the peer failed it): send FIN once every queued byte is out
    /// and close on the peer's EOF, or at the close timeout at the latest.
    func closeTransportGracefully() {
        guard tcp.isOpen else { return }
        tcp.shutdown()
        if lingerUntil == 0 { lingerUntil = hub.loop.nowMilliseconds &+ hub.configuration.closeTimeout }
    }

    // MARK: timers (from the hub's sweep)

    func sweep(now: UInt64) {
        if lingerUntil != 0, now >= lingerUntil {
            tcp.close()
            return
        }
        guard let deadline = state.nextDeadline, now >= deadline else { return }
        switch state.tick(now: now, configuration: hub.configuration) {
        case .none:
            break
        case .sendPing:
            writeControl(.ping, UnsafeRawBufferPointer(start: nil, count: 0))
        case .closeTransport:
            pending?.timedOut = true
            tcp.close()
        }
    }
}
