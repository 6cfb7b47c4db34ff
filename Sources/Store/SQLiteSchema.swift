// The SQLite schema and its migrations, versioned with PRAGMA user_version. Migration i
// (0-based) takes the file from version i to i+1; each runs in its own write transaction
// with the version bump, so a crash mid-migration leaves the previous version intact.
// Append new migrations; never edit a shipped one.

enum SQLiteSchema {
    static let migrations: [String] = [
        // 1: the notifications table and the indexes of its queries.
        """
        CREATE TABLE notifications (
            id             INTEGER PRIMARY KEY AUTOINCREMENT, -- AUTOINCREMENT: an id is never reused, even after deletes, so cursors stay valid
            event_id       TEXT    NOT NULL,
            user_id        INTEGER NOT NULL,
            kind           TEXT    NOT NULL,
            actor_id       INTEGER NOT NULL,
            actor_username TEXT    NOT NULL,
            post_id        INTEGER,
            comment_id     INTEGER,
            text           TEXT    NOT NULL,
            created_at     INTEGER NOT NULL,
            delivered_at   INTEGER,
            read_at        INTEGER
        );
        -- Dedupe: one row per event.
        CREATE UNIQUE INDEX notifications_event_id ON notifications(event_id);
        -- list/since (user's rows by id, both directions), the prune cap.
        CREATE INDEX notifications_user_id ON notifications(user_id, id);
        -- Unread counts, unread pages and the backlog: only unread rows are in it, so it
        -- stays small however much history a user has.
        CREATE INDEX notifications_unread ON notifications(user_id, id) WHERE read_at IS NULL;
        -- deleteUser: the rows a user caused.
        CREATE INDEX notifications_actor_id ON notifications(actor_id);
        -- prune by read age.
        CREATE INDEX notifications_read_at ON notifications(read_at) WHERE read_at IS NOT NULL;
        """,
        // 2: tombstones of deleted users. An event to or from a deleted user that arrives
        // after the user.deleted event (a late publisher, a redelivery) is not stored.
        """
        CREATE TABLE deleted_users (
            user_id    INTEGER PRIMARY KEY,
            deleted_at INTEGER NOT NULL
        );
        """,
    ]

    static var currentVersion: Int32 { Int32(migrations.count) }

    /// Brings the file to `currentVersion`; refuses a file from a newer build.
    static func migrate(_ connection: SQLiteConnection) throws(StoreError) {
        while true {
            try connection.exec("BEGIN IMMEDIATE")
            do throws(StoreError) {
                let version = Int32(truncatingIfNeeded: try connection.queryInt("PRAGMA user_version"))
                if version > currentVersion { throw StoreError.schemaTooNew(found: version, known: currentVersion) }
                if version == currentVersion {
                    try connection.exec("COMMIT")
                    return
                }
                try connection.exec(migrations[Int(version)])
                try connection.exec("PRAGMA user_version = \(version + 1)")
                try connection.exec("COMMIT")
            } catch {
                try? connection.exec("ROLLBACK")
                throw error
            }
        }
    }
}
