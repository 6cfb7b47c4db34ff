// The runtime of a light service: migrations at start, a PGPool, the outbox relay and an
// optional event consumer with its applier (their own threads, the applier with its own
// database connection), and one EventLoopThread running the HTTP
// server. `main` and the tests start a service the same way: `ServiceHost.start`.
//
// Start order: migrations (blocking, on the caller's thread, before anything listens), pool,
// relay, consumer, loop + listen, then sd_notify READY. Stop order: the server shuts down
// gracefully (requests in progress are answered), the loop ends, then relay, consumer and
// pool stop on the caller's thread, never on the loop.
import AMQP
import Daemon
import Dispatch
import HTTP1
import IOCore
import PG
import Synchronization
import Tokens
import Web
#if canImport(Glibc)
import Glibc
#endif

/// What a service is: its schema, what it consumes, and its routes.
public protocol ServiceDefinition: Sendable {
    var migrations: [Migration] { get }
    /// What the service consumes; nil: nothing.
    func subscription(_ config: ServiceConfig) -> EventSubscription?
    /// Adds the routes. Runs once on the loop thread before the server listens.
    func install(on service: Service)
    /// Periodic database housekeeping of the service (pruning old rows); none by default.
    func maintenance(_ config: ServiceConfig) -> [MaintenanceJob]
}

extension ServiceDefinition {
    public func maintenance(_ config: ServiceConfig) -> [MaintenanceJob] { [] }
}

/// Work a loop timer submits to the PGPool every `interval` (the first run one interval after
/// start). A run that throws is logged and tried again at the next interval.
public struct MaintenanceJob: Sendable {
    public var name: String
    public var interval: Duration
    public var work: @Sendable (PGConnection) throws -> Void

    public init(name: String, interval: Duration, work: @escaping @Sendable (PGConnection) throws -> Void) {
        self.name = name
        self.interval = interval
        self.work = work
    }
}

/// The loop-side view of a running service, handed to route handlers. Loop-confined.
public final class Service {
    public let loop: EventLoop
    public let server: HTTPServer
    public let config: ServiceConfig
    public let database: Database
    public let auth: Authenticator
    public let log: ServiceLog
    /// CPU-bound work (password hashing) off the loop and off the PGPool.
    public let cpu: WorkerThreads
    public let metrics: ServiceMetrics

    init(loop: EventLoop, config: ServiceConfig, pool: PGPool, cpu: WorkerThreads, log: ServiceLog,
         metrics: ServiceMetrics) {
        self.loop = loop
        self.cpu = cpu
        self.config = config
        self.log = log
        self.metrics = metrics
        var serverConfig = HTTPServer.Configuration()
        serverConfig.log = { line in log.warning(line) }
        serverConfig.onUnroutedError = { method, path, error in
            metrics.observe(route: ServiceMetrics.unmatchedRoute, method: method, status: error.status, micros: 0)
            log.info("refused \(method) \(path): \(error.status.code) \(error.code): \(error.message)")
        }
        self.server = HTTPServer(loop: loop, configuration: serverConfig)
        self.database = Database(pool: pool, loop: loop, log: log)
        self.auth = Authenticator(keys: config.jwtKeys)
    }
}

public final class ServiceHost: Sendable {
    /// The port the server listens on (the chosen one when the config said 0).
    public let port: Int
    public let config: ServiceConfig
    public let pool: PGPool
    let cpu: WorkerThreads
    public let log: ServiceLog
    public let relay: OutboxRelay?
    private let publisher: RelayPublisher?
    private let consumer: EventConsumption?
    private let thread: EventLoopThread
    private let bound: LoopBound<Service>
    private let cleanedUp = Mutex(false)

    private init(port: Int, config: ServiceConfig, pool: PGPool, cpu: WorkerThreads, log: ServiceLog, relay: OutboxRelay?,
                 publisher: RelayPublisher?, consumer: EventConsumption?, thread: EventLoopThread, bound: LoopBound<Service>) {
        self.port = port
        self.config = config
        self.pool = pool
        self.cpu = cpu
        self.log = log
        self.relay = relay
        self.publisher = publisher
        self.consumer = consumer
        self.thread = thread
        self.bound = bound
    }

    /// Starts `definition` with `config`. With `handleSignals` (for `main`; tests call `stop()`),
    /// the daemon lifecycle runs: SIGTERM and SIGINT start a graceful stop, SIGPIPE is ignored,
    /// and sd_notify READY/WATCHDOG/STOPPING are sent. Throws when migrations fail or the port is taken.
    public static func start(_ definition: some ServiceDefinition, config: ServiceConfig,
                             handleSignals: Bool = false) throws -> ServiceHost {
        let log = ServiceLog(component: config.name + "-service", level: config.logLevel, fd: config.logFileDescriptor,
                             redact: { JWT.redact($0) })
        let metrics = ServiceMetrics(service: config.name)
        if handleSignals { DaemonLifecycle.prepareProcess() }

        let migrationConnection = try PGConnection(url: config.databaseURL)
        let applied = try Migrations.apply(definition.migrations, on: migrationConnection)
        if !applied.isEmpty { log.info("applied migrations \(applied)") }

        let pool = PGPool(url: config.databaseURL, threads: config.databaseThreads)
        let cpu = WorkerThreads(name: config.name + "-cpu", threads: config.cpuThreads, queueCapacity: config.cpuQueueCapacity)
        var relay: OutboxRelay?
        var publisher: RelayPublisher?
        var consumer: EventConsumption?
        if let amqpURL = config.amqpURL {
            let relayPublisher = RelayPublisher(config: try AMQPPublisherConfig(url: amqpURL), log: log)
            var relayConfig = OutboxRelay.Configuration()
            relayConfig.maxBackoff = config.relayMaxBackoff
            let outboxRelay = try OutboxRelay(url: config.databaseURL, configuration: relayConfig,
                                              publish: { try relayPublisher.publish($0) },
                                              onError: { log.warning("outbox relay: \($0)") })
            outboxRelay.start()
            relay = outboxRelay
            publisher = relayPublisher
            if let subscription = definition.subscription(config) {
                consumer = try startConsumer(url: amqpURL, queue: config.queueName, subscription: subscription,
                                             databaseURL: config.databaseURL, log: log, stats: metrics.consumer)
            }
        } else {
            log.warning("INSTAVERSE_AMQP_URL is not set: events stay in the outbox")
        }

        // Every service has an outbox: published rows are kept a while (for diagnosis), then go.
        let retention = config.outboxRetentionSeconds
        let maintenanceJobs = definition.maintenance(config) + [
            MaintenanceJob(name: "prune published outbox rows", interval: config.outboxPruneInterval) { conn in
                try Outbox.deletePublished(conn, olderThanSeconds: retention)
            },
        ]
        let startedRelay = relay
        let notifier = SystemdNotifier()
        let ready = DispatchSemaphore(value: 0)
        let started = Mutex<Result<(Int, LoopBound<Service>), any Error>?>(nil)
        let thread = try EventLoopThread(name: config.name + "-loop") { loop in
            let service = Service(loop: loop, config: config, pool: pool, cpu: cpu, log: log, metrics: metrics)
            definition.install(on: service)
            service.installMetrics(relay: startedRelay)
            for job in maintenanceJobs {
                _ = loop.schedule(after: job.interval, repeating: job.interval) {
                    service.database.run(job.work) { result in
                        if case .failure(let error) = result { log.warning("maintenance \(job.name): \(error)") }
                    }
                }
            }
            do {
                let port = try service.server.listen(host: config.host, port: config.port)
                if handleSignals {
                    let lifecycle = try DaemonLifecycle(loop: loop, notifier: notifier, log: log) { done in
                        service.server.shutdown(graceful: true, completion: done)
                    }
                    lifecycle.ready(status: "listening on \(config.host):\(port)")
                }
                started.withLock { $0 = .success((port, LoopBound(service, loop: loop))) }
            } catch {
                started.withLock { $0 = .failure(error) }
                loop.stop()
            }
            ready.signal()
        }
        ready.wait()
        let outcome = started.withLock { $0 }
        switch outcome {
        case .success(let (port, bound))?:
            log.info("listening on \(config.host):\(port)")
            return ServiceHost(port: port, config: config, pool: pool, cpu: cpu, log: log, relay: relay, publisher: publisher,
                               consumer: consumer, thread: thread, bound: bound)
        case .failure(let error)?:
            thread.join()
            relay?.stop()
            publisher?.close()
            consumer?.stop()
            cpu.shutdown()
            pool.shutdown()
            throw error
        case nil:
            preconditionFailure("the loop setup always reports")
        }
    }

    /// Runs `body` on the loop thread (tests inspect state this way). Returns false when the
    /// loop has ended.
    @discardableResult
    public func onLoop(_ body: @escaping @Sendable (Service) -> Void) -> Bool {
        let bound = self.bound
        return thread.sender.execute { loop in body(bound.value(on: loop)) }
    }

    /// Graceful stop: the server answers what it has, the loop ends, then the relay, the
    /// consumer and the pool stop. Any thread but the loop's. Idempotent.
    public func stop() {
        onLoop { service in service.server.shutdown(graceful: true) { service.loop.stop() } }
        wait()
    }

    /// Blocks until the loop ended (after SIGTERM or `stop()`), then stops the rest.
    /// Returns whether the loop closed without leaking a handle.
    @discardableResult
    public func wait() -> Bool {
        let clean = thread.join()
        let first = cleanedUp.withLock { done in
            defer { done = true }
            return !done
        }
        if first {
            relay?.stop()
            publisher?.close()
            consumer?.stop()
            cpu.shutdown()
            pool.shutdown()
            log.info("stopped")
        }
        return clean
    }
}
