// The services against a PostgreSQL of their own that restarts or goes down: after a
// restart no request fails (the pool pings idle connections and re-runs a job whose first
// statement met a dead session), the relay and the applier reconnect, and while the server
// is down the answer is 503 `database_unavailable` with Retry-After, never a 500.
import Dispatch
import Synchronization
import Testing
import HTTP1
import PG
import Web
import ServiceKit
import TestSupport

extension ServicesTests {
    @Suite struct DatabaseRecovery {
        /// Sends `count` story creations at once, so both pool workers hold a connection.
        func createConcurrently(_ s: RunningService, count: Int) -> [Int] {
            let statuses = Mutex<[Int]>([])
            let port = s.port
            DispatchQueue.concurrentPerform(iterations: count) { i in
                let body = Array(#"{"caption":"warm \#(i)"}"#.utf8)
                let headers = [("Authorization", "Bearer " + token(7)), ("Content-Type", "application/json")]
                let status = (try? HTTPTestClient.send(port: port, method: "POST", path: "/stories", headers: headers, body: body).status) ?? 0
                statuses.withLock { $0.append(status) }
            }
            return statuses.withLock { $0 }
        }

        @Test func noRequestFailsAfterARestart() throws {
            let pg = try PrivatePostgres()
            defer { pg.shutdown() }
            try pg.use {
                let auth = try RunningService(AuthService(), name: "auth", amqp: true)
                defer { auth.stop() }
                let story = try RunningService(StoryService(), name: "story", amqp: true)
                defer { story.stop() }
                #expect(createConcurrently(story, count: 8).allSatisfy { $0 == 201 })
                #expect(try auth.request("GET", "/auth/profile/999", token: token(1)).status == 404)

                #expect(pg.restart(), "pg_ctl restart")

                // Every request of the sequence succeeds, reads and writes, on both services.
                for i in 0..<12 {
                    let created = try story.request("POST", "/stories", token: token(7), json: #"{"caption":"after \#(i)"}"#)
                    #expect(created.status == 201, "story write \(i): \(created.status) \(created.text)")
                    let read = try story.request("GET", "/stories?limit=5")
                    #expect(read.status == 200, "story read \(i): \(read.status) \(read.text)")
                }
                let registered = try auth.request("POST", "/auth/register",
                                                  json: #"{"username":"phoenix","email":"phoenix@example.com","password":"password123"}"#)
                #expect(registered.status == 201, "register: \(registered.status) \(registered.text)")
                let id = try #require(registered.json["user"]?["id"]?.intValue)

                // The relays published what was written after the restart, and story's applier
                // (its connection also idle across the restart) applied auth's user.registered.
                #expect(eventually {
                    (try? story.database.query("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0].int64(0)) == 0
                        && (try? auth.database.query("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0].int64(0)) == 0
                })
                #expect(eventually {
                    (try? story.database.query("SELECT username FROM known_users WHERE id = $1", [.int(Int64(id))]).first?.string(0))
                        == "phoenix"
                })
            }
        }

        /// How each database failure is answered (no database needed).
        @Test func failuresMapToStatuses() {
            let log = ServiceLog(component: "test", level: .error, fd: -1, redact: { $0 })
            func answer(_ error: any Error) -> HTTPError { Database.httpError(for: error, log: log) }
            for lost in [PGError(.connection, "server closed the connection unexpectedly"),
                         PGError(.server, "terminating connection due to administrator command", sqlState: "57P01"),
                         PGError(.server, "the database system is starting up", sqlState: "57P03"),
                         PGError(.server, "connection failure", sqlState: "08006")] {
                let e = answer(lost)
                #expect(e.status == .serviceUnavailable && e.code == "database_unavailable", "\(lost)")
                #expect(e.headers["Retry-After"] == String(Database.retryAfterSeconds))
            }
            #expect(answer(PGError(.poolFull, "full")).code == "service_busy")
            #expect(answer(PGError(.poolFull, "full")).headers["Retry-After"] != nil)
            for text in [PGError(.encode, "NUL in a parameter"),
                         PGError(.server, "invalid byte sequence for encoding", sqlState: "22021")] {
                #expect(answer(text).status == .badRequest && answer(text).code == "invalid_text", "\(text)")
            }
            #expect(answer(PGError(.server, "syntax error", sqlState: "42601")).status == .internalServerError)
            #expect(answer(HTTPError.notFound("story not found")) == HTTPError.notFound("story not found"))
        }

        @Test func aDatabaseThatIsDownIs503WithRetryAfter() throws {
            let pg = try PrivatePostgres()
            defer { pg.shutdown() }
            try pg.use {
                let story = try RunningService(StoryService(), name: "story")
                defer { story.stop() }
                #expect(try story.request("GET", "/stories").status == 200)

                #expect(pg.stop(), "pg_ctl stop")
                for path in ["/stories", "/stories/1", "/stories/search?query=x"] {
                    let down = try story.request("GET", path)
                    #expect(down.status == 503, "\(path): \(down.status) \(down.text)")
                    #expect(down.header("Retry-After") == String(Database.retryAfterSeconds))
                    #expect(down.header("Content-Type") == "application/json")
                    #expect(down.json["error"]?.stringValue == "database_unavailable")
                }
                let write = try story.request("POST", "/stories", token: token(7), json: #"{"caption":"while down"}"#)
                #expect(write.status == 503)
                // The metrics still answer, saying the database is unreachable.
                let metrics = try story.request("GET", "/metrics")
                #expect(metrics.status == 200)
                #expect(metrics.text.contains("instaverse_story_database_up 0"))

                #expect(pg.start(), "pg_ctl start")
                #expect(try story.request("GET", "/stories").status == 200)
                #expect(try story.request("POST", "/stories", token: token(7), json: #"{"caption":"back"}"#).status == 201)
            }
        }
    }
}
