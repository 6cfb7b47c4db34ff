// notifyd's REST API on the WebSocket port (ARCHITECTURE.md, notifyd). Every data endpoint
// takes `Authorization: Bearer <jwt>` and serves only the caller's own rows:
//
//   GET /notifications/:userId?unread=true&limit=50&before=<id>
//       200 {"notifications":[...newest first],"unreadCount":N,"next":<id>|null}; 403 when
//       :userId is not the caller
//   PUT /notifications/:id/read       204, idempotent; 404 when it is not the caller's
//   PUT /notifications/:userId/read-all  204; 403 when :userId is not the caller
//   GET /healthz  200 while the process runs
//   GET /readyz   200 when the store is open and the broker connected, else 503
//   GET /metrics  Prometheus text
//
// Handlers run on the loop; store work runs on the store thread (LoopStore) and the answer
// is written after the hop back. Errors are `{"error":"<name>","message":"..."}` (ErrorBody);
// 429 and 503 carry Retry-After: 1; store failures answer 503
// without detail (the detail goes to the log), or 503 `busy` with Retry-After: 1 when the
// store job queue is full.
import HTTP1
import IOCore
import Store
import Web

public struct NotifyAPI {
    /// Readiness and metrics come from the daemon; the API only formats them.
    public struct Probes {
        public var isReady: () -> Bool
        public var renderMetrics: () -> String

        public init(isReady: @escaping () -> Bool, renderMetrics: @escaping () -> String) {
            self.isReady = isReady
            self.renderMetrics = renderMetrics
        }
    }

    public static let maxPageSize = 100
    public static let defaultPageSize = 50

    let store: LoopStore
    let auth: SessionAuthenticator
    let probes: Probes
    let log: ((String) -> Void)?

    public init(loop: EventLoop, store: any NotificationStoreAccess, auth: SessionAuthenticator, probes: Probes,
                log: ((String) -> Void)? = nil) {
        self.store = LoopStore(loop: loop, access: store)
        self.auth = auth
        self.probes = probes
        self.log = log
    }

    /// Adds the routes to `server` (before it listens).
    public func install(on server: HTTPServer) {
        server.route(.GET, "/notifications/:userId") { req, res in self.list(req, res) }
        server.route(.PUT, "/notifications/:id/read") { req, res in self.markRead(req, res) }
        server.route(.PUT, "/notifications/:userId/read-all") { req, res in self.markAllRead(req, res) }
        server.route(.GET, "/healthz") { _, res in
            res.respond(.ok, headers: ["Content-Type": "application/json"], body: Array(#"{"status":"ok"}"#.utf8))
        }
        server.route(.GET, "/readyz") { _, res in
            let ready = self.probes.isReady()
            res.respond(ready ? .ok : .serviceUnavailable, headers: ["Content-Type": "application/json"],
                        body: Array((ready ? #"{"status":"ready"}"# : #"{"status":"not ready"}"#).utf8))
        }
        server.route(.GET, "/metrics") { _, res in
            res.respond(.ok, headers: ["Content-Type": "text/plain; version=0.0.4"],
                        body: Array(self.probes.renderMetrics().utf8))
        }
    }

    // MARK: handlers

    private func caller(_ req: HTTPRequest, _ res: HTTPResponder) -> Int64? {
        switch auth.authorizeBearer(req.headers, now: nowSeconds()) {
        case .success(let userId):
            return userId
        case .failure(let rejection):
            res.respond(rejection.status, headers: rejection.headers, body: rejection.body)
            return nil
        }
    }

    private func reject(_ res: HTTPResponder, _ status: HTTPStatus, _ name: String) {
        let r = AuthRejection(status, name)
        res.respond(r.status, headers: r.headers, body: r.body)
    }

    private func list(_ req: HTTPRequest, _ res: HTTPResponder) {
        guard let caller = caller(req, res) else { return }
        guard let userId = req.parameters["userId"].flatMap({ SessionAuthenticator.parseId($0) }) else {
            return reject(res, .badRequest, "bad_user_id")
        }
        guard userId == caller else { return reject(res, .forbidden, "forbidden") }
        let query = req.query
        var limit = Self.defaultPageSize
        if let raw = query["limit"] {
            guard let value = Int(raw), (1...Self.maxPageSize).contains(value) else {
                return reject(res, .badRequest, "bad_limit")
            }
            limit = value
        }
        var before: Int64?
        if let raw = query["before"] {
            guard let value = SessionAuthenticator.parseId(raw) else { return reject(res, .badRequest, "bad_before") }
            before = value
        }
        var unreadOnly = false
        if query["unread"] != nil {
            guard let value = query.bool("unread") else { return reject(res, .badRequest, "bad_unread") }
            unreadOnly = value
        }
        let (pageSize, cursor, unread) = (limit, before, unreadOnly)
        store.run({ try $0.list(userId: userId, unreadOnly: unread, limit: pageSize, before: cursor) }) { result in
            switch result {
            case .success(let page):
                res.respond(.ok, headers: ["Content-Type": "application/json"], body: Self.pageJSON(page))
            case .failure(let error):
                self.storeFailed(res, "list", error)
            }
        }
    }

    private func markRead(_ req: HTTPRequest, _ res: HTTPResponder) {
        guard let caller = caller(req, res) else { return }
        guard let id = req.parameters["id"].flatMap({ SessionAuthenticator.parseId($0) }) else {
            return reject(res, .notFound, "not_found")
        }
        let now = nowMillis()
        store.run({ try $0.markRead(id: id, userId: caller, at: now) }) { result in
            switch result {
            case .success(true): res.respond(.noContent)
            case .success(false): self.reject(res, .notFound, "not_found")
            case .failure(let error): self.storeFailed(res, "read", error)
            }
        }
    }

    private func markAllRead(_ req: HTTPRequest, _ res: HTTPResponder) {
        guard let caller = caller(req, res) else { return }
        guard let userId = req.parameters["userId"].flatMap({ SessionAuthenticator.parseId($0) }) else {
            return reject(res, .badRequest, "bad_user_id")
        }
        guard userId == caller else { return reject(res, .forbidden, "forbidden") }
        let now = nowMillis()
        store.run({ try $0.markAllRead(userId: userId, at: now) }) { result in
            switch result {
            case .success: res.respond(.noContent)
            case .failure(let error): self.storeFailed(res, "read-all", error)
            }
        }
    }

    /// A full store job queue is overload, not a failure: 503 `busy` with Retry-After, and
    /// no log line (a flood would otherwise also flood the log).
    private func storeFailed(_ res: HTTPResponder, _ what: String, _ error: any Error) {
        if error is StoreQueueFull {
            let r = AuthRejection(.serviceUnavailable, "busy")
            return res.respond(r.status, headers: r.headers, body: r.body)
        }
        log?("REST \(what) failed: \(error)")
        reject(res, .serviceUnavailable, "store_unavailable")
    }

    /// `{"notifications":[...],"unreadCount":N,"next":id|null}`.
    static func pageJSON(_ page: NotificationPage) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + page.notifications.count * 256)
        JSONOut.raw(#"{"notifications":["#, &out)
        for (i, n) in page.notifications.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            n.writeJSON(into: &out)
        }
        JSONOut.raw(#"],"unreadCount":"#, &out)
        JSONOut.int(Int64(page.unreadCount), &out)
        JSONOut.raw(#","next":"#, &out)
        JSONOut.optionalInt(page.next, &out)
        out.append(UInt8(ascii: "}"))
        return out
    }
}
