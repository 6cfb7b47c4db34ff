// Where the tests find the private servers that scripts/servers.sh started.
//
// Every accessor throws when its variable is missing, with a message that names the
// variable: a test that needs a server fails loudly, it never skips or passes silently.
#if canImport(Glibc)
import Glibc
#endif

public struct MissingServer: Error, CustomStringConvertible {
    public let variable: String
    public var description: String {
        "\(variable) is not set: run the tests with `make test` (scripts/test.sh starts the private servers and exports it)"
    }
}

public enum Servers {
    public static func env(_ name: String) throws -> String {
        guard let raw = getenv(name), let value = String(validatingCString: raw), !value.isEmpty else {
            throw MissingServer(variable: name)
        }
        return value
    }

    /// amqp://guest:guest@127.0.0.1:PORT/%2f
    public static func amqpURL() throws -> String {
        if let broker = brokerOverride { return broker.url }
        return try env("INSTAVERSE_AMQP_URL")
    }
    public static func amqpPort() throws -> Int {
        if let broker = brokerOverride { return broker.port }
        guard let port = Int(try env("INSTAVERSE_AMQP_PORT")) else { throw MissingServer(variable: "INSTAVERSE_AMQP_PORT") }
        return port
    }
    /// postgresql://postgres@127.0.0.1:PORT (append /DBNAME).
    public static func postgresURL(database: String) throws -> String {
        if let server = postgresOverride { return server.baseURL + "/" + database }
        return try env("INSTAVERSE_PG_URL") + "/" + database
    }
    /// The servers script, for tests that stop and start the broker.
    public static func script() throws -> String { try env("INSTAVERSE_SERVERS_SCRIPT") }
}

/// Runs a shell command and returns its exit status (for tests that stop/start servers).
public func shell(_ command: String) -> Int32 {
    let status = system(command)
    // system() returns a wait status; decode the exit code.
    return (status >> 8) & 0xff
}

extension Servers {
    /// Starts `what` (rabbitmq, postgres) through the servers script in a new run dir of its
    /// own, with free ports; returns the run dir and the variables its env file exports.
    static func startPrivate(_ what: String, script: String) throws -> (runDir: String, env: [String: String]) {
        let runDir = "/tmp/instaverse-\(what)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard shell("INSTAVERSE_RUN_DIR='\(runDir)' '\(script)' up \(what) >/dev/null 2>&1") == 0 else {
            _ = shell("INSTAVERSE_RUN_DIR='\(runDir)' '\(script)' down >/dev/null 2>&1")
            throw MissingServer(variable: "a private \(what) (scripts/servers.sh up \(what) in \(runDir))")
        }
        return (runDir, PrivateBroker.readEnv("\(runDir)/env"))
    }

    /// Set for the duration of a test that runs against its own `PrivateBroker`: every
    /// `amqpURL()`/`amqpPort()` call made from that test's task then answers with it.
    @TaskLocal public static var brokerOverride: PrivateBroker?
}

/// A RabbitMQ node of one test's own, for tests that stop, restart or freeze the broker:
/// the shared node stays up for every other suite running at the same time.
///
/// Started through scripts/servers.sh in a run dir of its own (free ports, private data dir);
/// `shutdown()` (or deinit) stops it and its epmd. Boot takes ~3-5 s.
public final class PrivateBroker: @unchecked Sendable {
    // @unchecked: every stored property is immutable after init.
    public let runDir: String
    public let url: String
    public let port: Int
    private let script: String

    public init() throws {
        script = try Servers.script()
        let env: [String: String]
        (runDir, env) = try Servers.startPrivate("rabbitmq", script: script)
        guard let u = env["INSTAVERSE_AMQP_URL"], let p = env["INSTAVERSE_AMQP_PORT"].flatMap(Int.init) else {
            throw MissingServer(variable: "INSTAVERSE_AMQP_URL in \(runDir)/env")
        }
        url = u
        port = p
    }

    deinit { shutdown() }

    /// Stops the node (data and epmd stay); `start()` brings it back on the same port.
    @discardableResult public func stop() -> Bool {
        shell("INSTAVERSE_RUN_DIR='\(runDir)' '\(script)' restart-rabbitmq stop >/dev/null 2>&1") == 0
    }

    @discardableResult public func start() -> Bool {
        shell("INSTAVERSE_RUN_DIR='\(runDir)' '\(script)' restart-rabbitmq start >/dev/null 2>&1") == 0
    }

    /// The broker's Erlang VM, for SIGSTOP/SIGCONT.
    public var pid: Int32? {
        let env = PrivateBroker.readEnv("\(runDir)/env")
        guard let dir = env["INSTAVERSE_RABBITMQ_DIR"], let f = fopen("\(dir)/rabbitmq.pid", "r") else { return nil }
        defer { fclose(f) }
        var buffer = [CChar](repeating: 0, count: 32)
        guard fgets(&buffer, 32, f) != nil else { return nil }
        let text = String(decoding: buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return Int32(text)
    }

    public func shutdown() {
        _ = shell("INSTAVERSE_RUN_DIR='\(runDir)' '\(script)' down >/dev/null 2>&1")
    }

    /// Runs `body` with `Servers.amqpURL()` answering this broker's URL.
    public func use<T>(_ body: () throws -> T) rethrows -> T {
        try Servers.$brokerOverride.withValue(self, operation: body)
    }

    static func readEnv(_ path: String) -> [String: String] {
        guard let f = fopen(path, "r") else { return [:] }
        defer { fclose(f) }
        var result: [String: String] = [:]
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), f) != nil {
            var line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if line.hasSuffix("\n") { line.removeLast() }
            if line.hasPrefix("export ") { line.removeFirst(7) }
            guard let eq = line.firstIndex(of: "=") else { continue }
            result[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return result
    }
}
