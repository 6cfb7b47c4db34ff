// Published outbox rows are deleted after the retention period by a maintenance job;
// unpublished and recent rows stay.
import Testing
import ServiceKit
import TestSupport

extension ServicesTests {
    @Suite struct OutboxPrune {
        @Test func publishedRowsOlderThanTheRetentionAreDeleted() throws {
            let s = try RunningService(try socialService(), name: "social") { config in
                config.outboxRetentionSeconds = 3600
                config.outboxPruneInterval = .milliseconds(100)
            }
            defer { s.stop() }
            _ = try s.database.query("""
                INSERT INTO outbox (event_id, routing_key, payload, published_at) VALUES
                  ('old', 'post.liked', '\\x7b7d', now() - interval '2 hours'),
                  ('recent', 'post.liked', '\\x7b7d', now() - interval '10 minutes')
                """)
            _ = try s.database.query("""
                INSERT INTO outbox (event_id, routing_key, payload, created_at) VALUES
                  ('pending', 'post.liked', '\\x7b7d', now() - interval '30 days')
                """)
            func ids() -> [String] {
                (try? s.database.query("SELECT event_id FROM outbox ORDER BY event_id").map { try $0.string(0) }) ?? []
            }
            #expect(eventually { ids() == ["pending", "recent"] })
        }
    }
}
