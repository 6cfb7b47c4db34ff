// HMAC-SHA256 and constant-time comparison: the two primitives JWT and Password stand on.
import COpenSSL

public enum ConstantTime {
    /// True when `a` and `b` hold the same bytes. The time taken depends only on the
    /// lengths (which are public: a MAC or a derived key has a fixed size), never on where
    /// the first difference is, so an attacker cannot find a valid MAC byte by byte.
    public static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in CRYPTO_memcmp(pa.baseAddress, pb.baseAddress, pa.count) == 0 }
        }
    }
}

public enum HMACSHA256 {
    public static let size = 32

    /// HMAC-SHA256 of `data` under `key`, through OpenSSL's one-shot HMAC(). Thread-safe.
    public static func mac(key: [UInt8], data: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size)
        var length: UInt32 = 0
        let result = key.withUnsafeBytes { k in
            out.withUnsafeMutableBufferPointer { o in
                HMAC(EVP_sha256(), k.baseAddress, Int32(k.count),
                     data.baseAddress?.assumingMemoryBound(to: UInt8.self), data.count,
                     o.baseAddress, &length)
            }
        }
        // HMAC() fails only on allocation failure inside OpenSSL; a MAC of zeros would
        // be a forgeable constant, so that is not something to return.
        guard result != nil, length == UInt32(size) else { fatalError("HMAC-SHA256 failed inside OpenSSL") }
        return out
    }

    public static func mac(key: [UInt8], data: [UInt8]) -> [UInt8] {
        data.withUnsafeBytes { mac(key: key, data: $0) }
    }
}
