// The consumer thread's state and loop. Everything here runs on that one thread; the worker
// is created there and never shared, so it is a plain non-Sendable class.
//
// Each turn: perform queued acks/rejects, poll the socket and the wake pipe together (at most
// 1 s, so heartbeats are sent and the broker's silence is checked at least once a second),
// then read every delivery that is already available (bounded by maxBatch) and hand them out.
import CRabbitMQ
#if canImport(Glibc)
import Glibc
#endif

final class ConsumerWorker {
    private let consumer: AMQPConsumer
    private var config: AMQPConsumerConfig { consumer.config }
    private var generation: UInt64 = 0
    // Settlement bookkeeping for the current connection: every tag <= settledUpTo is acked or
    // rejected; `rejectedAbove` holds rejected tags above it (at most `prefetch` of them).
    private var settledUpTo: UInt64 = 0
    private var rejectedAbove = Set<UInt64>()
    private var lastDelivered: UInt64 = 0

    init(consumer: AMQPConsumer) {
        self.consumer = consumer
    }

    func run() {
        var attempt = 0
        while !consumer.isStopping {
            var conn: AMQPConnection?
            var wasConnected = false
            do {
                let c = try connect()
                conn = c
                generation += 1
                settledUpTo = 0
                lastDelivered = 0
                rejectedAbove.removeAll()
                if generation > 1 { consumer.updateCounters { $0.reconnects += 1 } }
                attempt = 0
                wasConnected = true
                consumer.onState(.connected(generation: generation))
                try serve(c)
                c.close()
                break
            } catch {
                conn?.markBroken()
                conn?.close()
                if wasConnected { consumer.onState(.disconnected(reason: error.description)) }
            }
            if consumer.isStopping { break }
            attempt += 1
            let delay = backoffDelay(attempt: attempt, min: config.reconnectMinDelay, max: config.reconnectMaxDelay)
            consumer.onState(.reconnecting(attempt: attempt, delay: delay))
            let deadline = monotonicNanos() + delay.nanos
            while !consumer.isStopping {
                let now = monotonicNanos()
                if now >= deadline { break }
                _ = consumer.wakePipe.wait(nanos: deadline - now)
            }
        }
        consumer.onState(.stopped)
    }

    /// Connects and declares: the events exchange (topic), the dead-letter exchange (topic)
    /// and queue, the queue with its dead-letter arguments, the bindings, qos and consume.
    private func connect() throws(AMQPError) -> AMQPConnection {
        let c = try AMQPConnection.open(config.endpoint, heartbeatSeconds: config.heartbeatSeconds,
                                        timeoutSeconds: config.timeoutSeconds)
        try c.declareExchange(config.exchange, type: "topic")
        try c.declareExchange(config.deadLetterExchange, type: "topic")
        try c.declareQueue(config.deadLetterQueue)
        try c.bind(queue: config.deadLetterQueue, exchange: config.deadLetterExchange, key: config.queue)
        try c.declareQueue(config.queue, arguments: [("x-dead-letter-exchange", config.deadLetterExchange),
                                                     ("x-dead-letter-routing-key", config.queue)])
        for key in config.bindingKeys {
            try c.bind(queue: config.queue, exchange: config.exchange, key: key)
        }
        _ = amqp_basic_qos(c.state, AMQPConnection.channel, 0, config.prefetch, 0)
        try c.check("basic.qos")
        config.queue.withCString { q in
            _ = amqp_basic_consume(c.state, AMQPConnection.channel, amqp_cstring_bytes(q), amqp_empty_bytes,
                                   0, 0, 0, amqp_empty_table)
        }
        try c.check("basic.consume \(config.queue)")
        return c
    }

    /// Serves one connection until stop (returns) or a failure (throws).
    private func serve(_ c: AMQPConnection) throws(AMQPError) {
        let sock = amqp_get_sockfd(c.state)
        var batch: [AMQPDelivery] = []
        batch.reserveCapacity(config.maxBatch)
        while !consumer.isStopping {
            try settle(c)
            if amqp_frames_enqueued(c.state) == 0 && amqp_data_in_buffer(c.state) == 0 {
                var fds = [pollfd(fd: sock, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: consumer.wakePipe.readFD, events: Int16(POLLIN), revents: 0)]
                _ = poll(&fds, 2, 1000)
                if fds[1].revents != 0 {
                    consumer.wakePipe.drain()
                    if consumer.isStopping { return }
                    try settle(c)
                }
            }
            while batch.count < config.maxBatch {
                amqp_maybe_release_buffers(c.state)
                var env = amqp_envelope_t()
                // 1 µs, not 0: a zero timeout skips rabbitmq-c's missed-heartbeat check.
                var tv = timeval(tv_sec: 0, tv_usec: 1)
                let r = amqp_consume_message(c.state, &env, &tv, 0)
                if r.reply_type == AMQP_RESPONSE_NORMAL {
                    batch.append(delivery(env))
                    amqp_destroy_envelope(&env)
                    continue
                }
                if r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION {
                    if r.library_error == AMQP_STATUS_TIMEOUT.rawValue { break }
                    if r.library_error == AMQP_STATUS_UNEXPECTED_STATE.rawValue {
                        try handleOtherFrame(c)
                        continue
                    }
                }
                c.markBroken()
                throw AMQPError.reply(r, "basic.consume") ?? .closed
            }
            if let last = batch.last {
                lastDelivered = last.tag.value
                let n = batch.count
                consumer.updateCounters { $0.delivered += n }
                consumer.onBatch(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
    }

    private func delivery(_ env: amqp_envelope_t) -> AMQPDelivery {
        let p = env.message.properties
        func has(_ flag: Int32) -> Bool { p._flags & amqp_flags_t(flag) != 0 }
        return AMQPDelivery(
            tag: AMQPDeliveryTag(generation: generation, value: env.delivery_tag),
            exchange: string(env.exchange), routingKey: string(env.routing_key),
            messageId: has(AMQP_BASIC_MESSAGE_ID_FLAG) ? string(p.message_id) : nil,
            type: has(AMQP_BASIC_TYPE_FLAG) ? string(p.type) : nil,
            contentType: has(AMQP_BASIC_CONTENT_TYPE_FLAG) ? string(p.content_type) : nil,
            timestamp: has(AMQP_BASIC_TIMESTAMP_FLAG) ? p.timestamp : nil,
            redelivered: env.redelivered != 0, body: bytes(env.message.body))
    }

    /// Reads a frame that is not a delivery. Broker closes and consumer cancellation end the
    /// connection (the loop reconnects and re-declares); anything else is ignored.
    private func handleOtherFrame(_ c: AMQPConnection) throws(AMQPError) {
        var frame = amqp_frame_t()
        let rc = amqp_simple_wait_frame(c.state, &frame)
        guard rc == AMQP_STATUS_OK.rawValue else {
            c.markBroken()
            throw .status("wait frame", rc)
        }
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { return }
        let id = frame.payload.method.id
        if let error = AMQPError.closeMethod(id: id, decoded: frame.payload.method.decoded, "consume") {
            c.acknowledgeClose(methodId: id, channel: frame.channel)
            throw error
        }
        if id == instaverse_amqp_basic_cancel_method {
            c.markBroken()
            throw .server(operation: "consume", code: 0, text: "the broker cancelled the consumer (queue deleted?)")
        }
    }

    /// Performs queued settlements of this connection in call order, coalescing runs of acks
    /// into one multiple-ack.
    private func settle(_ c: AMQPConnection) throws(AMQPError) {
        let (items, queuedAt) = consumer.takeSettlements()
        guard !items.isEmpty else { return }
        var acked = 0, rejected = 0, ignored = 0
        var pendingAck: UInt64 = 0
        func flushAck() throws(AMQPError) {
            guard pendingAck > settledUpTo else { return }
            var top = pendingAck
            while top > settledUpTo && rejectedAbove.contains(top) { top -= 1 }
            if top > settledUpTo {
                let rc = amqp_basic_ack(c.state, AMQPConnection.channel, top, 1)
                guard rc == AMQP_STATUS_OK.rawValue else { c.markBroken(); throw .status("basic.ack", rc) }
            }
            let covered = rejectedAbove.filter { $0 <= pendingAck }
            acked += Int(pendingAck - settledUpTo) - covered.count
            rejectedAbove.subtract(covered)
            settledUpTo = pendingAck
        }
        for item in items {
            switch item {
            case let .ack(tag):
                guard tag.generation == generation, tag.value <= lastDelivered, tag.value > settledUpTo else {
                    ignored += 1
                    continue
                }
                pendingAck = max(pendingAck, tag.value)
            case let .reject(tag):
                guard tag.generation == generation, tag.value <= lastDelivered, tag.value > max(settledUpTo, pendingAck),
                      !rejectedAbove.contains(tag.value) else {
                    ignored += 1
                    continue
                }
                try flushAck()
                let rc = amqp_basic_reject(c.state, AMQPConnection.channel, tag.value, 0)
                guard rc == AMQP_STATUS_OK.rawValue else { c.markBroken(); throw .status("basic.reject", rc) }
                rejectedAbove.insert(tag.value)
                rejected += 1
            }
        }
        try flushAck()
        let latency = (monotonicNanos() &- queuedAt) / 1000
        consumer.updateCounters {
            $0.lastSettleLatencyMicros = latency
            $0.maxSettleLatencyMicros = max($0.maxSettleLatencyMicros, latency)
            $0.acked += acked
            $0.rejected += rejected
            $0.ignoredSettlements += ignored
        }
    }
}
