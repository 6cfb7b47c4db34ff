// Who may open a session or call the REST API: the pure checks run on a request head before
// any 101 or handler work. No I/O, no logging (callers log the rejection's `error` name only,
// never a header, a query string or a token), safe from any thread.
//
// Upgrade checks, in this order (each failure answers before the upgrade):
// 1. Origin: a request with an Origin header must name one of the allowed origins exactly
//    (403 origin_not_allowed). No Origin header means a non-browser client: allowed, because
//    the Origin check only protects browsers from cross-site use of ambient credentials.
// 2. userId: the query's `userId` must be a decimal id (400 bad_user_id).
// 3. The token, first found of: `Authorization: Bearer <jwt>`, a `bearer.<jwt>` entry of
//    Sec-WebSocket-Protocol (echoed back in the 101, as browsers require), `access_token=`
//    in the query. None: 401 missing_token. Refused by JWT.verify: 401 with its error name
//    (expired, not_yet_valid, bad_signature, unsupported_alg for alg=none, ...).
// 4. `sub` must equal userId: 403 forbidden.
// 5. `since`, when given, must be a non-negative id (400 bad_since).
import HTTP1
import Tokens

/// A refused request: answer `status` with `{"error": error}`.
public struct AuthRejection: Error, Sendable, Equatable {
    public var status: HTTPStatus
    /// A stable machine-readable name (the body and the log line carry it).
    public var error: String

    public init(_ status: HTTPStatus, _ error: String) {
        self.status = status
        self.error = error
    }

    /// The services' error body `{"error":"<name>","message":"<what to do>"}` (ErrorBody).
    public var body: [UInt8] {
        ErrorBody.json(code: error, message: ErrorBody.standardMessage(for: error) ?? status.defaultErrorMessage)
    }

    /// Response headers: JSON, the RFC 6750 challenge on 401, and Retry-After: 1 on 429 and
    /// 503 (both are worth retrying shortly).
    public var headers: HTTPHeaders {
        var h: HTTPHeaders = ["Content-Type": "application/json"]
        if status == .unauthorized { h.add(name: "WWW-Authenticate", value: "Bearer error=\"invalid_token\"") }
        if status == .tooManyRequests || status == .serviceUnavailable { h.add(name: "Retry-After", value: "1") }
        return h
    }
}

/// What an accepted upgrade request carries into its session.
public struct SessionGrant: Sendable, Equatable {
    public var userId: Int64
    /// The token's `exp` (seconds since the epoch): the session is closed when it passes.
    public var tokenExpiry: Int64
    /// The `bearer.<jwt>` subprotocol to select in the 101, when the token came that way.
    public var subprotocol: String?
    /// The client's cursor (`since=<id>`), or nil for the unread backlog.
    public var since: Int64?

    public init(userId: Int64, tokenExpiry: Int64, subprotocol: String? = nil, since: Int64? = nil) {
        self.userId = userId
        self.tokenExpiry = tokenExpiry
        self.subprotocol = subprotocol
        self.since = since
    }
}

public struct SessionAuthenticator: Sendable {
    public let keys: JWTKeySet
    public let leeway: Int64
    public let allowedOrigins: [String]

    public init(keys: JWTKeySet, leeway: Int64 = 0, allowedOrigins: [String] = []) {
        self.keys = keys
        self.leeway = leeway
        self.allowedOrigins = allowedOrigins
    }

    /// The paths that open a session (`/ws?userId=ID`, and `/?userId=ID` as the seed has it).
    public static func isSessionPath(_ path: String) -> Bool { path == "/ws" || path == "/" }

    /// The upgrade checks described at the top of this file. `now` is seconds since the epoch.
    public func authorizeUpgrade(_ head: HTTPRequestHead, now: Int64) -> Result<SessionGrant, AuthRejection> {
        if let origin = head.headers["Origin"], !allowedOrigins.contains(origin) {
            return .failure(AuthRejection(.forbidden, "origin_not_allowed"))
        }
        let query = QueryParameters(head.query)
        guard let rawUser = query["userId"], let userId = Self.parseId(rawUser) else {
            return .failure(AuthRejection(.badRequest, "bad_user_id"))
        }
        var since: Int64?
        if let rawSince = query["since"] {
            guard let value = Self.parseId(rawSince, allowZero: true) else {
                return .failure(AuthRejection(.badRequest, "bad_since"))
            }
            since = value
        }
        var token: String?
        var subprotocol: String?
        if let bearer = Self.bearerToken(head.headers) {
            token = bearer
        } else if let offered = Self.bearerSubprotocol(head.headers) {
            subprotocol = offered
            token = String(offered.dropFirst(Self.subprotocolPrefix.count))
        } else if let fromQuery = query["access_token"], !fromQuery.isEmpty {
            token = fromQuery
        }
        guard let token else { return .failure(AuthRejection(.unauthorized, "missing_token")) }
        let claims: JWTClaims
        do throws(JWTError) {
            claims = try JWT.verify(token, keys: keys, now: now, leeway: leeway)
        } catch {
            return .failure(AuthRejection(.unauthorized, error.name))
        }
        guard claims.userId == userId else { return .failure(AuthRejection(.forbidden, "forbidden")) }
        return .success(SessionGrant(userId: userId, tokenExpiry: claims.exp, subprotocol: subprotocol, since: since))
    }

    /// REST: the caller's user id from `Authorization: Bearer <jwt>` (401 otherwise).
    public func authorizeBearer(_ headers: HTTPHeaders, now: Int64) -> Result<Int64, AuthRejection> {
        guard let token = Self.bearerToken(headers) else { return .failure(AuthRejection(.unauthorized, "missing_token")) }
        do throws(JWTError) {
            let claims = try JWT.verify(token, keys: keys, now: now, leeway: leeway)
            guard let userId = claims.userId else { return .failure(AuthRejection(.unauthorized, "bad_subject")) }
            return .success(userId)
        } catch {
            return .failure(AuthRejection(.unauthorized, error.name))
        }
    }

    static let subprotocolPrefix = "bearer."

    /// The token of `Authorization: Bearer <token>` (scheme case-insensitive), or nil.
    static func bearerToken(_ headers: HTTPHeaders) -> String? {
        guard let value = headers["Authorization"] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].drop { $0 == " " }
        return token.isEmpty ? nil : String(token)
    }

    /// The first `bearer.<jwt>` entry of Sec-WebSocket-Protocol (all fields, comma lists).
    static func bearerSubprotocol(_ headers: HTTPHeaders) -> String? {
        for value in headers.values(name: "Sec-WebSocket-Protocol") {
            for item in value.split(separator: ",") {
                let entry = item.drop { $0 == " " || $0 == "\t" }
                var trimmed = Substring(entry)
                while trimmed.last == " " || trimmed.last == "\t" { trimmed = trimmed.dropLast() }
                if trimmed.hasPrefix(subprotocolPrefix), trimmed.count > subprotocolPrefix.count { return String(trimmed) }
            }
        }
        return nil
    }

    /// A positive decimal id (or zero when `allowZero`), at most 18 digits, no sign.
    public static func parseId<S: StringProtocol>(_ text: S, allowZero: Bool = false) -> Int64? {
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              let value = Int64(text) else { return nil }
        return value > 0 || (allowZero && value == 0) ? value : nil
    }
}
