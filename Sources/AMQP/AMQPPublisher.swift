// The publisher: one rabbitmq-c connection with publisher confirms and mandatory routing.
//
// Threading: AMQPPublisher is deliberately NOT Sendable. It is owned by one thread at a time
// (the outbox relay's thread, a service's publishing thread); every call blocks that thread
// until the broker answers. Give each publishing thread its own publisher.
//
// Delivery: `publish(_:)` sends the whole batch, then waits for the broker's confirms
// (multiple acks map to every earlier sequence number) and returns one outcome per message.
// Only `.confirmed` means the broker has taken responsibility for the message. On any
// connection failure the connection is dropped, the rest of the batch is `.unconfirmed`,
// and the next call reconnects; the caller retries what was not confirmed (consumers dedupe
// by message id, so a retry of a message the broker did take is harmless).
//
// Heartbeats are serviced only inside calls. An owner idle for longer than two heartbeats
// loses the connection to the broker; the next publish sees that and reconnects first.
// `keepAlive()` services heartbeats without publishing.
import CRabbitMQ
import Events
#if canImport(Glibc)
import Glibc
#endif

public struct AMQPPublisherConfig: Sendable {
    public var endpoint: AMQPEndpoint
    /// Declared (durable topic) on connect, and the default exchange of messages.
    public var exchange = "instaverse.events"
    public var heartbeatSeconds = 10
    /// How long a batch waits for its confirms before the connection is dropped.
    public var confirmTimeout: Duration = .seconds(10)
    /// Bounds the TCP connect, the handshake and each RPC.
    public var timeoutSeconds = 10

    public init(endpoint: AMQPEndpoint) {
        self.endpoint = endpoint
    }

    public init(url: String) throws(AMQPError) {
        self.init(endpoint: try AMQPEndpoint(url: url))
    }
}

public struct OutgoingMessage: Sendable {
    public var routingKey: String
    public var messageId: String
    public var type: String
    public var body: [UInt8]
    public var contentType: String
    /// Seconds since 1970.
    public var timestamp: UInt64
    /// Nil: the publisher's configured exchange.
    public var exchange: String?

    public init(routingKey: String, messageId: String, type: String? = nil, body: [UInt8],
                contentType: String = "application/json", timestamp: UInt64? = nil, exchange: String? = nil) {
        self.routingKey = routingKey
        self.messageId = messageId
        self.type = type ?? routingKey
        self.body = body
        self.contentType = contentType
        self.timestamp = timestamp ?? UInt64(max(0, time(nil)))
        self.exchange = exchange
    }

    /// The contract's form of an event: routing key and type = the event type, message_id =
    /// the event id, the JSON body.
    public init(event: Event) {
        self.init(routingKey: event.type.routingKey, messageId: event.id, body: event.encode())
    }
}

public enum PublishOutcome: Sendable, Equatable {
    /// The broker acked the message: it is routed and (for durable queues) persisted.
    case confirmed
    /// The broker nacked it (internal error): retry.
    case nacked
    /// No queue is bound for its routing key (basic.return of a mandatory publish).
    case unroutable
    /// The connection failed or the confirm timed out before an answer: retry.
    case unconfirmed
}

public final class AMQPPublisher {
    public let config: AMQPPublisherConfig
    private var conn: AMQPConnection?
    private var nextSeq: UInt64 = 1
    private var scratch: [UInt8] = []

    public init(config: AMQPPublisherConfig) {
        self.config = config
    }

    deinit { conn?.close() }

    public var isConnected: Bool { conn != nil }

    /// Connects now (publish also connects lazily). Declares the exchange, enables confirms.
    public func connect() throws(AMQPError) {
        guard conn == nil else { return }
        let c = try AMQPConnection.open(config.endpoint, heartbeatSeconds: config.heartbeatSeconds,
                                        timeoutSeconds: config.timeoutSeconds)
        try c.declareExchange(config.exchange, type: "topic")
        _ = amqp_confirm_select(c.state, AMQPConnection.channel)
        try c.check("confirm.select")
        conn = c
        nextSeq = 1
    }

    /// Closes the connection cleanly. The next publish reconnects.
    public func close() {
        conn?.close()
        conn = nil
    }

    /// Reads whatever the broker sent while the owner was idle (heartbeats, a close) and sends
    /// our heartbeat when due. Drops the connection when it turns out dead.
    public func keepAlive() {
        guard let c = conn else { return }
        while true {
            var frame = amqp_frame_t()
            var tv = timeval(tv_sec: 0, tv_usec: 1)
            let rc = amqp_simple_wait_frame_noblock(c.state, &frame, &tv)
            if rc == AMQP_STATUS_TIMEOUT.rawValue { return }
            if rc != AMQP_STATUS_OK.rawValue || (frame.frame_type == UInt8(AMQP_FRAME_METHOD)
                && AMQPError.closeMethod(id: frame.payload.method.id, decoded: frame.payload.method.decoded, "") != nil) {
                if rc == AMQP_STATUS_OK.rawValue { c.acknowledgeClose(methodId: frame.payload.method.id, channel: frame.channel) }
                drop()
                return
            }
        }
    }

    /// Publishes the batch (persistent, mandatory) and waits for every confirm. Throws only
    /// when it cannot connect (nothing was sent); otherwise returns one outcome per message,
    /// in order.
    public func publish(_ messages: [OutgoingMessage]) throws(AMQPError) -> [PublishOutcome] {
        guard !messages.isEmpty else { return [] }
        keepAlive()
        try connect()
        guard let c = conn else { throw .closed }
        var batch = ConfirmBatch(count: messages.count, firstSeq: nextSeq)
        for m in messages {
            let rc = send(m, on: c)
            guard rc == AMQP_STATUS_OK.rawValue else {
                drop()
                return batch.finish()
            }
            nextSeq += 1
            batch.sent += 1
        }
        let deadline = monotonicNanos() + config.confirmTimeout.nanos
        while batch.unresolved > 0 {
            let now = monotonicNanos()
            guard now < deadline else { drop(); break }
            var frame = amqp_frame_t()
            var tv = makeTimeval(nanos: deadline - now)
            let rc = amqp_simple_wait_frame_noblock(c.state, &frame, &tv)
            if rc == AMQP_STATUS_TIMEOUT.rawValue { continue }
            guard rc == AMQP_STATUS_OK.rawValue else { drop(); break }
            guard frame.frame_type == UInt8(AMQP_FRAME_METHOD), let decoded = frame.payload.method.decoded else { continue }
            let id = frame.payload.method.id
            if id == instaverse_amqp_basic_ack_method {
                let a = decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
                batch.resolve(tag: a.delivery_tag, multiple: a.multiple != 0, as: .confirmed)
            } else if id == instaverse_amqp_basic_nack_method {
                let n = decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
                batch.resolve(tag: n.delivery_tag, multiple: n.multiple != 0, as: .nacked)
            } else if id == instaverse_amqp_basic_return_method {
                // The returned content follows the method; its message_id names the message.
                var msg = amqp_message_t()
                let r = amqp_read_message(c.state, frame.channel, &msg, 0)
                guard r.reply_type == AMQP_RESPONSE_NORMAL else { drop(); break }
                let p = msg.properties
                if p._flags & amqp_flags_t(AMQP_BASIC_MESSAGE_ID_FLAG) != 0 {
                    batch.markReturned(messageId: string(p.message_id), in: messages)
                }
                amqp_destroy_message(&msg)
            } else if AMQPError.closeMethod(id: id, decoded: decoded, "publish") != nil {
                c.acknowledgeClose(methodId: id, channel: frame.channel)
                drop()
                break
            }
        }
        return batch.finish()
    }

    private func drop() {
        conn?.markBroken()
        conn?.close()
        conn = nil
    }

    /// One basic.publish. The strings are packed into one reused scratch buffer so that the
    /// amqp_bytes_t views stay valid for the call without an allocation per field.
    private func send(_ m: OutgoingMessage, on c: AMQPConnection) -> Int32 {
        scratch.removeAll(keepingCapacity: true)
        let exchange = m.exchange ?? config.exchange
        var ranges: [(Int, Int)] = []
        for s in [exchange, m.routingKey, m.contentType, m.messageId, m.type] {
            let start = scratch.count
            scratch.append(contentsOf: s.utf8)
            ranges.append((start, scratch.count - start))
        }
        return scratch.withUnsafeMutableBytes { raw -> Int32 in
            func b(_ i: Int) -> amqp_bytes_t {
                let (off, len) = ranges[i]
                return amqp_bytes_t(len: len, bytes: len == 0 ? nil : raw.baseAddress.map { $0 + off })
            }
            var props = amqp_basic_properties_t()
            props._flags = amqp_flags_t(AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG
                | AMQP_BASIC_MESSAGE_ID_FLAG | AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_TIMESTAMP_FLAG)
            props.content_type = b(2)
            props.delivery_mode = 2
            props.message_id = b(3)
            props.type = b(4)
            props.timestamp = m.timestamp
            return m.body.withUnsafeBytes { body in
                amqp_basic_publish(c.state, AMQPConnection.channel, b(0), b(1), 1, 0, &props,
                                   amqp_bytes_t(len: body.count, bytes: UnsafeMutableRawPointer(mutating: body.baseAddress)))
            }
        }
    }
}

/// The confirm state of one batch: publish sequence numbers firstSeq..<firstSeq+sent map to
/// message indices 0..<sent.
private struct ConfirmBatch {
    let firstSeq: UInt64
    var sent = 0
    private var outcomes: [PublishOutcome?]
    private var returned: [Bool]
    private var low = 0  // every index below is resolved
    private var resolvedCount = 0

    init(count: Int, firstSeq: UInt64) {
        self.firstSeq = firstSeq
        outcomes = Array(repeating: nil, count: count)
        returned = Array(repeating: false, count: count)
    }

    var unresolved: Int { sent - resolvedCount }

    mutating func resolve(tag: UInt64, multiple: Bool, as outcome: PublishOutcome) {
        guard tag >= firstSeq else { return }
        let idx = Int(min(tag - firstSeq, UInt64(sent)))
        guard idx < sent else { return }
        for i in (multiple ? low : idx)...idx where outcomes[i] == nil {
            outcomes[i] = returned[i] && outcome == .confirmed ? .unroutable : outcome
            resolvedCount += 1
        }
        while low < sent && outcomes[low] != nil { low += 1 }
    }

    /// A basic.return precedes the message's ack: remember it on the first unresolved,
    /// not yet returned message with that id.
    mutating func markReturned(messageId: String, in messages: [OutgoingMessage]) {
        for i in low..<sent where outcomes[i] == nil && !returned[i] && messages[i].messageId == messageId {
            returned[i] = true
            return
        }
    }

    func finish() -> [PublishOutcome] { outcomes.map { $0 ?? .unconfirmed } }
}
