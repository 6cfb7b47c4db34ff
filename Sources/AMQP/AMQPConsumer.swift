// The consumer: one thread owning one rabbitmq-c connection at a time (ConsumerWorker.swift),
// handing deliveries out in batches and taking acks/rejects back from any thread.
//
// Contract:
// - `onBatch` and `onState` run on the consumer thread. They must return quickly (enqueue the
//   batch to a loop or a store thread); while they run, no acks are sent and no frames read.
// - Deliveries are at-least-once: after a reconnect, unacked messages come again (with
//   `redelivered` set). Consumers dedupe by message id.
// - `ack(upTo:)` acknowledges every delivery of that connection up to and including the tag
//   (multiple=true), except ones already rejected. `reject(_:)` rejects one delivery without
//   requeue, so the broker dead-letters it once. Both are queued, coalesced and performed by
//   the consumer thread in call order; the thread wakes at once (a pipe), not on a timer.
// - Settlements with a tag of an older connection, or one already settled, are ignored and
//   counted in `counters.ignoredSettlements`.
import Synchronization
import IOCore

public final class AMQPConsumer: Sendable {
    public let config: AMQPConsumerConfig
    let onBatch: @Sendable ([AMQPDelivery]) -> Void
    let onState: @Sendable (AMQPConsumerState) -> Void
    let wakePipe: WakePipe
    let stopping = Atomic<Bool>(false)
    private let shared = Mutex(Shared())

    enum Settlement: Sendable {
        case ack(AMQPDeliveryTag)
        case reject(AMQPDeliveryTag)
    }

    private struct Pending: Sendable {
        var items: [Settlement] = []
        /// When the oldest queued item was queued (monotonic ns), for the latency counters.
        var oldestQueuedAt: UInt64 = 0
    }

    private struct Shared: Sendable {
        var pending = Pending()
        var counters = AMQPConsumerCounters()
        var thread: JoinableThread?
        var started = false
    }

    /// Creates a stopped consumer; `start()` begins connecting.
    public init(config: AMQPConsumerConfig,
                onState: @escaping @Sendable (AMQPConsumerState) -> Void = { _ in },
                onBatch: @escaping @Sendable ([AMQPDelivery]) -> Void) throws(AMQPError) {
        guard let pipe = WakePipe.make() else { throw .library(operation: "pipe", code: -1, message: "cannot create the wake pipe") }
        self.config = config
        self.onBatch = onBatch
        self.onState = onState
        self.wakePipe = pipe
    }

    deinit { wakePipe.close() }

    /// Starts the consumer thread. Connection failures are not reported here: the thread
    /// retries with backoff and reports through `onState`. Calling it twice does nothing.
    public func start() throws(AMQPError) {
        let go = shared.withLock { s in
            if s.started { return false }
            s.started = true
            return true
        }
        guard go else { return }
        guard let thread = JoinableThread.start({ [self] in ConsumerWorker(consumer: self).run() }) else {
            throw .library(operation: "pthread_create", code: -1, message: "cannot start the consumer thread")
        }
        shared.withLock { $0.thread = thread }
    }

    /// Acknowledges every delivery of the tag's connection up to and including `tag`. Any thread.
    public func ack(upTo tag: AMQPDeliveryTag) {
        enqueue(.ack(tag))
        wakePipe.wake()
    }

    /// Rejects one delivery without requeue (it goes to the dead-letter queue). Any thread.
    /// Reject before acking past the tag: an ack(upTo:) beyond it settles it as acked.
    public func reject(_ tag: AMQPDeliveryTag) {
        enqueue(.reject(tag))
        wakePipe.wake()
    }

    private func enqueue(_ item: Settlement) {
        let now = monotonicNanos()
        shared.withLock { s in
            if s.pending.items.isEmpty { s.pending.oldestQueuedAt = now }
            s.pending.items.append(item)
        }
        wakePipe.wake()
    }

    /// A snapshot of the counters. Any thread.
    public var counters: AMQPConsumerCounters { shared.withLock { $0.counters } }

    /// Closes the connection cleanly (unacked deliveries return to the queue) and joins the
    /// thread. Any thread except the consumer thread itself (from a callback it only requests
    /// the stop). Idempotent.
    public func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        wakePipe.wake()
        let thread = shared.withLock { s -> JoinableThread? in
            let t = s.thread
            if let t, !t.isCurrent { s.thread = nil }
            return t
        }
        guard let thread, !thread.isCurrent else { return }
        thread.join()
    }

    // Worker side.

    var isStopping: Bool { stopping.load(ordering: .sequentiallyConsistent) }

    /// The queued settlements and when the oldest was queued.
    func takeSettlements() -> ([Settlement], UInt64) {
        shared.withLock { s in
            let out = (s.pending.items, s.pending.oldestQueuedAt)
            s.pending.items.removeAll(keepingCapacity: true)
            return out
        }
    }

    func updateCounters(_ body: (inout AMQPConsumerCounters) -> Void) {
        shared.withLock { body(&$0.counters) }
    }
}
