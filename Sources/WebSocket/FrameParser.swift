// The frame parser: bytes in, events out, no sockets (RFC 6455 section 5, RFC 7692 section 6).

/// What the parser found. Payload pointers are valid until the next call to `next` on the same
/// parser (they point into the caller's buffer, into the parser's reassembly buffer, or into
/// the loop's DeflateContext output), so the binding must use or copy them before calling again.
public enum WebSocketFrameEvent {
    /// Every byte of the buffer has been consumed; call again with the next read.
    case needMore
    /// A complete text message, already checked to be UTF-8.
    case text(UnsafeRawBufferPointer)
    /// A complete binary message.
    case binary(UnsafeRawBufferPointer)
    /// A ping; the binding answers with a pong carrying the same payload.
    case ping(UnsafeRawBufferPointer)
    /// A pong (solicited or not).
    case pong(UnsafeRawBufferPointer)
    /// A valid close frame: `code` is nil when the frame had no body (report 1005 upward);
    /// `reason` is UTF-8.
    case close(code: WebSocketCloseCode?, reason: UnsafeRawBufferPointer)
    /// The peer broke the protocol: send a close frame with this code (1002, 1007, 1009, or
    /// 1011 when compressed data arrives without a DeflateContext) and close the transport.
    /// The parser then ignores all further input.
    case failure(WebSocketCloseCode)
}

/// A per-connection frame parser. A small value type (under 100 bytes) that holds no buffer
/// while idle: a frame whose header and payload are both inside the buffer passed to `next`
/// is unmasked in place and delivered from that buffer without any allocation. Only a message
/// that spans reads or fragments is copied into a reassembly buffer, released once delivered.
///
/// Called only on the connection's loop thread. Not Sendable by design of its contents.
public struct WebSocketFrameParser {
    // Declared widest first so the struct packs into 56 bytes (Swift lays stored properties
    // out in declaration order); the connection keeps it inline, per idle connection.
    @usableFromInline var stash: (UInt64, UInt64) = (0, 0)
    @usableFromInline var remaining = 0
    @usableFromInline var message: ByteAccumulator?
    @usableFromInline var control: ByteAccumulator?
    @usableFromInline var maskKey: UInt32 = 0
    @usableFromInline let role: WebSocketRole
    @usableFromInline var compression: Bool
    @usableFromInline var stage: Stage = .header
    @usableFromInline var headerCount: UInt8 = 0
    @usableFromInline var opcode: UInt8 = 0
    @usableFromInline var fin = false
    @usableFromInline var masked = false
    @usableFromInline var phase: UInt8 = 0
    @usableFromInline var messageOpcode: UInt8 = 0
    @usableFromInline var messageCompressed = false
    @usableFromInline var utf8 = UTF8Validator()
    /// Which accumulator holds the payload reported by the last call (kept alive until the
    /// next call, which drops it): 0 none, 1 `message`, 2 `control`. A flag rather than a
    /// third reference: 8 bytes less per connection.
    @usableFromInline var delivered: UInt8 = 0

    @usableFromInline enum Stage: UInt8 { case header, payload, failed }

    /// `compression`: permessage-deflate was negotiated, so RSV1 marks a compressed message.
    public init(role: WebSocketRole, compression: Bool = false) {
        self.role = role
        self.compression = compression
    }

    /// True while a fragmented message is partly received.
    public var isInsideMessage: Bool { messageOpcode != 0 }

    /// Parses from `buffer[offset...]`, advancing `offset`, until it has one event to report.
    /// Masked payloads are unmasked in place, so `buffer` must be writable scratch the caller
    /// owns (the loop's read buffer). Call repeatedly until `.needMore`; by then the whole
    /// buffer is consumed and may be reused. `maxMessageSize` bounds a message after
    /// reassembly and after decompression; `deflate` is required when compression was negotiated.
    public mutating func next(
        _ buffer: UnsafeMutableRawBufferPointer, offset: inout Int,
        maxMessageSize: Int, deflate: DeflateContext? = nil
    ) -> WebSocketFrameEvent {
        if delivered != 0 {
            if delivered == 1 { message = nil } else { control = nil }
            delivered = 0
        }
        guard let base = buffer.baseAddress else { return .needMore }
        let end = buffer.count
        while true {
            switch stage {
            case .failed:
                offset = end
                return .needMore
            case .header:
                let available = end - offset
                if available == 0 { return .needMore }
                if headerCount == 0 && available >= 2 {
                    let h = base + offset
                    let b1 = h.load(fromByteOffset: 1, as: UInt8.self)
                    if let code = validateStart(h.load(as: UInt8.self), b1) { return fail(code) }
                    let size = Self.headerSize(b1)
                    if available >= size {
                        offset += size
                        if let event = beginFrame(UnsafeRawPointer(h), base, &offset, end, maxMessageSize, deflate) {
                            return event
                        }
                        continue
                    }
                }
                // A split header: stash what is here (at least one byte), then go round again.
                if let event = stashHeader(base, &offset, end, maxMessageSize, deflate) { return event }
            case .payload:
                let n = min(remaining, end - offset)
                if n == 0 && remaining > 0 { return .needMore }
                let p = base + offset
                offset += n
                if let event = payloadChunk(p, n, maxMessageSize, deflate) { return event }
            }
        }
    }

    @inlinable static func headerSize(_ b1: UInt8) -> Int {
        let len7 = b1 & 0x7F
        return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (b1 & 0x80 != 0 ? 4 : 0)
    }

    // Checks everything the first two bytes decide, so a bad frame fails before its payload.
    @usableFromInline func validateStart(_ b0: UInt8, _ b1: UInt8) -> WebSocketCloseCode? {
        let op = b0 & 0x0F
        let rsv = b0 & 0x70
        let isControl = op & 0x08 != 0
        switch op {
        case 0x0:
            if messageOpcode == 0 { return .protocolError }
        case 0x1, 0x2:
            if messageOpcode != 0 { return .protocolError }
        case 0x8, 0x9, 0xA:
            if b0 & 0x80 == 0 || b1 & 0x7F > 125 { return .protocolError }
        default:
            return .protocolError
        }
        if rsv != 0 {
            // RSV1 is permessage-deflate's "compressed" bit, valid on a message's first frame only.
            if rsv != 0x40 || !compression || isControl || op == 0 { return .protocolError }
        }
        let isMasked = b1 & 0x80 != 0
        if isMasked != (role == .server) { return .protocolError }
        return nil
    }

    // Copies a header that straddles reads into `stash`; parses it once complete.
    @usableFromInline mutating func stashHeader(
        _ base: UnsafeMutableRawPointer, _ offset: inout Int, _ end: Int,
        _ maxMessageSize: Int, _ deflate: DeflateContext?
    ) -> WebSocketFrameEvent? {
        var headerReady = false
        var failure: WebSocketCloseCode?
        var stashCopy = stash
        var count = Int(headerCount)
        withUnsafeMutableBytes(of: &stashCopy) { s in
            while offset < end {
                let need = count < 2 ? 2 : Self.headerSize(s[1])
                let take = min(need - count, end - offset)
                s.baseAddress.unsafelyUnwrapped.advanced(by: count).copyMemory(from: base + offset, byteCount: take)
                count += take
                offset += take
                if count == 2 {
                    if let code = validateStart(s[0], s[1]) { failure = code; return }
                    if Self.headerSize(s[1]) > 2 { continue }
                }
                if count >= 2 && count == Self.headerSize(s[1]) { headerReady = true; return }
            }
        }
        stash = stashCopy
        headerCount = UInt8(count)
        if let code = failure { return fail(code) }
        guard headerReady else { return nil }
        headerCount = 0
        let event = withUnsafeBytes(of: &stashCopy) { s in
            beginHeader(s.baseAddress.unsafelyUnwrapped, maxMessageSize)
        }
        if let event { return event }
        // The payload begins in the caller's buffer.
        return startPayload(base, &offset, end, maxMessageSize, deflate)
    }

    // Parses a complete header at `h`, then starts the payload that begins at `offset`.
    @usableFromInline mutating func beginFrame(
        _ h: UnsafeRawPointer, _ base: UnsafeMutableRawPointer, _ offset: inout Int, _ end: Int,
        _ maxMessageSize: Int, _ deflate: DeflateContext?
    ) -> WebSocketFrameEvent? {
        if let event = beginHeader(h, maxMessageSize) { return event }
        return startPayload(base, &offset, end, maxMessageSize, deflate)
    }

    // Decodes length and mask from a complete, already validated header.
    @usableFromInline mutating func beginHeader(_ h: UnsafeRawPointer, _ maxMessageSize: Int) -> WebSocketFrameEvent? {
        let b0 = h.load(as: UInt8.self)
        let b1 = h.load(fromByteOffset: 1, as: UInt8.self)
        var pos = 2
        var length = Int(b1 & 0x7F)
        if length == 126 {
            length = Int(UInt16(bigEndian: h.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
            pos = 4
            if length < 126 { return fail(.protocolError) }
        } else if length == 127 {
            let wide = UInt64(bigEndian: h.loadUnaligned(fromByteOffset: 2, as: UInt64.self))
            pos = 10
            if wide >> 63 != 0 || wide <= 0xFFFF { return fail(.protocolError) }
            length = Int(truncatingIfNeeded: wide)
        }
        masked = b1 & 0x80 != 0
        maskKey = masked ? UInt32(littleEndian: h.loadUnaligned(fromByteOffset: pos, as: UInt32.self)) : 0
        opcode = b0 & 0x0F
        fin = b0 & 0x80 != 0
        phase = 0
        remaining = length
        if opcode & 0x08 == 0 {
            if opcode != 0 {
                messageOpcode = opcode
                messageCompressed = b0 & 0x40 != 0
                utf8 = UTF8Validator()
            }
            let limit = messageCompressed ? maxMessageSize + maxMessageSize / 256 + 64 : maxMessageSize
            if length > limit - (message?.count ?? 0) { return fail(.messageTooBig) }
        }
        return nil
    }

    // Right after a header: takes the zero-copy path when the whole payload is in the buffer
    // and completes a message or control frame; otherwise enters the payload stage.
    @usableFromInline mutating func startPayload(
        _ base: UnsafeMutableRawPointer, _ offset: inout Int, _ end: Int,
        _ maxMessageSize: Int, _ deflate: DeflateContext?
    ) -> WebSocketFrameEvent? {
        let whole = remaining <= end - offset
        let isControl = opcode & 0x08 != 0
        if whole && (isControl || (fin && opcode != 0)) {
            let p = base + offset
            let n = remaining
            offset += n
            remaining = 0
            if masked { websocketApplyMask(p, n, key: maskKey, phase: 0) }
            stage = .header
            let bytes = UnsafeRawBufferPointer(start: p, count: n)
            if isControl { return controlFrame(bytes) }
            return completeMessage(bytes, validated: false, maxMessageSize, deflate)
        }
        stage = .payload
        if remaining == 0 { return payloadChunk(base + offset, 0, maxMessageSize, deflate) }
        return nil
    }

    // One piece of the current frame's payload (possibly empty, possibly the last).
    @usableFromInline mutating func payloadChunk(
        _ p: UnsafeMutableRawPointer, _ n: Int, _ maxMessageSize: Int, _ deflate: DeflateContext?
    ) -> WebSocketFrameEvent? {
        if masked && n > 0 {
            websocketApplyMask(p, n, key: maskKey, phase: Int(phase))
            phase = UInt8(truncatingIfNeeded: (Int(phase) + n) & 3)
        }
        remaining -= n
        let frameDone = remaining == 0
        if frameDone { stage = .header }
        if opcode & 0x08 != 0 {
            if frameDone && control == nil {
                return controlFrame(UnsafeRawBufferPointer(start: p, count: n))
            }
            let buffer = control ?? ByteAccumulator(capacity: 125)
            control = buffer
            buffer.append(p, n)
            guard frameDone else { return nil }
            delivered = 2  // `control` is dropped at the next call
            return controlFrame(buffer.bytes)
        }
        if messageOpcode == WebSocketOpcode.text.rawValue && !messageCompressed && n > 0 {
            if !utf8.consume(p, n) { return fail(.invalidPayload) }
        }
        let buffer = message ?? ByteAccumulator(capacity: min(n + remaining, maxMessageSize))
        message = buffer
        buffer.append(p, n)
        guard frameDone && fin else { return nil }
        delivered = 1  // `message` is dropped at the next call
        return completeMessage(buffer.bytes, validated: true, maxMessageSize, deflate)
    }

    // A whole message: decompress if needed, check UTF-8 for text, report it. `validated`:
    // the (uncompressed) bytes already went through `utf8` piece by piece.
    @usableFromInline mutating func completeMessage(
        _ bytes: UnsafeRawBufferPointer, validated: Bool, _ maxMessageSize: Int, _ deflate: DeflateContext?
    ) -> WebSocketFrameEvent {
        let isText = messageOpcode == WebSocketOpcode.text.rawValue
        let wasCompressed = messageCompressed
        messageOpcode = 0
        messageCompressed = false
        var payload = bytes
        if wasCompressed {
            guard let deflate else { return fail(.internalError) }
            switch deflate.decompress(bytes, maxSize: maxMessageSize) {
            case .ok(let out): payload = out
            case .tooBig: return fail(.messageTooBig)
            case .invalid: return fail(.invalidPayload)
            }
            if isText && !UTF8Validator.isValid(payload) { return fail(.invalidPayload) }
        } else if isText {
            if !validated, let p = payload.baseAddress, !utf8.consume(p, payload.count) {
                return fail(.invalidPayload)
            }
            if !utf8.isComplete { return fail(.invalidPayload) }
        }
        return isText ? .text(payload) : .binary(payload)
    }

    @usableFromInline mutating func controlFrame(_ bytes: UnsafeRawBufferPointer) -> WebSocketFrameEvent {
        switch opcode {
        case WebSocketOpcode.ping.rawValue:
            return .ping(bytes)
        case WebSocketOpcode.pong.rawValue:
            return .pong(bytes)
        default:
            if bytes.count == 0 { return .close(code: nil, reason: bytes) }
            if bytes.count == 1 { return fail(.protocolError) }
            let code = WebSocketCloseCode(rawValue: UInt16(bytes[0]) << 8 | UInt16(bytes[1]))
            if !code.isValidReceived { return fail(.protocolError) }
            let reason = UnsafeRawBufferPointer(rebasing: bytes[2...])
            if !UTF8Validator.isValid(reason) { return fail(.invalidPayload) }
            return .close(code: code, reason: reason)
        }
    }

    @usableFromInline mutating func fail(_ code: WebSocketCloseCode) -> WebSocketFrameEvent {
        stage = .failed
        message = nil
        control = nil
        delivered = 0
        return .failure(code)
    }
}
