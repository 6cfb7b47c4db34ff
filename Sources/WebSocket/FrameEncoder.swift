// Frame encoding (RFC 6455 section 5.2): server frames unmasked, client frames masked.
import CryptoBytes

/// Stateless frame writer. Callers: the binding (any thread; nothing here is shared).
public enum WebSocketFrameEncoder {
    /// The longest header: 2 bytes, 8 bytes of length, 4 bytes of mask key.
    public static let maxHeaderSize = 14

    /// Header bytes for a payload of `payloadCount` bytes.
    @inlinable
    public static func headerSize(payloadCount: Int, masked: Bool) -> Int {
        (payloadCount < 126 ? 2 : payloadCount <= 0xFFFF ? 4 : 10) + (masked ? 4 : 0)
    }

    /// Writes a frame header at `p`, which must have room for `headerSize(...)` bytes, and
    /// returns the number of bytes written. `maskKey` nil makes an unmasked (server) frame;
    /// the key is in wire order read little-endian (see `randomMaskKey`). `compressed` sets
    /// RSV1 and belongs on the first frame of a permessage-deflate message only.
    @inlinable @discardableResult
    public static func writeHeader(
        _ p: UnsafeMutableRawPointer, opcode: WebSocketOpcode, fin: Bool = true,
        compressed: Bool = false, payloadCount: Int, maskKey: UInt32? = nil
    ) -> Int {
        p.storeBytes(of: (fin ? 0x80 : 0) | (compressed ? 0x40 : 0) | opcode.rawValue, as: UInt8.self)
        let maskBit: UInt8 = maskKey == nil ? 0 : 0x80
        var n: Int
        if payloadCount < 126 {
            p.storeBytes(of: maskBit | UInt8(payloadCount), toByteOffset: 1, as: UInt8.self)
            n = 2
        } else if payloadCount <= 0xFFFF {
            p.storeBytes(of: maskBit | 126, toByteOffset: 1, as: UInt8.self)
            p.storeBytes(of: UInt16(payloadCount).bigEndian, toByteOffset: 2, as: UInt16.self)
            n = 4
        } else {
            p.storeBytes(of: maskBit | 127, toByteOffset: 1, as: UInt8.self)
            p.storeBytes(of: UInt64(payloadCount).bigEndian, toByteOffset: 2, as: UInt64.self)
            n = 10
        }
        if let maskKey {
            p.storeBytes(of: maskKey.littleEndian, toByteOffset: n, as: UInt32.self)
            n += 4
        }
        return n
    }

    /// Writes a whole frame (header, then the payload masked when `maskKey` is given) at `p`,
    /// which must have room for `headerSize(...) + payload.count` bytes. Returns bytes written.
    @inlinable @discardableResult
    public static func writeFrame(
        _ p: UnsafeMutableRawPointer, opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer,
        fin: Bool = true, compressed: Bool = false, maskKey: UInt32? = nil
    ) -> Int {
        let h = writeHeader(p, opcode: opcode, fin: fin, compressed: compressed,
                            payloadCount: payload.count, maskKey: maskKey)
        if let base = payload.baseAddress, payload.count > 0 {
            (p + h).copyMemory(from: base, byteCount: payload.count)
            if let maskKey { websocketApplyMask(p + h, payload.count, key: maskKey, phase: 0) }
        }
        return h + payload.count
    }

    /// Appends a whole frame to `out`. `maskKey` nil for server frames; clients pass
    /// `randomMaskKey()` (or use `append(... role:)`).
    public static func append(
        opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer, fin: Bool = true,
        compressed: Bool = false, maskKey: UInt32?, to out: inout [UInt8]
    ) {
        let size = headerSize(payloadCount: payload.count, masked: maskKey != nil) + payload.count
        let start = out.count
        out.append(contentsOf: repeatElement(0, count: size))
        out.withUnsafeMutableBytes { b in
            _ = writeFrame(b.baseAddress.unsafelyUnwrapped + start, opcode: opcode, payload: payload,
                           fin: fin, compressed: compressed, maskKey: maskKey)
        }
    }

    /// Appends a frame as `role` sends it: unmasked for a server, masked with a fresh random
    /// key for a client.
    public static func append(
        opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer, role: WebSocketRole,
        fin: Bool = true, compressed: Bool = false, to out: inout [UInt8]
    ) {
        append(opcode: opcode, payload: payload, fin: fin, compressed: compressed,
               maskKey: role == .client ? randomMaskKey() : nil, to: &out)
    }

    /// Appends a close frame with an optional code and a UTF-8 reason cut to 123 bytes (on a
    /// code point boundary) so the frame stays a legal control frame.
    public static func appendClose(
        code: WebSocketCloseCode?, reason: String = "", role: WebSocketRole, to out: inout [UInt8]
    ) {
        var body: [UInt8] = []
        if let code {
            body.append(UInt8(code.rawValue >> 8))
            body.append(UInt8(code.rawValue & 0xFF))
            var n = 0
            for scalar in reason.unicodeScalars {
                let width = UTF8.width(scalar)
                if n + width > 123 { break }
                n += width
            }
            body.append(contentsOf: reason.utf8.prefix(n))
        }
        body.withUnsafeBytes { append(opcode: .close, payload: $0, role: role, to: &out) }
    }

    /// A mask key from OpenSSL's CSPRNG (RFC 6455 section 5.3 asks for unpredictable keys).
    public static func randomMaskKey() -> UInt32 {
        var key: UInt32 = 0
        withUnsafeMutableBytes(of: &key) { SecureRandom.fill($0) }
        return key
    }
}
