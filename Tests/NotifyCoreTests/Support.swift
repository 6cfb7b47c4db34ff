// Helpers for the pipeline tests: a watched value (tests wait on conditions with deadlines,
// never fixed sleeps), a private exchange/queue/store file per test, and a publisher that
// retries until the broker confirmed every event.
import Foundation
import Testing
import AMQP
import Events
import NotifyCore
import Store
import TestSupport

/// What a test's deliver callback saw.
struct Delivered {
    var notifications: [Store.Notification] = []
    var calls = 0
    /// Notifications a separate reader connection could not see at delivery time.
    var notYetVisible = 0
    /// The users of the usersDeleted callbacks, in order.
    var deletedUsers: [Int64] = []
}

/// One test's private broker names and store file.
struct Lane {
    let prefix: String
    let exchange: String
    let queue: String
    let dir: URL
    let dbPath: String
    let endpoint: AMQPEndpoint

    init() throws {
        prefix = "n" + String(EventID.random().prefix(8))
        exchange = "\(prefix).events"
        queue = "\(prefix).notifyd.events"
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("notifycore-\(prefix)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        dbPath = dir.appendingPathComponent("notify.db").path
        endpoint = try AMQPEndpoint(url: try Servers.amqpURL())
    }

    func config(store: StoreLocation? = nil) -> NotificationPipelineConfig {
        var c = NotificationPipelineConfig(endpoint: endpoint, queue: queue, store: store ?? .sqlite(path: dbPath))
        c.consumer.exchange = exchange
        c.consumer.reconnectMaxDelay = .seconds(1)
        return c
    }

    func publisher() -> AMQPPublisher {
        var c = AMQPPublisherConfig(endpoint: endpoint)
        c.exchange = exchange
        return AMQPPublisher(config: c)
    }

    func admin() throws -> AMQPAdmin { try AMQPAdmin(endpoint: endpoint) }

    func cleanUp() {
        if let admin = try? admin() {
            try? admin.deleteQueue(queue)
            try? admin.deleteQueue(queue + ".dead")
        }
        try? FileManager.default.removeItem(at: dir)
    }

    /// Every notification of `users` in the store file, read through a separate connection.
    func storedNotifications(users: some Sequence<Int64>) throws -> [Store.Notification] {
        let ids = users.map(String.init).joined(separator: ",")
        return try TestSupport.storedNotifications(path: dbPath, where: "user_id IN (\(ids))")
    }
}

/// Starts a pipeline whose deliver callback records what it got and checks, at that moment,
/// that a separate SQLite reader already sees every row (commit before hand-off).
func startPipeline(_ config: NotificationPipelineConfig, checkVisibility: Bool = true) throws
    -> (NotificationPipeline, Watched<Delivered>) {
    let seen = Watched(Delivered())
    let path: String? = if case let .sqlite(p, _) = config.store { p } else { nil }
    let pipeline = try NotificationPipeline(config: config, usersDeleted: { users in
        seen.update { $0.deletedUsers += users }
    }) { batch in
        var invisible = 0
        if checkVisibility, let path {
            let ids = batch.map { String($0.id) }.joined(separator: ",")
            let visible = (try? storedNotifications(path: path, where: "id IN (\(ids))").count) ?? 0
            invisible = batch.count - visible
        }
        seen.update { d in
            d.notifications += batch
            d.calls += 1
            d.notYetVisible += invisible
        }
    }
    try pipeline.start()
    // The queue exists (and its bindings) once the consumer is connected; publish after that.
    try #require(eventually(seconds: 20) { pipeline.isBrokerConnected }, "the pipeline did not connect to the broker")
    return (pipeline, seen)
}

/// Publishes every message, retrying unconfirmed ones (broker down) until all are confirmed.
/// Returns how many messages needed a retry.
@discardableResult
func publishAll(_ messages: [OutgoingMessage], with publisher: AMQPPublisher, batch: Int = 200,
                pause: Watched<Int>? = nil, pace: Double = 0, seconds: Double = 120) throws -> Int {
    var retried = 0
    let deadline = TestDeadline(seconds: seconds)
    for start in stride(from: 0, to: messages.count, by: batch) {
        var pending = Array(messages[start..<min(start + batch, messages.count)])
        while !pending.isEmpty {
            guard !deadline.hasPassed else { throw PublishTimeout(left: pending.count) }
            let outcomes = (try? publisher.publish(pending)) ?? Array(repeating: .unconfirmed, count: pending.count)
            #expect(!outcomes.contains(.unroutable), "an event was unroutable: is the queue bound?")
            pending = zip(pending, outcomes).filter { $0.1 != .confirmed && $0.1 != .unroutable }.map(\.0)
            retried += pending.count
            if !pending.isEmpty { Watched(0).wait(seconds: 0.1) { _ in false } }
        }
        pause?.update { $0 += 1 }
        if pace > 0 { Watched(0).wait(seconds: pace) { _ in false } }
    }
    return retried
}

struct PublishTimeout: Error { let left: Int }

func like(_ n: Int, actor: Int64, owner: Int64) -> Event {
    Event.make(.postLiked, actor: EventActor(id: actor, username: "user\(actor)"), recipientId: owner,
               data: EventData(postId: Int64(n), postOwnerId: owner))
}
