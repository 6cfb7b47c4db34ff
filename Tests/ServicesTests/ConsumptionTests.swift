// The consumer side of a service: batches applied in order on one connection, acked only
// after they committed, a failing apply retried rather than skipped.
import Testing
import Synchronization
import AMQP
import Events
import PG
import ServiceKit
import TestSupport

/// A service consuming user.registered into `applied(seq, n)` (n = data.userId); applying
/// `failing` throws for its first `failures` attempts.
struct RecordingConsumer: ServiceDefinition {
    let failing: Int64
    let failures: Int
    let counter = AttemptCounter()
    let marker: String

    var migrations: [Migration] {
        [Migration(1, "applied", "CREATE TABLE applied (seq bigserial PRIMARY KEY, n bigint NOT NULL)"),
         (try? Outbox.migration(version: 2)) ?? Migration(2, "none", "SELECT 1")]
    }

    func subscription(_ config: ServiceConfig) -> EventSubscription? {
        var s = EventSubscription(keys: [.userRegistered]) { [self] conn, event in
            guard event.actor.username == marker, let n = event.data.userId else { return }
            let attempt = counter.attempts.withLock { a -> Int in
                a[n, default: 0] += 1
                return a[n, default: 0]
            }
            if n == failing && attempt <= failures { throw TestFailure("apply of \(n) fails (attempt \(attempt))") }
            try conn.execute("INSERT INTO applied (n) VALUES ($1)", [.int(n)])
        }
        s.retryMinDelay = .milliseconds(50)
        s.retryMaxDelay = .milliseconds(200)
        return s
    }

    func install(on service: Service) {}

    func attemptsOf(_ n: Int64) -> Int { counter.attempts.withLock { $0[n] ?? 0 } }
}

final class AttemptCounter: Sendable {
    let attempts = Mutex<[Int64: Int]>([:])
}

extension ServicesTests {
    @Suite struct Consumption {
        @Test func aFailingBatchIsRetriedNotSkippedAndOrderIsKept() throws {
            let marker = "m" + String(EventID.random().prefix(8)).replacingOccurrences(of: "-", with: "")
            let definition = RecordingConsumer(failing: 5, failures: 3, marker: marker)
            let s = try RunningService(definition, name: "cons", amqp: true)
            defer { s.stop() }
            let publisher = AMQPPublisher(config: try AMQPPublisherConfig(url: try Servers.amqpURL()))
            defer { publisher.close() }
            func publish(_ ns: ClosedRange<Int64>) throws -> [PublishOutcome] {
                try publisher.publish(ns.map { n in
                    OutgoingMessage(event: Event.make(.userRegistered, actor: EventActor(id: n, username: marker),
                                                      recipientId: n, data: EventData(userId: n, username: marker)))
                })
            }
            // Warm-up events (n = 0) until one is applied: only then is the queue bound (a
            // confirm alone may mean another queue bound to the key took it).
            func applied() -> [Int64] {
                (try? s.database.query("SELECT n FROM applied WHERE n > 0 ORDER BY seq").map { try $0.int64(0) }) ?? []
            }
            #expect(try eventually(seconds: 30) {
                _ = try publish(0...0)
                return try s.database.query("SELECT count(*) FROM applied WHERE n = 0")[0].int64(0) > 0
            })
            _ = try publish(1...1)
            #expect(eventually { applied() == [1] })
            _ = try publish(2...4)
            #expect(eventually { applied() == [1, 2, 3, 4] })
            // 5 fails at first; 6...20 arrive while it is failing.
            _ = try publish(5...5)
            #expect(eventually { definition.attemptsOf(5) >= 1 })
            _ = try publish(6...20)
            #expect(eventually { applied().count >= 20 })
            #expect(applied() == Array(1...20))
            #expect(definition.attemptsOf(5) == 4)
        }
    }
}
