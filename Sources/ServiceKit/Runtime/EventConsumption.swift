// Consuming events: the AMQPConsumer thread hands batches to the subscription's own applier
// thread, which owns one database connection and applies batches strictly in delivery order,
// each event in its own transaction. A batch is acked (multiple=true) only after every event
// in it committed, and only then is the next batch started, so an ack never covers an event
// that was not applied. A failed apply is retried with backoff until it commits, the service
// stops, or the batch's connection is gone (the broker then redelivers it). Events are applied
// at least once, so every `apply` must be idempotent (deletes, upserts).
import AMQP
import Events
import PG
import Synchronization

/// What a service consumes: the routing keys and the function applying one event.
public struct EventSubscription: Sendable {
    /// Work to run once an event's transaction committed (removing files the rows named).
    public typealias AfterCommit = @Sendable () -> Void

    public var keys: [EventType]
    /// Runs on the applier thread inside a transaction. Throwing rolls the event back; it is
    /// retried (with backoff) before any later event is applied. What it returns runs after
    /// the commit, on the same thread (never when the transaction failed).
    public var apply: @Sendable (PGConnection, Event) throws -> AfterCommit?
    /// First and largest wait between retries of a failed apply.
    public var retryMinDelay: Duration = .milliseconds(100)
    public var retryMaxDelay: Duration = .seconds(10)

    public init(keys: [EventType], apply: @escaping @Sendable (PGConnection, Event) throws -> Void) {
        self.keys = keys
        self.apply = { conn, event in
            try apply(conn, event)
            return nil
        }
    }

    /// For an apply with side effects outside the database: they go in the returned closure.
    public init(keys: [EventType], applyThen: @escaping @Sendable (PGConnection, Event) throws -> AfterCommit?) {
        self.keys = keys
        self.apply = applyThen
    }
}

/// The running consumer and its applier; `stop()` ends both (consumer first).
final class EventConsumption: Sendable {
    let consumer: AMQPConsumer
    private let applier: EventApplier

    fileprivate init(consumer: AMQPConsumer, applier: EventApplier) {
        self.consumer = consumer
        self.applier = applier
    }

    /// Stops the consumer (unacked deliveries return to the queue), then the applier (a batch
    /// being retried is abandoned, unacked). Not on either thread.
    func stop() {
        consumer.stop()
        applier.stop()
    }
}

/// Starts the consumer and its applier thread with its own connection to `databaseURL`.
func startConsumer(url: String, queue: String, subscription: EventSubscription, databaseURL: String,
                   log: ServiceLog, stats: ConsumerStats) throws -> EventConsumption {
    let config = try AMQPConsumerConfig(url: url, queue: queue, bindingKeys: subscription.keys.map(\.routingKey))
    let applier = EventApplier(queue: queue, databaseURL: databaseURL, subscription: subscription, log: log,
                               stats: stats)
    do {
        let consumer = try AMQPConsumer(config: config, onState: { state in
            if case .connected(let generation) = state { applier.connected(generation: generation) }
            log.info("consumer \(queue): \(state)")
        }, onBatch: { deliveries in
            applier.enqueue(deliveries)
        })
        applier.attach(consumer)
        try consumer.start()
        return EventConsumption(consumer: consumer, applier: applier)
    } catch {
        applier.stop()
        throw error
    }
}

/// Applies batches on one dedicated thread, in order. Everything but `enqueue`, `connected`
/// and `stop` runs on that thread.
///
/// `@unchecked Sendable`: `connection` and `consumerRef` are the only mutable stored
/// properties. `consumerRef` is written once by `attach` before `consumer.start()` creates the
/// consumer thread (thread creation orders that write before any batch exists) and read only
/// by jobs afterwards. `connection` is read and written only by jobs, which run one at a time
/// on the single worker thread. The rest is immutable or synchronized (Mutex, Atomic).
final class EventApplier: @unchecked Sendable {
    private let queue: String
    private let databaseURL: String
    private let subscription: EventSubscription
    private let log: ServiceLog
    private let stats: ConsumerStats
    private let thread: WorkerThreads
    private let stopping = Interruptible()
    private let latestGeneration = Atomic<UInt64>(0)
    private var connection: PGConnection?
    private var consumerRef: AMQPConsumer?

    init(queue: String, databaseURL: String, subscription: EventSubscription, log: ServiceLog, stats: ConsumerStats) {
        self.queue = queue
        self.stats = stats
        self.databaseURL = databaseURL
        self.subscription = subscription
        self.log = log
        // The consumer's prefetch (300) bounds the deliveries in flight; a batch holds one or
        // more of them, so this capacity is never reached.
        self.thread = WorkerThreads(name: "apply-" + queue, threads: 1, queueCapacity: 4096)
    }

    func attach(_ consumer: AMQPConsumer) { consumerRef = consumer }

    /// Consumer thread: the connection `generation` is up; batches of older ones are stale.
    func connected(generation: UInt64) {
        latestGeneration.store(generation, ordering: .releasing)
    }

    /// Consumer thread: queues a batch behind the ones before it.
    func enqueue(_ deliveries: [AMQPDelivery]) {
        guard !deliveries.isEmpty else { return }
        stats.batchQueued(count: deliveries.count)
        if !thread.submit({ [self] in self.apply(deliveries) }) {
            stats.batchFinished(count: deliveries.count)
            // Left unacked: the broker redelivers it after the consumer reconnects.
            log.error("consumer \(queue): applier queue refused a batch (stopping or full)")
        }
    }

    /// Any thread but the applier's: ends retries and joins the thread.
    func stop() {
        stopping.wake()
        thread.shutdown()
    }

    /// Applier thread. Applies every event of the batch in order, retrying the first failure
    /// until it commits; then acks the whole batch.
    private func apply(_ deliveries: [AMQPDelivery]) {
        defer { stats.batchFinished(count: deliveries.count) }
        guard let consumer = consumerRef, let last = deliveries.last else { return }
        var index = 0
        var attempt = 0
        while index < deliveries.count {
            if stopping.isWoken { return }
            if deliveries[index].tag.generation < latestGeneration.load(ordering: .acquiring) {
                // The connection these came on is gone: the broker redelivers them on the new
                // one, queued behind this batch, in order. Acks with old tags would be ignored.
                return
            }
            let delivery = deliveries[index]
            let event: Event
            do {
                event = try Event.decode(delivery.body)
            } catch {
                log.warning("consumer \(queue): rejecting an undecodable message: \(error)")
                consumer.reject(delivery.tag)
                index += 1
                continue
            }
            do {
                let conn = try currentConnection()
                let afterCommit = try conn.transaction { tx in try subscription.apply(tx, event) }
                afterCommit?()
                stats.applied.add(1, ordering: .relaxed)
                index += 1
                attempt = 0
            } catch {
                attempt += 1
                stats.applyFailures.add(1, ordering: .relaxed)
                let delay = backoff(attempt)
                log.error("consumer \(queue): event \(event.id) (\(event.type.rawValue)) not applied, attempt \(attempt), retrying in \(delay): \(error)")
                if let conn = connection, !conn.isConnected { connection = nil }
                if !stopping.sleep(delay) { return }
            }
        }
        consumer.ack(upTo: last.tag)
    }

    private func currentConnection() throws -> PGConnection {
        if let connection { return connection }
        let fresh = try PGConnection(url: databaseURL)
        connection = fresh
        return fresh
    }

    private func backoff(_ attempt: Int) -> Duration {
        var delay = subscription.retryMinDelay
        var n = 1
        while n < attempt && delay < subscription.retryMaxDelay {
            delay = delay * 2
            n += 1
        }
        return min(delay, subscription.retryMaxDelay)
    }
}
