// The one wrapper of OpenSSL's byte-level primitives that the protocols and the tokens share:
// SHA-1 (Sec-WebSocket-Accept), random bytes (salts, secrets, WebSocket keys and masks) and
// base64 (the WebSocket handshake's padded standard alphabet; JWT's and the password
// strings' unpadded base64url). Pure functions, any thread.
import COpenSSL

public enum SHA1Digest {
    public static let size = 20

    /// SHA-1 of `bytes` (OpenSSL's one-shot SHA1()). Only for RFC 6455's handshake, which
    /// asks for it: not a security property.
    public static func hash<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        let input = Array(bytes)
        var digest = [UInt8](repeating: 0, count: size)
        _ = input.withUnsafeBufferPointer { i in
            digest.withUnsafeMutableBufferPointer { d in SHA1(i.baseAddress, i.count, d.baseAddress) }
        }
        return digest
    }
}

public enum SecureRandom {
    /// Returns `count` cryptographically secure random bytes (OpenSSL's CSPRNG, seeded from
    /// getrandom(2)). Thread-safe.
    public static func bytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0, "SecureRandom.bytes: negative count")
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { fill($0) }
        return out
    }

    /// Fills `buffer` with cryptographically secure random bytes.
    ///
    /// RAND_bytes fails only when the OS entropy source is unusable. Carrying on would
    /// hand out predictable salts, keys and masks, so that failure stops the process instead
    /// of returning an error every caller would have to get right.
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        let ok = RAND_bytes(base.assumingMemoryBound(to: UInt8.self), Int32(buffer.count))
        guard ok == 1 else { fatalError("RAND_bytes failed: no secure randomness available") }
    }
}

/// Base64 with padding, standard alphabet (RFC 4648 §4): OpenSSL's EVP_EncodeBlock.
public enum Base64 {
    public static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let input = Array(bytes)
        var out = [UInt8](repeating: 0, count: (input.count + 2) / 3 * 4 + 1)
        let n = out.withUnsafeMutableBufferPointer { o in
            input.withUnsafeBufferPointer { i in EVP_EncodeBlock(o.baseAddress, i.baseAddress, Int32(i.count)) }
        }
        return String(decoding: out[0..<Int(max(n, 0))], as: UTF8.self)
    }
}

/// Base64url without padding (RFC 4648 §5), the alphabet of JWT segments and of the encoded
/// password hashes. Pure Swift (OpenSSL has no strict url-safe decoder): one allocation per call.
public enum Base64URL {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// 0...63 for an alphabet byte, 0xFF for anything else (padding '=' included).
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// Encodes `bytes` as unpadded base64url text.
    public static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        String(decoding: encodeBytes(bytes), as: UTF8.self)
    }

    /// Encodes `bytes` as unpadded base64url, returned as ASCII bytes.
    public static func encodeBytes<Bytes: Collection>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var iterator = bytes.makeIterator()
        while let b0 = iterator.next() {
            let b1 = iterator.next()
            let b2 = iterator.next()
            out.append(alphabet[Int(b0 >> 2)])
            out.append(alphabet[Int((b0 & 0x03) << 4 | (b1 ?? 0) >> 4)])
            if let b1 {
                out.append(alphabet[Int((b1 & 0x0F) << 2 | (b2 ?? 0) >> 6)])
                if let b2 { out.append(alphabet[Int(b2 & 0x3F)]) }
            }
        }
        return out
    }

    /// Decodes unpadded base64url text. Strict, so that one byte string has exactly one
    /// encoding: returns nil on padding, on any byte outside the alphabet, on a length of
    /// 1 mod 4, and on non-zero unused bits in the last character.
    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { decode(UnsafeRawBufferPointer($0)) }
    }

    /// Decodes unpadded base64url from raw ASCII bytes; the same rules as `decode(_: String)`.
    public static func decode(_ input: UnsafeRawBufferPointer) -> [UInt8]? {
        let count = input.count
        if count % 4 == 1 { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in input {
            let value = decodeTable[Int(byte)]
            if value == 0xFF { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        // Leftover bits must be zero, or two different strings would decode alike.
        if accumulator != 0 { return nil }
        return out
    }
}
