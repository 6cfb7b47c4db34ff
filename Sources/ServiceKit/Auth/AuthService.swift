// auth-service: users, registration, login, tokens, profiles (port 5001, users_db).
//
// Passwords are hashed with scrypt on the service's CPU pool, never on the loop and never
// while a database connection waits (CPUWork.swift). Login answers one
// generic 401 "invalid credentials" whether the email is unknown or the password wrong (an
// unknown email still costs one scrypt run against a dummy hash, so timing does not tell
// them apart either). Failed logins are limited per (email, client IP) and, more loosely, per
// email (AuthLoginLimits.swift); both answer 429 with Retry-After until the window slides.
import Events
import HTTP1
import PG
import Synchronization
import Tokens
import CryptoBytes
import Web

public struct AuthService: ServiceDefinition {
    /// Failed logins of one email from one client IP within the window before 429.
    public var maxFailures = 5
    /// Failed logins of one email from all IPs within the window before 429 (distributed guessing).
    public var maxFailuresPerEmail = 50
    public var failureWindowSeconds = 15 * 60
    /// How often rows older than the window are deleted from login_failures.
    public var pruneInterval: Duration = .seconds(600)
    /// Socket peers whose X-Forwarded-For last hop names the client (the gateway).
    public var trustedProxies = ClientAddress.defaultTrustedProxies
    let dummyHash = DummyHash()

    public init() {}

    public var migrations: [Migration] { (try? AuthSchema.migrations()) ?? [] }
    public func subscription(_ config: ServiceConfig) -> EventSubscription? { nil }

    public func maintenance(_ config: ServiceConfig) -> [MaintenanceJob] {
        let window = failureWindowSeconds
        return [MaintenanceJob(name: "prune login_failures", interval: pruneInterval) { conn in
            try LoginLimits.prune(conn, windowSeconds: window)
        }]
    }

    public func install(on service: Service) {
        service.route(.POST, "/auth/register", bodyLimit: 16 * 1024) { request, responder in
            try register(service, request, responder)
        }
        service.route(.POST, "/auth/login", bodyLimit: 16 * 1024) { request, responder in
            try login(service, request, responder)
        }
        service.route(.GET, "/auth/profile/:id") { request, responder in
            try getProfile(service, request, responder)
        }
        service.route(.PUT, "/auth/profile/:id", bodyLimit: 16 * 1024) { request, responder in
            try updateProfile(service, request, responder)
        }
        service.route(.GET, "/auth/validate-token") { request, responder in
            try validate(service, request, responder)
        }
        service.route(.DELETE, "/auth/users/:id") { request, responder in
            try deleteUser(service, request, responder)
        }
        service.route(.GET, "/healthz") { _, responder in
            responder.respond(json: .ok, JSONWriter.object { $0.member("status", "ok") })
        }
    }

    // MARK: registration and login

    private func register(_ service: Service, _ request: HTTPRequest, _ responder: HTTPResponder) throws {
        let fields = try RegistrationFields(JSONBody(request))
        let (username, email, password, profile) = (fields.username, fields.email, fields.password, fields.profile)
        let config = service.config
        // scrypt first, on the CPU pool, so no database connection waits for it.
        let queued = service.compute({ () -> String? in try? Password.hash(password, parameters: config.scrypt) }) { hashed in
            guard let hash = hashed else {
                responder.respond(error: HTTPError(.internalServerError, "internal error"))
                return
            }
            insertUser(service, responder, username: username, email: email, hash: hash, profile: profile)
        }
        if !queued { responder.respond(error: Service.busy, headers: ["Retry-After": "1"]) }
    }

    private func insertUser(_ service: Service, _ responder: HTTPResponder, username: String, email: String,
                            hash: String, profile: ProfileFields) {
        let config = service.config
        let auth = service.auth
        service.database.respond(responder) { conn in
            if try !conn.query("SELECT 1 FROM users WHERE lower(email) = $1", [.text(email)]).isEmpty {
                throw HTTPError.conflict("email is already registered")
            }
            if try !conn.query("SELECT 1 FROM users WHERE lower(username) = lower($1)", [.text(username)]).isEmpty {
                throw HTTPError.conflict("username is taken")
            }
            let row: PGRow
            do {
                row = try conn.transaction { tx in
                    let rows = try tx.query("""
                        INSERT INTO users (username, email, password_hash, age, gender, bio, favorite_style)
                        VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING \(AuthSchema.userColumns)
                        """, [.text(username), .text(email), .text(hash), profile.age.map { .int($0) },
                              profile.gender.map { .text($0) }, profile.bio.map { .text($0) },
                              profile.favoriteStyle.map { .text($0) }])
                    let id = try rows[0].int64(0)
                    try EventOutbox.append(tx, .userRegistered, actor: EventActor(id: id, username: username),
                                           recipientId: id, data: EventData(userId: id, username: username))
                    return rows[0]
                }
            } catch let error as PGError where error.isUniqueViolation {
                throw HTTPError.conflict(error.constraint == "users_email_key" ? "email is already registered" : "username is taken")
            }
            let id = try row.int64(0)
            let token = auth.issue(userId: id, role: try row.string(3), ttl: config.jwtTTL)
            var w = JSONWriter()
            w.beginObject()
            w.member("token", token)
            w.key("user")
            try AuthSchema.writeUser(row, includeEmail: true, to: &w)
            w.endObject()
            return .json(.created, w)
        }
    }

    /// Three steps, so no database connection is held while scrypt runs: (1) on the PGPool,
    /// the limits admit and count the attempt and the user row is read; (2) on the CPU pool,
    /// the password is checked (a full CPU pool answers 503 and uncounts the attempt);
    /// (3) a success clears the failures on the PGPool and issues the token.
    private func login(_ service: Service, _ request: HTTPRequest, _ responder: HTTPResponder) throws {
        let fields = try LoginFields(JSONBody(request))
        let (email, password) = (fields.email, fields.password)
        let config = service.config
        let auth = service.auth
        let limits = LoginLimits(perClient: maxFailures, perEmail: maxFailuresPerEmail, windowSeconds: failureWindowSeconds)
        let client = ClientAddress.of(request, trustedProxies: trustedProxies)
        let dummy = dummyHash
        service.database.run({ conn -> LoginLimits.Step in
            let attemptId: Int64
            switch try limits.begin(conn, email: email, client: client) {
            case .limited(let retryAfter): return .refused(LoginLimits.tooMany(retryAfter: retryAfter))
            case .admitted(let id): attemptId = id
            }
            let rows = try conn.query("SELECT \(AuthSchema.userColumns), password_hash FROM users WHERE lower(email) = $1",
                                      [.text(email)])
            guard let row = rows.first else { return .verify(LoginLimits.Candidate(attemptId: attemptId, user: nil)) }
            var w = JSONWriter()
            try AuthSchema.writeUser(row, includeEmail: true, to: &w)
            return .verify(LoginLimits.Candidate(
                attemptId: attemptId,
                user: .init(id: try row.int64(0), role: try row.string(3), json: w.bytes, passwordHash: try row.string(10))))
        }) { result in
            let candidate: LoginLimits.Candidate
            switch result {
            case .success(.refused(let reply)):
                responder.respond(reply.status, headers: reply.headers, body: reply.body)
                return
            case .success(.verify(let c)):
                candidate = c
            case .failure(let error):
                service.database.fail(responder, error)
                return
            }
            let queued = service.compute({ () -> Bool in
                guard let user = candidate.user else {
                    _ = Password.verify(password, encoded: dummy.value(config.scrypt))
                    return false
                }
                return Password.verify(password, encoded: user.passwordHash)
            }) { matches in
                // A failure's row stays counted.
                guard matches, let user = candidate.user else {
                    responder.respond(error: HTTPError(.unauthorized, code: "invalid_credentials", message: "invalid credentials"))
                    return
                }
                service.database.respond(responder) { conn in
                    try limits.succeeded(conn, email: email, client: client)
                    let token = auth.issue(userId: user.id, role: user.role, ttl: config.jwtTTL)
                    var w = JSONWriter()
                    w.beginObject()
                    w.member("token", token)
                    w.key("user")
                    w.raw(user.json)
                    w.endObject()
                    return .json(.ok, w)
                }
            }
            if !queued {
                // Not checked, so not a failure: take the attempt's row back.
                service.database.run({ conn in try limits.cancel(conn, attemptId: candidate.attemptId) }) { _ in }
                responder.respond(error: Service.busy, headers: ["Retry-After": "1"])
            }
        }
    }

    // MARK: tokens

    /// 200 with `X-User-Id`, `X-User-Role` and `{userId, role}` for a valid token of a user
    /// who still exists; 401 with the JWT error name, or "user_deleted" once the account is
    /// gone (tokens are stateless: without this lookup a deleted user's unexpired token kept
    /// writing likes, comments and stories through the gateway, found by e2e-deletion.sh).
    /// With `?optional=1` a request without Authorization gets 200 and no X-User-Id (the
    /// gateway's public GETs).
    /// The gateway's auth_request. A refused token is 401 with its reason in the body and in
    /// `WWW-Authenticate: Bearer error="invalid_token", error_description="<reason>"`: nginx
    /// passes that header on (never the subrequest's body), so the gateway's own 401 names it.
    private func validate(_ service: Service, _ request: HTTPRequest, _ responder: HTTPResponder) throws {
        let optional = request.query["optional"] == "1"
        if optional, request.headers["Authorization"] == nil {
            responder.respond(json: .ok, JSONWriter.object { $0.key("userId"); $0.null() })
            return
        }
        let caller: Caller
        do {
            caller = try service.auth.caller(request)
        } catch {
            refuseToken(responder, error)
            return
        }
        service.database.run({ conn in
            try !conn.query("SELECT 1 FROM users WHERE id = $1", [.int(caller.userId)]).isEmpty
        }) { result in
            switch result {
            case .success(true):
                responder.respond(json: .ok, JSONWriter.object {
                    $0.member("userId", Int(caller.userId))
                    $0.member("role", caller.role)
                }, headers: ["X-User-Id": String(caller.userId), "X-User-Role": caller.role])
            case .success(false):
                refuseToken(responder, HTTPError.unauthorized("user_deleted"))
            case .failure(let error):
                service.database.fail(responder, error)
            }
        }
    }

    private func refuseToken(_ responder: HTTPResponder, _ error: HTTPError) {
        responder.respond(error: error, headers: [
            "WWW-Authenticate": "Bearer error=\"invalid_token\", error_description=\"\(error.code)\"",
        ])
    }

    // MARK: profiles and deletion

    private func getProfile(_ service: Service, _ request: HTTPRequest, _ responder: HTTPResponder) throws {
        let id = try request.id("id")
        let caller = try service.auth.optionalCaller(request)
        let showEmail = caller.map { $0.userId == id || $0.isAdmin } ?? false
        service.database.respond(responder) { conn in
            let rows = try conn.query("SELECT \(AuthSchema.userColumns) FROM users WHERE id = $1", [.int(id)])
            guard let row = rows.first else { throw HTTPError.notFound("user not found") }
            var w = JSONWriter()
            try AuthSchema.writeUser(row, includeEmail: showEmail, to: &w)
            return .json(.ok, w)
        }
    }

    private func updateProfile(_ service: Service, _ request: HTTPRequest, _ responder: HTTPResponder) throws {
        let id = try request.id("id")
        let caller = try service.auth.caller(request)
        guard caller.userId == id else { throw HTTPError.forbidden("you can only update your own profile") }
        let body = try JSONBody(request)
        let username = try body.optionalString("username", maxLength: 30)
        if let username { try Validation.username(username) }
        let profile = try ProfileFields(body)
        let changed = (username != nil ? ["username"] : []) + profile.present
        guard !changed.isEmpty else { throw HTTPError.badRequest("nothing to update: send username, age, gender, bio or favoriteStyle") }
        service.database.respond(responder) { conn in
            do {
                return try conn.transaction { tx in
                    let rows = try tx.query("""
                        UPDATE users SET username = COALESCE($2, username),
                            age = CASE WHEN $3 THEN $4::integer ELSE age END,
                            gender = CASE WHEN $5 THEN $6 ELSE gender END,
                            bio = CASE WHEN $7 THEN $8 ELSE bio END,
                            favorite_style = CASE WHEN $9 THEN $10 ELSE favorite_style END
                        WHERE id = $1 RETURNING \(AuthSchema.userColumns)
                        """, [.int(id), username.map { .text($0) },
                              .bool(changed.contains("age")), profile.age.map { .int($0) },
                              .bool(changed.contains("gender")), profile.gender.map { .text($0) },
                              .bool(changed.contains("bio")), profile.bio.map { .text($0) },
                              .bool(changed.contains("favoriteStyle")), profile.favoriteStyle.map { .text($0) }])
                    guard let row = rows.first else { throw HTTPError.notFound("user not found") }
                    let current = try row.string(1)
                    try EventOutbox.append(tx, .userProfileUpdated, actor: EventActor(id: id, username: current),
                                           data: EventData(userId: id, username: current, changed: changed))
                    var w = JSONWriter()
                    try AuthSchema.writeUser(row, includeEmail: true, to: &w)
                    return .json(.ok, w)
                }
            } catch let error as PGError where error.isUniqueViolation {
                throw HTTPError.conflict("username is taken")
            }
        }
    }

    private func deleteUser(_ service: Service, _ request: HTTPRequest, _ responder: HTTPResponder) throws {
        let id = try request.id("id")
        let caller = try service.auth.caller(request)
        guard caller.userId == id || caller.isAdmin else { throw HTTPError.forbidden("only the user or an admin can delete an account") }
        service.database.respond(responder) { conn in
            try conn.transaction { tx in
                let actorRows = try tx.query("SELECT username FROM users WHERE id = $1", [.int(caller.userId)])
                let rows = try tx.query("DELETE FROM users WHERE id = $1 RETURNING username", [.int(id)])
                guard let row = rows.first else { throw HTTPError.notFound("user not found") }
                let actorName = caller.userId == id ? try row.string(0)
                    : (actorRows.first.map { try? $0.string(0) } ?? nil) ?? "user\(caller.userId)"
                try EventOutbox.append(tx, .userDeleted, actor: EventActor(id: caller.userId, username: actorName),
                                       data: EventData(userId: id))
                return Reply.noContent
            }
        }
    }
}

/// A password hash of a random password, made once with the service's cost, so a login for
/// an unknown email costs the same scrypt run as a wrong password.
final class DummyHash: Sendable {
    private let hash = Mutex<String?>(nil)

    /// Called on CPU-pool threads only (it may run scrypt).
    func value(_ parameters: ScryptParameters) -> String {
        if let existing = hash.withLock({ $0 }) { return existing }
        let made = (try? Password.hash(Base64URL.encode(SecureRandom.bytes(16)), parameters: parameters)) ?? ""
        hash.withLock { if $0 == nil { $0 = made } }
        return made
    }
}

extension JSONWriter {
    /// One object built by `body`.
    public static func object(_ body: (inout JSONWriter) -> Void) -> JSONWriter {
        var w = JSONWriter()
        w.beginObject()
        body(&w)
        w.endObject()
        return w
    }
}
