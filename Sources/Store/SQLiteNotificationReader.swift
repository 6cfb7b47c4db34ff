// Read-only connections to the store file, for REST reads off the store thread. In WAL
// mode a reader never blocks the writer nor waits for it; it sees every transaction
// committed before each read starts.
//
// Threading: not Sendable; one reader per thread (e.g. one per loop thread, or a small
// pool on the blocking-work threads). Open readers after the writer has created and
// migrated the file.

public final class SQLiteNotificationReader: NotificationReading {
    private var reads: SQLiteReadQueries?

    /// Opens `path` read-only. Throws when the file is missing or its schema is not the
    /// one this build knows (the writer migrates; readers never do).
    public init(path: String, busyTimeoutMs: Int32 = 5000) throws(StoreError) {
        let connection = try SQLiteConnection(path: path, readOnly: true)
        try connection.exec("PRAGMA busy_timeout = \(busyTimeoutMs)")
        let version = Int32(truncatingIfNeeded: try connection.queryInt("PRAGMA user_version"))
        guard version == SQLiteSchema.currentVersion else {
            if version > SQLiteSchema.currentVersion { throw .schemaTooNew(found: version, known: SQLiteSchema.currentVersion) }
            throw .corrupt("store schema version \(version), expected \(SQLiteSchema.currentVersion): open the writer first")
        }
        reads = try SQLiteReadQueries(connection: connection)
    }

    public func close() { reads = nil }

    private func live() throws(StoreError) -> SQLiteReadQueries {
        guard let reads else { throw .closed }
        return reads
    }

    public func list(userId: Int64, unreadOnly: Bool, limit: Int, before: Int64?) throws(StoreError) -> NotificationPage {
        try live().list(userId: userId, unreadOnly: unreadOnly, limit: limit, before: before)
    }

    public func since(userId: Int64, afterId: Int64, limit: Int) throws(StoreError) -> [Notification] {
        try live().since(userId: userId, afterId: afterId, limit: limit)
    }

    public func backlog(userId: Int64, limit: Int) throws(StoreError) -> Backlog {
        try live().backlog(userId: userId, limit: limit)
    }

    public func unreadCount(userId: Int64) throws(StoreError) -> Int {
        try live().unreadCount(userId: userId)
    }
}

extension SQLiteNotificationStore {
    /// A new read-only connection to this store's file (see SQLiteNotificationReader).
    public func openReader() throws(StoreError) -> SQLiteNotificationReader {
        try SQLiteNotificationReader(path: path)
    }
}
