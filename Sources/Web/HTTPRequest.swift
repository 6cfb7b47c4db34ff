// What a route handler receives: the request value, the error type it throws, the handler type.
import HTTP1
import IOCore

/// A route handler. Runs on the server's loop thread with the complete request (body
/// included, up to the route's limit) and its responder. It must call exactly one of the
/// responder's `respond` methods, now or later on the same loop (after async work hops back).
public typealias HTTPHandler = (HTTPRequest, HTTPResponder) -> Void

/// One complete request. A loop-confined value: `remoteAddress` asks the connection, so read
/// it on the loop thread.
public struct HTTPRequest {
    public let head: HTTPRequestHead
    /// Path parameters of the matched route (`:userId`), percent-decoded.
    public let parameters: RouteParameters
    /// The whole body (de-chunked), at most the route's body limit.
    public let body: [UInt8]
    let connection: TCPConnection?

    /// For handler tests without a socket.
    public init(head: HTTPRequestHead, parameters: RouteParameters = RouteParameters(), body: [UInt8] = []) {
        self.init(head: head, parameters: parameters, body: body, connection: nil)
    }

    init(head: HTTPRequestHead, parameters: RouteParameters, body: [UInt8], connection: TCPConnection?) {
        self.head = head
        self.parameters = parameters
        self.body = body
        self.connection = connection
    }

    public var method: HTTPMethod { head.method }
    /// The path, still percent-encoded; `parameters` hold the decoded segments.
    public var path: String { head.path }
    public var headers: HTTPHeaders { head.headers }

    /// The decoded query parameters (parsed on each access: keep the value if used twice).
    public var query: QueryParameters { QueryParameters(head.query) }

    /// The peer's address (a getpeername(2) on each access; nil once the connection closed).
    /// Behind the gateway this is nginx; the client is in the headers nginx adds.
    public var remoteAddress: SocketAddress? { connection?.remoteAddress }

    /// Parses the body as one JSON value. Throws 400 with the parser's reason when the body is
    /// empty or not valid JSON within `limits`.
    public func json(limits: JSONParseLimits = JSONParseLimits()) throws(HTTPError) -> JSONValue {
        if body.isEmpty { throw HTTPError(.badRequest, "request body must be JSON") }
        do {
            return try JSONParser.parse(body, limits: limits)
        } catch {
            throw HTTPError(.badRequest, "invalid JSON: \(error.description)")
        }
    }
}

/// An error a handler reports to its client: `status` with the body `{"error": message}`.
/// `message` goes to the client, so it must not carry internals.
public struct HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: HTTPStatus
    public let message: String

    public init(_ status: HTTPStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    public static func badRequest(_ message: String) -> HTTPError { HTTPError(.badRequest, message) }
    public static func unauthorized(_ message: String = "unauthorized") -> HTTPError { HTTPError(.unauthorized, message) }
    public static func forbidden(_ message: String = "forbidden") -> HTTPError { HTTPError(.forbidden, message) }
    public static func notFound(_ message: String = "not found") -> HTTPError { HTTPError(.notFound, message) }

    public var description: String { "\(status.code) \(message)" }

    /// `{"error": message}`.
    var jsonBody: [UInt8] {
        var w = JSONWriter(capacity: message.utf8.count + 16)
        w.beginObject()
        w.member("error", message)
        w.endObject()
        return w.bytes
    }
}
