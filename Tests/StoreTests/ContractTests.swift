// The store contract, run against every implementation: identical behaviour is the point.
import Testing
import Store

@Suite struct StoreContract {
    @Test(arguments: Implementation.allCases)
    func dedupeAcrossAndWithinBatches(_ implementation: Implementation) throws {
        let store = try Fixture(implementation).store
        let first = try store.insert(batch: [note("e1", to: 7), note("e2", to: 7), note("e1", to: 7), note("e3", to: 8)])
        #expect(first.map(\.eventId) == ["e1", "e2", "e3"])
        #expect(first.map(\.userId) == [7, 7, 8])
        #expect(first[0].id < first[1].id && first[1].id < first[2].id)
        let second = try store.insert(batch: [note("e2", to: 7), note("e4", to: 7), note("e3", to: 8)])
        #expect(second.map(\.eventId) == ["e4"])
        #expect(second[0].id > first[2].id)
        #expect(try store.insert(batch: []).isEmpty)
        #expect(try store.insert(batch: [note("e1", to: 7)]).isEmpty)
        #expect(try store.unreadCount(userId: 7) == 3)
        let page = try store.list(userId: 7, unreadOnly: false, limit: 10, before: nil)
        #expect(page.notifications.map(\.eventId) == ["e4", "e2", "e1"])
        // What insert returned is what a read gives back.
        #expect(page.notifications.last == first[0])
    }

    @Test(arguments: Implementation.allCases)
    func beforeCursorPagesWithoutGapsOrDuplicates(_ implementation: Implementation) throws {
        let store = try Fixture(implementation).store
        var mine: [Int64] = []
        for i in 0..<25 {
            let stored = try store.insert(batch: [note("a\(i)", to: 1), note("b\(i)", to: 2)])
            mine.append(stored[0].id)
        }
        var seen: [Int64] = []
        var cursor: Int64?
        var pages = 0
        repeat {
            let page = try store.list(userId: 1, unreadOnly: false, limit: 7, before: cursor)
            #expect(page.notifications.allSatisfy { $0.userId == 1 })
            #expect(page.unreadCount == 25)
            seen += page.notifications.map(\.id)
            cursor = page.next
            pages += 1
        } while cursor != nil && pages < 10
        #expect(pages == 4)
        #expect(seen == mine.reversed())
        // An exact multiple: the last full page has no next.
        let exact = try store.list(userId: 1, unreadOnly: false, limit: 25, before: nil)
        #expect(exact.notifications.count == 25 && exact.next == nil)
        #expect(try store.list(userId: 1, unreadOnly: false, limit: 0, before: nil).notifications.isEmpty)
        #expect(try store.list(userId: 3, unreadOnly: false, limit: 5, before: nil) == NotificationPage(notifications: [], unreadCount: 0, next: nil))
    }

    @Test(arguments: Implementation.allCases)
    func sinceCursorResumesAscending(_ implementation: Implementation) throws {
        let store = try Fixture(implementation).store
        var mine: [Int64] = []
        for i in 0..<20 {
            mine += try store.insert(batch: [note("a\(i)", to: 1), note("b\(i)", to: 2)]).filter { $0.userId == 1 }.map(\.id)
        }
        #expect(try store.markRead(ids: Array(mine.prefix(5)), userId: 1, at: 1) == 5)
        var cursor: Int64 = 0
        var seen: [Int64] = []
        while true {
            let batch = try store.since(userId: 1, afterId: cursor, limit: 6)
            seen += batch.map(\.id)
            guard let last = batch.last?.id, batch.count == 6 else { break }
            cursor = last
        }
        #expect(seen == mine)   // read ones included, ascending, each once
        #expect(try store.since(userId: 1, afterId: mine[19], limit: 10).isEmpty)
        #expect(try store.since(userId: 1, afterId: mine[17], limit: 10).map(\.id) == [mine[18], mine[19]])
    }

    @Test(arguments: Implementation.allCases)
    func unreadCountsPagesAndBacklog(_ implementation: Implementation) throws {
        let store = try Fixture(implementation).store
        let stored = try store.insert(batch: (0..<10).map { note("e\($0)", to: 4) })
        let ids = stored.map(\.id)
        #expect(try store.unreadCount(userId: 4) == 10)
        #expect(try store.markRead(ids: [ids[1], ids[3], ids[3], ids[9]], userId: 4, at: 50) == 3)
        #expect(try store.unreadCount(userId: 4) == 7)
        let unread = try store.list(userId: 4, unreadOnly: true, limit: 4, before: nil)
        #expect(unread.notifications.map(\.id) == [ids[8], ids[7], ids[6], ids[5]])
        #expect(unread.unreadCount == 7 && unread.next == ids[5])
        let rest = try store.list(userId: 4, unreadOnly: true, limit: 4, before: unread.next)
        #expect(rest.notifications.map(\.id) == [ids[4], ids[2], ids[0]] && rest.next == nil)

        let backlog = try store.backlog(userId: 4, limit: 3)
        #expect(backlog.notifications.map(\.id) == [ids[6], ids[7], ids[8]])   // newest unread, oldest first
        #expect(backlog.unreadCount == 7 && backlog.more)
        let all = try store.backlog(userId: 4, limit: 500)
        #expect(all.notifications.count == 7 && !all.more)
        #expect(all.notifications.allSatisfy { $0.readAt == nil })
        #expect(try store.backlog(userId: 5, limit: 10) == Backlog(notifications: [], unreadCount: 0, more: false))
    }

    @Test(arguments: Implementation.allCases)
    func markingIsScopedToTheOwner(_ implementation: Implementation) throws {
        let store = try Fixture(implementation).store
        let stored = try store.insert(batch: [note("a", to: 1), note("b", to: 2), note("c", to: 2)])
        let (a, b, c) = (stored[0].id, stored[1].id, stored[2].id)
        // User 1 against user 2's notification: false, and nothing changes.
        #expect(try store.markRead(id: b, userId: 1, at: 10) == false)
        #expect(try store.markRead(id: 999_999, userId: 1, at: 10) == false)
        #expect(try store.markRead(ids: [b, c], userId: 1, at: 10) == 0)
        #expect(try store.markDelivered(ids: [b], userId: 1, at: 10) == 0)
        #expect(try store.unreadCount(userId: 2) == 2)
        #expect(try store.list(userId: 2, unreadOnly: false, limit: 5, before: nil).notifications.allSatisfy { $0.readAt == nil && $0.deliveredAt == nil })
        // The owner: true, idempotent, first read time kept.
        #expect(try store.markRead(id: b, userId: 2, at: 20) == true)
        #expect(try store.markRead(id: b, userId: 2, at: 30) == true)
        #expect(try store.list(userId: 2, unreadOnly: false, limit: 5, before: nil).notifications.last?.readAt == 20)
        #expect(try store.markDelivered(ids: [b, c, a], userId: 2, at: 40) == 2)
        #expect(try store.markDelivered(ids: [b], userId: 2, at: 41) == 0)
        #expect(try store.list(userId: 2, unreadOnly: false, limit: 5, before: nil).notifications.map(\.deliveredAt) == [40, 40])
        // markAllRead touches only the caller.
        #expect(try store.markAllRead(userId: 2, at: 50) == 1)
        #expect(try store.markAllRead(userId: 2, at: 60) == 0)
        #expect(try store.unreadCount(userId: 2) == 0)
        #expect(try store.unreadCount(userId: 1) == 1)
        #expect(try store.list(userId: 1, unreadOnly: false, limit: 5, before: nil).notifications.map(\.id) == [a])
    }

    @Test(arguments: Implementation.allCases)
    func deleteUserRemovesBothDirections(_ implementation: Implementation) throws {
        let store = try Fixture(implementation).store
        _ = try store.insert(batch: [
            note("to9", to: 9, from: 1), note("from9", to: 1, from: 9), note("other", to: 1, from: 2),
            note("to9b", to: 9, from: 3), note("from9b", to: 4, from: 9),
        ])
        #expect(try store.deleteUser(userId: 9) == 4)
        #expect(try store.list(userId: 9, unreadOnly: false, limit: 10, before: nil).notifications.isEmpty)
        #expect(try store.list(userId: 1, unreadOnly: false, limit: 10, before: nil).notifications.map(\.eventId) == ["other"])
        #expect(try store.unreadCount(userId: 4) == 0)
        #expect(try store.deleteUser(userId: 9) == 0)
        // Tombstone: a late event to or from the deleted user is not stored; others are.
        let late = try store.insert(batch: [note("late-to9", to: 9, from: 1), note("late-from9", to: 1, from: 9),
                                            note("late-other", to: 1, from: 2)])
        #expect(late.map(\.eventId) == ["late-other"])
        #expect(try store.unreadCount(userId: 9) == 0)
    }

    @Test(arguments: Implementation.allCases)
    func deletedUserIdsListsEveryTombstoneOnce(_ implementation: Implementation) throws {
        let store = try Fixture(implementation).store
        #expect(try store.deletedUserIds().isEmpty)
        _ = try store.insert(batch: [note("a", to: 9, from: 1)])
        _ = try store.deleteUser(userId: 9)
        _ = try store.deleteUser(userId: 4)      // no rows: still a tombstone
        _ = try store.deleteUser(userId: 9)      // twice: listed once
        #expect(try store.deletedUserIds().sorted() == [4, 9])
    }

    @Test(arguments: Implementation.allCases)
    func pruneHonoursRetentionAndCap(_ implementation: Implementation) throws {
        let store = try Fixture(implementation).store
        let day: Int64 = 86_400_000
        let now: Int64 = 100 * day
        let stored = try store.insert(batch: (0..<6).map { note("u1-\($0)", to: 1) } + (0..<3).map { note("u2-\($0)", to: 2) })
        let u1 = stored.filter { $0.userId == 1 }.map(\.id)
        _ = try store.markRead(id: u1[0], userId: 1, at: now - 40 * day)   // read long ago: goes
        _ = try store.markRead(id: u1[1], userId: 1, at: now - 29 * day)   // read recently: stays
        #expect(try store.prune(nowMs: now, readRetentionDays: 30, capPerUser: 0) == 1)
        #expect(try store.list(userId: 1, unreadOnly: false, limit: 10, before: nil).notifications.map(\.id) == Array(u1[1...].reversed()))
        // Cap 3: user 1 keeps its newest 3 (read or not); user 2 (3 rows) untouched.
        #expect(try store.prune(nowMs: now, readRetentionDays: -1, capPerUser: 3) == 2)
        #expect(try store.list(userId: 1, unreadOnly: false, limit: 10, before: nil).notifications.map(\.id) == [u1[5], u1[4], u1[3]])
        #expect(try store.unreadCount(userId: 2) == 3)
        #expect(try store.prune(nowMs: now, readRetentionDays: 30, capPerUser: 3) == 0)
        // A pruned event id may be stored again (the dedupe window is the row's life).
        #expect(try store.insert(batch: [note("u1-0", to: 1)]).count == 1)
    }

    @Test(arguments: Implementation.allCases)
    func idsKeepGrowingAfterDeletes(_ implementation: Implementation) throws {
        let store = try Fixture(implementation).store
        let first = try store.insert(batch: [note("a", to: 1), note("b", to: 2)])
        _ = try store.deleteUser(userId: 2)   // removes the newest row
        let next = try store.insert(batch: [note("c", to: 3)])
        #expect(next[0].id > first[1].id)   // never reuses an id a client may hold as cursor
    }
}
