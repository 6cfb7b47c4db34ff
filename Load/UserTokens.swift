// Tokens of the simulated users: HS256 JWTs signed with the first key of a key list in the
// format notifyd reads from INSTAVERSE_JWT_KEYS (`kid:secret,kid:secret`). One token per
// connection, signed when the connection starts (an HMAC costs about a microsecond; holding
// 100,000 pre-signed tokens would cost more memory than it saves time).
import Tokens

struct UserTokens: Sendable {
    let keys: JWTKeySet
    /// Token lifetime in seconds: longer than any run (the cap is 300 s).
    static let lifetime: Int64 = 3600

    init(keys text: String) throws(ArgumentError) {
        var parsed: [JWTKey] = []
        for item in text.split(separator: ",") {
            guard let colon = item.firstIndex(of: ":") else { throw ArgumentError("key without kid: \(item.prefix(8))…") }
            let kid = String(item[..<colon])
            let secret = Array(item[item.index(after: colon)...].utf8)
            do { parsed.append(try JWTKey(kid: kid, secret: secret)) } catch { throw ArgumentError("bad key \(kid): \(error)") }
        }
        guard let current = parsed.first else { throw ArgumentError("no keys") }
        do { keys = try JWTKeySet(current: current, previous: Array(parsed.dropFirst())) } catch {
            throw ArgumentError("bad key set: \(error)")
        }
    }

    /// The bearer token of `user`, issued at `now` (Unix seconds).
    func token(user: Int, now: Int64) -> String {
        JWT.sign(claims: JWTClaims(sub: String(user), iat: now, exp: now + Self.lifetime), keys: keys)
    }
}
