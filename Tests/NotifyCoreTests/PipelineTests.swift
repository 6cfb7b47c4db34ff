// The ingest pipeline against the private RabbitMQ and real SQLite files. Each test has its
// own exchange, queue and store file (Lane), so events never cross tests. Serialized: one
// test stops and starts the broker.
import Foundation
import Testing
import AMQP
import CSQLite
import Events
import NotifyCore
import Store
import TestSupport

@Suite(.serialized) struct PipelineTests {
    @Test func eachKindIsStoredOnceAndHandedOnAfterCommit() throws {
        let lane = try Lane()
        defer { lane.cleanUp() }
        let (pipeline, seen) = try startPipeline(lane.config())
        defer { pipeline.stop() }
        let alice = EventActor(id: 42, username: "alice")
        let events = [
            Event.make(.postLiked, actor: alice, recipientId: 7, data: EventData(postId: 991, postOwnerId: 7)),
            Event.make(.postCommented, actor: alice, recipientId: 7,
                       data: EventData(postId: 991, commentId: 5, postOwnerId: 7, excerpt: "great light")),
            Event.make(.userFollowed, actor: alice, recipientId: 8, data: EventData(followerId: 42, followeeId: 8)),
            Event.make(.userMentioned, actor: alice, recipientId: 9, data: EventData(postId: 3, mentionedUserId: 9)),
            Event.make(.userRegistered, actor: EventActor(id: 10, username: "dora"), recipientId: 10,
                       data: EventData(userId: 10, username: "dora")),
        ]
        try publishAll(events.map(OutgoingMessage.init(event:)), with: lane.publisher())
        #expect(seen.wait(seconds: 20) { $0.notifications.count == 5 }, "delivered \(seen.read { $0.notifications.count })")
        let delivered = seen.read { $0 }
        #expect(delivered.notYetVisible == 0, "deliver ran before the rows were visible to another connection")

        let stored = try lane.storedNotifications(users: [7, 8, 9, 10, 42])
        #expect(stored.count == 5)
        #expect(Set(stored.map(\.eventId)) == Set(events.map(\.id)))
        #expect(Set(delivered.notifications.map(\.id)) == Set(stored.map(\.id)))
        let byKind = Dictionary(uniqueKeysWithValues: stored.map { ($0.kind, $0) })
        #expect(byKind[.like]?.userId == 7 && byKind[.like]?.text == "alice liked your post" && byKind[.like]?.postId == 991)
        #expect(byKind[.comment]?.text == "alice commented: great light" && byKind[.comment]?.commentId == 5)
        #expect(byKind[.newFollower]?.userId == 8 && byKind[.newFollower]?.text == "alice started following you")
        #expect(byKind[.mention]?.userId == 9 && byKind[.mention]?.text == "alice mentioned you")
        #expect(byKind[.welcome]?.userId == 10 && byKind[.welcome]?.text == "Welcome to Instaverse, dora!")
        #expect(stored.allSatisfy { $0.readAt == nil && $0.deliveredAt == nil && $0.createdAt > 1_700_000_000_000 })

        #expect(eventually(seconds: 10) { pipeline.consumerCounters.acked == 5 })
        #expect(try lane.admin().messageCount(queue: lane.queue) == 0)
        #expect(pipeline.metrics.eventsConsumed.load(ordering: .relaxed) == 5)
        #expect(pipeline.metrics.notificationsStored.load(ordering: .relaxed) == 5)
        #expect(pipeline.metrics.storeBatchLatency.observations >= 1)
        #expect(pipeline.isBrokerConnected && pipeline.isStoreOpen)
    }

    @Test func theSameEventTwiceIsStoredAndDeliveredOnce() throws {
        let lane = try Lane()
        defer { lane.cleanUp() }
        let (pipeline, seen) = try startPipeline(lane.config())
        defer { pipeline.stop() }
        let message = OutgoingMessage(event: like(1, actor: 2, owner: 3))
        let publisher = lane.publisher()
        try publishAll([message], with: publisher)
        #expect(seen.wait(seconds: 20) { $0.notifications.count == 1 })
        try publishAll([message, message], with: publisher)
        #expect(eventually(seconds: 20) { pipeline.metrics.eventsConsumed.load(ordering: .relaxed) == 3 })
        #expect(eventually(seconds: 10) { pipeline.consumerCounters.acked == 3 })
        #expect(seen.read { $0.notifications.count } == 1)
        #expect(pipeline.metrics.duplicatesSkipped.load(ordering: .relaxed) == 2)
        #expect(try lane.storedNotifications(users: [2, 3]).count == 1)
        #expect(try lane.admin().messageCount(queue: lane.queue) == 0)
    }

    @Test func anEventToItsActorIsAckedAndNotStored() throws {
        let lane = try Lane()
        defer { lane.cleanUp() }
        let (pipeline, seen) = try startPipeline(lane.config())
        defer { pipeline.stop() }
        try publishAll([OutgoingMessage(event: like(1, actor: 5, owner: 5))], with: lane.publisher())
        #expect(eventually(seconds: 20) { pipeline.metrics.eventsIgnored.load(ordering: .relaxed) == 1 })
        #expect(eventually(seconds: 10) { pipeline.consumerCounters.acked == 1 })
        #expect(try lane.admin().messageCount(queue: lane.queue) == 0)
        #expect(try lane.storedNotifications(users: [5]).isEmpty)
        #expect(seen.read { $0.calls } == 0)
        #expect(pipeline.metrics.storeBatches.load(ordering: .relaxed) == 0)
    }

    @Test func aPoisonMessageIsDeadLetteredOnceAndTheRestFlows() throws {
        let lane = try Lane()
        defer { lane.cleanUp() }
        let (pipeline, seen) = try startPipeline(lane.config())
        defer { pipeline.stop() }
        let poison = OutgoingMessage(routingKey: "post.liked", messageId: "poison-1", body: Array("{\"id\":1}".utf8))
        let good = OutgoingMessage(event: like(1, actor: 2, owner: 3))
        try publishAll([poison, good], with: lane.publisher())
        #expect(seen.wait(seconds: 20) { $0.notifications.count == 1 })
        #expect(eventually(seconds: 10) { pipeline.consumerCounters.rejected == 1 && pipeline.consumerCounters.acked == 1 })
        #expect(pipeline.metrics.eventsRejected.load(ordering: .relaxed) == 1)
        let admin = try lane.admin()
        #expect(eventually(seconds: 10) { (try? admin.messageCount(queue: lane.queue + ".dead")) == 1 })
        let dead = try #require(try admin.get(queue: lane.queue + ".dead"))
        #expect(dead.messageId == "poison-1")
        #expect(try admin.get(queue: lane.queue + ".dead") == nil)
        #expect(try admin.messageCount(queue: lane.queue) == 0)
        // Still consuming after the poison.
        try publishAll([OutgoingMessage(event: like(2, actor: 4, owner: 3))], with: lane.publisher())
        #expect(seen.wait(seconds: 20) { $0.notifications.count == 2 })
    }

    @Test func userDeletedRemovesNotificationsToAndFromTheUser() throws {
        let lane = try Lane()
        defer { lane.cleanUp() }
        let (pipeline, seen) = try startPipeline(lane.config())
        defer { pipeline.stop() }
        let publisher = lane.publisher()
        try publishAll([like(1, actor: 6, owner: 5), like(2, actor: 5, owner: 7), like(3, actor: 8, owner: 9)]
            .map(OutgoingMessage.init(event:)), with: publisher)
        #expect(seen.wait(seconds: 20) { $0.notifications.count == 3 })
        let deleted = Event.make(.userDeleted, actor: EventActor(id: 5, username: "user5"), recipientId: nil,
                                 data: EventData(userId: 5))
        try publishAll([OutgoingMessage(event: deleted)], with: publisher)
        #expect(eventually(seconds: 20) { pipeline.metrics.userDeletions.load(ordering: .relaxed) == 1 })
        let left = try lane.storedNotifications(users: [5, 6, 7, 8, 9])
        #expect(left.count == 1)
        #expect(left.first?.actorId == 8 && left.first?.userId == 9)
        #expect(eventually(seconds: 10) { pipeline.consumerCounters.acked == 4 })
        // The front heard of the deletion (it closes the user's sessions) ...
        #expect(seen.wait(seconds: 10) { $0.deletedUsers == [5] })
        // ... and a pipeline started later on the same store gets the tombstone at start, once.
        pipeline.stop()
        let (again, _) = try startPipeline(lane.config())
        defer { again.stop() }
        #expect(again.takeDeletedUsersAtStart() == [5])
        #expect(again.takeDeletedUsersAtStart().isEmpty)
    }

    @Test func performRunsOnTheStoreAndFailsClosedAfterStop() throws {
        let lane = try Lane()
        defer { lane.cleanUp() }
        let (pipeline, seen) = try startPipeline(lane.config(store: .inMemory), checkVisibility: false)
        try publishAll([like(1, actor: 2, owner: 3), like(2, actor: 4, owner: 3)].map(OutgoingMessage.init(event:)),
                       with: lane.publisher())
        #expect(seen.wait(seconds: 20) { $0.notifications.count == 2 })
        let result = Watched<Result<(Int, Int, Bool), any Error>?>(nil)
        let firstId = try #require(seen.read { $0.notifications.first?.id })
        pipeline.perform({ store in
            let marked = try store.markRead(id: firstId, userId: 3, at: 1)
            let notMine = try store.markRead(id: firstId, userId: 4, at: 1)
            return (try store.unreadCount(userId: 3), try store.list(userId: 3, unreadOnly: false, limit: 10, before: nil)
                .notifications.count, marked && !notMine)
        }, completion: { r in result.update { $0 = r } })
        #expect(result.wait(seconds: 10) { $0 != nil })
        let (unread, listed, marks) = try #require(try result.read { $0 }?.get())
        #expect(unread == 1 && listed == 2 && marks)

        pipeline.stop()
        #expect(!pipeline.isStoreOpen)
        let after = Watched<Result<Int, any Error>?>(nil)
        pipeline.perform({ store in try store.unreadCount(userId: 3) }, completion: { r in after.update { $0 = r } })
        let failure = try #require(after.read { $0 })
        #expect(throws: StoreError.closed) { try failure.get() }
    }

    @Test func startFailsFastWhenTheStoreCannotOpen() throws {
        let lane = try Lane()
        defer { lane.cleanUp() }
        let pipeline = try NotificationPipeline(config: lane.config(store: .sqlite(path: lane.dir.path + "/missing/dir/notify.db"))) { _ in }
        #expect {
            try pipeline.start()
        } throws: { error in
            guard let e = error as? NotificationPipelineError, case .storeOpen = e else { return false }
            return "\(e)".contains("cannot open the notification store")
        }
        #expect(!pipeline.isBrokerConnected)
        pipeline.stop()
    }

    @Test func aLockedStoreIsRetriedWithoutAckingAndNothingIsLost() throws {
        let lane = try Lane()
        defer { lane.cleanUp() }
        var config = lane.config()
        config.sqliteBusyTimeoutMs = 20
        config.retryMinDelay = .milliseconds(10)
        config.retryMaxDelay = .milliseconds(100)
        let (pipeline, seen) = try startPipeline(config)
        defer { pipeline.stop() }
        let lock = try ExclusiveLock(path: lane.dbPath)
        try publishAll((0..<50).map { OutgoingMessage(event: like($0, actor: 100 + Int64($0), owner: 1)) }, with: lane.publisher())
        #expect(eventually(seconds: 20) { pipeline.metrics.storeErrors.load(ordering: .relaxed) >= 3 })
        #expect(pipeline.consumerCounters.acked == 0, "acked while the store could not commit")
        #expect(seen.read { $0.calls } == 0)
        lock.release()
        #expect(seen.wait(seconds: 20) { $0.notifications.count == 50 })
        #expect(eventually(seconds: 10) { pipeline.consumerCounters.acked == 50 })
        #expect(try lane.storedNotifications(users: [1]).count == 50)
    }

    @Test func stopCommitsAndAcksWhatItTookAndLeavesTheRestQueued() throws {
        let lane = try Lane()
        defer { lane.cleanUp() }
        var config = lane.config()
        config.maxBatch = 10
        config.consumer.prefetch = 100
        let (pipeline, seen) = try startPipeline(config, checkVisibility: false)
        let total = 3000
        let events = (0..<total).map { like($0, actor: 1000 + Int64($0 % 97), owner: Int64($0 % 50)) }
        try publishAll(events.map(OutgoingMessage.init(event:)), with: lane.publisher(), batch: 500)
        #expect(seen.wait(seconds: 20) { $0.notifications.count > 0 })
        pipeline.stop()
        let stored = try lane.storedNotifications(users: 0..<50)
        let admin = try lane.admin()
        #expect(eventually(seconds: 10) { (try? admin.messageCount(queue: lane.queue)).map { $0 + stored.count == total } == true })
        let ready = try admin.messageCount(queue: lane.queue)
        // Everything committed was acked before the connection closed: the queue holds
        // exactly the rest (nothing committed is redelivered, nothing is lost).
        #expect(stored.count + ready == total, "stored \(stored.count) + ready \(ready) != \(total)")
        #expect(Set(stored.map(\.eventId)).count == stored.count)
        #expect(ready > 0, "the stop did not happen mid-stream")
    }
}

/// Holds SQLite's write lock on a database file from another connection.
final class ExclusiveLock {
    private var db: OpaquePointer?
    init(path: String) throws {
        guard sqlite3_open(path, &db) == SQLITE_OK, sqlite3_exec(db, "BEGIN IMMEDIATE", nil, nil, nil) == SQLITE_OK else {
            throw StoreError.database(code: sqlite3_errcode(db), message: "cannot lock \(path)")
        }
    }
    func release() {
        sqlite3_exec(db, "ROLLBACK", nil, nil, nil)
        sqlite3_close(db)
        db = nil
    }
    deinit { if db != nil { release() } }
}
