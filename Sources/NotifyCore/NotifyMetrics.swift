// notifyd's counters, shared by the ingest pipeline (store thread, consumer thread) and the
// WebSocket/REST front (loop threads). Every field is an atomic, so any thread updates and
// reads without a lock; `renderPrometheus()` is a snapshot that is consistent per counter,
// not across counters (Prometheus scrapes are like that anyway). LatencyHistogram is shared
// with the services (Daemon/Metrics.swift).
import Daemon
import Synchronization

public final class NotifyMetrics: Sendable {
    // Ingest (the pipeline increments these).
    /// Deliveries taken from the broker and processed by the store thread.
    public let eventsConsumed = Atomic<Int>(0)
    /// Notifications newly inserted.
    public let notificationsStored = Atomic<Int>(0)
    /// Notifications whose event id was already stored (redeliveries, republished events).
    public let duplicatesSkipped = Atomic<Int>(0)
    /// Events that need no notification (other types, actor == recipient).
    public let eventsIgnored = Atomic<Int>(0)
    /// Undecodable deliveries rejected to the dead-letter queue.
    public let eventsRejected = Atomic<Int>(0)
    /// user.deleted events applied.
    public let userDeletions = Atomic<Int>(0)
    /// Committed store transactions of the ingest (one per group commit).
    public let storeBatches = Atomic<Int>(0)
    /// Failed store writes (each retry that fails counts).
    public let storeErrors = Atomic<Int>(0)
    /// Notifications removed by retention.
    public let notificationsPruned = Atomic<Int>(0)
    /// Consumer connections after the first one.
    public let brokerReconnects = Atomic<Int>(0)
    /// 1 while the consumer is connected to the broker (for /readyz too).
    public let brokerConnected = Atomic<Int>(0)
    /// Gauge: store jobs (front reads and read-marks) queued for the store thread.
    public let storeJobsQueued = Atomic<Int>(0)
    /// Store jobs refused because the queue was full.
    public let storeJobsRejected = Atomic<Int>(0)
    /// Store batch latency: from taking the batch off the queue to its commit.
    public let storeBatchLatency = LatencyHistogram()

    // Front (the WebSocket/REST layer increments these).
    public let notificationsDelivered = Atomic<Int>(0)
    public let slowConsumerCloses = Atomic<Int>(0)
    /// Gauges: open connections and authenticated sessions.
    public let connections = Atomic<Int>(0)
    public let sessions = Atomic<Int>(0)
    /// Client messages refused by the per-session rate limit.
    public let clientMessagesRateLimited = Atomic<Int>(0)

    public init() {}

    /// The metrics above in the Prometheus text format (version 0.0.4), names prefixed
    /// `notifyd_`, each with HELP and TYPE lines. The front appends its own families.
    public func renderPrometheus() -> String {
        var out = ""
        out.reserveCapacity(3000)
        func family(_ name: String, _ type: String, _ help: String, _ value: Int) {
            out += "# HELP notifyd_\(name) \(help)\n# TYPE notifyd_\(name) \(type)\nnotifyd_\(name) \(value)\n"
        }
        func c(_ a: borrowing Atomic<Int>) -> Int { a.load(ordering: .relaxed) }
        family("events_consumed_total", "counter", "Deliveries taken from the broker and processed.", c(eventsConsumed))
        family("notifications_stored_total", "counter", "Notifications newly stored.", c(notificationsStored))
        family("duplicates_skipped_total", "counter", "Notifications skipped because their event id was already stored.",
               c(duplicatesSkipped))
        family("events_ignored_total", "counter", "Events that needed no notification.", c(eventsIgnored))
        family("events_rejected_total", "counter", "Undecodable events dead-lettered.", c(eventsRejected))
        family("user_deletions_total", "counter", "user.deleted events applied.", c(userDeletions))
        family("store_batches_total", "counter", "Committed ingest transactions.", c(storeBatches))
        family("store_errors_total", "counter", "Failed store writes (retried).", c(storeErrors))
        family("notifications_pruned_total", "counter", "Notifications removed by retention.", c(notificationsPruned))
        family("broker_reconnects_total", "counter", "Broker connections after the first.", c(brokerReconnects))
        family("broker_connected", "gauge", "1 while the consumer is connected.", c(brokerConnected))
        family("store_jobs_queued", "gauge", "Store jobs queued for the store thread.", c(storeJobsQueued))
        family("store_jobs_rejected_total", "counter", "Store jobs refused because the job queue was full.",
               c(storeJobsRejected))
        storeBatchLatency.render(into: &out, name: "notifyd_store_batch_seconds",
                                 help: "Store batch latency from dequeue to commit.")
        family("notifications_delivered_total", "counter", "Notifications written to live sessions.",
               c(notificationsDelivered))
        family("slow_consumer_closes_total", "counter", "Connections closed for exceeding their outbound limit.",
               c(slowConsumerCloses))
        family("connections", "gauge", "Open connections.", c(connections))
        family("sessions", "gauge", "Authenticated WebSocket sessions.", c(sessions))
        family("client_messages_rate_limited_total", "counter", "Client messages refused by the per-session rate limit.",
               c(clientMessagesRateLimited))
        return out
    }
}
