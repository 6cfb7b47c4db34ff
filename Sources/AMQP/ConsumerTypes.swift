// Values the consumer hands out: configuration, deliveries, states and counters. All Sendable.

public struct AMQPConsumerConfig: Sendable {
    public var endpoint: AMQPEndpoint
    /// The durable queue this consumer reads; its dead-letter queue is `deadLetterQueue`.
    public var queue: String
    /// Routing keys bound from `exchange` to `queue`.
    public var bindingKeys: [String]
    public var exchange = "instaverse.events"
    /// Topic exchange receiving rejected messages, routed by the source queue's name.
    public var deadLetterExchange = "instaverse.dlx"
    /// basic.qos prefetch count: unacked deliveries the broker lets this consumer hold.
    public var prefetch: UInt16 = 300
    /// Heartbeat interval; a dead broker is detected after about two of them. 0 turns it off.
    public var heartbeatSeconds = 10
    /// Bounds one onBatch call.
    public var maxBatch = 256
    public var reconnectMinDelay: Duration = .milliseconds(100)
    public var reconnectMaxDelay: Duration = .seconds(10)
    /// Bounds the TCP connect, the handshake and each declare.
    public var timeoutSeconds = 10

    public init(endpoint: AMQPEndpoint, queue: String, bindingKeys: [String]) {
        self.endpoint = endpoint
        self.queue = queue
        self.bindingKeys = bindingKeys
    }

    public init(url: String, queue: String, bindingKeys: [String]) throws(AMQPError) {
        self.init(endpoint: try AMQPEndpoint(url: url), queue: queue, bindingKeys: bindingKeys)
    }

    /// `<queue>.dead`, bound to `deadLetterExchange` with the key `queue`.
    public var deadLetterQueue: String { queue + ".dead" }
}

/// A delivery tag qualified by the connection it came on. Tags of an older connection are
/// meaningless to the broker (those messages are redelivered), so ack/reject ignore them.
public struct AMQPDeliveryTag: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Counts connections of one consumer, from 1.
    public let generation: UInt64
    /// The broker's delivery tag on that connection's channel, from 1.
    public let value: UInt64

    public init(generation: UInt64, value: UInt64) {
        self.generation = generation
        self.value = value
    }

    public static func < (a: Self, b: Self) -> Bool {
        (a.generation, a.value) < (b.generation, b.value)
    }

    public var description: String { "\(generation):\(value)" }
}

public struct AMQPDelivery: Sendable {
    public var tag: AMQPDeliveryTag
    public var exchange: String
    public var routingKey: String
    /// The message_id property (the event id), if the publisher set one.
    public var messageId: String?
    /// The type property (the routing key, for events), if set.
    public var type: String?
    public var contentType: String?
    /// The timestamp property in seconds since 1970, if set.
    public var timestamp: UInt64?
    /// True when the broker delivered this message before (to this or an earlier connection).
    public var redelivered: Bool
    public var body: [UInt8]

    public init(tag: AMQPDeliveryTag, exchange: String, routingKey: String, messageId: String?, type: String?,
                contentType: String?, timestamp: UInt64?, redelivered: Bool, body: [UInt8]) {
        self.tag = tag
        self.exchange = exchange
        self.routingKey = routingKey
        self.messageId = messageId
        self.type = type
        self.contentType = contentType
        self.timestamp = timestamp
        self.redelivered = redelivered
        self.body = body
    }
}

public enum AMQPConsumerState: Sendable, Equatable {
    /// Topology declared and basic.consume done on connection `generation`.
    case connected(generation: UInt64)
    /// The connection was lost; unacked deliveries will be redelivered on the next one.
    case disconnected(reason: String)
    /// Waiting `delay` before connection attempt `attempt` (1, 2, ...).
    case reconnecting(attempt: Int, delay: Duration)
    /// stop() finished; the thread has ended.
    case stopped
}

public struct AMQPConsumerCounters: Sendable, Equatable {
    /// Successful connections after the first one.
    public var reconnects = 0
    /// Messages handed to onBatch.
    public var delivered = 0
    /// Messages acknowledged to the broker (a multiple ack counts each message it covers).
    public var acked = 0
    /// Messages rejected without requeue (dead-lettered).
    public var rejected = 0
    /// Acks and rejects dropped because their tag was stale, already settled or unknown.
    public var ignoredSettlements = 0
    /// Time from an ack/reject call to its frame being written, for the latest and the slowest
    /// settlement pass, in microseconds.
    public var lastSettleLatencyMicros: UInt64 = 0
    public var maxSettleLatencyMicros: UInt64 = 0

    public init() {}
}

/// Exponential backoff with "equal jitter": attempt n waits a random time in [d/2, d] where
/// d = min(max, min * 2^(n-1)), so many consumers restarting together spread out.
func backoffDelay(attempt: Int, min: Duration, max: Duration) -> Duration {
    let minN = min.nanos, maxN = Swift.max(max.nanos, minN)
    let shift = UInt64(Swift.min(Swift.max(attempt - 1, 0), 30))
    let (scaled, overflow) = minN.multipliedReportingOverflow(by: 1 << shift)
    let d = overflow ? maxN : Swift.min(scaled, maxN)
    let half = d / 2
    let n = half + (d > half ? UInt64.random(in: 0...(d - half)) : 0)
    return .nanoseconds(Int64(clamping: n))
}
