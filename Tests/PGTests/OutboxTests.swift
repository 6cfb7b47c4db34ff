// The outbox: append is transactional, the relay publishes in id order and marks rows,
// survives a failing publisher without losing or reordering anything, and wakes on NOTIFY.
import Foundation
import Testing
import PG

@Suite struct OutboxTests {
    /// A schema with the outbox migration applied; its NOTIFY channel is the schema's name so
    /// relays of parallel tests do not wake each other.
    static func outboxSchema() throws -> (TestSchema, PGConnection) {
        let schema = try TestSchema()
        let conn = try schema.connect()
        try Migrations.apply([try Outbox.migration(version: 1, channel: schema.name)], on: conn)
        return (schema, conn)
    }

    static func append(_ conn: PGConnection, _ ids: Range<Int>) throws {
        for index in ids {
            try conn.transaction { tx in
                try Outbox.append(tx, eventId: "ev-\(index)", routingKey: "post.liked",
                                  payload: Array("{\"n\":\(index)}".utf8))
            }
        }
    }

    @Test func appendInRolledBackTransactionLeavesNoRow() throws {
        struct Abort: Error {}
        let (schema, conn) = try Self.outboxSchema()
        defer { schema.drop() }
        try conn.executeScript("CREATE TABLE likes (user_id bigint, post_id bigint)")
        #expect(throws: Abort.self) {
            try conn.transaction { tx in
                try tx.execute("INSERT INTO likes VALUES ($1, $2)", [1, 2])
                try Outbox.append(tx, eventId: "ev-rolled-back", routingKey: "post.liked", payload: [1])
                throw Abort()
            }
        }
        #expect(try Outbox.pendingCount(conn) == 0)
        #expect(try conn.query("SELECT count(*) FROM likes")[0].int64(0) == 0)
        // A committed one is there, and a repeated event id is a unique violation.
        try Self.append(conn, 0..<1)
        #expect(try Outbox.pendingCount(conn) == 1)
        do {
            try Self.append(conn, 0..<1)
            Issue.record("duplicate event id accepted")
        } catch let error as PGError {
            #expect(error.isUniqueViolation)
        }
    }

    @Test func relayPublishesInIdOrderAndMarksRows() throws {
        let (schema, conn) = try Self.outboxSchema()
        defer { schema.drop() }
        try Self.append(conn, 0..<25)
        let seen = Recorder<OutboxMessage>()
        let relay = try OutboxRelay(url: schema.url,
                                    configuration: .init(batchSize: 10, channel: schema.name)) { messages in
            seen.append(contentsOf: messages)
            return messages.map { _ in true }
        }
        relay.start()
        let all = seen.wait(seconds: 30) { $0.count >= 25 }
        relay.stop()   // joins: the last batch's transaction has committed
        #expect(all)
        #expect(seen.all.map(\.eventId) == (0..<25).map { "ev-\($0)" })
        #expect(seen.all.map(\.id) == seen.all.map(\.id).sorted())
        #expect(seen.all.first?.payload == Array("{\"n\":0}".utf8))
        #expect(seen.all.first?.routingKey == "post.liked")
        #expect(try Outbox.pendingCount(conn) == 0)
        #expect(relay.stats.published == 25)
        #expect(relay.stats.batches == 3)
    }

    @Test func failingPublisherRetriesAndLosesNothing() throws {
        let (schema, conn) = try Self.outboxSchema()
        defer { schema.drop() }
        try Self.append(conn, 0..<30)
        struct BrokerDown: Error {}
        let calls = Recorder<Int>()
        let confirmed = Recorder<String>()
        let errors = Recorder<String>()
        let relay = try OutboxRelay(
            url: schema.url,
            configuration: .init(batchSize: 8, initialBackoff: .milliseconds(5), maxBackoff: .milliseconds(40),
                                 channel: schema.name),
            publish: { messages in
                calls.append(messages.count)
                let call = calls.all.count
                if call <= 3 { throw BrokerDown() }          // broker down for three attempts
                if call == 4 {                                // then confirms only half a batch
                    let half = messages.count / 2
                    confirmed.append(contentsOf: messages.prefix(half).map(\.eventId))
                    return messages.indices.map { $0 < half }
                }
                if call == 5 {                                // then a nack in the middle: stop there
                    confirmed.append(messages[0].eventId)
                    return messages.indices.map { $0 != 1 }
                }
                confirmed.append(contentsOf: messages.map(\.eventId))
                return messages.map { _ in true }
            },
            onError: { error in errors.append("\(error)") })
        relay.start()
        let done = confirmed.wait(seconds: 30) { $0.count >= 30 }
        relay.stop()
        #expect(done)
        // Every event confirmed exactly once, in id order; nothing left unpublished.
        #expect(confirmed.all == (0..<30).map { "ev-\($0)" })
        #expect(try Outbox.pendingCount(conn) == 0)
        #expect(relay.stats.failures >= 5)
        #expect(errors.all.count >= 5)
    }

    @Test func notifyWakesTheRelayPromptly() throws {
        let (schema, conn) = try Self.outboxSchema()
        defer { schema.drop() }
        let published = Recorder<Int>()
        // A poll interval far longer than the test: only the NOTIFY can wake the relay.
        let relay = try OutboxRelay(url: schema.url,
                                    configuration: .init(pollInterval: .seconds(120), channel: schema.name)) { messages in
            published.append(contentsOf: messages.map { _ in 1 })
            return messages.map { _ in true }
        }
        relay.start()
        defer { relay.stop() }
        for index in 0..<5 {
            // Each commit is published while the relay waits idle (it has published everything
            // before): within the wait, far less than the poll interval, so the NOTIFY woke it.
            try Self.append(conn, index..<(index + 1))
            #expect(published.wait(seconds: 20) { $0.count == index + 1 })
        }
        #expect(relay.stats.notifyWakeups >= 1)
    }
}
