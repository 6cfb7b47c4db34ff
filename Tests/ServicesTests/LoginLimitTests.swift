// Failed-login limits: per (email, client IP) and per email, counted atomically, pruned.
import Foundation
import Testing
import Synchronization
import ServiceKit
import TestSupport

extension ServicesTests {
    @Suite struct LoginLimit {
        func register(_ s: RunningService, _ name: String, password: String) throws {
            let r = try s.request("POST", "/auth/register",
                                  json: #"{"username":"\#(name)","email":"\#(name)@example.com","password":"\#(password)"}"#)
            try #require(r.status == 201, "register \(name): \(r.status) \(r.text)")
        }

        func login(_ s: RunningService, _ name: String, _ password: String, from ip: String) throws -> Response {
            try s.request("POST", "/auth/login", json: #"{"email":"\#(name)@example.com","password":"\#(password)"}"#,
                          headers: [("X-Forwarded-For", "203.0.113.9, \(ip)")])
        }

        @Test func aGuesserLocksOnlyItsOwnAddressOut() throws {
            let s = try RunningService(AuthService(), name: "auth")
            defer { s.stop() }
            try register(s, "erin", password: "correct-horse")
            for _ in 0..<5 { #expect(try login(s, "erin", "wrong-horse", from: "10.0.0.1").status == 401) }
            let locked = try login(s, "erin", "correct-horse", from: "10.0.0.1")
            #expect(locked.status == 429)
            let retryAfter = try #require(locked.header("Retry-After").flatMap(Int.init))
            #expect(retryAfter >= 1 && retryAfter <= 900)
            // The owner, elsewhere, still logs in; the guesser's address stays locked.
            #expect(try login(s, "erin", "correct-horse", from: "10.0.0.2").status == 200)
            #expect(try login(s, "erin", "correct-horse", from: "10.0.0.1").status == 429)
            // Refused attempts are not counted.
            let rows = try s.database.query("SELECT count(*) FROM login_failures WHERE ip = '10.0.0.1'")[0].int64(0)
            #expect(rows == 5)
        }

        @Test func manyAddressesHitThePerEmailLimit() throws {
            var definition = AuthService()
            definition.maxFailuresPerEmail = 8
            let s = try RunningService(definition, name: "auth")
            defer { s.stop() }
            try register(s, "fay", password: "correct-horse")
            for ip in 1...4 {
                for _ in 0..<2 { #expect(try login(s, "fay", "wrong-horse", from: "10.0.1.\(ip)").status == 401) }
            }
            #expect(try login(s, "fay", "correct-horse", from: "10.0.1.99").status == 429)
        }

        @Test func forwardedForIsIgnoredFromAnUntrustedPeer() throws {
            var definition = AuthService()
            definition.trustedProxies = []
            let s = try RunningService(definition, name: "auth")
            defer { s.stop() }
            try register(s, "gus", password: "correct-horse")
            for i in 0..<5 { #expect(try login(s, "gus", "wrong-horse", from: "10.0.2.\(i)").status == 401) }
            #expect(try login(s, "gus", "correct-horse", from: "10.0.2.200").status == 429)
            let ips = try s.database.query("SELECT DISTINCT ip FROM login_failures").map { try $0.string(0) }
            #expect(ips == ["127.0.0.1"])
        }

        @Test func concurrentGuessesAreCountedAtomically() throws {
            let s = try RunningService(AuthService(), name: "auth")
            defer { s.stop() }
            try register(s, "hal", password: "correct-horse")
            let statuses = Mutex<[Int]>([])
            let port = s.port
            DispatchQueue.concurrentPerform(iterations: 16) { _ in
                let status = (try? HTTPTestClient.send(
                    port: port, method: "POST", path: "/auth/login",
                    headers: [("Content-Type", "application/json"), ("X-Forwarded-For", "10.0.3.1")],
                    body: Array(#"{"email":"hal@example.com","password":"wrong-horse"}"#.utf8)).status) ?? -1
                statuses.withLock { $0.append(status) }
            }
            let all = statuses.withLock { $0 }
            #expect(all.filter { $0 == 401 }.count == 5)
            #expect(all.filter { $0 == 429 }.count == 11)
        }

        @Test func oldFailuresArePruned() throws {
            var definition = AuthService()
            definition.pruneInterval = .milliseconds(100)
            let s = try RunningService(definition, name: "auth")
            defer { s.stop() }
            _ = try s.database.query("INSERT INTO login_failures (email, ip, at) VALUES ('old@example.com', '10.0.4.1', now() - interval '1 day')")
            _ = try s.database.query("INSERT INTO login_failures (email, ip) VALUES ('new@example.com', '10.0.4.1')")
            #expect(eventually { (try? s.database.query("SELECT count(*) FROM login_failures WHERE email = 'old@example.com'")[0].int64(0)) == 0 })
            #expect(try s.database.query("SELECT count(*) FROM login_failures WHERE email = 'new@example.com'")[0].int64(0) == 1)
        }
    }
}
