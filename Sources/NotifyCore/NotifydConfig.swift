// notifyd's settings, read from INSTAVERSE_* environment variables (systemd's EnvironmentFile,
// `make run`, the black-box tests). docs/notifyd.md lists every variable with its default;
// systemd/env/notifyd.env is the example file. A malformed value is an error naming the
// variable (Daemon.Config's rule), never a silent default.
import AMQP
import Daemon
import Store
import Tokens

public struct NotifydConfig: Sendable {
    // Listening. 127.0.0.1 by default: notifyd sits behind the gateway, and a daemon that
    // answers the whole network only because nobody set a variable is the unsafe default.
    public var host = "127.0.0.1"
    /// 0 picks a free port (tests); the bound port is printed on stdout.
    public var port = 5004

    // Broker and store.
    public var amqpURL = "amqp://guest:guest@127.0.0.1:5672/%2f"
    public var queue = "notifyd.events"
    public var exchange = "instaverse.events"
    public var storePath = "notifyd.db"
    public var storeDurability = SQLiteDurability.full
    public var maxBatch = 1000
    public var prefetch = 2000
    public var readRetentionDays = 30
    public var capPerUser = 1000
    public var pruneInterval: Duration = .seconds(3600)
    public var stopTimeout: Duration = .seconds(10)

    // Authentication.
    public var keys: JWTKeySet
    /// Seconds of clock skew tolerated on exp/nbf (0: exact); the services' default too.
    public var jwtLeeway: Int64 = JWT.defaultLeeway
    /// Exact origins ("https://app.example.com") a browser may connect from. A request without
    /// an Origin header (a native app, a server, curl) is not a browser and is allowed; a
    /// request with an Origin outside this list is refused with 403, so an empty list means
    /// "no browser may connect directly" (they come through the gateway's origin).
    public var allowedOrigins: [String] = []

    // Sessions (ARCHITECTURE.md defaults).
    public var handshakeTimeout: Duration = .seconds(10)
    public var pingInterval: Duration = .seconds(25)
    public var pongTimeout: Duration = .seconds(10)
    public var maxClientMessageBytes = 4 * 1024
    public var outboundLimitBytes = 256 * 1024
    public var maxConnectionsPerUser = 16
    public var backlogLimit = 500
    /// How often sessions are checked for an expired token (one walk, not a timer each).
    public var expirySweep: Duration = .seconds(1)
    /// Invalid client messages a session may send before it is closed with 1008.
    public var maxInvalidMessages = 10
    /// Client messages per session: `clientRate` per second sustained, bursts of
    /// `clientBurst` (ClientRateLimit). A message over the limit is answered `rate_limited`
    /// and counts as an invalid message, so sustained abuse closes the session with 1008.
    public var clientRate = 10
    public var clientBurst = 20
    /// Store jobs (REST and WebSocket reads and read-marks) queued for the store thread at
    /// most; past it a request is refused at once (REST 503 + Retry-After, WebSocket `busy`).
    public var maxStoreJobs = 10_000

    public var logLevel = Log.Level.info

    public init(keys: JWTKeySet) { self.keys = keys }

    /// Reads every variable of docs/notifyd.md from `env`.
    public init(environment env: Config) throws(ConfigError) {
        keys = try Self.parseKeys(env.required("INSTAVERSE_JWT_KEYS"))
        host = env.string("INSTAVERSE_NOTIFYD_HOST", default: host)
        port = try env.int("INSTAVERSE_NOTIFYD_PORT", default: port, range: 0...65535)
        amqpURL = env.string("INSTAVERSE_AMQP_URL", default: amqpURL)
        queue = env.string("INSTAVERSE_NOTIFYD_QUEUE", default: queue)
        exchange = env.string("INSTAVERSE_NOTIFYD_EXCHANGE", default: exchange)
        storePath = env.string("INSTAVERSE_STORE_PATH", default: storePath)
        switch env.string("INSTAVERSE_STORE_SYNC", default: "full").lowercased() {
        case "full": storeDurability = .full
        case "normal": storeDurability = .normal
        case let other: throw ConfigError(variable: "INSTAVERSE_STORE_SYNC", problem: "'\(other)' is not full or normal")
        }
        maxBatch = try env.int("INSTAVERSE_NOTIFYD_BATCH", default: maxBatch, range: 1...100_000)
        prefetch = try env.int("INSTAVERSE_NOTIFYD_PREFETCH", default: max(prefetch, 2 * maxBatch), range: 1...65535)
        readRetentionDays = try env.int("INSTAVERSE_NOTIFYD_READ_RETENTION_DAYS", default: readRetentionDays)
        capPerUser = try env.int("INSTAVERSE_NOTIFYD_CAP_PER_USER", default: capPerUser)
        pruneInterval = .seconds(try env.int("INSTAVERSE_NOTIFYD_PRUNE_INTERVAL_S", default: 3600, range: 1...Int(Int32.max)))
        stopTimeout = .seconds(try env.int("INSTAVERSE_NOTIFYD_STOP_TIMEOUT_S", default: 10, range: 1...3600))
        jwtLeeway = Int64(try env.int("INSTAVERSE_JWT_LEEWAY_S", default: Int(JWT.defaultLeeway), range: 0...3600))
        allowedOrigins = env.list("INSTAVERSE_ALLOWED_ORIGINS")
        handshakeTimeout = .milliseconds(try env.int("INSTAVERSE_NOTIFYD_HANDSHAKE_TIMEOUT_MS", default: 10_000, range: 1...600_000))
        pingInterval = .milliseconds(try env.int("INSTAVERSE_NOTIFYD_PING_INTERVAL_MS", default: 25_000, range: 1...3_600_000))
        pongTimeout = .milliseconds(try env.int("INSTAVERSE_NOTIFYD_PONG_TIMEOUT_MS", default: 10_000, range: 1...600_000))
        maxClientMessageBytes = try env.int("INSTAVERSE_NOTIFYD_MAX_MESSAGE_BYTES", default: maxClientMessageBytes,
                                            range: 64...1 << 20)
        outboundLimitBytes = try env.int("INSTAVERSE_NOTIFYD_OUTBOUND_LIMIT_BYTES", default: outboundLimitBytes,
                                         range: 1024...1 << 30)
        maxConnectionsPerUser = try env.int("INSTAVERSE_NOTIFYD_MAX_CONNECTIONS_PER_USER", default: maxConnectionsPerUser,
                                            range: 1...1024)
        backlogLimit = try env.int("INSTAVERSE_NOTIFYD_BACKLOG_LIMIT", default: backlogLimit, range: 1...10_000)
        clientRate = try env.int("INSTAVERSE_NOTIFYD_CLIENT_RATE", default: clientRate, range: 1...100)
        clientBurst = try env.int("INSTAVERSE_NOTIFYD_CLIENT_BURST", default: clientBurst, range: 1...300)
        maxStoreJobs = try env.int("INSTAVERSE_NOTIFYD_MAX_STORE_JOBS", default: maxStoreJobs, range: 1...1_000_000)
        expirySweep = .milliseconds(try env.int("INSTAVERSE_NOTIFYD_EXPIRY_SWEEP_MS", default: 1000, range: 10...60_000))
        let levelName = env.string("INSTAVERSE_LOG_LEVEL", default: "info")
        guard let level = Log.Level(name: levelName) else {
            throw ConfigError(variable: "INSTAVERSE_LOG_LEVEL", problem: "'\(levelName)' is not debug, info, warning or error")
        }
        logLevel = level
    }

    /// `kid:secret,kid:secret,...` (JWTKeySet.parse(list:)): the first key signs (notifyd
    /// only verifies), every key verifies. Errors never repeat a secret.
    public static func parseKeys(_ text: String) throws(ConfigError) -> JWTKeySet {
        do throws(JWTKeyListError) {
            return try JWTKeySet.parse(list: text)
        } catch {
            throw ConfigError(variable: "INSTAVERSE_JWT_KEYS", problem: error.description)
        }
    }

    /// The ingest pipeline's configuration derived from these settings.
    public func pipelineConfig(log: Log?) throws(AMQPError) -> NotificationPipelineConfig {
        var c = NotificationPipelineConfig(endpoint: try AMQPEndpoint(url: amqpURL), queue: queue,
                                           store: .sqlite(path: storePath, durability: storeDurability))
        c.consumer.exchange = exchange
        c.consumer.prefetch = UInt16(clamping: prefetch)
        c.maxBatch = maxBatch
        c.readRetentionDays = readRetentionDays
        c.capPerUser = capPerUser
        c.pruneInterval = pruneInterval
        c.stopTimeout = stopTimeout
        c.maxQueuedJobs = maxStoreJobs
        c.log = log
        return c
    }
}
