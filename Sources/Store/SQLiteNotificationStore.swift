// The default offline store: one SQLite file in WAL mode, written by one connection.
//
// Threading: not Sendable. notifyd creates it on the store thread (or hands it there once
// with `sending`) and every call, close included, happens on that thread.
//
// Durability (docs/store.md): `insert` returns after COMMIT; with `.full` (the default)
// the WAL is fsynced at every commit, so what insert returned survives kill -9 and power
// loss; with `.normal` it survives kill -9 but the last commits may roll back on power loss.
import CSQLite
#if canImport(Glibc)
import Glibc
#endif

public enum SQLiteDurability: Sendable {
    /// PRAGMA synchronous=FULL: fsync of the WAL at every commit.
    case full
    /// PRAGMA synchronous=NORMAL: fsync only at checkpoints.
    case normal
}

public final class SQLiteNotificationStore: NotificationStore {
    public let path: String
    private var state: State?

    /// The connection and every statement prepared on it, released together by close().
    private final class State {
        let connection: SQLiteConnection
        let reads: SQLiteReadQueries
        let begin: SQLiteStatement
        let commit: SQLiteStatement
        let rollback: SQLiteStatement
        let insert: SQLiteStatement
        let markOneRead: SQLiteStatement
        let owns: SQLiteStatement
        let markAll: SQLiteStatement
        let markDelivered: SQLiteStatement
        let deleteUser: SQLiteStatement
        let tombstone: SQLiteStatement
        let pruneRead: SQLiteStatement
        let overCap: SQLiteStatement
        let pruneCap: SQLiteStatement

        init(connection c: SQLiteConnection) throws(StoreError) {
            connection = c
            reads = try SQLiteReadQueries(connection: c)
            begin = try c.prepare("BEGIN IMMEDIATE")
            commit = try c.prepare("COMMIT")
            rollback = try c.prepare("ROLLBACK")
            insert = try c.prepare("""
                INSERT INTO notifications (event_id, user_id, kind, actor_id, actor_username, post_id, comment_id, text, created_at)
                SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9
                WHERE NOT EXISTS (SELECT 1 FROM deleted_users WHERE user_id IN (?2, ?4))
                ON CONFLICT (event_id) DO NOTHING
                """)
            markOneRead = try c.prepare("UPDATE notifications SET read_at = ?3 WHERE id = ?1 AND user_id = ?2 AND read_at IS NULL")
            owns = try c.prepare("SELECT 1 FROM notifications WHERE id = ?1 AND user_id = ?2")
            markAll = try c.prepare("UPDATE notifications SET read_at = ?2 WHERE user_id = ?1 AND read_at IS NULL")
            markDelivered = try c.prepare(
                "UPDATE notifications SET delivered_at = ?3 WHERE id = ?1 AND user_id = ?2 AND delivered_at IS NULL")
            deleteUser = try c.prepare("DELETE FROM notifications WHERE user_id = ?1 OR actor_id = ?1")
            tombstone = try c.prepare("INSERT INTO deleted_users (user_id, deleted_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING")
            pruneRead = try c.prepare("DELETE FROM notifications WHERE read_at IS NOT NULL AND read_at < ?1")
            overCap = try c.prepare("SELECT user_id FROM notifications GROUP BY user_id HAVING count(*) > ?1")
            pruneCap = try c.prepare("""
                DELETE FROM notifications WHERE user_id = ?1 AND id <= (
                    SELECT id FROM notifications WHERE user_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)
                """)
        }
    }

    /// Opens (creating if needed) the store at `path`, migrates it to the current schema,
    /// and prepares every statement once.
    public init(path: String, durability: SQLiteDurability = .full, busyTimeoutMs: Int32 = 5000) throws(StoreError) {
        self.path = path
        let connection = try SQLiteConnection(path: path, readOnly: false)
        sqlite3_busy_timeout(connection.handle, busyTimeoutMs)
        let mode = try connection.queryText("PRAGMA journal_mode = WAL")
        guard mode.lowercased() == "wal" else { throw .database(code: SQLITE_ERROR, message: "journal_mode is \(mode), not wal") }
        try connection.exec("""
            PRAGMA synchronous = \(durability == .full ? "FULL" : "NORMAL");
            PRAGMA journal_size_limit = 67108864;
            PRAGMA temp_store = MEMORY;
            PRAGMA cache_size = -16384;
            """)
        try SQLiteSchema.migrate(connection)
        state = try State(connection: connection)
    }

    /// Finalizes the statements and closes the connection (checkpointing the WAL when it
    /// is the last connection). Later calls throw `.closed`. Idempotent.
    public func close() {
        state = nil
    }

    /// The schema version of the open file.
    public func schemaVersion() throws(StoreError) -> Int32 {
        Int32(truncatingIfNeeded: try live().connection.queryInt("PRAGMA user_version"))
    }

    private func live() throws(StoreError) -> State {
        guard let state else { throw .closed }
        return state
    }

    /// Runs `body` in one write transaction; rolls back and rethrows on error.
    private func transaction<T>(_ s: State, _ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try s.reads.run(s.begin)
        do {
            let value = try body()
            try s.reads.run(s.commit)
            return value
        } catch {
            try? s.reads.run(s.rollback)
            throw error
        }
    }

    public func insert(batch: [NewNotification]) throws(StoreError) -> [Notification] {
        let s = try live()
        if batch.isEmpty { return [] }
        return try transaction(s) { () throws(StoreError) -> [Notification] in
            var stored: [Notification] = []
            stored.reserveCapacity(batch.count)
            for item in batch {
                defer { s.insert.reset() }
                s.insert.bind(1, item.eventId)
                s.insert.bind(2, item.userId)
                s.insert.bind(3, item.kind.rawValue)
                s.insert.bind(4, item.actorId)
                s.insert.bind(5, item.actorUsername)
                s.insert.bind(6, item.postId)
                s.insert.bind(7, item.commentId)
                s.insert.bind(8, item.text)
                s.insert.bind(9, item.createdAt)
                _ = try s.insert.step()
                if s.connection.changes == 1 { stored.append(item.stored(id: s.connection.lastInsertRowID)) }
            }
            return stored
        }
    }

    public func list(userId: Int64, unreadOnly: Bool, limit: Int, before: Int64?) throws(StoreError) -> NotificationPage {
        try live().reads.list(userId: userId, unreadOnly: unreadOnly, limit: limit, before: before)
    }

    public func since(userId: Int64, afterId: Int64, limit: Int) throws(StoreError) -> [Notification] {
        try live().reads.since(userId: userId, afterId: afterId, limit: limit)
    }

    public func backlog(userId: Int64, limit: Int) throws(StoreError) -> Backlog {
        try live().reads.backlog(userId: userId, limit: limit)
    }

    public func unreadCount(userId: Int64) throws(StoreError) -> Int {
        try live().reads.unreadCount(userId: userId)
    }

    public func markRead(id: Int64, userId: Int64, at nowMs: Int64) throws(StoreError) -> Bool {
        let s = try live()
        if try update(s, s.markOneRead, id, userId, nowMs) == 1 { return true }
        // Unchanged: already read (still the caller's: true) or not the caller's (false).
        defer { s.owns.reset() }
        s.owns.bind(1, id)
        s.owns.bind(2, userId)
        return try s.owns.step()
    }

    public func markRead(ids: [Int64], userId: Int64, at nowMs: Int64) throws(StoreError) -> Int {
        try updateEach(ids, userId, nowMs) { $0.markOneRead }
    }

    public func markDelivered(ids: [Int64], userId: Int64, at nowMs: Int64) throws(StoreError) -> Int {
        try updateEach(ids, userId, nowMs) { $0.markDelivered }
    }

    public func deletedUserIds() throws(StoreError) -> [Int64] {
        let s = try live()
        let statement = try s.connection.prepare("SELECT user_id FROM deleted_users")
        var ids: [Int64] = []
        while try statement.step() { ids.append(statement.int64(0)) }
        return ids
    }

    public func markAllRead(userId: Int64, at nowMs: Int64) throws(StoreError) -> Int {
        let s = try live()
        defer { s.markAll.reset() }
        s.markAll.bind(1, userId)
        s.markAll.bind(2, nowMs)
        _ = try s.markAll.step()
        return s.connection.changes
    }

    public func deleteUser(userId: Int64) throws(StoreError) -> Int {
        let s = try live()
        return try transaction(s) { () throws(StoreError) -> Int in
            defer { s.deleteUser.reset(); s.tombstone.reset() }
            s.deleteUser.bind(1, userId)
            _ = try s.deleteUser.step()
            let deleted = s.connection.changes
            s.tombstone.bind(1, userId)
            s.tombstone.bind(2, Self.nowMilliseconds())
            _ = try s.tombstone.step()
            return deleted
        }
    }

    static func nowMilliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec / 1_000_000)
    }

    public func prune(nowMs: Int64, readRetentionDays: Int, capPerUser: Int) throws(StoreError) -> Int {
        let s = try live()
        return try transaction(s) { () throws(StoreError) -> Int in
            var deleted = 0
            if readRetentionDays >= 0 {
                defer { s.pruneRead.reset() }
                s.pruneRead.bind(1, nowMs - Int64(readRetentionDays) * 86_400_000)
                _ = try s.pruneRead.step()
                deleted += s.connection.changes
            }
            if capPerUser > 0 {
                var users: [Int64] = []
                do {
                    defer { s.overCap.reset() }
                    s.overCap.bind(1, Int64(capPerUser))
                    while try s.overCap.step() { users.append(s.overCap.int64(0)) }
                }
                for user in users {
                    defer { s.pruneCap.reset() }
                    s.pruneCap.bind(1, user)
                    s.pruneCap.bind(2, Int64(capPerUser))
                    _ = try s.pruneCap.step()
                    deleted += s.connection.changes
                }
            }
            return deleted
        }
    }

    /// One bound UPDATE (?1 id, ?2 user, ?3 time); returns the rows it changed.
    private func update(_ s: State, _ statement: SQLiteStatement, _ id: Int64, _ userId: Int64, _ nowMs: Int64) throws(StoreError) -> Int {
        defer { statement.reset() }
        statement.bind(1, id)
        statement.bind(2, userId)
        statement.bind(3, nowMs)
        _ = try statement.step()
        return s.connection.changes
    }

    private func updateEach(_ ids: [Int64], _ userId: Int64, _ nowMs: Int64,
                            _ pick: (State) -> SQLiteStatement) throws(StoreError) -> Int {
        let s = try live()
        if ids.isEmpty { return 0 }
        let statement = pick(s)
        return try transaction(s) { () throws(StoreError) -> Int in
            var changed = 0
            for id in Set(ids) { changed += try update(s, statement, id, userId, nowMs) }
            return changed
        }
    }
}
