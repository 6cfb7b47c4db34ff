// What only the SQLite store has: files, durability, a second connection's view, migrations.
import Testing
import CSQLite
import Store

@Suite struct SQLiteStoreTests {
    @Test func committedRowsAreVisibleToASecondConnectionWhileTheWriterIsOpen() throws {
        let dir = try TempDir()
        let path = dir.file("notify.db")
        let writer = try SQLiteNotificationStore(path: path)
        let unread = "SELECT count(*) FROM notifications WHERE user_id = 1 AND read_at IS NULL"
        #expect(try query(path, unread) == ["0"])
        let stored = try writer.insert(batch: (0..<50).map { note("e\($0)", to: 1) })
        // Each read on the second connection sees the last commit (WAL).
        #expect(try query(path, unread) == ["50"])
        #expect(try query(path, "SELECT event_id FROM notifications WHERE user_id = 1 ORDER BY id") == stored.map(\.eventId))
        _ = try writer.markRead(id: stored[0].id, userId: 1, at: 5)
        #expect(try query(path, unread) == ["49"])
    }

    @Test(arguments: [SQLiteDurability.full, .normal])
    func aCrashSnapshotHoldsEveryCommittedRow(_ durability: SQLiteDurability) throws {
        let dir = try TempDir()
        let path = dir.file("notify.db")
        let writer = try SQLiteNotificationStore(path: path, durability: durability)
        var committed: [Notification] = []
        for batch in 0..<20 {
            committed += try writer.insert(batch: (0..<50).map { note("b\(batch)-\($0)", to: Int64($0 % 5)) })
        }
        _ = try writer.markAllRead(userId: 3, at: 77)
        // The commits are still in the WAL, not checkpointed into the main file.
        #expect(fileSize(path + "-wal") > 0)
        // Copy the files as a kill -9 leaves them: the writer is still open, no checkpoint,
        // no clean close, and no -shm (the next opener rebuilds the WAL index).
        try copyFile(path, dir.file("copy.db"))
        try copyFile(path + "-wal", dir.file("copy.db-wal"))
        let recovered = try SQLiteNotificationStore(path: dir.file("copy.db"))
        var all: [Notification] = []
        for user in Int64(0)..<5 { all += try recovered.since(userId: user, afterId: 0, limit: 10_000) }
        #expect(all.count == 1000)
        #expect(all.sorted { $0.id < $1.id } == committed.map { $0.userId == 3 ? withRead($0, 77) : $0 })
        // The recovered store keeps working, ids after the old ones, dedupe intact.
        #expect(try recovered.insert(batch: [note("b0-0", to: 0)]).isEmpty)
        #expect(try recovered.insert(batch: [note("new", to: 0)])[0].id > committed.last?.id ?? .max)
        writer.close()
    }

    @Test func reopenKeepsRowsAndSchema() throws {
        let dir = try TempDir()
        let path = dir.file("notify.db")
        var store: SQLiteNotificationStore? = try SQLiteNotificationStore(path: path)
        let stored = try store?.insert(batch: [note("a", to: 1), note("b", to: 1)]) ?? []
        store?.close()
        #expect(throws: StoreError.closed) { try store?.unreadCount(userId: 1) }
        store = nil
        let again = try SQLiteNotificationStore(path: path)
        #expect(try again.schemaVersion() == 2)
        #expect(try again.since(userId: 1, afterId: 0, limit: 10) == stored)
        #expect(try again.insert(batch: [note("a", to: 1)]).isEmpty)
    }

    @Test func migrationFromAnEmptyFileCreatesTheSchema() throws {
        let dir = try TempDir()
        let path = dir.file("empty.db")
        // A zero-length file is a valid empty SQLite database at user_version 0.
        try copyFile("/dev/null", path)
        #expect(fileSize(path) == 0)
        let store = try SQLiteNotificationStore(path: path)
        #expect(try store.schemaVersion() == 2)
        store.close()
        let names = try query(path, "SELECT name FROM sqlite_master WHERE type IN ('table','index') AND name LIKE 'notifications%' ORDER BY name")
        #expect(names == ["notifications", "notifications_actor_id", "notifications_event_id", "notifications_read_at",
                          "notifications_unread", "notifications_user_id"])
        #expect(try query(path, "SELECT name FROM sqlite_master WHERE name = 'deleted_users'") == ["deleted_users"])
        #expect(try query(path, "PRAGMA journal_mode") == ["wal"])
    }

    @Test func theQueriesUseTheirIndexes() throws {
        let dir = try TempDir()
        let path = dir.file("notify.db")
        try SQLiteNotificationStore(path: path).close()
        let plans: [(String, String)] = [
            ("SELECT * FROM notifications WHERE user_id = 1 AND id < 5 ORDER BY id DESC LIMIT 3", "notifications_user_id"),
            ("SELECT count(*) FROM notifications WHERE user_id = 1 AND read_at IS NULL", "notifications_unread"),
            ("SELECT * FROM notifications WHERE user_id = 1 AND read_at IS NULL ORDER BY id DESC LIMIT 3", "notifications_unread"),
            ("DELETE FROM notifications WHERE user_id = 1 OR actor_id = 1", "notifications_actor_id"),
            ("DELETE FROM notifications WHERE read_at IS NOT NULL AND read_at < 5", "notifications_read_at"),
        ]
        for (sql, index) in plans {
            let plan = try query(path, "EXPLAIN QUERY PLAN " + sql, column: 3).joined(separator: " | ")
            #expect(plan.contains(index), "\(sql): \(plan)")
            #expect(!plan.contains("SCAN notifications"), "\(sql): \(plan)")
        }
    }

    @Test func aNewerSchemaIsRefused() throws {
        let dir = try TempDir()
        let path = dir.file("notify.db")
        try copyFile("/dev/null", path)
        try SQLiteNotificationStore(path: path).close()
        _ = try query(path, "PRAGMA user_version = 99")
        #expect(throws: StoreError.schemaTooNew(found: 99, known: 2)) { try SQLiteNotificationStore(path: path) }
    }
}

private func withRead(_ n: Notification, _ at: Int64) -> Notification {
    var copy = n
    copy.readAt = at
    return copy
}

/// Runs `sql` on a separate raw connection and returns one text column of every row.
private func query(_ path: String, _ sql: String, column: Int32 = 0) throws -> [String] {
    var db: OpaquePointer?
    guard sqlite3_open(path, &db) == SQLITE_OK, let db else { throw TestFailure("open \(path)") }
    defer { sqlite3_close(db) }
    var statement: OpaquePointer?
    guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
        throw TestFailure("prepare \(sql): \(String(cString: sqlite3_errmsg(db)))")
    }
    defer { sqlite3_finalize(statement) }
    var out: [String] = []
    while true {
        let code = sqlite3_step(statement)
        if code == SQLITE_DONE { break }
        guard code == SQLITE_ROW else { throw TestFailure("step \(sql): \(code)") }
        out.append(sqlite3_column_text(statement, column).map { String(cString: $0) } ?? "")
    }
    return out
}
