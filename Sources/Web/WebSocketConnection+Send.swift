// The write side of a WebSocketConnection: messages (compressed when negotiated), prepared
// fan-out frames with no copy, control frames, and the slow-consumer rule.
import IOCore
import WebSocket

extension WebSocketConnection {
    /// Sends a text message. Loop thread only.
    @discardableResult
    public func send(text: String) -> WebSocketSendStatus {
        var text = text
        return text.withUTF8 { sendMessage(.text, UnsafeRawBufferPointer($0)) }
    }

    /// Sends a text message from bytes that must be valid UTF-8 (e.g. a received text being
    /// echoed); they may be reused as soon as this returns.
    @discardableResult
    public func send(text bytes: UnsafeRawBufferPointer) -> WebSocketSendStatus {
        sendMessage(.text, bytes)
    }

    /// Sends a binary message; the bytes may be reused as soon as this returns.
    @discardableResult
    public func send(binary bytes: UnsafeRawBufferPointer) -> WebSocketSendStatus {
        sendMessage(.binary, bytes)
    }

    @discardableResult
    public func send(binary bytes: [UInt8]) -> WebSocketSendStatus {
        bytes.withUnsafeBytes { sendMessage(.binary, $0) }
    }

    /// Sends a frame encoded once for many connections. A frame made with
    /// `PreparedFrame.shared(...)` (storage in IOCore's SharedBytes) is never copied: the kernel
    /// takes it, or the socket queue keeps a reference. Other frames are copied only when the
    /// kernel does not take them at once. Server connections only (the frame is unmasked).
    @discardableResult
    public func send(_ frame: PreparedFrame) -> WebSocketSendStatus {
        guard state.role == .server else { return .incompatible }
        if frame.isCompressed {
            guard let bits = state.compressionWindowBits, bits >= frame.windowBits else { return .incompatible }
        }
        guard admit(frame.count) else { return .closed }
        let status: SendStatus
        if let shared = frame.storageOwner as? SharedBytes {
            status = tcp.send(shared)
        } else {
            status = frame.withUnsafeBytes { tcp.send($0) }
        }
        return completed(status)
    }

    /// Sends the variant of a fan-out message this connection can take: the compressed frame
    /// when it negotiated permessage-deflate with a large enough window, else the plain one.
    @discardableResult
    public func send(_ message: WebSocketPreparedMessage) -> WebSocketSendStatus {
        if let compressed = message.compressed, state.role == .server,
           let bits = state.compressionWindowBits, bits >= compressed.windowBits {
            return send(compressed)
        }
        return send(message.plain)
    }

    // MARK: internals

    func sendMessage(_ opcode: WebSocketOpcode, _ payload: UnsafeRawBufferPointer) -> WebSocketSendStatus {
        guard state.isOpen, tcp.isOpen else { return .closed }
        var body = payload
        var compressed = false
        if let bits = state.compressionWindowBits, payload.count >= hub.compressionThreshold,
           let deflated = hub.compress(payload, windowBits: bits) {
            body = deflated
            compressed = true
        }
        let size = WebSocketFrameEncoder.headerSize(payloadCount: body.count, masked: state.role == .client) + body.count
        guard admit(size) else { return .closed }
        let frame = hub.frame(opcode: opcode, payload: body, compressed: compressed, role: state.role)
        let status = completed(tcp.send(frame))
        if size > WebSocketHub.defaultScratch { hub.trimScratch() }
        return status
    }

    /// The slow-consumer rule before a data frame of `size` bytes: false when the message must
    /// be dropped (not open, or the queue would pass the hard limit, in which case the 1008
    /// close frame is queued and the close timeout bounds the rest).
    func admit(_ size: Int) -> Bool {
        switch state.admit(bytes: size, queuedBytes: tcp.queuedBytes, now: hub.loop.nowMilliseconds,
                           configuration: hub.configuration) {
        case .send:
            return true
        case .notOpen:
            return false
        case .closeSlowConsumer:
            hub.counters.slowConsumerCloses += 1
            writeClose(WebSocketConnectionState.slowConsumerCode, reason: "slow consumer")
            return false
        }
    }

    func completed(_ status: SendStatus) -> WebSocketSendStatus {
        switch status {
        case .written, .queued:
            hub.counters.messagesOut += 1
            return .sent
        case .backpressure:
            hub.counters.messagesOut += 1
            return .backpressure
        case .refused:
            // The socket's hard limit sits above the codec's, so only a misconfigured limit
            // lands here: treat it as the slow consumer it is.
            hub.counters.slowConsumerCloses += 1
            tcp.close()
            return .closed
        case .closed:
            return .closed
        }
    }

    /// Writes a ping or pong (payload at most 125 bytes; the codec guarantees it).
    func writeControl(_ opcode: WebSocketOpcode, _ payload: UnsafeRawBufferPointer) {
        let frame = hub.frame(opcode: opcode, payload: payload, compressed: false, role: state.role)
        if tcp.send(frame) == .refused { tcp.close() }
    }

    /// Writes a close frame: `code` and a reason cut to 123 bytes on a code point boundary,
    /// or an empty body when `code` is nil (the echo of a close that had none).
    func writeClose(_ code: WebSocketCloseCode?, reason: String) {
        var body: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let frame = withUnsafeMutableBytes(of: &body) { raw -> UnsafeRawBufferPointer in
            var n = 0
            if let code {
                raw[0] = UInt8(code.rawValue >> 8)
                raw[1] = UInt8(code.rawValue & 0xFF)
                n = 2
                var utf8 = reason.utf8.makeIterator()
                var width = 0
                for scalar in reason.unicodeScalars {
                    width = UTF8.width(scalar)
                    if n + width > 125 { break }
                    for _ in 0..<width { if let b = utf8.next() { raw[n] = b; n += 1 } }
                }
            }
            return hub.frame(opcode: .close, payload: UnsafeRawBufferPointer(rebasing: raw[0..<n]), compressed: false,
                             role: state.role)
        }
        if tcp.send(frame) == .refused { tcp.close() }
    }
}
