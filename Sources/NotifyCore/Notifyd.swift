// notifyd assembled: the ingest pipeline (consumer thread + store thread), one event loop with
// the HTTP server (REST, probes, metrics) and the WebSocket sessions (Hub), and the timers.
//
// Lifecycle, all on the loop thread: init -> start() (opens the store, starts the consumer,
// listens; returns the bound port) -> loop runs -> shutdown(completion:) on SIGTERM ->
// completion -> the caller stops and closes the loop.
//
// Threads: the pipeline's deliver callback runs on the store thread and only hands the
// committed batch to the loop (sender.execute, which coalesces wake-ups); the hub encodes and
// fans out there. Store work of the front goes through pipeline.perform (LoopStore).
import Daemon
import HTTP1
import IOCore
import Store
import Synchronization
import Tokens
import Web
import WebSocket

public final class Notifyd {
    public let loop: EventLoop
    public let config: NotifydConfig
    public let metrics: NotifyMetrics
    public let log: Log
    public let pipeline: NotificationPipeline
    public let hub: Hub
    public let server: HTTPServer
    let auth: SessionAuthenticator
    private var expiryTimer: LoopTimer?
    public private(set) var isShuttingDown = false
    /// The helper thread that stops the pipeline at shutdown.
    private var stopThread: JoinableThread?
    /// The WebSocket server on `server`'s upgrade hook (its accept callback and the hook are
    /// installed at the end of init, once `self` can be captured).
    let webSockets: WebSocketServer

    /// Where the store thread's deliver callback finds the hub (set once, right after init).
    private final class HubSlot: Sendable {
        let hub = Mutex<LoopBound<Hub>?>(nil)
    }

    /// Builds everything; opens nothing (no store, socket or broker connection yet). Call on
    /// the loop's thread.
    public init(loop: EventLoop, config: NotifydConfig, log: Log, metrics: NotifyMetrics = NotifyMetrics()) throws {
        self.loop = loop
        self.config = config
        self.log = log
        self.metrics = metrics
        let slot = HubSlot()
        let sender = loop.sender
        // Both callbacks run on the store thread, deletions first; the sender keeps their order
        // on the loop, so a deleted user's sessions are closed before the batch fans out.
        pipeline = try NotificationPipeline(config: try config.pipelineConfig(log: log), metrics: metrics,
                                            usersDeleted: { users in
            guard let bound = slot.hub.withLock({ $0 }) else { return }
            sender.execute { loop in bound.value(on: loop).usersDeleted(users) }
        }, deliver: { batch in
            guard let bound = slot.hub.withLock({ $0 }) else { return }
            sender.execute { loop in bound.value(on: loop).deliver(batch) }
        })
        auth = SessionAuthenticator(keys: config.keys, leeway: config.jwtLeeway, allowedOrigins: config.allowedOrigins)
        let hub = Hub(loop: loop, store: pipeline, config: config, metrics: metrics, log: { [log] in log.warning($0) })
        self.hub = hub
        slot.hub.withLock { $0 = LoopBound(hub, loop: loop) }
        var httpConfig = HTTPServer.Configuration()
        httpConfig.serverName = "notifyd"
        httpConfig.log = { [log] line in log.info(line) }
        httpConfig.headerTimeout = config.handshakeTimeout
        // The codec's outbound limit must fire before the socket's own hard limit.
        httpConfig.connectionOptions.writeLimits.hardLimit = max(httpConfig.connectionOptions.writeLimits.hardLimit,
                                                                 config.outboundLimitBytes + 64 * 1024)
        server = HTTPServer(loop: loop, configuration: httpConfig)
        webSockets = WebSocketServer(loop: loop, context: WebSocketContext(configuration: Self.webSocketConfiguration(config))) { _ in
            let r = AuthRejection(.notFound, "not_found")  // replaced by installWebSocket() before any upgrade
            return .reject(r.status, headers: r.headers, body: r.body)
        }
        let probes = NotifyAPI.Probes(isReady: { [weak self] in self?.isReady ?? false },
                                      renderMetrics: { [weak self] in self?.renderMetrics() ?? "" })
        NotifyAPI(loop: loop, store: pipeline, auth: auth, probes: probes, isDeleted: { [weak hub] in hub?.isDeleted($0) ?? false },
                  log: { [log] in log.warning($0) }, logRefusal: { [log] in log.info($0) })
            .install(on: server)
        installWebSocket()
    }

    /// Opens the store and starts the consumer (connection failures are retried in the
    /// background: /readyz says 503 until it is up), loads the deleted users into the hub,
    /// then listens (so no handshake is checked against an empty set). Returns the bound port.
    public func start() throws -> Int {
        try pipeline.start()
        hub.usersDeleted(pipeline.takeDeletedUsersAtStart())
        let port = try server.listen(host: config.host, port: config.port)
        expiryTimer = loop.schedule(after: config.expirySweep, repeating: config.expirySweep) { [weak self] in
            self?.hub.closeExpired(now: nowSeconds())
        }
        log.info("listening on \(config.host):\(port), queue \(config.queue), store \(config.storePath)")
        return port
    }

    /// Store open and broker connected.
    public var isReady: Bool { !isShuttingDown && pipeline.isStoreOpen && pipeline.isBrokerConnected }

    /// Graceful stop: stop accepting, close every session with 1001, stop the pipeline (it
    /// commits and acks what it took, bounded by its stop timeout) on a helper thread so the
    /// loop keeps flushing close frames, wait for the WebSocket connections to end (bounded
    /// by the close timeout), then call `completion` on the loop thread. Idempotent.
    public func shutdown(completion: @escaping () -> Void) {
        guard !isShuttingDown else { return }
        isShuttingDown = true
        log.info("shutting down: closing \(hub.sessionCount) sessions")
        expiryTimer?.cancel()
        expiryTimer = nil
        hub.closeAll()
        var pending = 3
        let done = LoopBound({ [log] in
            pending -= 1
            if pending == 0 {
                log.info("stopped")
                completion()
            }
        } as () -> Void, loop: loop)
        server.shutdown(graceful: true) { done.value(on: self.loop)() }
        webSockets.shutdown { done.value(on: self.loop)() }
        let pipeline = self.pipeline
        let sender = loop.sender
        let me = LoopBound(self, loop: loop)
        // The stop blocks (drain, commit, acks), so it runs off the loop; the thread ends
        // right after handing back, and is joined then.
        stopThread = JoinableThread.start {
            pipeline.stop()
            sender.execute { loop in
                let daemon = me.value(on: loop)
                daemon.stopThread?.join()
                daemon.stopThread = nil
                done.value(on: loop)()
            }
        }
        if stopThread == nil {
            pipeline.stop()
            done.value(on: loop)()
        }
    }

    /// The Prometheus text: the pipeline's and front's counters plus the front's gauges.
    public func renderMetrics() -> String {
        let ws = webSockets.counters
        metrics.connections.store(server.connectionCount + ws.openConnections, ordering: .relaxed)
        metrics.slowConsumerCloses.store(ws.slowConsumerCloses, ordering: .relaxed)
        var out = metrics.renderPrometheus()
        out += "# HELP notifyd_users_online Users with at least one session.\n# TYPE notifyd_users_online gauge\n"
        out += "notifyd_users_online \(hub.usersOnline)\n"
        let counters = pipeline.consumerCounters
        out += "# HELP notifyd_amqp_acked_total Deliveries acked to the broker.\n# TYPE notifyd_amqp_acked_total counter\n"
        out += "notifyd_amqp_acked_total \(counters.acked)\n"
        out += "# HELP notifyd_ingest_queued Deliveries waiting for the store thread.\n# TYPE notifyd_ingest_queued gauge\n"
        out += "notifyd_ingest_queued \(pipeline.queuedDeliveries)\n"
        return out
    }

    /// Decides an upgrade request before any 101 (see SessionAuth.swift for the order of the
    /// checks); also answers 429 when the user already has `maxConnectionsPerUser` sessions
    /// (the new connection is refused; existing ones are never displaced, so a leaked token
    /// cannot kick the owner's devices off), 401 user_deleted for a deleted user's (valid)
    /// token, and 503 while shutting down. Log lines name the path, never the query.
    func decideUpgrade(_ head: HTTPRequestHead) -> Result<SessionGrant, AuthRejection>? {
        guard SessionAuthenticator.isSessionPath(head.path) else { return nil }
        if isShuttingDown { return .failure(AuthRejection(.serviceUnavailable, "shutting_down")) }
        let decision = auth.authorizeUpgrade(head, now: nowSeconds())
        switch decision {
        case .failure(let rejection):
            log.info("session refused: \(rejection.status.code) \(rejection.error) on \(head.path)")
            return decision
        case .success(let grant):
            guard !hub.isDeleted(grant.userId) else {
                log.info("session refused: 401 user_deleted for user \(grant.userId)")
                return .failure(AuthRejection(.unauthorized, "user_deleted"))
            }
            guard hub.canAdmit(userId: grant.userId) else {
                log.info("session refused: 429 too_many_connections for user \(grant.userId)")
                return .failure(AuthRejection(.tooManyRequests, "too_many_connections"))
            }
            return decision
        }
    }
}
