// NotifydConfig: defaults, every variable parsed, malformed values named, the key list format.
import Testing
import Daemon
import NotifyCore

@Suite struct NotifydConfigTests {
    static let secret = String(repeating: "k", count: 32)

    @Test func defaultsFollowTheArchitecture() throws {
        let c = try NotifydConfig(environment: Config(["INSTAVERSE_JWT_KEYS": "k1:\(Self.secret)"]))
        #expect(c.host == "127.0.0.1")
        #expect(c.port == 5004)
        #expect(c.queue == "notifyd.events")
        #expect(c.exchange == "instaverse.events")
        #expect(c.handshakeTimeout == .seconds(10))
        #expect(c.pingInterval == .seconds(25))
        #expect(c.pongTimeout == .seconds(10))
        #expect(c.maxClientMessageBytes == 4096)
        #expect(c.outboundLimitBytes == 256 * 1024)
        #expect(c.maxConnectionsPerUser == 16)
        #expect(c.backlogLimit == 500)
        #expect(c.allowedOrigins.isEmpty)
        #expect(c.keys.current.kid == "k1")
    }

    @Test func variablesAreRead() throws {
        let c = try NotifydConfig(environment: Config([
            "INSTAVERSE_JWT_KEYS": "new:\(Self.secret)x, old:\(Self.secret)y",
            "INSTAVERSE_NOTIFYD_HOST": "0.0.0.0", "INSTAVERSE_NOTIFYD_PORT": "0",
            "INSTAVERSE_NOTIFYD_QUEUE": "q1", "INSTAVERSE_NOTIFYD_EXCHANGE": "x1",
            "INSTAVERSE_ALLOWED_ORIGINS": "https://a.example, https://b.example",
            "INSTAVERSE_NOTIFYD_OUTBOUND_LIMIT_BYTES": "4096", "INSTAVERSE_NOTIFYD_BACKLOG_LIMIT": "7",
            "INSTAVERSE_NOTIFYD_MAX_CONNECTIONS_PER_USER": "2", "INSTAVERSE_STORE_SYNC": "normal",
            "INSTAVERSE_LOG_LEVEL": "debug",
            "INSTAVERSE_NOTIFYD_CLIENT_RATE": "5", "INSTAVERSE_NOTIFYD_CLIENT_BURST": "8",
            "INSTAVERSE_NOTIFYD_MAX_STORE_JOBS": "99",
        ]))
        #expect(c.host == "0.0.0.0")
        #expect(c.port == 0)
        #expect(c.queue == "q1")
        #expect(c.exchange == "x1")
        #expect(c.allowedOrigins == ["https://a.example", "https://b.example"])
        #expect(c.outboundLimitBytes == 4096)
        #expect(c.backlogLimit == 7)
        #expect(c.maxConnectionsPerUser == 2)
        #expect(c.keys.current.kid == "new")
        #expect(c.keys.kids == ["new", "old"])
        #expect(c.logLevel == .debug)
        #expect(c.clientRate == 5 && c.clientBurst == 8 && c.maxStoreJobs == 99)
        #expect(try c.pipelineConfig(log: nil).maxQueuedJobs == 99)
    }

    @Test(arguments: [
        ("INSTAVERSE_NOTIFYD_PORT", "70000"), ("INSTAVERSE_NOTIFYD_PORT", "x"),
        ("INSTAVERSE_STORE_SYNC", "off"), ("INSTAVERSE_LOG_LEVEL", "loud"),
        ("INSTAVERSE_NOTIFYD_BACKLOG_LIMIT", "0"), ("INSTAVERSE_NOTIFYD_CLIENT_RATE", "0"),
    ])
    func malformedValuesAreErrorsNamingTheVariable(name: String, value: String) {
        do {
            _ = try NotifydConfig(environment: Config(["INSTAVERSE_JWT_KEYS": "k1:\(Self.secret)", name: value]))
            Issue.record("\(name)=\(value) was accepted")
        } catch {
            #expect(error.variable == name)
        }
    }

    @Test(arguments: ["", "nocolon", "k1:tinysecret", "k1:\(String(repeating: "s", count: 32)),k1:\(String(repeating: "t", count: 32))"])
    func badKeyListsAreRefusedWithoutEchoingSecrets(keys: String) {
        do {
            _ = try NotifydConfig(environment: Config(["INSTAVERSE_JWT_KEYS": keys]))
            Issue.record("'\(keys)' was accepted")
        } catch {
            #expect(error.variable == "INSTAVERSE_JWT_KEYS")
            #expect(!error.problem.contains("tinysecret"))
            #expect(!error.problem.contains("ssss"))
        }
    }
}
