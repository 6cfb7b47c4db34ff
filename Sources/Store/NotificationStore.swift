// The offline store's contract. notifyd's store thread owns one store object and makes
// every call, reads included. SQLite is the default, a PostgreSQL
// implementation follows; InMemoryNotificationStore is the test double. One shared test
// suite runs against every implementation, so they behave alike.
//
// Threading: implementations are not Sendable. An object is created, used and closed on
// one thread (notifyd: the store thread); hand it to that thread once (`sending`) and
// never touch it elsewhere.
//
// Times are milliseconds since the epoch, passed in by the caller so tests control them.

public struct NotificationPage: Sendable, Equatable {
    /// Newest first.
    public var notifications: [Notification]
    /// The user's unread total (not just this page's).
    public var unreadCount: Int
    /// Pass as `before` to get the next (older) page; nil when this page is the last.
    public var next: Int64?

    public init(notifications: [Notification], unreadCount: Int, next: Int64?) {
        self.notifications = notifications
        self.unreadCount = unreadCount
        self.next = next
    }
}

public struct Backlog: Sendable, Equatable {
    /// The newest `limit` unread notifications, oldest first (the order to show them).
    public var notifications: [Notification]
    public var unreadCount: Int
    /// True when older unread notifications were left out; the client pages them with
    /// REST `before=<first id>`.
    public var more: Bool

    public init(notifications: [Notification], unreadCount: Int, more: Bool) {
        self.notifications = notifications
        self.unreadCount = unreadCount
        self.more = more
    }
}

public enum StoreError: Error, Equatable, Sendable {
    /// The database refused: the SQLite (or libpq) result code and message.
    case database(code: Int32, message: String)
    /// A row could not be read back as a Notification (unknown kind, bad column).
    case corrupt(String)
    /// The file was written by a newer schema than this build knows.
    case schemaTooNew(found: Int32, known: Int32)
    case closed
}

/// The read half, enough for REST and for session (re)connects.
public protocol NotificationReading: AnyObject {
    /// A page newest first: ids < `before` when given, unread only when asked.
    func list(userId: Int64, unreadOnly: Bool, limit: Int, before: Int64?) throws(StoreError) -> NotificationPage
    /// Everything (read or not) with id > `afterId`, oldest first, at most `limit`: the
    /// resume after a client's cursor. Fewer than `limit` means the client is caught up.
    func since(userId: Int64, afterId: Int64, limit: Int) throws(StoreError) -> [Notification]
    /// The connect backlog: the newest `limit` unread, oldest first, with `more`.
    func backlog(userId: Int64, limit: Int) throws(StoreError) -> Backlog
    func unreadCount(userId: Int64) throws(StoreError) -> Int
}

public protocol NotificationStore: NotificationReading {
    /// Stores a batch in one transaction. A notification whose eventId is already stored
    /// (earlier, or earlier in this batch) is skipped. Returns the newly stored ones with
    /// their ids, in batch order. When it returns, the batch is committed (durable as
    /// docs/store.md says); when it throws, nothing of the batch is stored.
    func insert(batch: [NewNotification]) throws(StoreError) -> [Notification]
    /// Marks one notification read (first read time kept). True when it is `userId`'s,
    /// read before or not (idempotent); false when it does not exist or is someone
    /// else's, and then nothing changes (callers answer 404).
    func markRead(id: Int64, userId: Int64, at nowMs: Int64) throws(StoreError) -> Bool
    /// Marks those of `ids` that are `userId`'s and unread; returns how many changed.
    func markRead(ids: [Int64], userId: Int64, at nowMs: Int64) throws(StoreError) -> Int
    /// Records delivery of those of `ids` that are `userId`'s and not yet delivered;
    /// returns how many changed.
    func markDelivered(ids: [Int64], userId: Int64, at nowMs: Int64) throws(StoreError) -> Int
    /// Marks all of `userId`'s unread notifications read; returns how many changed.
    func markAllRead(userId: Int64, at nowMs: Int64) throws(StoreError) -> Int
    /// Deletes the notifications to `userId` and those `userId` caused (actor), and keeps a
    /// tombstone so that nothing to or from the user is stored afterwards (an event published
    /// before the deletion but delivered after it); returns how many rows went.
    func deleteUser(userId: Int64) throws(StoreError) -> Int
    /// Every user with a tombstone (deleted by `deleteUser`), in no particular order: notifyd
    /// loads them at start to refuse those users' tokens without a store round-trip.
    func deletedUserIds() throws(StoreError) -> [Int64]
    /// Retention: deletes notifications read more than `readRetentionDays` days before
    /// `nowMs`, then each user's oldest beyond the newest `capPerUser` (read or not).
    /// A negative retention or a cap ≤ 0 disables that rule. Returns how many went.
    func prune(nowMs: Int64, readRetentionDays: Int, capPerUser: Int) throws(StoreError) -> Int
}
