// auth-service over real HTTP against a private PostgreSQL database.
import Foundation
import Testing
import HTTP1
import ServiceKit
import Tokens
import CryptoBytes

extension ServicesTests {
    @Suite struct Auth {
        private func register(_ s: RunningService, _ name: String, password: String = "password123") throws -> (Int64, String) {
            let r = try s.request("POST", "/auth/register",
                                  json: #"{"username":"\#(name)","email":"\#(name)@example.com","password":"\#(password)"}"#)
            try #require(r.status == 201, "register \(name): \(r.status) \(r.text)")
            let id = try #require(r.json["user"]?["id"]?.intValue)
            let token = try #require(r.json["token"]?.stringValue)
            return (Int64(id), token)
        }

        @Test func registerLoginValidateProfileDelete() throws {
            let s = try RunningService(AuthService(), name: "auth")
            defer { s.stop() }
            let (alice, aliceToken) = try register(s, "alice")
            let (bob, bobToken) = try register(s, "bob")

            // Duplicates and validation.
            let dupEmail = try s.request("POST", "/auth/register", json: #"{"username":"alice2","email":"ALICE@example.com","password":"password123"}"#)
            #expect(dupEmail.status == 409)
            #expect(dupEmail.json["error"]?.stringValue == "conflict")
            #expect(dupEmail.json["message"]?.stringValue == "email is already registered")
            let dupName = try s.request("POST", "/auth/register", json: #"{"username":"Alice","email":"other@example.com","password":"password123"}"#)
            #expect(dupName.status == 409)
            #expect(try s.request("POST", "/auth/register", json: #"{"username":"x","email":"x@example.com","password":"password123"}"#).status == 400)
            #expect(try s.request("POST", "/auth/register", json: #"{"username":"carol","email":"nope","password":"password123"}"#).status == 400)
            #expect(try s.request("POST", "/auth/register", json: #"{"username":"carol","email":"c@example.com","password":"short"}"#).status == 400)
            #expect(try s.request("POST", "/auth/register", json: "{not json").status == 400)

            // Login returns a token the service itself accepts.
            let login = try s.request("POST", "/auth/login", json: #"{"email":"alice@example.com","password":"password123"}"#)
            #expect(login.status == 200)
            #expect(login.json["user"]?["username"]?.stringValue == "alice")
            let loginToken = try #require(login.json["token"]?.stringValue)
            let claims = try JWT.verify(loginToken, keys: testKeys, now: Int64(Date().timeIntervalSince1970))
            #expect(claims.sub == String(alice))
            #expect(claims.role == "user")
            #expect(claims.exp > claims.iat)

            // validate-token: header and body; optional=1 without a token passes without a user.
            let valid = try s.request("GET", "/auth/validate-token", token: aliceToken)
            #expect(valid.status == 200)
            #expect(valid.header("X-User-Id") == String(alice))
            #expect(valid.json["role"]?.stringValue == "user")
            let anonymous = try s.request("GET", "/auth/validate-token?optional=1")
            #expect(anonymous.status == 200)
            #expect(anonymous.header("X-User-Id") == nil)
            #expect(try s.request("GET", "/auth/validate-token").status == 401)
            #expect(try s.request("GET", "/auth/validate-token?optional=1", token: "garbage").status == 401)

            // Profiles: public read without email; owner-only update.
            let publicView = try s.request("GET", "/auth/profile/\(alice)")
            #expect(publicView.status == 200)
            #expect(publicView.json["email"] == nil)
            #expect(try s.request("GET", "/auth/profile/\(alice)", token: aliceToken).json["email"]?.stringValue == "alice@example.com")
            let forbidden = try s.request("PUT", "/auth/profile/\(alice)", token: bobToken, json: #"{"bio":"hacked"}"#)
            #expect(forbidden.status == 403)
            let updated = try s.request("PUT", "/auth/profile/\(alice)", token: aliceToken, json: #"{"bio":"hello","age":30,"favoriteStyle":"street"}"#)
            #expect(updated.status == 200)
            #expect(updated.json["bio"]?.stringValue == "hello")
            #expect(updated.json["age"]?.intValue == 30)
            #expect(try s.request("PUT", "/auth/profile/\(alice)", token: aliceToken, json: #"{"username":"bob"}"#).status == 409)
            #expect(try s.request("PUT", "/auth/profile/\(alice)", token: aliceToken, json: #"{"age":7}"#).status == 400)
            #expect(try s.request("GET", "/auth/profile/999999").status == 404)

            // Events went to the outbox with the business rows.
            let keys = try s.database.query("SELECT routing_key FROM outbox ORDER BY id").map { try $0.string(0) }
            #expect(keys == ["user.registered", "user.registered", "user.profile.updated"])

            // Deletion: owner or admin only.
            #expect(try s.request("DELETE", "/auth/users/\(alice)", token: bobToken).status == 403)
            #expect(try s.request("DELETE", "/auth/users/\(alice)", token: aliceToken).status == 204)
            #expect(try s.request("GET", "/auth/profile/\(alice)").status == 404)
            // Her token is unexpired but the gateway's check now refuses it (e2e-deletion.sh).
            let stale = try s.request("GET", "/auth/validate-token", token: aliceToken)
            #expect(stale.status == 401)
            #expect(stale.json["error"]?.stringValue == "user_deleted")
            #expect(stale.header("X-User-Id") == nil)
            // The reason also rides in WWW-Authenticate: nginx's auth_request passes that header
            // on (never the body), so the gateway's 401 JSON can name it.
            #expect(stale.header("WWW-Authenticate") == #"Bearer error="invalid_token", error_description="user_deleted""#)
            #expect(try s.request("DELETE", "/auth/users/\(bob)", token: token(424242, role: "admin")).status == 204)
            let deleted = try s.database.query("SELECT count(*) FROM outbox WHERE routing_key = 'user.deleted'")[0].int64(0)
            #expect(deleted == 2)
        }

        @Test func unknownUserAndWrongPasswordLookTheSameAndFailuresAreLimited() throws {
            let s = try RunningService(AuthService(), name: "auth")
            defer { s.stop() }
            _ = try register(s, "dora", password: "correct-horse")
            let unknown = try s.request("POST", "/auth/login", json: #"{"email":"nobody@example.com","password":"whatever1"}"#)
            let wrong = try s.request("POST", "/auth/login", json: #"{"email":"dora@example.com","password":"wrong-horse"}"#)
            #expect(unknown.status == 401)
            #expect(wrong.status == 401)
            #expect(unknown.body == wrong.body)
            #expect(wrong.json["error"]?.stringValue == "invalid_credentials")
            // Four more failures make five in the window; then even the right password is refused.
            for _ in 0..<4 {
                #expect(try s.request("POST", "/auth/login", json: #"{"email":"dora@example.com","password":"wrong-horse"}"#).status == 401)
            }
            let limited = try s.request("POST", "/auth/login", json: #"{"email":"dora@example.com","password":"correct-horse"}"#)
            #expect(limited.status == 429)
            #expect(limited.header("Retry-After") != nil)
            // Another account is not affected.
            #expect(try s.request("POST", "/auth/login", json: #"{"email":"nobody@example.com","password":"x"}"#).status == 401)
        }

        @Test func expiredUnsignedAndForeignTokensAreRefused() throws {
            let s = try RunningService(AuthService(), name: "auth")
            defer { s.stop() }
            let now = Int64(Date().timeIntervalSince1970)
            let expired = JWT.sign(claims: JWTClaims(sub: "5", iat: now - 7200, exp: now - 3600), keys: testKeys)
            let r1 = try s.request("GET", "/auth/validate-token", token: expired)
            #expect(r1.status == 401)
            #expect(r1.json["error"]?.stringValue == "expired")
            #expect(r1.header("WWW-Authenticate") == #"Bearer error="invalid_token", error_description="expired""#)

            let header = Base64URL.encode(Array(#"{"alg":"none","typ":"JWT","kid":"test1"}"#.utf8))
            let payload = Base64URL.encode(Array(#"{"sub":"5","exp":\#(now + 3600)}"#.utf8))
            let r2 = try s.request("GET", "/auth/validate-token", token: "\(header).\(payload).")
            #expect(r2.status == 401)
            #expect(r2.json["error"]?.stringValue == "unsupported_alg")

            let foreignKey = try JWTKey(kid: "other", secret: Array("another-secret-another-secret-0123".utf8))
            let foreign = JWT.sign(claims: JWTClaims(sub: "5", iat: now, exp: now + 60), key: foreignKey)
            #expect(try s.request("GET", "/auth/validate-token", token: foreign).json["error"]?.stringValue == "unknown_kid")

            let sameKidWrongSecret = JWT.sign(claims: JWTClaims(sub: "5", iat: now, exp: now + 60),
                                              key: try JWTKey(kid: "test1", secret: Array("wrong-secret-wrong-secret-wrong-12".utf8)))
            #expect(try s.request("GET", "/auth/validate-token", token: sameKidWrongSecret).json["error"]?.stringValue == "bad_signature")
            let missing = try s.request("PUT", "/auth/profile/5", json: #"{"bio":"x"}"#)
            #expect(missing.status == 401)
            #expect(missing.json["error"]?.stringValue == "missing_token")
        }
    }
}
