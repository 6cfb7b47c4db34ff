// What a light service exposes at GET /metrics (Prometheus text, on the service's own port;
// the gateway does not route /metrics): requests by route pattern, method and status, one
// request latency histogram, the outbox (depth, age of the oldest unpublished row, relay
// counters) and the event consumer (pending deliveries, age of the oldest, applied count).
// Counters are updated on the loop thread (requests) and the applier thread (consumer);
// every type is Sendable, so a scrape reads them from the loop.
import Daemon
import HTTP1
import PG
import Synchronization

public final class ServiceMetrics: Sendable {
    /// The label value of requests no route took (404, 405, invalid path).
    public static let unmatchedRoute = "unmatched"

    public let prefix: String
    public let requests = LabeledCounter(labelNames: ["route", "method", "status"])
    public let latency = LatencyHistogram()
    public let consumer = ConsumerStats()

    static let knownMethods: Set<String> = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]

    /// `service` names the families: `instaverse_<service>_...` (auth, story, social).
    public init(service: String) {
        prefix = "instaverse_" + service + "_"
    }

    /// Counts one answered request. `route` is the route pattern (never the raw path).
    /// A method outside the standard ones is counted as `other`: the parser accepts any
    /// token as a method, and a label per made-up method would grow the registry forever.
    public func observe(route: String, method: HTTPMethod, status: HTTPStatus, micros: Int) {
        let name = ServiceMetrics.knownMethods.contains(method.rawValue) ? method.rawValue : "other"
        requests.increment([route, name, String(status.code)])
        latency.observe(micros: micros)
    }

    /// The outbox as the database sees it: nil when the query failed (database down).
    public struct OutboxSnapshot: Sendable {
        public var pending: Int64
        public var oldestAgeMicros: Int64
    }

    /// Reads the outbox depth and the age of its oldest unpublished row (the relay's lag).
    /// Runs on a pool worker.
    public static func outboxSnapshot(_ conn: PGConnection) throws -> OutboxSnapshot {
        let row = try conn.query("""
            SELECT count(*), COALESCE((extract(epoch FROM now() - min(created_at)) * 1000000)::bigint, 0)
            FROM outbox WHERE published_at IS NULL
            """)[0]
        return OutboxSnapshot(pending: try row.int64(0), oldestAgeMicros: try row.int64(1))
    }

    /// The text of a scrape. `outbox` nil renders `database_up 0` and no outbox gauges.
    public func render(outbox: OutboxSnapshot?, relay: OutboxRelay.Stats?) -> String {
        var out = PrometheusText(capacity: 4096)
        requests.render(into: &out, name: prefix + "http_requests_total",
                        help: "Answered requests by route pattern, method and status.")
        latency.render(into: &out, name: prefix + "http_request_seconds",
                       help: "Time from the complete request to its response.")
        out.family(prefix + "database_up", "gauge", "1 when the last metrics query reached PostgreSQL.",
                   outbox == nil ? 0 : 1)
        if let outbox {
            out.family(prefix + "outbox_pending", "gauge", "Outbox rows not yet published.", Int(outbox.pending))
            out.header(prefix + "outbox_oldest_pending_seconds", "gauge",
                       "Age of the oldest unpublished outbox row (the relay's lag); 0 when none.")
            out.sample(prefix + "outbox_oldest_pending_seconds", [], LatencyHistogram.seconds(Int(outbox.oldestAgeMicros)))
        }
        if let relay {
            out.family(prefix + "outbox_published_total", "counter", "Outbox rows the relay published.", relay.published)
            out.family(prefix + "outbox_relay_failures_total", "counter", "Failed relay steps (retried).", relay.failures)
        }
        consumer.render(into: &out, prefix: prefix)
        return out.text
    }
}

/// The event consumer's progress: batches handed to the applier and not yet finished, the
/// age of the oldest of them (the consumer's lag), and events applied. Consumer and applier
/// threads update it; a scrape reads it.
public final class ConsumerStats: Sendable {
    private struct State {
        /// Arrival instants of the batches waiting or being applied, oldest first.
        var arrivals: [ContinuousClock.Instant] = []
        var pendingEvents = 0
    }
    private let state = Mutex(State())
    public let applied = Atomic<Int>(0)
    public let applyFailures = Atomic<Int>(0)

    public init() {}

    /// Consumer thread: a batch of `count` events was queued for the applier.
    func batchQueued(count: Int) {
        let now = ContinuousClock.now
        state.withLock { s in
            s.arrivals.append(now)
            s.pendingEvents += count
        }
    }

    /// Applier thread: the oldest batch finished (acked, or abandoned for redelivery).
    func batchFinished(count: Int) {
        state.withLock { s in
            if !s.arrivals.isEmpty { s.arrivals.removeFirst() }
            s.pendingEvents = max(0, s.pendingEvents - count)
        }
    }

    /// Events queued and not yet finished.
    public var pendingEvents: Int { state.withLock { $0.pendingEvents } }

    func render(into out: inout PrometheusText, prefix: String) {
        let (oldest, pending) = state.withLock { ($0.arrivals.first, $0.pendingEvents) }
        var lagMicros = 0
        if let oldest {
            let (seconds, atto) = (ContinuousClock.now - oldest).components
            lagMicros = Int(seconds) * 1_000_000 + Int(atto / 1_000_000_000_000)
        }
        out.family(prefix + "consumer_pending_events", "gauge", "Delivered events not yet applied.", pending)
        out.header(prefix + "consumer_lag_seconds", "gauge",
                   "Age of the oldest delivered batch not yet applied; 0 when none.")
        out.sample(prefix + "consumer_lag_seconds", [], LatencyHistogram.seconds(max(0, lagMicros)))
        out.family(prefix + "consumer_events_applied_total", "counter", "Events applied and committed.",
                   applied.load(ordering: .relaxed))
        out.family(prefix + "consumer_apply_failures_total", "counter", "Failed event applies (retried).",
                   applyFailures.load(ordering: .relaxed))
    }
}
