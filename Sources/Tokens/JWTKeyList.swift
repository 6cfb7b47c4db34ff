// The key list every daemon reads from INSTAVERSE_JWT_KEYS: `kid:secret,kid:secret,...`.
// One parser for notifyd and the services, so that a list one accepts the other reads the
// same way (same trimming, same secrets byte for byte). Pure, safe from any thread.

/// Why a key list was refused. No case carries a secret, so the message can be logged.
public enum JWTKeyListError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Entry `entry` (1-based, blank entries not counted) has no ':'.
    case notKidSecret(entry: Int)
    /// Entry `entry` has an invalid kid (1-64 printable ASCII, no spaces).
    case badKid(entry: Int)
    /// The secret of `kid` is shorter than 32 bytes.
    case weakSecret(kid: String)
    /// Two entries share `kid`.
    case duplicateKid(String)
    /// The list holds no key.
    case empty
    /// The list is longer than `JWTKeySet.maxListBytes`.
    case tooLong

    public var description: String {
        switch self {
        case .notKidSecret(let entry): "entry \(entry) is not kid:secret"
        case .badKid(let entry): "entry \(entry) has an invalid kid (1-64 printable characters, no spaces)"
        case .weakSecret(let kid): "the secret of kid '\(kid)' is shorter than 32 bytes"
        case .duplicateKid(let kid): "kid '\(kid)' appears twice"
        case .empty: "holds no key"
        case .tooLong: "is longer than \(JWTKeySet.maxListBytes) bytes"
        }
    }
}

extension JWTKeySet {
    /// Longest list read (a handful of 64-byte kids and secrets fit many times over).
    public static let maxListBytes = 64 * 1024

    /// Parses `kid:secret,kid:secret,...`: entries are trimmed of spaces and blank entries
    /// skipped; the kid is before the first ':', the secret is the UTF-8 bytes after it (at
    /// least 32). The first key signs, every key verifies.
    public static func parse(list text: String) throws(JWTKeyListError) -> JWTKeySet {
        guard text.utf8.count <= maxListBytes else { throw .tooLong }
        var keys: [JWTKey] = []
        for entry in text.split(separator: ",") {
            var item = entry
            while item.first == " " { item = item.dropFirst() }
            while item.last == " " { item = item.dropLast() }
            guard !item.isEmpty else { continue }
            guard let colon = item.firstIndex(of: ":") else { throw .notKidSecret(entry: keys.count + 1) }
            let kid = String(item[..<colon])
            let secret = Array(item[item.index(after: colon)...].utf8)
            do throws(JWTKeyError) {
                keys.append(try JWTKey(kid: kid, secret: secret))
            } catch {
                switch error {
                case .badKid: throw .badKid(entry: keys.count + 1)
                case .weakSecret(let kid): throw .weakSecret(kid: kid)
                case .duplicateKid(let kid): throw .duplicateKid(kid)
                }
            }
        }
        guard let current = keys.first else { throw .empty }
        do throws(JWTKeyError) {
            return try JWTKeySet(current: current, previous: Array(keys.dropFirst()))
        } catch {
            if case .duplicateKid(let kid) = error { throw .duplicateKid(kid) }
            throw .empty
        }
    }
}
