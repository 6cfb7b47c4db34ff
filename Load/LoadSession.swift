// One client WebSocket connection of the generator, driving the project's codec directly on an
// IOCore TCPConnection (no WebSocket client layer in between: the generator must stay cheaper
// than the servers it measures).
//
// Algorithm: connect (optionally from a source address) -> write the prebuilt GET head ->
// accumulate the response head (at most 8 KiB) -> validate the 101 with
// WebSocketClientHandshake -> frames through WebSocketFrameParser (client role), answering
// pings and closes. Every outcome is reported once to the owner: opened, then either an
// orderly close that this side started or a failure with its cause.
import IOCore
import WebSocket

/// Receives a session's events on the loop thread.
protocol LoadSessionOwner: AnyObject {
    func sessionDidOpen(_ session: LoadSession)
    /// A complete message; `bytes` is valid only during the call.
    func session(_ session: LoadSession, didReceive bytes: UnsafeRawBufferPointer)
    /// The session ended without this side asking: `cause` names why (before or after open).
    func session(_ session: LoadSession, didFail cause: String, wasOpen: Bool)
    /// The close this side started completed (or the transport went away while closing).
    func sessionDidClose(_ session: LoadSession)
}

final class LoadSession: TCPConnectionDelegate {
    enum Phase: UInt8 { case idle, connecting, handshaking, open, closing, done }

    let user: Int
    weak var owner: (any LoadSessionOwner)?
    private(set) var phase = Phase.idle
    private(set) var startedAt: UInt64 = 0
    private(set) var openedAt: UInt64 = 0
    private var connection: TCPConnection?
    private var handshake: WebSocketClientHandshake?
    private var head: [UInt8] = []
    private var parser = WebSocketFrameParser(role: .client)
    /// Scenario data: echo's send time of the message in flight.
    var pendingSince: UInt64 = 0
    /// A cheap per-session mask-key generator (masking only defeats proxy cache poisoning;
    /// a load generator needs no CSPRNG per frame).
    private var maskState: UInt32

    init(user: Int, owner: any LoadSessionOwner) {
        self.user = user
        self.owner = owner
        maskState = UInt32(truncatingIfNeeded: user &* 2_654_435_761) | 1
    }

    static let maxHeadBytes = 8 * 1024

    /// Starts connecting. Loop thread only; `remote`/`source` already parsed.
    func start(loop: EventLoop, remote: SocketAddress, source: SocketAddress?, handshake: WebSocketClientHandshake) {
        phase = .connecting
        startedAt = monotonicNanos()
        self.handshake = handshake
        TCPConnection.connect(on: loop, to: remote, from: source) { [self] result in
            switch result {
            case .failure(let error):
                fail(Self.cause(of: error))
            case .success(let c):
                guard phase == .connecting else { c.close(); return }
                connection = c
                phase = .handshaking
                c.start(delegate: self)
                if let h = self.handshake { _ = c.send(h.requestHead) }
            }
        }
    }

    /// Maps a libuv error to a failure cause.
    static func cause(of error: IOError) -> String {
        switch error.name {
        case "ECONNREFUSED": return "refused"
        case "ETIMEDOUT": return "timeout"
        case "ECONNRESET", "EPIPE": return "reset"
        case "EADDRNOTAVAIL": return "no ephemeral port"
        case "EMFILE", "ENFILE": return "too many open files"
        default: return error.name
        }
    }

    /// Gives up on a connection still connecting or handshaking (the connect timeout).
    func timeOut() {
        guard phase == .connecting || phase == .handshaking else { return }
        fail("timeout")
    }

    /// Sends one masked frame with `payload`. False when not open or the send was refused.
    @discardableResult
    func send(opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer, scratch: UnsafeMutableRawBufferPointer) -> Bool {
        guard phase == .open, let c = connection, let base = scratch.baseAddress else { return false }
        let need = WebSocketFrameEncoder.headerSize(payloadCount: payload.count, masked: true) + payload.count
        guard need <= scratch.count else { return false }
        maskState ^= maskState << 13; maskState ^= maskState >> 17; maskState ^= maskState << 5
        let n = WebSocketFrameEncoder.writeFrame(base, opcode: opcode, payload: payload, maskKey: maskState)
        switch c.send(UnsafeRawBufferPointer(start: base, count: n)) {
        case .refused: return false
        default: return true
        }
    }

    /// Starts the close handshake (1000); the server answers and closes the transport.
    /// A session not yet open is simply dropped (reported as closed).
    func close() {
        switch phase {
        case .open:
            phase = .closing
            var frame: [UInt8] = []
            WebSocketFrameEncoder.appendClose(code: .normal, role: .client, to: &frame)
            _ = connection?.send(frame)
        case .connecting, .handshaking, .idle:
            finish()
        case .closing, .done:
            break
        }
    }

    /// Drops the transport at once (end of the run's close deadline).
    func abort() {
        guard phase != .done else { return }
        finish()
    }

    // MARK: TCPConnectionDelegate (loop thread)

    func connection(_ connection: TCPConnection, didRead bytes: UnsafeRawBufferPointer) {
        if phase == .handshaking {
            head.append(contentsOf: bytes)
            readHead()
            return
        }
        // The read buffer is the loop's scratch: the parser unmasks in place (a no-op for
        // the unmasked server frames) and never writes past `count`.
        frames(UnsafeMutableRawBufferPointer(mutating: bytes))
    }

    func connectionDidReadEOF(_ connection: TCPConnection) {
        if phase == .closing { finish() } else { fail("closed by server") }
    }

    func connectionDidClose(_ connection: TCPConnection, error: IOError?) {
        self.connection = nil
        if phase == .closing { finish(); return }
        if phase != .done { fail(error.map(Self.cause(of:)) ?? "closed by server") }
    }

    // MARK: internals

    private func readHead() {
        guard let end = headEnd() else {
            if head.count > Self.maxHeadBytes { fail("handshake malformed") }
            return
        }
        guard let response = ResponseHead(head[..<end]), let handshake else { fail("handshake malformed"); return }
        switch handshake.validate(status: response.status, headers: response.headers) {
        case .failure:
            fail(response.status == 101 ? "handshake invalid" : "status \(response.status)")
            return
        case .success(let accept):
            parser = WebSocketFrameParser(role: .client, compression: accept.deflate != nil)
        }
        self.handshake = nil
        openedAt = monotonicNanos()
        phase = .open
        let rest = Array(head[end...])
        head = []
        owner?.sessionDidOpen(self)
        if !rest.isEmpty, phase == .open {
            var copy = rest
            copy.withUnsafeMutableBytes { frames($0) }
        }
    }

    private func headEnd() -> Int? {
        guard head.count >= 4 else { return nil }
        var i = 3
        while i < head.count {
            if head[i] == 10, head[i - 1] == 13, head[i - 2] == 10, head[i - 3] == 13 { return i + 1 }
            i += 1
        }
        return nil
    }

    private func frames(_ buffer: UnsafeMutableRawBufferPointer) {
        var offset = 0
        while phase == .open || phase == .closing {
            switch parser.next(buffer, offset: &offset, maxMessageSize: 64 << 20) {
            case .needMore:
                return
            case .text(let p), .binary(let p):
                if phase == .open { owner?.session(self, didReceive: p) }
            case .ping(let p):
                var pong: [UInt8] = []
                WebSocketFrameEncoder.append(opcode: .pong, payload: p, maskKey: WebSocketFrameEncoder.randomMaskKey(), to: &pong)
                _ = connection?.send(pong)
            case .pong:
                break
            case .close(let code, _):
                if phase == .closing { finish(); return }
                var frame: [UInt8] = []
                WebSocketFrameEncoder.appendClose(code: code, role: .client, to: &frame)
                _ = connection?.send(frame)
                fail("closed by server")
                return
            case .failure:
                fail("protocol error")
                return
            }
        }
    }

    private func fail(_ cause: String) {
        guard phase != .done else { return }
        let wasOpen = phase == .open || phase == .closing
        phase = .done
        handshake = nil
        connection?.close()
        connection = nil
        owner?.session(self, didFail: cause, wasOpen: wasOpen)
    }

    private func finish() {
        guard phase != .done else { return }
        phase = .done
        handshake = nil
        connection?.close()
        connection = nil
        owner?.sessionDidClose(self)
    }
}
