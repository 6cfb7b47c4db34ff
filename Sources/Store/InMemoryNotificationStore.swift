// The in-memory store: the test double, and a reference for the contract's semantics.
// Not Sendable: one owning thread, like every store. Nothing survives the object.

public final class InMemoryNotificationStore: NotificationStore {
    /// Ascending by id (ids only grow, so appends keep the order).
    private var rows: [Notification] = []
    private var eventIds: Set<String> = []
    private var lastId: Int64 = 0
    /// Tombstones: nothing to or from these users is stored again.
    private var deletedUsers: Set<Int64> = []

    public init() {}

    public func insert(batch: [NewNotification]) throws(StoreError) -> [Notification] {
        var stored: [Notification] = []
        for item in batch where !deletedUsers.contains(item.userId) && !deletedUsers.contains(item.actorId)
            && eventIds.insert(item.eventId).inserted {
            lastId += 1
            let row = item.stored(id: lastId)
            rows.append(row)
            stored.append(row)
        }
        return stored
    }

    public func list(userId: Int64, unreadOnly: Bool, limit: Int, before: Int64?) throws(StoreError) -> NotificationPage {
        let limit = max(0, limit)
        var page: [Notification] = []
        var hasMore = false
        for row in rows.reversed() where row.userId == userId && (before.map { row.id < $0 } ?? true) && (!unreadOnly || row.readAt == nil) {
            if page.count == limit { hasMore = true; break }
            page.append(row)
        }
        return NotificationPage(notifications: page, unreadCount: try unreadCount(userId: userId),
                                next: hasMore ? page.last?.id : nil)
    }

    public func since(userId: Int64, afterId: Int64, limit: Int) throws(StoreError) -> [Notification] {
        Array(rows.lazy.filter { $0.userId == userId && $0.id > afterId }.prefix(max(0, limit)))
    }

    public func backlog(userId: Int64, limit: Int) throws(StoreError) -> Backlog {
        let unread = rows.filter { $0.userId == userId && $0.readAt == nil }
        let shown = Array(unread.suffix(max(0, limit)))
        return Backlog(notifications: shown, unreadCount: unread.count, more: unread.count > shown.count)
    }

    public func unreadCount(userId: Int64) throws(StoreError) -> Int {
        rows.reduce(0) { $0 + ($1.userId == userId && $1.readAt == nil ? 1 : 0) }
    }

    public func markRead(id: Int64, userId: Int64, at nowMs: Int64) throws(StoreError) -> Bool {
        guard let index = index(of: id), rows[index].userId == userId else { return false }
        if rows[index].readAt == nil { rows[index].readAt = nowMs }
        return true
    }

    public func markRead(ids: [Int64], userId: Int64, at nowMs: Int64) throws(StoreError) -> Int {
        var changed = 0
        for id in Set(ids) {
            if let index = index(of: id), rows[index].userId == userId, rows[index].readAt == nil {
                rows[index].readAt = nowMs
                changed += 1
            }
        }
        return changed
    }

    public func markDelivered(ids: [Int64], userId: Int64, at nowMs: Int64) throws(StoreError) -> Int {
        var changed = 0
        for id in Set(ids) {
            if let index = index(of: id), rows[index].userId == userId, rows[index].deliveredAt == nil {
                rows[index].deliveredAt = nowMs
                changed += 1
            }
        }
        return changed
    }

    public func markAllRead(userId: Int64, at nowMs: Int64) throws(StoreError) -> Int {
        var changed = 0
        for index in rows.indices where rows[index].userId == userId && rows[index].readAt == nil {
            rows[index].readAt = nowMs
            changed += 1
        }
        return changed
    }

    public func deleteUser(userId: Int64) throws(StoreError) -> Int {
        deletedUsers.insert(userId)
        return remove { $0.userId == userId || $0.actorId == userId }
    }

    public func deletedUserIds() throws(StoreError) -> [Int64] { Array(deletedUsers) }

    public func prune(nowMs: Int64, readRetentionDays: Int, capPerUser: Int) throws(StoreError) -> Int {
        var deleted = 0
        if readRetentionDays >= 0 {
            let cutoff = nowMs - Int64(readRetentionDays) * 86_400_000
            deleted += remove { ($0.readAt ?? Int64.max) < cutoff }
        }
        if capPerUser > 0 {
            var kept: [Int64: Int] = [:]
            var doomed: Set<Int64> = []
            for row in rows.reversed() {
                let count = kept[row.userId, default: 0] + 1
                kept[row.userId] = count
                if count > capPerUser { doomed.insert(row.id) }
            }
            deleted += remove { doomed.contains($0.id) }
        }
        return deleted
    }

    /// Removes matching rows and forgets their event ids, as the SQLite store's unique
    /// index does (docs/store.md: the dedupe window is the row's lifetime).
    private func remove(where predicate: (Notification) -> Bool) -> Int {
        let before = rows.count
        rows.removeAll { row in
            guard predicate(row) else { return false }
            eventIds.remove(row.eventId)
            return true
        }
        return before - rows.count
    }

    private func index(of id: Int64) -> Int? {
        // Rows are sorted by id: binary search.
        var low = 0, high = rows.count
        while low < high {
            let mid = (low + high) / 2
            if rows[mid].id < id { low = mid + 1 } else { high = mid }
        }
        return low < rows.count && rows[low].id == id ? low : nil
    }
}
