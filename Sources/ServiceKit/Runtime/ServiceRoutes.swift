// How Service adds routes: the checks every route runs before its handler (query and path
// parameters), the metrics each answer feeds, the log line each refusal writes, and the
// service's own GET /metrics.
import HTTP1
import PG
import Web

extension Service {
    /// Adds a route whose handler may throw `HTTPError` (answered as
    /// `{"error": code, "message": …}`). Before the handler runs, every query and path
    /// parameter is checked (valid UTF-8, no NUL, bounded length: 400 naming it). Each answer
    /// is counted under `pattern` in the metrics, and each refusal (4xx) is logged once at
    /// info, with the pattern, never the raw path, the query or any header.
    public func route(_ method: HTTPMethod, _ pattern: String, bodyLimit: Int? = nil,
                      _ handler: @escaping (HTTPRequest, HTTPResponder) throws -> Void) {
        let metrics = self.metrics, log = self.log
        server.route(method, pattern, bodyLimit: bodyLimit) { request, responder in
            let start = ContinuousClock.now
            responder.onRespond = { status, body in
                let (seconds, atto) = (ContinuousClock.now - start).components
                metrics.observe(route: pattern, method: method, status: status,
                                micros: Int(seconds) * 1_000_000 + Int(atto / 1_000_000_000_000))
                if (400..<500).contains(status.code) {
                    log.info("refused \(method) \(pattern): \(status.code) \(Service.describeError(body))")
                }
            }
            responder.run {
                try TextField.checkQuery(request.head.query)
                try TextField.checkParameters(request.parameters)
                try handler(request, responder)
            }
        }
    }

    /// `code: message` of an error body, or its size when it is not one (for log lines).
    static func describeError(_ body: [UInt8]) -> String {
        guard let value = try? JSONParser.parse(body, limits: JSONParseLimits()),
              case .object(let object) = value, case .string(let code)? = object["error"] else {
            return "\(body.count) bytes"
        }
        if case .string(let message)? = object["message"] { return code + ": " + message }
        return code
    }

    /// GET /metrics on the service's own port (the gateway routes only known API prefixes).
    /// The outbox figures come from a query on the pool; when it fails the scrape still
    /// answers, with `database_up 0`.
    func installMetrics(relay: OutboxRelay?) {
        let database = self.database, metrics = self.metrics
        server.route(.GET, "/metrics") { _, responder in
            database.run({ conn in try ServiceMetrics.outboxSnapshot(conn) }) { result in
                let text = metrics.render(outbox: try? result.get(), relay: relay?.stats)
                responder.respond(.ok, headers: ["Content-Type": "text/plain; version=0.0.4"], body: Array(text.utf8))
            }
        }
    }
}
