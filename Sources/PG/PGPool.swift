// Blocking database work off the caller's thread. N worker threads each own one PGConnection;
// callers (event-loop threads) submit closures and get the outcome through a completion that
// runs on the worker thread: the caller decides how to hop back (the lead wires it to
// the loop's waker).

/// A fixed set of worker threads, each with its own connection, fed by one bounded FIFO queue.
public final class PGPool: Sendable {
    private struct Job {
        let run: @Sendable (PGConnection?, PGError?) -> Void
    }

    private struct State {
        var queue = PGRing<Job>()
        var shuttingDown = false
        var threads: [PGThread] = []
    }

    public let url: String
    public let threadCount: Int
    public let queueCapacity: Int
    private let onConnect: (@Sendable (PGConnection) throws -> Void)?
    private let state = PGLocked(State())

    /// Starts `threads` workers. Each connects lazily on its own thread, before its first job,
    /// and again after a failed connect; a job that finds no connection fails with `.connection`.
    /// `onConnect` runs on the worker after each new connection (session settings, prepares).
    /// Submissions beyond `queueCapacity` waiting jobs are refused with `.poolFull`.
    /// The workers keep the pool alive until `shutdown()`: call it when the service stops.
    public init(url: String, threads: Int = 2, queueCapacity: Int = 1024,
                onConnect: (@Sendable (PGConnection) throws -> Void)? = nil) {
        precondition(threads > 0 && queueCapacity > 0, "PGPool needs at least one thread and one queue slot")
        self.url = url
        self.threadCount = threads
        self.queueCapacity = queueCapacity
        self.onConnect = onConnect
        var started: [PGThread] = []
        for _ in 0..<threads {
            started.append(PGThread { [self] in self.workerLoop() })
        }
        state.withLock { $0.threads = started }
    }

    /// Queues `work` to run on a worker thread with that worker's connection; `completion`
    /// then runs on the same worker thread with the value or the error.
    /// Throws `.poolFull` when `queueCapacity` jobs are already waiting and `.shutdown` after
    /// `shutdown()`; in both cases neither closure ever runs.
    public func submit<T>(_ work: @Sendable @escaping (PGConnection) throws -> T,
                          completion: @Sendable @escaping (Result<T, any Error>) -> Void) throws(PGError) {
        let job = Job { connection, connectError in
            guard let connection else {
                completion(.failure(connectError ?? PGError(.connection, "no connection")))
                return
            }
            let result: Result<T, any Error>
            do { result = .success(try work(connection)) } catch { result = .failure(error) }
            completion(result)
        }
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
        var connection: PGConnection?
        while true {
            let next: Job? = state.wait { state in
                if let job = state.queue.popFirst() { return .some(job) }
                if state.shuttingDown { return .some(nil) }
                return nil
            }
            guard let job = next else { return }
            var connectError: PGError?
            if connection == nil {
                do throws(PGError) {
                    let fresh = try PGConnection(url: url)
                    if let onConnect {
                        do { try onConnect(fresh) } catch { throw PGError(.connection, "onConnect failed: \(error)") }
                    }
                    connection = fresh
                } catch {
                    connectError = error
                }
            }
            job.run(connection, connectError)
        }
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
