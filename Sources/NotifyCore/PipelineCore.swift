// The state shared by the consumer thread (it enqueues deliveries), the store thread (it takes
// them), the front's threads (they enqueue store jobs) and stop(): one mutex, one condition.
import AMQP
import Store
import Synchronization

/// A closure run on the store thread with the store, or failed when the store is gone.
struct StoreJob: Sendable {
    let run: @Sendable (any NotificationStore) -> Void
    let fail: @Sendable (any Error) -> Void
}

final class PipelineCore: Sendable {
    enum Phase: Sendable {
        /// Taking deliveries and jobs.
        case running
        /// stop(): no new deliveries; commit and ack what is queued, then end.
        case draining
        /// crashForTesting() or a stop past its deadline: end now, ack nothing more.
        case abandoning
    }

    struct State {
        var queue: [AMQPDelivery] = []
        /// Index of the first unconsumed element of `queue` (taking a batch does not shift).
        var head = 0
        /// Store jobs in arrival order from `jobHead` on (taking a turn's share does not shift).
        var jobs: [StoreJob] = []
        var jobHead = 0
        var phase = Phase.running
        /// Deliveries are accepted only between start and stop.
        var intakeOpen = false
        /// False before the store opened and after the store thread ended: jobs fail at once.
        var storeOpen = false
        var openResult: Result<Void, StoreError>?
        /// The deleted users read when the store opened.
        var tombstones: [Int64] = []
        var storeThreadDone = false
        // The ack barrier of stop(): on the consumer's current connection `generation`, every
        // tag up to `settledThrough` has been acked or rejected by the store thread; the broker
        // has them once the consumer's acked + rejected counters reach `settleBaseline +
        // settledThrough` (the counters at the moment that connection came up, plus every tag).
        var generation: UInt64 = 0
        var settleBaseline = 0
        var settledThrough: UInt64 = 0

        var queued: Int { queue.count - head }
        var queuedJobs: Int { jobs.count - jobHead }
        var hasWork: Bool { head < queue.count || jobHead < jobs.count }

        /// Takes up to `limit` jobs, oldest first.
        mutating func takeJobs(_ limit: Int) -> [StoreJob] {
            let n = min(limit, queuedJobs)
            let taken = Array(jobs[jobHead..<(jobHead + n)])
            jobHead += n
            if jobHead == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                jobHead = 0
            } else if jobHead >= 4096 && jobHead * 2 >= jobs.count {
                // Compact now and then: the taken prefix would otherwise hold dead closures.
                jobs.removeFirst(jobHead)
                jobHead = 0
            }
            return taken
        }

        /// Takes every queued job (stop, abandon).
        mutating func takeAllJobs() -> [StoreJob] { takeJobs(queuedJobs) }
    }

    let lock = ConditionLock(State())
    /// Set once, before the consumer starts; read by onState on the consumer thread.
    let consumerSlot = Mutex<AMQPConsumer?>(nil)

    init() {}

    /// onBatch, on the consumer thread: queue the deliveries and wake the store thread. The
    /// queue is bounded by the consumer's prefetch (unacked deliveries), so it never blocks.
    /// After stop() began, deliveries are dropped unacked: the broker redelivers them.
    func enqueue(_ batch: [AMQPDelivery]) {
        lock.withLock(notify: true) { s in
            guard s.intakeOpen else { return }
            if s.head == s.queue.count {
                s.queue.removeAll(keepingCapacity: true)
                s.head = 0
            }
            s.queue.append(contentsOf: batch)
        }
    }

    /// onState, on the consumer thread.
    func consumerState(_ state: AMQPConsumerState, metrics: NotifyMetrics) {
        switch state {
        case let .connected(generation):
            // Settlements of older connections are ignored by the consumer from here on, so
            // the counters now are the baseline of this connection.
            let counters = consumerSlot.withLock { $0?.counters } ?? AMQPConsumerCounters()
            lock.withLock { s in
                s.generation = generation
                s.settleBaseline = counters.acked + counters.rejected
                s.settledThrough = 0
            }
            if generation > 1 { metrics.brokerReconnects.add(1, ordering: .relaxed) }
            metrics.brokerConnected.store(1, ordering: .relaxed)
        case .disconnected, .stopped:
            metrics.brokerConnected.store(0, ordering: .relaxed)
        case .reconnecting:
            break
        }
    }

    /// Store thread, after asking the consumer to ack up to `tag`.
    func noteSettled(_ tag: AMQPDeliveryTag) {
        lock.withLock { s in
            if tag.generation == s.generation { s.settledThrough = max(s.settledThrough, tag.value) }
        }
    }

    var isAbandoning: Bool {
        lock.withLock { if case .abandoning = $0.phase { true } else { false } }
    }

    /// Waits `nanos` unless the pipeline is abandoned first; false when it was.
    func pause(nanos: UInt64) -> Bool {
        let abandoning: (State) -> Bool = { if case .abandoning = $0.phase { true } else { false } }
        return lock.wait(until: abandoning, deadlineNanos: monotonicNanos() + max(nanos, 1)) { !abandoning($0) }
    }
}
