// Randomness from OpenSSL's CSPRNG (seeded from getrandom(2)), for salts and secrets.
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
