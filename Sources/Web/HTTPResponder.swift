// The one-shot reply channel of a request, and the state the server keeps while receiving it.
import HTTP1
import IOCore

/// Answers one request. Loop-confined (non-Sendable): call it on the server's loop thread.
///
/// Exactly one `respond` per request; later calls are ignored (and logged). Responding may
/// happen inside the handler or later, after async work hopped back to the loop. While a
/// request waits for its response the connection parses no further pipelined request, so
/// responses leave in request order. When the connection is gone, `isCancelled` is true and
/// `respond` does nothing. A responder dropped without responding answers 500 and logs it,
/// so a forgotten code path cannot hang a keep-alive connection.
public final class HTTPResponder {
    /// What the server decided when the head arrived.
    enum Target {
        case handler(HTTPHandler, RouteParameters)
        /// Answered by the server itself (404, 405, 400 invalid path), with extra headers.
        case error(HTTPError, HTTPHeaders)
        /// An upgrade request: the upgrade hook decides at the end of the message.
        case upgrade
    }

    /// Fields the response needs from the request head.
    struct Context {
        let serial: UInt32
        let version: HTTPVersion
        let keepAlive: Bool
        var omitBody: Bool
    }

    var context: Context
    /// The head until the handler gets it (nil afterwards, so it is not kept twice).
    var head: HTTPRequestHead?
    var target: Target = .upgrade
    /// The body received so far (chunks copied out of the loop's shared read buffer).
    var body: [UInt8] = []
    /// Method and path (never the query) for log lines; kept as the head's own strings so
    /// a request costs no formatting unless something is logged.
    private let method: HTTPMethod
    private let path: String
    var logLabel: String { "\(method) \(path)" }
    var requestMethod: HTTPMethod { method }
    var requestPath: String { path }
    private(set) var connection: HTTPServerConnection?
    private let sink: ((HTTPStatus, HTTPHeaders, [UInt8]) -> Void)?
    var dispatched = false
    public private(set) var hasResponded = false
    /// Called once, on the loop thread, with the status and body of the response just before
    /// it is sent (metrics, refusal logs). Not called when the connection is already gone.
    public var onRespond: ((HTTPStatus, [UInt8]) -> Void)?

    init(connection: HTTPServerConnection, head: HTTPRequestHead, serial: UInt32) {
        self.connection = connection
        self.head = head
        self.context = Context(serial: serial, version: head.version, keepAlive: head.keepAlive, omitBody: false)
        self.method = head.method
        self.path = head.path
        self.sink = nil
    }

    /// A responder that hands the response to `onResponse` instead of a socket: for testing
    /// handlers without a server. HEAD requests and keep-alive play no part here.
    public init(onResponse: @escaping (HTTPStatus, HTTPHeaders, [UInt8]) -> Void) {
        self.connection = nil
        self.context = Context(serial: 0, version: .http1_1, keepAlive: true, omitBody: false)
        self.method = HTTPMethod("TEST")
        self.path = ""
        self.sink = onResponse
        self.dispatched = true
    }

    deinit {
        guard dispatched, !hasResponded, let connection else { return }
        // A responder dropped off the loop thread (a job a closed loop could no longer take,
        // released on the worker that held it) must not touch the socket: the loop is gone or
        // going, and the connection closes with it.
        guard connection.connection.loop.isOnLoopThread else { return }
        connection.log("\(logLabel): handler dropped its responder without responding; answered 500")
        let body = HTTPError(.internalServerError, "internal error").jsonBody
        onRespond?(.internalServerError, body)
        connection.sendResponse(context, .internalServerError, ["Content-Type": "application/json"], body)
    }

    /// True when responding would do nothing: the connection went away, or this request was
    /// already answered. Long async work can check it to stop early.
    public var isCancelled: Bool {
        guard let connection else { return sink == nil }
        return !connection.canRespond(serial: context.serial)
    }

    /// Sends `status` with `headers` and `body`. The server adds Content-Length, Date,
    /// Connection (and Server when configured); for a HEAD request the body is not sent.
    public func respond(_ status: HTTPStatus, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        guard !hasResponded else {
            connection?.log("\(logLabel): respond called twice; the second response was dropped")
            return
        }
        hasResponded = true
        if let observer = onRespond {
            onRespond = nil
            if sink != nil || connection != nil { observer(status, body) }
        }
        if let sink {
            sink(status, headers, body)
            return
        }
        guard let connection else { return }
        self.connection = nil
        connection.sendResponse(context, status, headers, body)
    }

    /// A JSON body with `Content-Type: application/json`.
    public func respond(json status: HTTPStatus, _ body: JSONWriter, headers: HTTPHeaders = [:]) {
        var headers = headers
        headers.replace(name: "Content-Type", value: "application/json")
        respond(status, headers: headers, body: body.bytes)
    }

    /// `error.status` with `{"error": error.code, "message": error.message}`, the error's own
    /// headers (Retry-After) and then `headers`.
    public func respond(error: HTTPError, headers: HTTPHeaders = [:]) {
        var merged = error.headers
        for field in headers { merged.replace(name: field.name, value: field.value) }
        var headers = merged
        headers.replace(name: "Content-Type", value: "application/json")
        respond(error.status, headers: headers, body: error.jsonBody)
    }

    /// Runs `body`, which responds itself; if it throws before responding, answers an
    /// `HTTPError` with its status, and any other error with 500 and a generic message (the
    /// detail goes to the configured log, never to the client). An error thrown after a
    /// response was sent is only logged.
    public func run(_ body: () throws -> Void) {
        do {
            try body()
        } catch let error as HTTPError {
            if hasResponded { return }
            respond(error: error)
        } catch {
            connection?.log("\(logLabel): handler failed: \(error)")
            if hasResponded { return }
            respond(error: HTTPError(.internalServerError, "internal error"))
        }
    }
}
