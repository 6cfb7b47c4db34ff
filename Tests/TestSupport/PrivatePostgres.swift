// A PostgreSQL server of one test's own, for tests that stop or restart the database: the
// shared server stays up for every other suite running at the same time.
#if canImport(Glibc)
import Glibc
#endif

extension Servers {
    /// Set for the duration of a test that runs against its own `PrivatePostgres`: every
    /// `postgresURL(database:)` call made from that test's task then answers with it.
    @TaskLocal public static var postgresOverride: PrivatePostgres?
}

/// Started through scripts/servers.sh in a run dir of its own (free port, private data dir,
/// the usual databases); `shutdown()` (or deinit) stops it and removes its files.
public final class PrivatePostgres: @unchecked Sendable {
    // @unchecked: every stored property is immutable after init.
    public let runDir: String
    /// postgresql://postgres@127.0.0.1:PORT (append /DBNAME).
    public let baseURL: String
    private let dataDir: String
    private let script: String

    public init() throws {
        script = try Servers.script()
        let env: [String: String]
        (runDir, env) = try Servers.startPrivate("postgres", script: script)
        guard let url = env["INSTAVERSE_PG_URL"], let dir = env["INSTAVERSE_PG_DIR"] else {
            throw MissingServer(variable: "INSTAVERSE_PG_URL in \(runDir)/env")
        }
        baseURL = url
        dataDir = dir + "/data"
    }

    deinit { shutdown() }

    /// `pg_ctl ARGS` as the postgres user on this server's data dir; true when it succeeded.
    private func pgctl(_ args: String) -> Bool {
        let asPostgres = getuid() == 0 ? "runuser -u postgres -- " : ""
        return shell("\(asPostgres)/usr/lib/postgresql/15/bin/pg_ctl -D '\(dataDir)' -l '\(dataDir)/../log' \(args) >/dev/null 2>&1") == 0
    }

    /// Fast shutdown (sessions are terminated), waiting until the server is down.
    @discardableResult public func stop() -> Bool { pgctl("-m fast -w stop") }

    /// Starts the stopped server with its previous options (postmaster.opts), waiting until
    /// it accepts connections.
    @discardableResult public func start() -> Bool { pgctl("-w -t 60 restart") }

    /// `pg_ctl restart -m fast`: every session is terminated, the server is back when it returns.
    @discardableResult public func restart() -> Bool { pgctl("-m fast -w -t 60 restart") }

    public func shutdown() {
        _ = shell("INSTAVERSE_RUN_DIR='\(runDir)' '\(script)' down >/dev/null 2>&1")
        _ = shell("rm -rf '\(runDir)'")
    }

    /// Runs `body` with `Servers.postgresURL(database:)` answering this server's URLs.
    public func use<T>(_ body: () throws -> T) rethrows -> T {
        try Servers.$postgresOverride.withValue(self, operation: body)
    }
}
