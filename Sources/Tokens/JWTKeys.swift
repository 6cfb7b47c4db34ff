// Signing keys for JWT HS256 and their rotation. A key set holds the current signing key
// and the previous keys still accepted for verification; tokens name their key in the
// header `kid`. Rotation: add the new key as current, keep the old one as previous for at
// least the token lifetime, then drop it.

public struct JWTKey: Sendable {
    public let kid: String
    /// The HMAC secret. At least 32 bytes (RFC 7518 §3.2: a key as long as the hash).
    public let secret: [UInt8]

    public init(kid: String, secret: [UInt8]) throws(JWTKeyError) {
        guard !kid.isEmpty, kid.utf8.count <= 64, kid.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .badKid
        }
        guard secret.count >= 32 else { throw .weakSecret(kid: kid) }
        self.kid = kid
        self.secret = secret
    }
}

public enum JWTKeyError: Error, Equatable, Sendable {
    /// A kid must be 1-64 printable ASCII characters without spaces.
    case badKid
    /// The secret is shorter than 32 bytes.
    case weakSecret(kid: String)
    /// Two keys share a kid.
    case duplicateKid(String)
}

public struct JWTKeySet: Sendable {
    /// The key new tokens are signed with.
    public let current: JWTKey
    private let byKid: [String: [UInt8]]

    /// `current` signs; `current` and every key of `previous` verify.
    public init(current: JWTKey, previous: [JWTKey] = []) throws(JWTKeyError) {
        var map: [String: [UInt8]] = [current.kid: current.secret]
        for key in previous {
            if map.updateValue(key.secret, forKey: key.kid) != nil { throw .duplicateKid(key.kid) }
        }
        self.current = current
        self.byKid = map
    }

    /// The secret for `kid`, or nil when the set does not know it.
    public func secret(for kid: String) -> [UInt8]? { byKid[kid] }

    public var kids: [String] { byKid.keys.sorted() }
}
