// The one error type of the I/O core. Every libuv failure is mapped here, in one place.
import CLibUV

/// A libuv failure: libuv's (negative) error code plus the operation that produced it.
///
/// `EAGAIN` never surfaces as an `IOError`: the core treats "the kernel took nothing now" as
/// a value (a send is queued, a read simply waits). Errors caused by a peer (ECONNRESET, EPIPE,
/// ECONNREFUSED, ...) arrive as values in close or connect callbacks; they never trap.
public struct IOError: Error, Equatable, Sendable, CustomStringConvertible {
    /// libuv's error code, negative (for example `UV_ECONNREFUSED`, -111 on Linux).
    public let code: Int32
    /// The libuv call or step that failed, for logs ("uv_tcp_bind", "read", "connect").
    public let operation: String

    public init(code: Int32, operation: String) {
        self.code = code
        self.operation = operation
    }

    /// libuv's symbolic name of the code, e.g. "ECONNREFUSED".
    public var name: String { String(cString: uv_err_name(code)) }

    /// libuv's human-readable text of the code, e.g. "connection refused".
    public var message: String { String(cString: uv_strerror(code)) }

    public var description: String { "\(operation): \(name) (\(message))" }

    /// Throws an `IOError` when `result` is a negative libuv status; returns it otherwise.
    @discardableResult
    static func check(_ result: Int32, _ operation: String) throws(IOError) -> Int32 {
        if result < 0 { throw IOError(code: result, operation: operation) }
        return result
    }
}
