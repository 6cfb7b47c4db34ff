// The service's database as the loop sees it: work runs on a PGPool worker (blocking libpq,
// scrypt), and the outcome hops back to the loop through `loop.sender.execute`. No database
// call ever runs on the loop thread.
import HTTP1
import IOCore
import PG
import Web

/// A complete HTTP answer built off the loop (on a pool worker) and sent on the loop.
public struct Reply: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(_ status: HTTPStatus, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// `status` with a JSON body and Content-Type.
    public static func json(_ status: HTTPStatus, _ writer: JSONWriter, headers: HTTPHeaders = [:]) -> Reply {
        var headers = headers
        headers.replace(name: "Content-Type", value: "application/json")
        return Reply(status, headers: headers, body: writer.bytes)
    }

    public static func json(_ status: HTTPStatus, _ build: (inout JSONWriter) -> Void) -> Reply {
        var w = JSONWriter()
        build(&w)
        return json(status, w)
    }

    public static let noContent = Reply(.noContent)

    /// The error's status, headers (Retry-After) and `{"error": code, "message": …}` body.
    public static func error(_ error: HTTPError) -> Reply {
        var headers = error.headers
        headers.replace(name: "Content-Type", value: "application/json")
        return Reply(error.status, headers: headers, body: error.jsonBody)
    }
}

/// Loop-side handle of the PGPool. Loop-confined like the loop it belongs to.
public final class Database {
    public let pool: PGPool
    let loop: EventLoop
    let log: ServiceLog

    init(pool: PGPool, loop: EventLoop, log: ServiceLog) {
        self.pool = pool
        self.loop = loop
        self.log = log
    }

    /// Runs `work` on a pool worker with its connection, then `completion` on the loop thread.
    /// A full queue or a pool shut down completes at once (on a later loop iteration) with
    /// the PGError. Loop thread only.
    public func run<T: Sendable>(_ work: @escaping @Sendable (PGConnection) throws -> T,
                                 completion: @escaping (Result<T, any Error>) -> Void) {
        let bound = LoopBound(completion, loop: loop)
        let sender = loop.sender
        do {
            try pool.submit(work) { result in
                _ = sender.execute { loop in bound.value(on: loop)(result) }
            }
        } catch {
            _ = sender.execute { loop in bound.value(on: loop)(.failure(error)) }
        }
    }

    /// Runs `work` off the loop and sends its Reply. An `HTTPError` thrown by `work` becomes
    /// its status and error body; a failure is answered by `fail`. Loop thread only.
    public func respond(_ responder: HTTPResponder, _ work: @escaping @Sendable (PGConnection) throws -> Reply) {
        run(work) { [self] result in
            switch result {
            case .success(let reply):
                responder.respond(reply.status, headers: reply.headers, body: reply.body)
            case .failure(let error):
                fail(responder, error)
            }
        }
    }

    /// Seconds a client is asked to wait (Retry-After) when the database is down or busy.
    public static let retryAfterSeconds = 2

    /// Answers a failed database step: an `HTTPError` as itself; a full or stopped pool 503
    /// `service_busy`; a database that cannot be reached (or dropped the session, or is
    /// shutting down or starting up) 503 `database_unavailable`, both with Retry-After; text
    /// PostgreSQL cannot store (a NUL a field check missed, invalid UTF-8) 400 `invalid_text`
    /// (not logged here: the route logs every refusal once); anything else
    /// 500 with a generic message (the detail is logged, never sent). Loop thread only.
    public func fail(_ responder: HTTPResponder, _ error: any Error) {
        responder.respond(error: Database.httpError(for: error, log: log))
    }

    /// The HTTPError a failed database step answers with (see `fail`), logging what the
    /// client is not told: 503s at warning, the unexpected at error.
    public static func httpError(for error: any Error, log: ServiceLog) -> HTTPError {
        switch error {
        case let error as HTTPError:
            return error
        case let error as PGError where error.kind == .poolFull || error.kind == .shutdown:
            log.warning("database busy: \(error)")
            return HTTPError.unavailable("service_busy", retryAfter: retryAfterSeconds)
        case let error as PGError where error.isUnavailable:
            log.warning("database unavailable: \(error)")
            return HTTPError.unavailable("database_unavailable", retryAfter: retryAfterSeconds)
        case let error as PGError where error.isBadText:
            // A refusal: Service.route logs it once, like every 4xx.
            return HTTPError(.badRequest, code: "invalid_text",
                             message: "a text field holds a NUL character or invalid UTF-8")
        default:
            log.error("request failed: \(error)")
            return HTTPError(.internalServerError, "internal error")
        }
    }
}
