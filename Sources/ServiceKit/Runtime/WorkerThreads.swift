// A small fixed set of dedicated threads fed by one bounded FIFO: the event applier's single
// thread (batches strictly in order) and auth's password-hashing pool (CPU work that must not
// hold a database connection). Not for database work: PGPool owns connections.
import Dispatch
import IOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

public final class WorkerThreads: Sendable {
    public typealias Job = @Sendable () -> Void

    private struct State {
        var jobs: [Job] = []
        var head = 0
        var running = 0
        var shuttingDown = false
        var threads: [pthread_t] = []

        var waiting: Int { jobs.count - head }
    }

    public let name: String
    public let threadCount: Int
    public let queueCapacity: Int
    private let state = Mutex(State())
    /// Counts queued jobs (plus one per thread at shutdown): a worker waits on it, then pops.
    private let available = DispatchSemaphore(value: 0)

    /// Starts `threads` threads. `submit` refuses work once `queueCapacity` jobs wait.
    public init(name: String, threads: Int, queueCapacity: Int) {
        precondition(threads > 0 && queueCapacity > 0, "WorkerThreads needs a thread and a queue slot")
        self.name = name
        self.threadCount = threads
        self.queueCapacity = queueCapacity
        var started: [pthread_t] = []
        for _ in 0..<threads {
            started.append(startThread { [self] in self.workerLoop() })
        }
        state.withLock { $0.threads = started }
    }

    /// Queues `job`; it runs on one of the threads, in submission order (with one thread,
    /// strictly one after the other). Returns false, and never runs `job`, when the queue is
    /// full or the threads are shutting down. Any thread.
    @discardableResult
    public func submit(_ job: @escaping Job) -> Bool {
        let accepted = state.withLock { s -> Bool in
            guard !s.shuttingDown, s.waiting < queueCapacity else { return false }
            s.jobs.append(job)
            return true
        }
        if accepted { available.signal() }
        return accepted
    }

    /// Jobs waiting plus jobs running.
    public var load: Int { state.withLock { $0.waiting + $0.running } }

    /// Refuses new jobs, lets the threads finish every queued one, and joins them. Idempotent;
    /// not from one of the threads.
    public func shutdown() {
        let threads = state.withLock { s -> [pthread_t] in
            s.shuttingDown = true
            let t = s.threads
            s.threads = []
            return t
        }
        for _ in threads { available.signal() }
        for thread in threads {
            precondition(pthread_equal(thread, pthread_self()) == 0, "WorkerThreads.shutdown() from its own thread")
            pthread_join(thread, nil)
        }
    }

    private func workerLoop() {
        while true {
            available.wait()
            let job = state.withLock { s -> Job? in
                guard s.head < s.jobs.count else { return nil }
                let job = s.jobs[s.head]
                s.head += 1
                if s.head >= 64 && s.head * 2 >= s.jobs.count {
                    s.jobs.removeFirst(s.head)
                    s.head = 0
                }
                s.running += 1
                return job
            }
            // No job after a signal only happens at shutdown (one signal per thread).
            guard let job else { return }
            job()
            state.withLock { $0.running -= 1 }
        }
    }
}

/// Starts `body` on a joinable thread. A service that cannot create its few threads at
/// start-up cannot run, so failure traps.
private func startThread(_ body: @escaping @Sendable () -> Void) -> pthread_t {
    guard let thread = JoinableThread.start(body) else { preconditionFailure("pthread_create failed") }
    return thread.id
}

/// A sleep that `wake()` cuts short (for retry backoff that must end at shutdown).
final class Interruptible: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let woken = Atomic<Bool>(false)

    /// Waits `duration` or until `wake()`. Returns false once woken (stop retrying).
    func sleep(_ duration: Duration) -> Bool {
        if woken.load(ordering: .acquiring) { return false }
        let (seconds, attos) = duration.components
        let nanos = max(0, seconds) * 1_000_000_000 + attos / 1_000_000_000
        _ = semaphore.wait(timeout: .now() + .nanoseconds(Int(clamping: nanos)))
        return !woken.load(ordering: .acquiring)
    }

    var isWoken: Bool { woken.load(ordering: .acquiring) }

    func wake() {
        woken.store(true, ordering: .releasing)
        semaphore.signal()
    }
}
