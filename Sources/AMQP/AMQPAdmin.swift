// Small synchronous broker operations for operators and tests: read a dead-letter queue,
// count or purge a queue. Like AMQPPublisher it is owned by one thread (not Sendable).
import CRabbitMQ

public final class AMQPAdmin {
    private let conn: AMQPConnection

    public init(endpoint: AMQPEndpoint, timeoutSeconds: Int = 10) throws(AMQPError) {
        conn = try AMQPConnection.open(endpoint, heartbeatSeconds: 0, timeoutSeconds: timeoutSeconds)
    }

    deinit { conn.close() }

    /// basic.get with auto-ack: takes one message off `queue`, or nil when it is empty.
    /// The tag's generation is 0 (it cannot be acked through a consumer).
    public func get(queue: String) throws(AMQPError) -> AMQPDelivery? {
        let reply = queue.withCString { q in amqp_basic_get(conn.state, AMQPConnection.channel, amqp_cstring_bytes(q), 1) }
        if let error = AMQPError.reply(reply, "basic.get \(queue)") { conn.markBroken(); throw error }
        guard reply.reply.id == instaverse_amqp_basic_get_ok_method, let decoded = reply.reply.decoded else { return nil }
        let ok = decoded.assumingMemoryBound(to: amqp_basic_get_ok_t.self).pointee
        let tag = ok.delivery_tag, redelivered = ok.redelivered != 0
        let exchange = string(ok.exchange), routingKey = string(ok.routing_key)
        var msg = amqp_message_t()
        let r = amqp_read_message(conn.state, AMQPConnection.channel, &msg, 0)
        if let error = AMQPError.reply(r, "basic.get content") { conn.markBroken(); throw error }
        defer { amqp_destroy_message(&msg) }
        let p = msg.properties
        func has(_ flag: Int32) -> Bool { p._flags & amqp_flags_t(flag) != 0 }
        return AMQPDelivery(tag: AMQPDeliveryTag(generation: 0, value: tag), exchange: exchange, routingKey: routingKey,
                            messageId: has(AMQP_BASIC_MESSAGE_ID_FLAG) ? string(p.message_id) : nil,
                            type: has(AMQP_BASIC_TYPE_FLAG) ? string(p.type) : nil,
                            contentType: has(AMQP_BASIC_CONTENT_TYPE_FLAG) ? string(p.content_type) : nil,
                            timestamp: has(AMQP_BASIC_TIMESTAMP_FLAG) ? p.timestamp : nil,
                            redelivered: redelivered, body: bytes(msg.body))
    }

    /// Number of ready messages in an existing queue (passive declare).
    public func messageCount(queue: String) throws(AMQPError) -> Int {
        let ok = queue.withCString { q in
            amqp_queue_declare(conn.state, AMQPConnection.channel, amqp_cstring_bytes(q), 1, 0, 0, 0, amqp_empty_table)
        }
        try conn.check("queue.declare passive \(queue)")
        guard let ok else { return 0 }
        return Int(ok.pointee.message_count)
    }

    /// Deletes a queue (tests clean up with it).
    public func deleteQueue(_ queue: String) throws(AMQPError) {
        queue.withCString { q in
            _ = amqp_queue_delete(conn.state, AMQPConnection.channel, amqp_cstring_bytes(q), 0, 0)
        }
        try conn.check("queue.delete \(queue)")
    }
}
