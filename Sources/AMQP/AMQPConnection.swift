// One rabbitmq-c connection with channel 1 open. Internal and non-Sendable: rabbitmq-c
// connections belong to one thread (FACTS.md), so each consumer/publisher thread creates,
// uses and closes its own and never lets it escape.
import CRabbitMQ
#if canImport(Glibc)
import Glibc
#endif

final class AMQPConnection {
    static let channel: amqp_channel_t = 1

    let state: amqp_connection_state_t
    /// False once a socket error, a heartbeat timeout or a broker close was seen: then `close()`
    /// skips the close handshake (it would block on a dead peer until the RPC timeout).
    private(set) var healthy = true
    private var destroyed = false

    private init(state: amqp_connection_state_t) {
        self.state = state
    }

    /// Opens the socket, logs in (heartbeat in seconds, 0 = off) and opens channel 1.
    /// `timeoutSeconds` bounds the TCP connect, the handshake and every later RPC.
    static func open(_ endpoint: AMQPEndpoint, heartbeatSeconds: Int, timeoutSeconds: Int) throws(AMQPError) -> AMQPConnection {
        guard let state = amqp_new_connection() else { throw .connect("amqp_new_connection failed") }
        let conn = AMQPConnection(state: state)
        conn.healthy = false  // until the login succeeds
        guard let socket = amqp_tcp_socket_new(state) else { throw .connect("amqp_tcp_socket_new failed") }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        _ = amqp_set_handshake_timeout(state, &tv)
        _ = amqp_set_rpc_timeout(state, &tv)
        let rc = amqp_socket_open_noblock(socket, endpoint.host, Int32(endpoint.port), &tv)
        guard rc == AMQP_STATUS_OK.rawValue else {
            throw .connect("\(endpoint.host):\(endpoint.port): \(String(cString: amqp_error_string2(rc)))")
        }
        let login = instaverse_amqp_login_plain(state, endpoint.vhost, 0, 131_072, Int32(heartbeatSeconds),
                                                endpoint.user, endpoint.password)
        if let error = AMQPError.reply(login, "login") { throw .connect(error.description) }
        conn.healthy = true
        amqp_channel_open(state, channel)
        try conn.check("channel.open")
        return conn
    }

    deinit { close() }

    /// Throws the error of the last RPC, marking the connection broken (rabbitmq-c leaves a
    /// channel closed by the broker unusable, and we never reuse a half-closed connection).
    func check(_ operation: String) throws(AMQPError) {
        if let error = AMQPError.reply(amqp_get_rpc_reply(state), operation) {
            healthy = false
            throw error
        }
    }

    /// Marks the connection unusable after a socket or protocol error.
    func markBroken() { healthy = false }

    func declareExchange(_ name: String, type: String) throws(AMQPError) {
        name.withCString { n in
            type.withCString { t in
                _ = amqp_exchange_declare(state, Self.channel, amqp_cstring_bytes(n), amqp_cstring_bytes(t),
                                          0, 1, 0, 0, amqp_empty_table)
            }
        }
        try check("exchange.declare \(name)")
    }

    /// Declares a durable queue with string-valued arguments (x-dead-letter-exchange, ...).
    func declareQueue(_ name: String, arguments: [(String, String)] = []) throws(AMQPError) {
        withTable(arguments) { table in
            name.withCString { n in
                _ = amqp_queue_declare(state, Self.channel, amqp_cstring_bytes(n), 0, 1, 0, 0, table)
            }
        }
        try check("queue.declare \(name)")
    }

    func bind(queue: String, exchange: String, key: String) throws(AMQPError) {
        queue.withCString { q in
            exchange.withCString { e in
                key.withCString { k in
                    _ = amqp_queue_bind(state, Self.channel, amqp_cstring_bytes(q), amqp_cstring_bytes(e),
                                        amqp_cstring_bytes(k), amqp_empty_table)
                }
            }
        }
        try check("queue.bind \(queue) \(key)")
    }

    /// Answers a broker-initiated channel.close or connection.close so the broker can free its
    /// side, then marks the connection broken.
    func acknowledgeClose(methodId: amqp_method_number_t, channel: amqp_channel_t) {
        if methodId == instaverse_amqp_connection_close_method {
            var ok = amqp_connection_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, 0, instaverse_amqp_connection_close_ok_method, &ok)
        } else if methodId == instaverse_amqp_channel_close_method {
            var ok = amqp_channel_close_ok_t(dummy: 0)
            _ = amqp_send_method(state, channel, instaverse_amqp_channel_close_ok_method, &ok)
        }
        healthy = false
    }

    /// Closes the channel and the connection (a handshake only when healthy), then frees the
    /// rabbitmq-c state. Idempotent.
    func close() {
        guard !destroyed else { return }
        destroyed = true
        if healthy {
            _ = amqp_channel_close(state, Self.channel, AMQP_REPLY_SUCCESS)
            _ = amqp_connection_close(state, AMQP_REPLY_SUCCESS)
        }
        healthy = false
        _ = amqp_destroy_connection(state)
    }

    /// Runs `body` with an AMQP table of string values; the table's memory lives for the call.
    private func withTable<R>(_ pairs: [(String, String)], _ body: (amqp_table_t) -> R) -> R {
        var storage: [UnsafeMutablePointer<CChar>] = []
        defer { storage.forEach { free($0) } }
        var entries: [amqp_table_entry_t] = []
        for (k, v) in pairs {
            guard let kp = strdup(k), let vp = strdup(v) else { continue }
            storage.append(kp)
            storage.append(vp)
            var e = amqp_table_entry_t()
            e.key = amqp_cstring_bytes(kp)
            e.value.kind = UInt8(AMQP_FIELD_KIND_UTF8.rawValue)
            e.value.value.bytes = amqp_cstring_bytes(vp)
            entries.append(e)
        }
        return entries.withUnsafeMutableBufferPointer { buf in
            body(amqp_table_t(num_entries: Int32(buf.count), entries: buf.baseAddress))
        }
    }
}

/// Monotonic time in nanoseconds.
func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

extension Duration {
    var nanos: UInt64 {
        let (s, atto) = components
        guard s >= 0 else { return 0 }
        return UInt64(s) * 1_000_000_000 + UInt64(atto / 1_000_000_000)
    }
}

/// A timeval for rabbitmq-c from nanoseconds.
func makeTimeval(nanos: UInt64) -> timeval {
    timeval(tv_sec: Int(nanos / 1_000_000_000), tv_usec: Int((nanos % 1_000_000_000) / 1000))
}
