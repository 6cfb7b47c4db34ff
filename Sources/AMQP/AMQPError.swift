// Errors of the AMQP layer, mapped in one place from rabbitmq-c's status codes and the
// broker's close methods.
import CRabbitMQ

public enum AMQPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL is not amqp://user:pass@host:port/vhost.
    case invalidURL(String)
    /// The TCP connection or the login failed (broker down, wrong credentials, bad vhost).
    case connect(String)
    /// rabbitmq-c reported an error: the operation, its status code and amqp_error_string2.
    case library(operation: String, code: Int32, message: String)
    /// The broker closed the channel or connection: the operation, reply code and text.
    case server(operation: String, code: UInt16, text: String)
    /// The object was stopped or closed.
    case closed

    public var description: String {
        switch self {
        case let .invalidURL(detail): "invalid AMQP URL: \(detail)"
        case let .connect(detail): "cannot connect to the broker: \(detail)"
        case let .library(op, code, message): "\(op) failed: \(message) (\(code))"
        case let .server(op, code, text): "\(op): broker closed with \(code) \(text)"
        case .closed: "closed"
        }
    }

    static func status(_ operation: String, _ code: Int32) -> AMQPError {
        .library(operation: operation, code: code, message: String(cString: amqp_error_string2(code)))
    }

    /// The error an RPC reply carries, or nil for a normal reply.
    static func reply(_ r: amqp_rpc_reply_t, _ operation: String) -> AMQPError? {
        switch r.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return nil
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            return status(operation, r.library_error)
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            return closeMethod(id: r.reply.id, decoded: r.reply.decoded, operation)
                ?? .server(operation: operation, code: 0, text: "unexpected method \(r.reply.id)")
        default:
            return .library(operation: operation, code: -1, message: "no RPC reply")
        }
    }

    /// Decodes a channel.close or connection.close method into an error; nil for other methods.
    static func closeMethod(id: amqp_method_number_t, decoded: UnsafeMutableRawPointer?, _ operation: String) -> AMQPError? {
        guard let decoded else { return nil }
        if id == instaverse_amqp_connection_close_method {
            let m = decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            return .server(operation: operation, code: m.reply_code, text: "connection: " + string(m.reply_text))
        }
        if id == instaverse_amqp_channel_close_method {
            let m = decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            return .server(operation: operation, code: m.reply_code, text: "channel: " + string(m.reply_text))
        }
        return nil
    }
}

/// Copies rabbitmq-c bytes (valid only until the next call on the connection) into a String.
func string(_ b: amqp_bytes_t) -> String {
    guard let p = b.bytes, b.len > 0 else { return "" }
    return String(decoding: UnsafeRawBufferPointer(start: p, count: Int(b.len)), as: UTF8.self)
}

/// Copies rabbitmq-c bytes into an array.
func bytes(_ b: amqp_bytes_t) -> [UInt8] {
    guard let p = b.bytes, b.len > 0 else { return [] }
    return Array(UnsafeRawBufferPointer(start: p, count: Int(b.len)))
}
