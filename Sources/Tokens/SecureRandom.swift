// Randomness from OpenSSL's CSPRNG (seeded from getrandom(2)), for salts, ids and secrets.
import COpenSSL

public enum SecureRandom {
    /// Returns `count` cryptographically secure random bytes. Thread-safe.
    ///
    /// RAND_bytes fails only when the OS entropy source is unusable. Carrying on would
    /// hand out predictable salts and ids, so that failure stops the process instead of
    /// returning an error every caller would have to get right.
    public static func bytes(_ count: Int) -> [UInt8] {
        precondition(count >= 0, "SecureRandom.bytes: negative count")
        var out = [UInt8](repeating: 0, count: count)
        if count == 0 { return out }
        let ok = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        guard ok == 1 else { fatalError("RAND_bytes failed: no secure randomness available") }
        return out
    }
}

public enum UUIDv4 {
    /// A random (version 4, RFC 9562) UUID in lowercase 8-4-4-4-12 form, e.g. for event ids.
    public static func string() -> String {
        var raw = SecureRandom.bytes(16)
        raw[6] = raw[6] & 0x0F | 0x40   // version 4
        raw[8] = raw[8] & 0x3F | 0x80   // variant 10
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(36)
        for (index, byte) in raw.enumerated() {
            if index == 4 || index == 6 || index == 8 || index == 10 { out.append(UInt8(ascii: "-")) }
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
