// The transactional outbox: a service writes its business row and the event that announces
// it in one transaction (Outbox.append), and OutboxRelay publishes committed rows later.
// Delivery is at least once; see docs/outbox.md.

/// One unpublished outbox row, as handed to the relay's publish function.
public struct OutboxMessage: Sendable, Equatable {
    /// The outbox row id: publish order.
    public let id: Int64
    /// The event's id (AMQP message_id); consumers dedupe on it.
    public let eventId: String
    public let routingKey: String
    /// The event body exactly as appended (UTF-8 JSON for Instaverse events).
    public let payload: [UInt8]
}

public enum Outbox {
    /// The migration that creates the outbox table, its partial index of unpublished rows, and
    /// an AFTER INSERT trigger that does pg_notify(`channel`, '') once per statement (NOTIFY is
    /// delivered at COMMIT, so the relay only wakes for committed rows).
    /// `channel` must be a plain lower-case identifier (letters, digits, underscore).
    public static func migration(version: Int64, channel: String = "outbox") throws(PGError) -> Migration {
        guard !channel.isEmpty, channel.utf8.count <= 63, channel.utf8.allSatisfy({ byte in
            (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                || byte == UInt8(ascii: "_")
        }) else {
            throw PGError(.usage, "outbox channel must match [a-z0-9_]{1,63}: \(channel)")
        }
        return Migration(version, "outbox", """
            CREATE TABLE outbox (
                id bigserial PRIMARY KEY,
                event_id text NOT NULL UNIQUE,
                routing_key text NOT NULL,
                payload bytea NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                published_at timestamptz
            );
            CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
            CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify('\(channel)', '');
                RETURN NULL;
            END
            $$;
            CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
                FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
            """)
    }

    /// Appends an event. Call it INSIDE the business transaction (`conn.transaction { … }`) so
    /// the event exists if and only if the business change commits. Returns the row id.
    /// A repeated `eventId` throws SQLSTATE 23505.
    @discardableResult
    public static func append(_ connection: PGConnection, eventId: String, routingKey: String,
                              payload: [UInt8]) throws(PGError) -> Int64 {
        let result = try connection.query(
            "INSERT INTO outbox (event_id, routing_key, payload) VALUES ($1, $2, $3) RETURNING id",
            [.text(eventId), .text(routingKey), .bytea(payload)])
        return try result[0].int64(0)
    }

    /// Deletes rows published more than `olderThanSeconds` ago; returns how many. For a
    /// periodic clean-up job (the table otherwise grows forever).
    @discardableResult
    public static func deletePublished(_ connection: PGConnection, olderThanSeconds: Int64) throws(PGError) -> Int {
        try connection.execute(
            "DELETE FROM outbox WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => $1)",
            [.int(olderThanSeconds)])
    }

    /// Rows not yet published.
    public static func pendingCount(_ connection: PGConnection) throws(PGError) -> Int64 {
        try connection.query("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0].int64(0)
    }

    /// One relay step, in one transaction: locks up to `limit` unpublished rows in id order
    /// (FOR UPDATE SKIP LOCKED: a second relay skips them rather than sending them twice),
    /// calls `publish`, and marks published the longest prefix that `publish` confirmed
    /// (a missing flag counts as unconfirmed). Returns (rows fetched, rows marked).
    /// If `publish` throws, nothing is marked and the error is rethrown.
    static func relayBatch(_ connection: PGConnection, limit: Int,
                           publish: ([OutboxMessage]) throws -> [Bool]) throws -> (fetched: Int, marked: Int) {
        try connection.transaction { conn in
            let rows = try conn.query("""
                SELECT id, event_id, routing_key, payload FROM outbox
                WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
                """, [.int(limit)])
            if rows.isEmpty { return (0, 0) }
            var messages: [OutboxMessage] = []
            messages.reserveCapacity(rows.count)
            for row in rows {
                messages.append(OutboxMessage(id: try row.int64(0), eventId: try row.string(1),
                                              routingKey: try row.string(2), payload: try row.bytes(3)))
            }
            let confirmed = try publish(messages)
            var marked = 0
            while marked < messages.count, marked < confirmed.count, confirmed[marked] { marked += 1 }
            if marked > 0 {
                var ids = "{"
                for index in 0..<marked {
                    if index > 0 { ids += "," }
                    ids += String(messages[index].id)
                }
                ids += "}"
                try conn.execute("UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", [.text(ids)])
            }
            return (messages.count, marked)
        }
    }
}
