// Configuration of the ingest pipeline: the consumer, the store and its retention, the
// batching and the retry policy. Plain values; the daemon fills them from flags/environment.
import AMQP
import Daemon
import Store

/// Where the pipeline's store lives. The store object itself is created on the store thread
/// (stores are not Sendable), so the configuration names it instead of holding it.
public enum StoreLocation: Sendable, Equatable {
    /// A SQLite file (created and migrated when missing).
    case sqlite(path: String, durability: SQLiteDurability = .full)
    /// InMemoryNotificationStore: for unit tests; lost at stop.
    case inMemory
}

public struct NotificationPipelineConfig: Sendable {
    /// The consumer: broker, queue (default `notifyd.events`), exchange, prefetch, heartbeats.
    /// Its binding keys are the handled event types.
    public var consumer: AMQPConsumerConfig
    public var store: StoreLocation
    /// The most deliveries one store transaction takes (group commit). The consumer's
    /// prefetch bounds what can be queued at all, so it should be at least twice this for
    /// the store to find a full batch waiting while it commits the previous one.
    public var maxBatch = 1000
    /// Retention: read notifications older than this many days are pruned (< 0: never).
    public var readRetentionDays = 30
    /// Retention: each user keeps at most this many notifications (<= 0: no cap).
    public var capPerUser = 1000
    /// How often the store thread prunes; the first prune runs one interval after start.
    public var pruneInterval: Duration = .seconds(3600)
    /// Backoff between retries of a failed store write (doubling from min to max). The
    /// deliveries stay unacked meanwhile, so nothing is dropped.
    public var retryMinDelay: Duration = .milliseconds(50)
    public var retryMaxDelay: Duration = .seconds(5)
    /// How long `stop()` waits for the queued deliveries to commit and their acks to reach
    /// the broker. Past it the rest is abandoned unacked (the broker redelivers it, the
    /// store dedupes it), so a stuck disk cannot hold the daemon's shutdown forever.
    public var stopTimeout: Duration = .seconds(10)
    /// Store jobs (`perform`) queued at most; past it `perform` fails at once with
    /// `StoreQueueFull`, so a flood of front requests cannot grow memory without bound.
    public var maxQueuedJobs = 10_000
    /// Jobs the store thread runs between two ingest batches at most, so a long job queue
    /// delays delivery by a bounded amount instead of starving it.
    public var maxJobsPerTurn = 256
    /// SQLite busy timeout: how long a write waits for a lock before it fails (and is retried).
    public var sqliteBusyTimeoutMs: Int32 = 5000
    /// Where the pipeline logs store errors and poison messages; nil: silent.
    public var log: Log?

    /// The handled routing keys (NotificationMapper.handledTypes).
    public static var bindingKeys: [String] { NotificationMapper.handledTypes.map(\.routingKey) }

    /// Prefetch defaults to 2000 (twice `maxBatch`), not the consumer's 300: acks go out
    /// only after a commit, so the prefetch is the pipeline's whole in-flight window.
    public init(endpoint: AMQPEndpoint, queue: String = "notifyd.events", store: StoreLocation) {
        consumer = AMQPConsumerConfig(endpoint: endpoint, queue: queue, bindingKeys: Self.bindingKeys)
        consumer.prefetch = 2000
        self.store = store
    }
}

/// `perform` refused a job because `maxQueuedJobs` are already queued (overload: retry later).
public struct StoreQueueFull: Error, Sendable, Equatable, CustomStringConvertible {
    public init() {}
    public var description: String { "the store job queue is full" }
}

public enum NotificationPipelineError: Error, Sendable, CustomStringConvertible {
    /// The store could not be opened (start fails before the consumer connects).
    case storeOpen(StoreError)
    case consumer(AMQPError)
    /// pthread_create failed.
    case thread
    /// start() on a pipeline that was started before (pipelines are one-shot).
    case alreadyStarted

    public var description: String {
        switch self {
        case let .storeOpen(e): "cannot open the notification store: \(e)"
        case let .consumer(e): "cannot start the event consumer: \(e)"
        case .thread: "cannot start the store thread"
        case .alreadyStarted: "the pipeline was already started"
        }
    }
}
