// What a light service reads from its environment. Every variable is INSTAVERSE_*, the same
// names in systemd's EnvironmentFile, `make run` and the tests; a malformed value is an
// error naming the variable (Daemon.Config), never a silent default.
import Daemon
import Tokens

public struct ServiceConfig: Sendable {
    /// "auth", "story" or "social": the variable prefix (INSTAVERSE_AUTH_...) and log component.
    public var name: String
    public var host: String
    /// 0 picks a free port (tests).
    public var port: Int
    /// libpq URL of the service's own database.
    public var databaseURL: String
    /// nil: events stay in the outbox (no relay runs) and nothing is consumed.
    public var amqpURL: String?
    public var jwtKeys: JWTKeySet
    /// Lifetime of the tokens auth-service issues, in seconds.
    public var jwtTTL: Int64
    /// Worker threads of the PGPool (each owns one connection).
    public var databaseThreads: Int
    /// The durable queue the service's consumer reads (unique per test run).
    public var queueName: String
    /// Upper bound of the outbox relay's retry backoff.
    public var relayMaxBackoff: Duration
    /// scrypt cost for new password hashes (auth only). The default is OWASP's 2^17; tests lower it.
    public var scrypt: ScryptParameters
    /// Where story-service keeps uploaded images.
    public var dataDirectory: String
    public var logLevel: Log.Level
    /// Threads of the CPU pool (password hashing), which holds no database connection.
    public var cpuThreads = 2
    /// CPU jobs that may wait; beyond it a request gets 503 with Retry-After.
    public var cpuQueueCapacity = 64
    /// Published outbox rows are deleted this long after publication…
    public var outboxRetentionSeconds: Int64 = 7 * 86400
    /// …by a maintenance job running this often.
    public var outboxPruneInterval: Duration = .seconds(3600)
    /// Where log lines go (stderr; tests point it at a file to read the lines back).
    public var logFileDescriptor: Int32 = 2

    public init(name: String, port: Int, databaseURL: String, amqpURL: String?, jwtKeys: JWTKeySet,
                host: String = "127.0.0.1", jwtTTL: Int64 = 3600, databaseThreads: Int = 4,
                queueName: String? = nil, relayMaxBackoff: Duration = .seconds(2),
                scrypt: ScryptParameters = .standard, dataDirectory: String = "/tmp/instaverse-stories",
                logLevel: Log.Level = .info) {
        self.name = name
        self.host = host
        self.port = port
        self.databaseURL = databaseURL
        self.amqpURL = amqpURL
        self.jwtKeys = jwtKeys
        self.jwtTTL = jwtTTL
        self.databaseThreads = databaseThreads
        self.queueName = queueName ?? "\(name).events"
        self.relayMaxBackoff = relayMaxBackoff
        self.scrypt = scrypt
        self.dataDirectory = dataDirectory
        self.logLevel = logLevel
    }

    /// Reads, for service `name` (upper-cased as NAME):
    /// - INSTAVERSE_NAME_HOST (127.0.0.1), INSTAVERSE_NAME_PORT (`defaultPort`)
    /// - INSTAVERSE_NAME_DB_URL, else INSTAVERSE_PG_URL + "/" + `defaultDatabase`
    /// - INSTAVERSE_AMQP_URL (optional), INSTAVERSE_NAME_QUEUE (name.events)
    /// - INSTAVERSE_JWT_KEYS `kid:secret,kid2:secret2` (first signs; all verify; secrets ≥ 32 bytes)
    /// - INSTAVERSE_JWT_TTL seconds (3600), INSTAVERSE_NAME_DB_THREADS (4)
    /// - INSTAVERSE_AUTH_SCRYPT_LOG2N (17), INSTAVERSE_STORY_DATA_DIR, INSTAVERSE_LOG_LEVEL
    /// - INSTAVERSE_NAME_CPU_THREADS (2), INSTAVERSE_NAME_CPU_QUEUE (64)
    /// - INSTAVERSE_NAME_OUTBOX_KEEP_SECONDS (604800), INSTAVERSE_NAME_OUTBOX_PRUNE_SECONDS (3600)
    public static func load(name: String, defaultPort: Int, defaultDatabase: String,
                            from config: Config = .fromProcess()) throws -> ServiceConfig {
        let prefix = "INSTAVERSE_" + name.uppercased() + "_"
        let port = try config.int(prefix + "PORT", default: defaultPort, range: 0...65535)
        let databaseURL: String
        if let url = config.optionalString(prefix + "DB_URL") {
            databaseURL = url
        } else if let base = config.optionalString("INSTAVERSE_PG_URL") {
            databaseURL = base + "/" + defaultDatabase
        } else {
            throw ServiceConfigError(variable: prefix + "DB_URL", problem: "is required (or INSTAVERSE_PG_URL)")
        }
        let keys = try parseKeys(try config.required("INSTAVERSE_JWT_KEYS"))
        let ttl = try config.int("INSTAVERSE_JWT_TTL", default: 3600, range: 1...(30 * 86400))
        let log2n = try config.int("INSTAVERSE_AUTH_SCRYPT_LOG2N", default: 17, range: 10...18)
        let levelName = config.string("INSTAVERSE_LOG_LEVEL", default: "info")
        guard let level = Log.Level(name: levelName) else {
            throw ServiceConfigError(variable: "INSTAVERSE_LOG_LEVEL", problem: "'\(levelName)' is not debug, info, warning or error")
        }
        var loaded = ServiceConfig(
            name: name, port: port, databaseURL: databaseURL, amqpURL: config.optionalString("INSTAVERSE_AMQP_URL"),
            jwtKeys: keys, host: config.string(prefix + "HOST", default: "127.0.0.1"), jwtTTL: Int64(ttl),
            databaseThreads: try config.int(prefix + "DB_THREADS", default: 4, range: 1...64),
            queueName: config.optionalString(prefix + "QUEUE"),
            scrypt: ScryptParameters(n: 1 << UInt64(log2n), r: 8, p: 1),
            dataDirectory: config.string("INSTAVERSE_STORY_DATA_DIR", default: "/tmp/instaverse-stories"),
            logLevel: level)
        loaded.cpuThreads = try config.int(prefix + "CPU_THREADS", default: 2, range: 1...64)
        loaded.cpuQueueCapacity = try config.int(prefix + "CPU_QUEUE", default: 64, range: 1...100_000)
        loaded.outboxRetentionSeconds = Int64(try config.int(prefix + "OUTBOX_KEEP_SECONDS", default: 7 * 86400, range: 0...(365 * 86400)))
        loaded.outboxPruneInterval = .seconds(try config.int(prefix + "OUTBOX_PRUNE_SECONDS", default: 3600, range: 1...86400))
        return loaded
    }

    /// Parses `kid:secret,kid2:secret2` (JWTKeySet.parse(list:), the parser notifyd uses too):
    /// the first key signs, every key verifies.
    public static func parseKeys(_ text: String) throws -> JWTKeySet {
        do throws(JWTKeyListError) {
            return try JWTKeySet.parse(list: text)
        } catch {
            throw ServiceConfigError(variable: "INSTAVERSE_JWT_KEYS", problem: error.description)
        }
    }
}

/// A configuration variable that is missing or malformed.
public struct ServiceConfigError: Error, CustomStringConvertible {
    public let variable: String
    public let problem: String
    public init(variable: String, problem: String) {
        self.variable = variable
        self.problem = problem
    }
    public var description: String { "\(variable): \(problem)" }
}
