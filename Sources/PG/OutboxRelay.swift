// The outbox relay: one thread with its own connection that publishes committed outbox rows
// in id order and marks them. It sleeps in poll() on the connection's socket (LISTEN on the
// outbox channel) and on a private pipe that stop() writes to, so a NOTIFY wakes it at once
// and the poll interval only covers a lost notification.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public final class OutboxRelay: Sendable {
    public struct Configuration: Sendable {
        /// Rows fetched, published and marked per transaction.
        public var batchSize: Int
        /// Longest sleep without a NOTIFY before looking at the table again.
        public var pollInterval: Duration
        /// First delay after a failure; doubles per consecutive failure up to `maxBackoff`.
        public var initialBackoff: Duration
        public var maxBackoff: Duration
        /// The NOTIFY channel of Outbox.migration(version:channel:).
        public var channel: String

        public init(batchSize: Int = 100, pollInterval: Duration = .seconds(1),
                    initialBackoff: Duration = .milliseconds(50), maxBackoff: Duration = .seconds(30),
                    channel: String = "outbox") {
            self.batchSize = batchSize
            self.pollInterval = pollInterval
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
            self.channel = channel
        }
    }

    public struct Stats: Sendable, Equatable {
        /// Rows marked published.
        public var published = 0
        /// Transactions that fetched at least one row.
        public var batches = 0
        /// Failed steps: connect errors, publish errors, unconfirmed messages.
        public var failures = 0
        /// Times the relay woke because of a NOTIFY.
        public var notifyWakeups = 0
    }

    private struct State {
        var stopping = false
        var thread: PGThread?
        var stats = Stats()
    }

    public let url: String
    public let configuration: Configuration
    private let publish: @Sendable ([OutboxMessage]) throws -> [Bool]
    private let onError: (@Sendable (any Error) -> Void)?
    private let state = PGLocked(State())
    /// [read, write] ends of the stop pipe; written once by stop(), closed after the join.
    private let wakePipe: (Int32, Int32)

    /// `publish` runs on the relay thread, inside the transaction that holds the rows' locks.
    /// It returns one flag per message, in order: true once the broker confirmed it. The relay
    /// marks the confirmed prefix and retries from the first unconfirmed message after a
    /// backoff; a throw also means retry. `onError` (relay thread) sees every failure, for logs.
    public init(url: String, configuration: Configuration = Configuration(),
                publish: @escaping @Sendable ([OutboxMessage]) throws -> [Bool],
                onError: (@Sendable (any Error) -> Void)? = nil) throws(PGError) {
        guard configuration.batchSize > 0 else { throw PGError(.usage, "batchSize must be positive") }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw PGError(.usage, "pipe() failed: errno \(errno)") }
        self.url = url
        self.configuration = configuration
        self.publish = publish
        self.onError = onError
        self.wakePipe = (fds[0], fds[1])
    }

    deinit {
        close(wakePipe.0)
        close(wakePipe.1)
    }

    /// Starts the relay thread. Calling it twice, or after stop(), does nothing.
    public func start() {
        state.withLock { state in
            guard state.thread == nil, !state.stopping else { return }
            state.thread = PGThread { [self] in self.run() }
        }
    }

    /// Ends the loop (after the step in progress, which may be a publish call) and joins the
    /// thread. Idempotent. Must not be called from `publish` or `onError`.
    public func stop() {
        let thread: PGThread? = state.withLock { state in
            state.stopping = true
            defer { state.thread = nil }
            return state.thread
        }
        var byte: UInt8 = 1
        _ = write(wakePipe.1, &byte, 1)
        if let thread {
            precondition(!thread.isCurrent, "OutboxRelay.stop() called from the relay thread")
            thread.join()
        }
    }

    public var stats: Stats { state.withLock { $0.stats } }

    private var stopping: Bool { state.withLock { $0.stopping } }

    // MARK: the relay thread

    private func run() {
        var connection: PGConnection?
        var backoff = configuration.initialBackoff
        while !stopping {
            do {
                let conn: PGConnection
                if let connection { conn = connection } else {
                    conn = try PGConnection(url: url)
                    try conn.listen(configuration.channel)
                    connection = conn
                }
                _ = try conn.notifications()
                let step = try Outbox.relayBatch(conn, limit: configuration.batchSize, publish: publish)
                state.withLock { state in
                    if step.fetched > 0 { state.stats.batches += 1 }
                    state.stats.published += step.marked
                }
                if step.marked < step.fetched {
                    throw PGError(.usage, "broker confirmed \(step.marked) of \(step.fetched) outbox messages")
                }
                backoff = configuration.initialBackoff
                if step.fetched == configuration.batchSize { continue }   // more are likely waiting
                if try !conn.notifications().isEmpty {                     // a commit raced the SELECT
                    state.withLock { $0.stats.notifyWakeups += 1 }
                    continue
                }
                if waitReadable(conn.socketDescriptor, timeout: configuration.pollInterval) {
                    state.withLock { $0.stats.notifyWakeups += 1 }
                }
            } catch {
                state.withLock { $0.stats.failures += 1 }
                onError?(error)
                _ = waitReadable(-1, timeout: backoff)
                backoff = min(backoff * 2, configuration.maxBackoff)
            }
        }
    }

    /// Sleeps until `fd` (when >= 0) is readable, stop() is called, or `timeout` passes.
    /// Returns true when `fd` became readable.
    private func waitReadable(_ fd: Int32, timeout: Duration) -> Bool {
        var fds = [pollfd(fd: wakePipe.0, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
        let parts = timeout.components
        let millis = Int32(clamping: parts.seconds * 1000 + parts.attoseconds / 1_000_000_000_000_000)
        let count = fd >= 0 ? 2 : 1
        let ready = fds.withUnsafeMutableBufferPointer { buffer in
            poll(buffer.baseAddress, nfds_t(count), max(millis, 1))
        }
        return ready > 0 && count == 2 && fds[1].revents != 0
    }
}
