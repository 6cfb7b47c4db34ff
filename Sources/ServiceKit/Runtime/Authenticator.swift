// Bearer JWT checks for every service. The gateway checks tokens too (auth_request), but a
// service never trusts the network in front of it: it verifies the signature itself.
import Daemon
import HTTP1
import Tokens
import Web
#if canImport(Glibc)
import Glibc
#endif

public typealias ServiceLog = Daemon.Log

/// Who made a request: the verified claims of its token.
public struct Caller: Sendable, Equatable {
    public let userId: Int64
    public let role: String
    public var isAdmin: Bool { role == "admin" }
}

/// Verifies `Authorization: Bearer <jwt>` against the service's key set. Pure; any thread.
public struct Authenticator: Sendable {
    public let keys: JWTKeySet
    /// Clock skew accepted on exp/nbf, in seconds.
    public var leeway: Int64 = JWT.defaultLeeway

    public init(keys: JWTKeySet) {
        self.keys = keys
    }

    /// The bearer token of `headers` (BearerCredentials), nil when there is no Authorization
    /// header. A header that is present but not `Bearer <token68>` throws 401 `malformed`.
    public static func bearerToken(_ headers: HTTPHeaders) throws(HTTPError) -> String? {
        switch BearerCredentials(headers) {
        case .absent: return nil
        case .malformed: throw HTTPError(.unauthorized, JWTError.malformed.name)
        case .token(let token): return token
        }
    }

    /// The caller of `request`. 401 with `{"error": "<jwt error name>"}` (`missing_token` when
    /// there is no Authorization header); a `sub` that is not a user id is `missing_claim`.
    public func caller(_ request: HTTPRequest) throws(HTTPError) -> Caller {
        guard let token = try Authenticator.bearerToken(request.headers) else {
            throw HTTPError(.unauthorized, "missing_token")
        }
        return try caller(token: token)
    }

    /// The caller when the request carries a token, nil when it carries none; a bad token
    /// still throws 401 (a client that sends one wants it checked).
    public func optionalCaller(_ request: HTTPRequest) throws(HTTPError) -> Caller? {
        guard let token = try Authenticator.bearerToken(request.headers) else { return nil }
        return try caller(token: token)
    }

    public func caller(token: String) throws(HTTPError) -> Caller {
        do {
            let claims = try JWT.verify(token, keys: keys, now: Int64(time(nil)), leeway: leeway)
            guard let id = claims.userId, id > 0 else { throw HTTPError(.unauthorized, JWTError.missingClaim.name) }
            return Caller(userId: id, role: claims.role)
        } catch let error as JWTError {
            throw HTTPError(.unauthorized, error.name)
        } catch let error as HTTPError {
            throw error
        } catch {
            throw HTTPError(.unauthorized, JWTError.malformed.name)
        }
    }

    /// A signed token for `userId` valid `ttl` seconds from now (auth-service issues these).
    public func issue(userId: Int64, role: String, ttl: Int64, now: Int64 = Int64(time(nil))) -> String {
        JWT.sign(claims: JWTClaims(sub: String(userId), role: role, iat: now, exp: now + ttl), keys: keys)
    }
}
