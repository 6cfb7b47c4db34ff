// notifyd's ingest: the AMQP consumer (its own thread) feeds the store thread, which owns the
// notification store, commits each group of deliveries in one transaction, acks them only
// after the commit, and then hands the new notifications to `deliver`.
//
// Threads:
// - consumer thread (AMQPConsumer): `onBatch` only appends to the shared queue and wakes the
//   store thread, so the consumer keeps reading while the store commits (group commit).
// - store thread: the only thread that touches the store, for ingest, retention and the
//   front's `perform` jobs. Writer-connection-only design: REST/WebSocket reads run as jobs
//   between batches on the same connection (at most maxJobsPerTurn between two batches;
//   at most maxQueuedJobs queued, past which perform fails at once with StoreQueueFull). They are single indexed queries, cheaper than a
//   thread hop.
// - `deliver` and every `perform` completion run on the store thread: they must return
//   quickly (hand off to an event loop, e.g. EventLoop.Sender.execute).
//
// Lifecycle: init -> start() -> stop() (or crashForTesting()); a pipeline is one-shot, make a
// new one to start again. stop() must be called before the last reference goes away: the
// threads keep the pipeline's parts alive until then.
import AMQP
import IOCore
import Store
import Synchronization

public final class NotificationPipeline: Sendable {
    public let config: NotificationPipelineConfig
    public let metrics: NotifyMetrics
    let core: PipelineCore
    let consumer: AMQPConsumer
    let deliver: @Sendable ([Notification]) -> Void
    let usersDeleted: @Sendable ([Int64]) -> Void

    private enum Stage: Sendable { case idle, started(JoinableThread), stopped }
    private let stage = Mutex(Stage.idle)

    /// `deliver` receives each committed batch's newly stored notifications (duplicates and
    /// notifications cancelled by a user.deleted of the same batch left out), in store id
    /// order, on the store thread, after the batch's ack was queued. `usersDeleted` receives
    /// the users of each committed batch's user.deleted events, on the store thread, before
    /// that batch's `deliver` (so a front can close their sessions before anything else of
    /// the batch reaches it).
    public init(config: NotificationPipelineConfig, metrics: NotifyMetrics = NotifyMetrics(),
                usersDeleted: @escaping @Sendable ([Int64]) -> Void = { _ in },
                deliver: @escaping @Sendable ([Notification]) -> Void) throws(NotificationPipelineError) {
        self.config = config
        self.metrics = metrics
        self.deliver = deliver
        self.usersDeleted = usersDeleted
        let core = PipelineCore()
        self.core = core
        do throws(AMQPError) {
            consumer = try AMQPConsumer(config: config.consumer, onState: { [weak core] state in
                core?.consumerState(state, metrics: metrics)
            }, onBatch: { [weak core] batch in
                core?.enqueue(batch)
            })
        } catch {
            throw .consumer(error)
        }
        core.consumerSlot.withLock { $0 = consumer }
    }

    /// Opens the store on a new store thread and waits for it (a store that cannot open, or
    /// whose tombstones cannot be read, fails here, before anything is consumed), then starts
    /// the consumer; `takeDeletedUsersAtStart()` then hands out the store's tombstones.
    /// Connection failures are not errors: the consumer retries with backoff (see
    /// `metrics.brokerConnected`).
    public func start() throws(NotificationPipelineError) {
        let fresh = stage.withLock { s -> Bool in
            guard case .idle = s else { return false }
            s = .stopped
            return true
        }
        guard fresh else { throw .alreadyStarted }
        let (core, consumer, config, metrics, deliver) = (self.core, self.consumer, self.config, self.metrics, self.deliver)
        let usersDeleted = self.usersDeleted
        let thread = JoinableThread.start {
            switch StoreWorker.open(config.store, busyTimeoutMs: config.sqliteBusyTimeoutMs) {
            case let .failure(error):
                core.lock.withLock(notify: true) { s in
                    s.openResult = .failure(error)
                    s.storeThreadDone = true
                }
            case let .success((store, tombstones)):
                let worker = StoreWorker(store: store, core: core, consumer: consumer, config: config,
                                         metrics: metrics, usersDeleted: usersDeleted, deliver: deliver)
                core.lock.withLock(notify: true) { s in
                    s.openResult = .success(())
                    s.tombstones = tombstones
                    s.storeOpen = true
                    s.intakeOpen = true
                }
                worker.run()
            }
        }
        guard let thread else { throw .thread }
        let opened = core.lock.wait(until: { $0.openResult != nil }, deadlineNanos: 0) { $0.openResult }
        if case let .failure(error) = opened {
            thread.join()
            throw .storeOpen(error)
        }
        stage.withLock { $0 = .started(thread) }
        do throws(AMQPError) {
            try consumer.start()
        } catch {
            crashForTesting()
            throw .consumer(error)
        }
    }

    /// Graceful stop, for SIGTERM: no new deliveries are taken (later ones stay unacked and go
    /// back to the queue), the queued ones are committed and acked, the acks are given time
    /// to reach the broker, then the consumer and the store close. Bounded by
    /// `config.stopTimeout`; past it the rest is abandoned unacked (redelivered, deduped).
    /// Any thread but the store thread. Idempotent.
    public func stop() {
        guard let thread = takeThread() else { return }
        let deadline = monotonicNanos() + config.stopTimeout.nanos
        core.lock.withLock(notify: true) { s in
            s.intakeOpen = false
            if case .running = s.phase { s.phase = .draining }
        }
        let drained = core.lock.wait(until: { $0.storeThreadDone }, deadlineNanos: deadline) { $0.storeThreadDone }
        if !drained {
            core.lock.withLock(notify: true) { $0.phase = .abandoning }
        }
        thread.join()
        waitForAcks(deadline: max(deadline, monotonicNanos() + 1_000_000_000))
        consumer.stop()
    }

    /// A crash for tests: the consumer's connection closes without sending the acks not yet
    /// written, the store thread abandons its queue and any batch it has not acked yet (a
    /// commit in progress completes, as it would on disk, but is not acked), and the store
    /// closes. Everything unacked is redelivered to the next pipeline on the same queue.
    public func crashForTesting() {
        core.lock.withLock(notify: true) { s in
            s.intakeOpen = false
            s.phase = .abandoning
        }
        consumer.stop()
        takeThread()?.join()
    }

    /// Runs `op` on the store thread with the store, between ingest batches, and passes its
    /// result to `completion` there (hand it to a loop; do not block). When the store is not
    /// open (before start, after stop) `completion` gets `StoreError.closed` at once, on the
    /// calling thread; when `config.maxQueuedJobs` jobs are already queued it gets
    /// `StoreQueueFull` at once (counted in `metrics.storeJobsRejected`).
    public func perform<T: Sendable>(_ op: @escaping @Sendable (any NotificationStore) throws -> T,
                                     completion: @escaping @Sendable (Result<T, any Error>) -> Void) {
        let job = StoreJob(run: { store in
            completion(Result { try op(store) })
        }, fail: { error in
            completion(.failure(error))
        })
        let (cap, metrics) = (max(config.maxQueuedJobs, 1), self.metrics)
        let refusal = core.lock.withLock(notify: true) { s -> (any Error)? in
            guard s.storeOpen else { return StoreError.closed }
            guard s.queuedJobs < cap else { return StoreQueueFull() }
            s.jobs.append(job)
            metrics.storeJobsQueued.store(s.queuedJobs, ordering: .relaxed)
            return nil
        }
        if let refusal {
            if refusal is StoreQueueFull { metrics.storeJobsRejected.add(1, ordering: .relaxed) }
            completion(.failure(refusal))
        }
    }

    /// The store's tombstones (deleted users) as read when start() opened the store; empty
    /// before, and after the first call (the front keeps its own set, so the list is not
    /// held twice).
    public func takeDeletedUsersAtStart() -> [Int64] {
        core.lock.withLock { s in
            defer { s.tombstones = [] }
            return s.tombstones
        }
    }

    /// Whether the consumer is connected to the broker now (for /readyz).
    public var isBrokerConnected: Bool { metrics.brokerConnected.load(ordering: .relaxed) == 1 }

    /// Whether the store is open and taking work (for /readyz).
    public var isStoreOpen: Bool { core.lock.withLock { $0.storeOpen } }

    /// The consumer's own counters (deliveries, acks, rejects, settle latency).
    public var consumerCounters: AMQPConsumerCounters { consumer.counters }

    /// Store jobs queued and not yet taken.
    public var queuedJobs: Int { core.lock.withLock { $0.queuedJobs } }

    /// Deliveries queued for the store thread and not yet taken.
    public var queuedDeliveries: Int { core.lock.withLock { $0.queued } }

    @discardableResult
    private func takeThread() -> JoinableThread? {
        stage.withLock { s -> JoinableThread? in
            guard case let .started(thread) = s else { return nil }
            s = .stopped
            return thread
        }
    }

    /// Waits until the consumer has written every ack/reject the store thread asked for on
    /// its current connection (see PipelineCore.State), or the broker is gone, or `deadline`.
    private func waitForAcks(deadline: UInt64) {
        while monotonicNanos() < deadline && isBrokerConnected {
            let (target, baseline) = core.lock.withLock { ($0.settledThrough, $0.settleBaseline) }
            let counters = consumer.counters
            if target == 0 || counters.acked + counters.rejected - baseline >= Int(target) { return }
            core.lock.wait(until: { _ in false }, deadlineNanos: min(deadline, monotonicNanos() + 2_000_000)) { _ in }
        }
    }
}
