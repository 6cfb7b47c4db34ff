// The read queries of SQLiteNotificationStore. Each public read runs in one read
// transaction, so a page and its unread count come from the same snapshot (WAL readers
// see the last commit at their BEGIN).

final class SQLiteReadQueries {
    static let columns = "id, event_id, user_id, kind, actor_id, actor_username, post_id, comment_id, text, created_at, delivered_at, read_at"

    let connection: SQLiteConnection
    private let begin: SQLiteStatement
    private let commit: SQLiteStatement
    private let rollback: SQLiteStatement
    private let pageAll: SQLiteStatement
    private let pageUnread: SQLiteStatement
    private let after: SQLiteStatement
    private let newestUnread: SQLiteStatement
    private let countUnread: SQLiteStatement

    init(connection: SQLiteConnection) throws(StoreError) {
        self.connection = connection
        let c = SQLiteReadQueries.columns
        begin = try connection.prepare("BEGIN")
        commit = try connection.prepare("COMMIT")
        rollback = try connection.prepare("ROLLBACK")
        pageAll = try connection.prepare("SELECT \(c) FROM notifications WHERE user_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3")
        pageUnread = try connection.prepare(
            "SELECT \(c) FROM notifications WHERE user_id = ?1 AND id < ?2 AND read_at IS NULL ORDER BY id DESC LIMIT ?3")
        after = try connection.prepare("SELECT \(c) FROM notifications WHERE user_id = ?1 AND id > ?2 ORDER BY id ASC LIMIT ?3")
        newestUnread = try connection.prepare(
            "SELECT \(c) FROM notifications WHERE user_id = ?1 AND read_at IS NULL ORDER BY id DESC LIMIT ?2")
        countUnread = try connection.prepare("SELECT count(*) FROM notifications WHERE user_id = ?1 AND read_at IS NULL")
    }

    /// Runs `body` inside BEGIN/COMMIT (a consistent snapshot).
    func snapshot<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try run(begin)
        do {
            let value = try body()
            try run(commit)
            return value
        } catch {
            try? run(rollback)
            throw error
        }
    }

    func run(_ statement: SQLiteStatement) throws(StoreError) {
        defer { statement.reset() }
        _ = try statement.step()
    }

    func list(userId: Int64, unreadOnly: Bool, limit: Int, before: Int64?) throws(StoreError) -> NotificationPage {
        let limit = max(0, limit)
        return try snapshot { () throws(StoreError) -> NotificationPage in
            let statement = unreadOnly ? pageUnread : pageAll
            statement.bind(1, userId)
            statement.bind(2, before ?? Int64.max)
            statement.bind(3, Int64(limit) + 1)   // one extra row tells whether a next page exists
            var rows = try readRows(statement)
            var next: Int64?
            if rows.count > limit {
                rows.removeLast(rows.count - limit)
                next = rows.last?.id
            }
            return NotificationPage(notifications: rows, unreadCount: try countUnreadRows(userId), next: next)
        }
    }

    func since(userId: Int64, afterId: Int64, limit: Int) throws(StoreError) -> [Notification] {
        after.bind(1, userId)
        after.bind(2, afterId)
        after.bind(3, Int64(max(0, limit)))
        return try readRows(after)
    }

    func backlog(userId: Int64, limit: Int) throws(StoreError) -> Backlog {
        try snapshot { () throws(StoreError) -> Backlog in
            newestUnread.bind(1, userId)
            newestUnread.bind(2, Int64(max(0, limit)))
            let rows = try readRows(newestUnread).reversed()
            let unread = try countUnreadRows(userId)
            return Backlog(notifications: Array(rows), unreadCount: unread, more: unread > rows.count)
        }
    }

    func unreadCount(userId: Int64) throws(StoreError) -> Int {
        try countUnreadRows(userId)
    }

    private func countUnreadRows(_ userId: Int64) throws(StoreError) -> Int {
        defer { countUnread.reset() }
        countUnread.bind(1, userId)
        guard try countUnread.step() else { return 0 }
        return Int(countUnread.int64(0))
    }

    /// Steps `statement` (already bound) to the end, decoding each row; resets it.
    func readRows(_ statement: SQLiteStatement) throws(StoreError) -> [Notification] {
        defer { statement.reset() }
        var rows: [Notification] = []
        while try statement.step() {
            let kindText = statement.text(3)
            guard let kind = NotificationKind(rawValue: kindText) else {
                throw .corrupt("notification \(statement.int64(0)) has unknown kind \(kindText)")
            }
            rows.append(Notification(
                id: statement.int64(0), eventId: statement.text(1), userId: statement.int64(2), kind: kind,
                actorId: statement.int64(4), actorUsername: statement.text(5), postId: statement.optionalInt64(6),
                commentId: statement.optionalInt64(7), text: statement.text(8), createdAt: statement.int64(9),
                deliveredAt: statement.optionalInt64(10), readAt: statement.optionalInt64(11)))
        }
        return rows
    }
}
