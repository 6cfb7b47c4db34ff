// The store thread's loop. The worker is created on that thread, owns the store (not
// Sendable) and is never shared.
//
// Each turn: run up to maxJobsPerTurn queued jobs (front reads and read-marks: short,
// latency-sensitive; bounded so that a flood of read-marks delays ingest by a bounded amount
// and cannot starve delivery), then take up to maxBatch queued deliveries and handle them as one group commit:
//   decode (undecodable: reject, dead-lettered once) -> map -> insert all in ONE transaction
//   -> apply user.deleted -> ack up to the last tag -> hand the new notifications to deliver.
// A failed write is retried with backoff and nothing is acked meanwhile: never dropped.
import AMQP
import Daemon
import Events
import Store

final class StoreWorker {
    private let store: any NotificationStore
    private let core: PipelineCore
    private let consumer: AMQPConsumer
    private let config: NotificationPipelineConfig
    private let metrics: NotifyMetrics
    private let deliver: @Sendable ([Notification]) -> Void
    private let usersDeleted: @Sendable ([Int64]) -> Void
    private var nextPruneAt: UInt64

    init(store: any NotificationStore, core: PipelineCore, consumer: AMQPConsumer, config: NotificationPipelineConfig,
         metrics: NotifyMetrics, usersDeleted: @escaping @Sendable ([Int64]) -> Void,
         deliver: @escaping @Sendable ([Notification]) -> Void) {
        self.usersDeleted = usersDeleted
        self.store = store
        self.core = core
        self.consumer = consumer
        self.config = config
        self.metrics = metrics
        self.deliver = deliver
        nextPruneAt = monotonicNanos() + max(config.pruneInterval.nanos, 1_000_000)
    }

    /// Creates the configured store and reads its tombstones; on the store thread.
    static func open(_ location: StoreLocation, busyTimeoutMs: Int32)
        -> Result<(any NotificationStore, [Int64]), StoreError> {
        do throws(StoreError) {
            let store: any NotificationStore
            switch location {
            case let .sqlite(path, durability):
                store = try SQLiteNotificationStore(path: path, durability: durability, busyTimeoutMs: busyTimeoutMs)
            case .inMemory:
                store = InMemoryNotificationStore()
            }
            return .success((store, try store.deletedUserIds()))
        } catch {
            return .failure(error)
        }
    }

    private enum Turn {
        case work([StoreJob], [AMQPDelivery])
        case finish
        case abandon([StoreJob])
    }

    /// Runs until stop() drained the queue or the pipeline is abandoned; closes the store.
    func run() {
        let maxBatch = max(config.maxBatch, 1)
        let maxJobs = max(config.maxJobsPerTurn, 1)
        let metrics = self.metrics
        loop: while true {
            let turn = core.lock.wait(until: { s in
                if case .running = s.phase { return s.hasWork }
                return true
            }, deadlineNanos: nextPruneAt) { s -> Turn in
                if case .abandoning = s.phase {
                    let jobs = s.takeAllJobs()
                    s.queue.removeAll()
                    s.head = 0
                    s.storeOpen = false
                    return .abandon(jobs)
                }
                let jobs = s.takeJobs(maxJobs)
                metrics.storeJobsQueued.store(s.queuedJobs, ordering: .relaxed)
                let n = min(maxBatch, s.queued)
                let batch = Array(s.queue[s.head..<(s.head + n)])
                s.head += n
                if jobs.isEmpty && batch.isEmpty, case .draining = s.phase {
                    s.storeOpen = false
                    return .finish
                }
                return .work(jobs, batch)
            }
            switch turn {
            case let .abandon(jobs):
                for job in jobs { job.fail(StoreError.closed) }
                break loop
            case .finish:
                break loop
            case let .work(jobs, batch):
                for job in jobs { job.run(store) }
                if !batch.isEmpty { process(batch) }
                if monotonicNanos() >= nextPruneAt { prune() }
            }
        }
        (store as? SQLiteNotificationStore)?.close()
        // Jobs that raced with the end (queued after the last turn) fail rather than hang.
        let late = core.lock.withLock(notify: true) { s -> [StoreJob] in
            s.storeThreadDone = true
            s.storeOpen = false
            metrics.storeJobsQueued.store(0, ordering: .relaxed)
            return s.takeAllJobs()
        }
        for job in late { job.fail(StoreError.closed) }
    }

    private func process(_ batch: [AMQPDelivery]) {
        let started = monotonicNanos()
        let receivedAt = wallClockMillis()
        var notes: [NewNotification] = []
        notes.reserveCapacity(batch.count)
        var deletes: [Int64] = []
        var ignored = 0, rejected = 0
        // The highest tag per connection generation (almost always one entry).
        var lastTags: [AMQPDeliveryTag] = []
        for d in batch {
            if let i = lastTags.firstIndex(where: { $0.generation == d.tag.generation }) {
                if d.tag > lastTags[i] { lastTags[i] = d.tag }
            } else {
                lastTags.append(d.tag)
            }
            let event: Event
            do throws(EventDecodeError) {
                event = try Event.decode(d.body)
            } catch {
                // Rejected before the ack below passes its tag (AMQPConsumer.reject's contract).
                consumer.reject(d.tag)
                rejected += 1
                config.log?.warning("dead-lettering undecodable event (message_id \(d.messageId ?? "none"), routing key \(d.routingKey)): \(error)")
                continue
            }
            switch NotificationMapper.map(event, receivedAtMs: receivedAt) {
            case let .notify(n): notes.append(n)
            case let .deleteUser(user): deletes.append(user)
            case .ignore: ignored += 1
            }
        }

        guard let stored = write({ (store) throws(StoreError) in notes.isEmpty ? [] : try store.insert(batch: notes) }) else {
            return
        }
        for user in deletes {
            guard write({ (store) throws(StoreError) in _ = try store.deleteUser(userId: user); return [] }) != nil else { return }
        }
        if !notes.isEmpty || !deletes.isEmpty {
            metrics.storeBatches.add(1, ordering: .relaxed)
            metrics.storeBatchLatency.observe(micros: Int((monotonicNanos() - started) / 1000))
        }
        metrics.eventsConsumed.add(batch.count, ordering: .relaxed)
        metrics.eventsIgnored.add(ignored, ordering: .relaxed)
        metrics.eventsRejected.add(rejected, ordering: .relaxed)
        metrics.userDeletions.add(deletes.count, ordering: .relaxed)
        metrics.notificationsStored.add(stored.count, ordering: .relaxed)
        metrics.duplicatesSkipped.add(notes.count - stored.count, ordering: .relaxed)

        // Committed: now, and only now, the broker may forget these deliveries. An abandoned
        // pipeline (a simulated crash) stops between the commit and the ack.
        if core.isAbandoning { return }
        for tag in lastTags {
            consumer.ack(upTo: tag)
            core.noteSettled(tag)
        }
        if !deletes.isEmpty { usersDeleted(deletes) }
        var out = stored
        if !deletes.isEmpty {
            // user.deleted may arrive in the same batch as events it should cancel: those rows
            // were deleted above, so they are not handed out either.
            let gone = Set(deletes)
            out.removeAll { gone.contains($0.userId) || gone.contains($0.actorId) }
        }
        if !out.isEmpty { deliver(out) }
    }

    /// Runs one store write, retrying with backoff until it succeeds; nil when the pipeline
    /// was abandoned while retrying (nothing acked, the broker redelivers).
    private func write(_ op: (any NotificationStore) throws(StoreError) -> [Notification]) -> [Notification]? {
        var delay = config.retryMinDelay.nanos
        while true {
            do throws(StoreError) {
                return try op(store)
            } catch {
                metrics.storeErrors.add(1, ordering: .relaxed)
                config.log?.error("store write failed, retrying in \(delay / 1_000_000) ms (deliveries stay unacked): \(error)")
                guard core.pause(nanos: delay) else { return nil }
                delay = min(delay * 2, max(config.retryMaxDelay.nanos, delay))
            }
        }
    }

    private func prune() {
        nextPruneAt = monotonicNanos() + max(config.pruneInterval.nanos, 1_000_000)
        do throws(StoreError) {
            let n = try store.prune(nowMs: wallClockMillis(), readRetentionDays: config.readRetentionDays,
                                    capPerUser: config.capPerUser)
            metrics.notificationsPruned.add(n, ordering: .relaxed)
        } catch {
            metrics.storeErrors.add(1, ordering: .relaxed)
            config.log?.error("retention prune failed (next try in one interval): \(error)")
        }
    }
}
