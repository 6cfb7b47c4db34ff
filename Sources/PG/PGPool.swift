// Blocking database work off the caller's thread. N worker threads each own one PGConnection;
// callers (event-loop threads) submit closures and get the outcome through a completion that
// runs on the worker thread: the caller decides how to hop back (the lead wires it to
// the loop's waker).

/// A fixed set of worker threads, each with its own connection, fed by one bounded FIFO queue.
///
/// A database that restarted is survived without failing a request once it is back: a
/// connection idle for `idleCheck` or longer is pinged before it is handed out (a session
/// that sat idle across a restart looks fine until used), and a job whose first statement
/// fails because the session is gone (class 08, 57P01-57P03) runs again, once, on a fresh
/// connection: nothing of it reached a live server, so nothing can have committed. A job
/// that fails after any of its statements succeeded is never re-run.
public final class PGPool: Sendable {
    private struct Job {
        let run: @Sendable (PGWorkerConnection) -> Void
    }

    private struct State {
        var queue = PGRing<Job>()
        var shuttingDown = false
        var threads: [PGThread] = []
    }

    public let url: String
    public let threadCount: Int
    public let queueCapacity: Int
    /// A connection idle at least this long is pinged before its next job.
    public let idleCheck: Duration
    private let onConnect: (@Sendable (PGConnection) throws -> Void)?
    private let state = PGLocked(State())

    /// Starts `threads` workers. Each connects lazily on its own thread, before its first job,
    /// and again after a failed connect or a lost session; a job that finds no connection
    /// fails with `.connection`. `onConnect` runs on the worker after each new connection
    /// (session settings, prepares). Submissions beyond `queueCapacity` waiting jobs are
    /// refused with `.poolFull`. The workers keep the pool alive until `shutdown()`: call it
    /// when the service stops.
    public init(url: String, threads: Int = 2, queueCapacity: Int = 1024, idleCheck: Duration = .seconds(1),
                onConnect: (@Sendable (PGConnection) throws -> Void)? = nil) {
        precondition(threads > 0 && queueCapacity > 0, "PGPool needs at least one thread and one queue slot")
        self.url = url
        self.threadCount = threads
        self.queueCapacity = queueCapacity
        self.idleCheck = idleCheck
        self.onConnect = onConnect
        var started: [PGThread] = []
        for _ in 0..<threads {
            started.append(PGThread { [self] in self.workerLoop() })
        }
        state.withLock { $0.threads = started }
    }

    /// Queues `work` to run on a worker thread with that worker's connection; `completion`
    /// then runs on the same worker thread with the value or the error. `work` may run twice
    /// (see the type's comment) but only when its first statement failed on a dead session;
    /// `completion` runs exactly once.
    /// Throws `.poolFull` when `queueCapacity` jobs are already waiting and `.shutdown` after
    /// `shutdown()`; in both cases neither closure ever runs.
    public func submit<T>(_ work: @Sendable @escaping (PGConnection) throws -> T,
                          completion: @Sendable @escaping (Result<T, any Error>) -> Void) throws(PGError) {
        let job = Job { worker in completion(worker.run(work)) }
        let refused: PGError? = state.withLock { state in
            if state.shuttingDown { return PGError(.shutdown, "PGPool is shut down") }
            if state.queue.count >= queueCapacity {
                return PGError(.poolFull, "PGPool queue is full (\(queueCapacity) jobs waiting on \(threadCount) connections)")
            }
            state.queue.append(job)
            return nil
        }
        if let refused { throw refused }
        state.signal()
    }

    /// Jobs waiting for a worker (not counting those running).
    public var queuedCount: Int { state.withLock { $0.queue.count } }

    /// Refuses new work, lets the workers finish every queued job, and joins them.
    /// Idempotent. Must not be called from a job or completion (a worker cannot join itself).
    public func shutdown() {
        let threads: [PGThread] = state.withLock { state in
            state.shuttingDown = true
            let threads = state.threads
            state.threads = []
            return threads
        }
        state.broadcast()
        for thread in threads {
            precondition(!thread.isCurrent, "PGPool.shutdown() called from one of its own workers")
            thread.join()
        }
    }

    /// Runs on each worker thread until shutdown with an empty queue.
    private func workerLoop() {
        let worker = PGWorkerConnection(url: url, idleCheck: idleCheck, onConnect: onConnect)
        while true {
            let next: Job? = state.wait { state in
                if let job = state.queue.popFirst() { return .some(job) }
                if state.shuttingDown { return .some(nil) }
                return nil
            }
            guard let job = next else { return }
            job.run(worker)
        }
    }
}

/// One worker's connection: made lazily, checked after idleness, replaced when its session
/// is gone. Confined to its worker thread (not Sendable, like PGConnection).
final class PGWorkerConnection {
    private let url: String
    private let idleCheck: Duration
    private let onConnect: (@Sendable (PGConnection) throws -> Void)?
    private var connection: PGConnection?
    private var lastUsed = ContinuousClock.now

    init(url: String, idleCheck: Duration, onConnect: (@Sendable (PGConnection) throws -> Void)?) {
        self.url = url
        self.idleCheck = idleCheck
        self.onConnect = onConnect
    }

    /// Runs `work` with a live connection, again once on a fresh one when its first statement
    /// met a dead session, and returns the outcome.
    func run<T>(_ work: (PGConnection) throws -> T) -> Result<T, any Error> {
        defer { lastUsed = ContinuousClock.now }
        var retried = false
        while true {
            let conn: PGConnection
            do { conn = try live() } catch { return .failure(error) }
            let before = conn.completedStatements
            do {
                return .success(try work(conn))
            } catch let error as PGError where error.isUnavailable {
                // The session is unusable either way: the next job starts on a fresh one.
                connection = nil
                if retried || conn.completedStatements != before { return .failure(error) }
                retried = true
            } catch {
                if !conn.isConnected { connection = nil }
                return .failure(error)
            }
        }
    }

    /// The current connection when it is usable, else a new one (running `onConnect`).
    private func live() throws(PGError) -> PGConnection {
        if let current = connection {
            if current.isConnected, ContinuousClock.now - lastUsed < idleCheck || current.ping() { return current }
            connection = nil
        }
        let fresh = try PGConnection(url: url)
        if let onConnect {
            do { try onConnect(fresh) } catch { throw PGError(.connection, "onConnect failed: \(error)") }
        }
        connection = fresh
        return fresh
    }
}

/// A growable FIFO ring buffer: O(1) append and popFirst, no shifting.
struct PGRing<Element> {
    private var slots: [Element?] = []
    private var head = 0
    private(set) var count = 0

    mutating func append(_ element: Element) {
        if count == slots.count {
            var grown: [Element?] = []
            grown.reserveCapacity(Swift.max(16, slots.count * 2))
            for index in 0..<count { grown.append(slots[(head + index) % slots.count]) }
            grown.append(contentsOf: repeatElement(nil, count: Swift.max(16, slots.count * 2) - count))
            slots = grown
            head = 0
        }
        slots[(head + count) % slots.count] = element
        count += 1
    }

    mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = slots[head]
        slots[head] = nil
        head = (head + 1) % slots.count
        count -= 1
        return element
    }
}
