// Password hashing with scrypt (OpenSSL EVP_PBE_scrypt). Encoded form, one string per
// user row: `scrypt$N$r$p$salt$hash` with N, r, p in decimal and salt (16 bytes) and hash
// (32 bytes) in unpadded base64url. Hashing at the default cost takes ~0.3-0.5 s and
// 128 MiB: callers run it off the loop threads (a worker pool), never on a loop.
import CryptoBytes
import COpenSSL

public struct ScryptParameters: Sendable, Equatable {
    /// CPU/memory cost, a power of two.
    public var n: UInt64
    /// Block size.
    public var r: UInt64
    /// Parallelism.
    public var p: UInt64

    public init(n: UInt64, r: UInt64, p: UInt64) {
        self.n = n
        self.r = r
        self.p = p
    }

    /// OWASP's recommendation: N=2^17, r=8, p=1 (128 MiB per hash).
    public static let standard = ScryptParameters(n: 1 << 17, r: 8, p: 1)

    /// Bytes scrypt allocates: V is 128·r·N, B is 128·r·p, plus OpenSSL's small scratch.
    /// maxmem is set to this plus 1 MiB so OpenSSL never refuses a valid cost.
    var memoryBytes: UInt64 { 128 * r * (n + 2) + 128 * r * p + (1 << 20) }

    /// Largest accepted V array (128·r·N bytes): N=2^18 with r=8.
    static let maxVBytes: UInt64 = 256 << 20
    /// Largest accepted work N·r·p: twice the standard cost (about 1 s on this hardware).
    static let maxWork: UInt64 = 1 << 21

    /// Bounds for parameters, checked when hashing and when read back from an encoded hash:
    /// a tampered row cannot make verify allocate more than ~257 MiB or run for more than
    /// twice the standard cost. (Each bound is checked before the products that rely on it,
    /// so nothing overflows.)
    var isAcceptable: Bool {
        n >= 2 && n & (n - 1) == 0 && n <= 1 << 20 && r >= 1 && r <= 32 && p >= 1 && p <= 16 &&
            128 * r * n <= Self.maxVBytes && n * r * p <= Self.maxWork
    }
}

public enum PasswordError: Error, Equatable, Sendable {
    /// The parameters are outside the accepted bounds.
    case badParameters
    /// EVP_PBE_scrypt failed (allocation failure).
    case scryptFailed
}

public enum Password {
    static let saltBytes = 16
    static let keyBytes = 32

    /// Hashes `password` with a fresh random salt and returns the encoded string.
    public static func hash(_ password: String, parameters: ScryptParameters = .standard) throws(PasswordError) -> String {
        guard parameters.isAcceptable else { throw .badParameters }
        let salt = SecureRandom.bytes(saltBytes)
        guard let key = derive(password, salt: salt, parameters: parameters, length: keyBytes) else { throw .scryptFailed }
        return "scrypt$\(parameters.n)$\(parameters.r)$\(parameters.p)$\(Base64URL.encode(salt))$\(Base64URL.encode(key))"
    }

    /// True when `password` matches `encoded`. The derived key is compared in constant
    /// time; a malformed or out-of-bounds encoded string is simply false.
    public static func verify(_ password: String, encoded: String) -> Bool {
        guard let parsed = parse(encoded),
              let key = derive(password, salt: parsed.salt, parameters: parsed.parameters, length: parsed.hash.count)
        else { return false }
        return ConstantTime.equals(key, parsed.hash)
    }

    /// True when `encoded` was made with a cost below `parameters` (or is unreadable), so
    /// the caller should rehash on the next successful login.
    public static func needsRehash(_ encoded: String, parameters: ScryptParameters = .standard) -> Bool {
        guard let parsed = parse(encoded) else { return true }
        return parsed.parameters.n < parameters.n || parsed.parameters.r < parameters.r || parsed.parameters.p < parameters.p
    }

    /// Longest encoded string read: `scrypt$` + three numbers + a 64-byte salt and hash in
    /// base64url fit well under this.
    static let maxEncodedBytes = 256

    static func parse(_ encoded: String) -> (parameters: ScryptParameters, salt: [UInt8], hash: [UInt8])? {
        guard encoded.utf8.count <= maxEncodedBytes else { return nil }
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "scrypt",
              let n = UInt64(parts[1]), let r = UInt64(parts[2]), let p = UInt64(parts[3]),
              let salt = Base64URL.decode(String(parts[4])), let hash = Base64URL.decode(String(parts[5])),
              salt.count >= 8, salt.count <= 64, hash.count >= 16, hash.count <= 64
        else { return nil }
        let parameters = ScryptParameters(n: n, r: r, p: p)
        guard parameters.isAcceptable else { return nil }
        return (parameters, salt, hash)
    }

    static func derive(_ password: String, salt: [UInt8], parameters: ScryptParameters, length: Int) -> [UInt8]? {
        var key = [UInt8](repeating: 0, count: length)
        var password = password
        let ok = password.withUTF8 { pw in
            salt.withUnsafeBufferPointer { s in
                key.withUnsafeMutableBufferPointer { k in
                    pw.withMemoryRebound(to: CChar.self) { pwc in
                        EVP_PBE_scrypt(pwc.baseAddress, pwc.count, s.baseAddress, s.count,
                                       parameters.n, parameters.r, parameters.p, parameters.memoryBytes,
                                       k.baseAddress, k.count)
                    }
                }
            }
        }
        return ok == 1 ? key : nil
    }
}
