// Reads a SQLite file on a separate read-only connection, as an operator's `sqlite3` would:
// tests check what notifyd committed without going through the store's own connection.
import CSQLite
import Store

public struct SQLiteReadFailed: Error, CustomStringConvertible {
    public let description: String
}

/// Every row `sql` returns, each column as text (nil for NULL). Waits up to 5 s for a
/// writer's lock (WAL readers rarely need to).
public func sqliteRows(path: String, _ sql: String) throws -> [[String?]] {
    var db: OpaquePointer?
    defer { sqlite3_close(db) }
    guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK, let db else {
        throw SQLiteReadFailed(description: "cannot open \(path)")
    }
    sqlite3_busy_timeout(db, 5000)
    var statement: OpaquePointer?
    guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
        throw SQLiteReadFailed(description: "prepare \(sql): \(String(cString: sqlite3_errmsg(db)))")
    }
    defer { sqlite3_finalize(statement) }
    var rows: [[String?]] = []
    while true {
        let code = sqlite3_step(statement)
        if code == SQLITE_DONE { break }
        guard code == SQLITE_ROW else { throw SQLiteReadFailed(description: "step \(sql): \(String(cString: sqlite3_errmsg(db)))") }
        rows.append((0..<sqlite3_column_count(statement)).map { column in
            sqlite3_column_type(statement, column) == SQLITE_NULL ? nil : sqlite3_column_text(statement, column).map { String(cString: $0) }
        })
    }
    return rows
}

/// The notifications `condition` selects in notifyd's store file, oldest first, read on a
/// separate connection (it sees only what was committed).
public func storedNotifications(path: String, where condition: String) throws -> [Store.Notification] {
    let sql = "SELECT id, event_id, user_id, kind, actor_id, actor_username, post_id, comment_id, text, created_at, "
        + "delivered_at, read_at FROM notifications WHERE \(condition) ORDER BY id"
    return try sqliteRows(path: path, sql).map { row in
        func int(_ i: Int) -> Int64? { row[i].flatMap { Int64($0) } }
        guard let id = int(0), let user = int(2), let actor = int(4), let created = int(9),
              let kind = row[3].flatMap(NotificationKind.init(rawValue:)) else {
            throw SQLiteReadFailed(description: "unexpected row \(row)")
        }
        return Store.Notification(id: id, eventId: row[1] ?? "", userId: user, kind: kind, actorId: actor,
                                  actorUsername: row[5] ?? "", postId: int(6), commentId: int(7), text: row[8] ?? "",
                                  createdAt: created, deliveredAt: int(10), readAt: int(11))
    }
}
