// Who may open a session or call the REST API: the pure checks run on a request head before
// any 101 or handler work. No I/O, no logging (callers log the rejection's `error` name only,
// never a header, a query string or a token), safe from any thread.
//
// Tokens never travel in URLs: a URL reaches access logs, proxies' error logs and browser
// history. A request whose query carries anything token-looking (see `queryCarriesToken`)
// is refused with 400 token_in_url before any other check, on the upgrade and on REST.
//
// Upgrade checks, in this order (each failure answers before the upgrade):
// 0. No token in the query (400 token_in_url).
// 1. Origin: a request with an Origin header must name one of the allowed origins (403
//    origin_not_allowed), compared as RFC 6454 serializations: both sides normalized by
//    `normalizedOrigin` (case of scheme and host, a trailing slash, a default port). No
//    Origin header means a non-browser client: allowed, because the Origin check only
//    protects browsers from cross-site use of ambient credentials.
// 2. userId: the query's `userId` must be a decimal id (400 bad_user_id).
// 3. The token, first found of: `Authorization: Bearer <jwt>`, a `bearer.<jwt>` entry of
//    Sec-WebSocket-Protocol (echoed back in the 101, as browsers require). None: 401
//    missing_token. Refused by JWT.verify: 401 with its error name
//    (expired, not_yet_valid, bad_signature, unsupported_alg for alg=none, ...).
// 4. `sub` must equal userId: 403 forbidden.
// 5. `since`, when given, must be a non-negative id (400 bad_since).
// The daemon then refuses a deleted user (401 user_deleted, Hub's tombstone set) and a user at
// the connection limit (429); those need loop state, so they are not here.
import HTTP1
import Tokens

/// A refused request: answer `status` with `{"error": error, "message": message}`.
public struct AuthRejection: Error, Sendable, Equatable {
    public var status: HTTPStatus
    /// A stable machine-readable name (the body and the log line carry it).
    public var error: String
    /// What the client should do, in a sentence (the body carries it, the log does not).
    public var message: String
    /// Seconds for Retry-After (429 and 503 carry one), nil for none.
    public var retryAfter: Int?

    public init(_ status: HTTPStatus, _ error: String, message: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.error = error
        self.message = message ?? ErrorBody.standardMessage(for: error) ?? status.defaultErrorMessage
        self.retryAfter = retryAfter ?? ((status == .tooManyRequests || status == .serviceUnavailable) ? 1 : nil)
    }

    /// The services' error body `{"error":"<name>","message":"<what to do>"}` (ErrorBody).
    public var body: [UInt8] { ErrorBody.json(code: error, message: message) }

    /// Response headers: JSON, the RFC 6750 challenge on 401, Retry-After on 429 and 503.
    public var headers: HTTPHeaders {
        var h: HTTPHeaders = ["Content-Type": "application/json"]
        if status == .unauthorized { h.add(name: "WWW-Authenticate", value: "Bearer error=\"invalid_token\"") }
        if let retryAfter { h.add(name: "Retry-After", value: String(retryAfter)) }
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

    /// `allowedOrigins` are stored normalized (`normalizedOrigin`).
    public init(keys: JWTKeySet, leeway: Int64 = JWT.defaultLeeway, allowedOrigins: [String] = []) {
        self.keys = keys
        self.leeway = leeway
        self.allowedOrigins = allowedOrigins.map(Self.normalizedOrigin)
    }

    /// An origin as a browser serializes it (RFC 6454 section 6.2): scheme and host in
    /// lowercase, no trailing slash, no default port (80 for http/ws, 443 for https/wss).
    /// Browsers already send that form; configured lists are written by people
    /// ("https://App.example.com/"), so both sides go through this before the exact match.
    /// Anything that is not `scheme://host[:port]` (e.g. "null") is only trimmed and lowercased.
    public static func normalizedOrigin(_ text: String) -> String {
        var origin = text.trimmingASCIIWhitespace().lowercased()
        while origin.hasSuffix("/") { origin.removeLast() }
        guard let sep = origin.range(of: "://") else { return origin }
        let scheme = origin[..<sep.lowerBound]
        let defaultPort: String? = switch scheme {
        case "http", "ws": ":80"
        case "https", "wss": ":443"
        default: nil
        }
        if let defaultPort, origin.hasSuffix(defaultPort) {
            origin.removeLast(defaultPort.count)
        }
        return origin
    }

    /// The paths that open a session (`/ws?userId=ID`, and `/?userId=ID` as the seed has it).
    public static func isSessionPath(_ path: String) -> Bool { path == "/ws" || path == "/" }

    /// The upgrade checks described at the top of this file. `now` is seconds since the epoch.
    public func authorizeUpgrade(_ head: HTTPRequestHead, now: Int64) -> Result<SessionGrant, AuthRejection> {
        let query = QueryParameters(head.query)
        if Self.carriesToken(query) { return .failure(Self.tokenInURL) }
        if let origin = head.headers["Origin"], !allowedOrigins.contains(Self.normalizedOrigin(origin)) {
            return .failure(AuthRejection(.forbidden, "origin_not_allowed"))
        }
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
        switch BearerCredentials(head.headers) {
        case .token(let bearer):
            token = bearer
        case .malformed:
            return .failure(Self.malformedAuthorization)
        case .absent:
            guard let offered = Self.bearerSubprotocol(head.headers) else { break }
            subprotocol = offered
            token = String(offered.dropFirst(Self.subprotocolPrefix.count))
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

    /// REST: the caller's user id from `Authorization: Bearer <jwt>` (401 otherwise); 400
    /// token_in_url when `query` carries a token, whatever the header says.
    public func authorizeBearer(_ headers: HTTPHeaders, query: String? = nil, now: Int64) -> Result<Int64, AuthRejection> {
        if Self.queryCarriesToken(query) { return .failure(Self.tokenInURL) }
        let token: String
        switch BearerCredentials(headers) {
        case .absent: return .failure(AuthRejection(.unauthorized, "missing_token"))
        case .malformed: return .failure(Self.malformedAuthorization)
        case .token(let bearer): token = bearer
        }
        do throws(JWTError) {
            let claims = try JWT.verify(token, keys: keys, now: now, leeway: leeway)
            guard let userId = claims.userId else { return .failure(AuthRejection(.unauthorized, "bad_subject")) }
            return .success(userId)
        } catch {
            return .failure(AuthRejection(.unauthorized, error.name))
        }
    }

    static let subprotocolPrefix = "bearer."

    /// The refusal of a token in the URL.
    public static let tokenInURL = AuthRejection(
        .badRequest, "token_in_url",
        message: "send the token in an Authorization header or the bearer.<jwt> subprotocol")

    /// Parameter names that carry credentials, compared after `normalizedName`.
    static let tokenNames: Set<String> = ["accesstoken", "token", "jwt", "bearer", "authorization", "idtoken",
                                          "refreshtoken", "authtoken"]

    /// Whether the raw (still encoded) query carries a token: a parameter whose name, decoded
    /// as often as it stays encoded (so `access%5Ftoken` and `access%255Ftoken` count),
    /// lowercased and stripped of everything but letters and digits, names a credential
    /// (`access_token`, `Access-Token`, `token`, `jwt`, ...), or a parameter whose decoded
    /// name or value holds a JWT-looking run. Cheap: one pass over a short string, and the
    /// common query (`userId=7&since=12`) has no escape to decode.
    public static func queryCarriesToken(_ query: String?) -> Bool {
        guard let query, !query.isEmpty else { return false }
        return carriesToken(QueryParameters(query))
    }

    /// `queryCarriesToken` over parameters already parsed.
    static func carriesToken(_ parameters: QueryParameters) -> Bool {
        for pair in parameters {
            let name = fullyDecoded(pair.name)
            if tokenNames.contains(normalizedName(name)) { return true }
            if JWT.containsToken(name) || JWT.containsToken(fullyDecoded(pair.value)) { return true }
        }
        return false
    }

    /// `text` percent-decoded until no escape is left (at most 4 more rounds: deeper nesting
    /// is not something a client does by accident).
    static func fullyDecoded(_ text: String) -> String {
        var current = text
        for _ in 0..<4 where current.utf8.contains(UInt8(ascii: "%")) {
            let next = PercentDecoding.decodeQueryComponent(current)
            if next == current { break }
            current = next
        }
        return current
    }

    /// Lowercase ASCII letters and digits only ("Access-Token" -> "accesstoken").
    static func normalizedName(_ name: String) -> String {
        var out = ""
        for scalar in name.unicodeScalars where scalar.isASCII {
            let v = scalar.value
            if (v >= 48 && v <= 57) || (v >= 97 && v <= 122) {
                out.unicodeScalars.append(scalar)
            } else if v >= 65 && v <= 90 {
                out.unicodeScalars.append(Unicode.Scalar(v + 32)!)
            }
        }
        return out
    }

    /// An Authorization header that is not `Bearer <token68>` (HTTP1's BearerCredentials):
    /// 401 `malformed`, as the services answer.
    static var malformedAuthorization: AuthRejection { AuthRejection(.unauthorized, JWTError.malformed.name) }

    /// The first `bearer.<jwt>` entry of Sec-WebSocket-Protocol (all fields, comma lists).
    static func bearerSubprotocol(_ headers: HTTPHeaders) -> String? {
        for value in headers.values(name: "Sec-WebSocket-Protocol") {
            for item in value.split(separator: ",") {
                let trimmed = String(item).trimmingASCIIWhitespace()
                if trimmed.hasPrefix(subprotocolPrefix), trimmed.count > subprotocolPrefix.count { return trimmed }
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

private extension String {
    /// Without leading and trailing spaces and tabs.
    func trimmingASCIIWhitespace() -> String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view = view.dropFirst() }
        while let last = view.last, last == " " || last == "\t" { view = view.dropLast() }
        return String(view)
    }
}
