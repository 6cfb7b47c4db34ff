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

/// An error a handler reports to its client: `status` with the body
/// `{"error": code, "message": message}` (ErrorBody) and any `headers` (Retry-After on 429
/// and 503). Both strings go to the client, so they must not carry internals.
public struct HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: HTTPStatus
    /// A stable snake_case code (`missing_token`, `not_found`, `database_unavailable`).
    public let code: String
    /// Text for a person: what went wrong and what to do; a 400 names the field.
    public let message: String
    /// Extra response headers (Retry-After, WWW-Authenticate).
    public let headers: HTTPHeaders

    /// The explicit form: `code` must be snake_case (ErrorBody.isCode).
    public init(_ status: HTTPStatus, code: String, message: String, headers: HTTPHeaders = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    /// The short form used all over the services. A `text` that is already a code
    /// (`missing_token`) stays the code and gets its standard message; a sentence becomes the
    /// message under the status's code (`bad_request`, `not_found`, `conflict`, ...).
    public init(_ status: HTTPStatus, _ text: String) {
        if ErrorBody.isCode(text) {
            self.init(status, code: text,
                      message: ErrorBody.standardMessage(for: text) ?? status.defaultErrorMessage)
        } else {
            self.init(status, code: status.errorCode, message: text)
        }
    }

    public static func badRequest(_ message: String) -> HTTPError { HTTPError(.badRequest, message) }
    public static func unauthorized(_ message: String = "unauthorized") -> HTTPError { HTTPError(.unauthorized, message) }
    public static func forbidden(_ message: String = "forbidden") -> HTTPError { HTTPError(.forbidden, message) }
    public static func notFound(_ message: String = "not found") -> HTTPError { HTTPError(.notFound, message) }

    /// 429 `too_many_requests` with Retry-After.
    public static func tooManyRequests(_ message: String, retryAfter seconds: Int) -> HTTPError {
        HTTPError(.tooManyRequests, code: "too_many_requests", message: message,
                  headers: ["Retry-After": String(max(1, seconds))])
    }

    /// 503 with `code` and Retry-After.
    public static func unavailable(_ code: String, retryAfter seconds: Int, message: String? = nil) -> HTTPError {
        HTTPError(.serviceUnavailable, code: code,
                  message: message ?? ErrorBody.standardMessage(for: code) ?? HTTPStatus.serviceUnavailable.defaultErrorMessage,
                  headers: ["Retry-After": String(max(1, seconds))])
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    /// `{"error": code, "message": message}`.
    public var jsonBody: [UInt8] { ErrorBody.json(code: code, message: message) }
}
