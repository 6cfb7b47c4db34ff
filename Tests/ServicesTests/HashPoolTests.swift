// scrypt runs on a bounded CPU pool that holds no database connection: a burst of logins
// gets 503s past the pool's queue and never stalls other database routes.
import Foundation
import Testing
import Synchronization
import ServiceKit
import Tokens
import TestSupport

extension ServicesTests {
    @Suite struct HashPool {
        @Test func aLoginBurstDoesNotStallTheDatabaseAndExcessGets503() throws {
            // N = 2^16: ~0.1-0.3 s and 64 MiB per hash here, so 2 threads stay busy for seconds.
            let s = try RunningService(AuthService(), name: "auth") { config in
                config.scrypt = ScryptParameters(n: 1 << 16, r: 8, p: 1)
                config.cpuThreads = 2
                config.cpuQueueCapacity = 6
            }
            defer { s.stop() }
            let registered = try s.request("POST", "/auth/register",
                                           json: #"{"username":"ivy","email":"ivy@example.com","password":"correct-horse"}"#)
            try #require(registered.status == 201)
            let id = try #require(registered.json["user"]?["id"]?.intValue)

            // 30 logins of unknown emails (each still runs scrypt), from distinct addresses.
            let port = s.port
            let statuses = Mutex<[Int: Int]>([:])
            let retryAfter = Mutex<String?>(nil)
            let group = DispatchGroup()
            for i in 0..<30 {
                group.enter()
                // A thread each: GCD's pool widens too slowly to send them together.
                Thread.detachNewThread {
                    defer { group.leave() }
                    let r = try? HTTPTestClient.send(
                        port: port, method: "POST", path: "/auth/login",
                        headers: [("Content-Type", "application/json"), ("X-Forwarded-For", "10.9.0.\(i)")],
                        body: Array(#"{"email":"nobody\#(i)@example.com","password":"wrong-horse"}"#.utf8))
                    let status = r?.status ?? -1
                    statuses.withLock { $0[status, default: 0] += 1 }
                    if status == 503 { retryAfter.withLock { $0 = r?.header("Retry-After") } }
                }
            }
            // The pool is saturated once the first refusal came back.
            #expect(eventually(seconds: 10) { statuses.withLock { $0[503] ?? 0 } > 0 })
            let profile = try s.request("GET", "/auth/profile/\(id)")
            let answeredWhileHashing = statuses.withLock { $0.values.reduce(0, +) }
            #expect(profile.status == 200)
            // The profile read was answered while admitted logins were still hashing: it did
            // not queue behind the pool (8 admitted hashes on 2 threads take several hash
            // times; a stalled read would come back only after the last 401).
            #expect(answeredWhileHashing < 30, "GET /auth/profile answered only after every login finished")
            group.wait()
            let counts = statuses.withLock { $0 }
            #expect(counts[503, default: 0] >= 30 - 2 - 6 - 4, "\(counts)")
            #expect(counts[401, default: 0] >= 8 - 4, "\(counts)")
            #expect(counts[401, default: 0] + counts[503, default: 0] == 30, "\(counts)")
            #expect(retryAfter.withLock { $0 } == "1")
            // A refused (503) attempt is not counted as a failure.
            let failures = try s.database.query("SELECT count(*) FROM login_failures")[0].int64(0)
            #expect(failures == Int64(counts[401, default: 0]))
        }
    }
}
