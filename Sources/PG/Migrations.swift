// Schema migrations applied at service start. The whole run is one transaction that first
// takes a transaction-scoped advisory lock, so two processes starting together serialize:
// the second waits, then finds every version recorded and applies nothing. The lock is
// released by COMMIT or ROLLBACK, or by the server if the process dies.

public struct Migration: Sendable, Equatable {
    /// Strictly increasing across the list; recorded in schema_migrations once applied.
    public let version: Int64
    public let name: String
    /// One or more statements, run with the simple protocol (no parameters).
    public let sql: String

    public init(_ version: Int64, _ name: String, _ sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

public enum Migrations {
    /// The advisory-lock key every Instaverse service uses ("instavmg"); one database per
    /// service, so services never contend on it.
    public static let defaultLockKey: Int64 = 0x696E_7374_6176_6D67

    /// Applies, in order, every migration whose version is not yet in `schema_migrations`
    /// (created on first use in the first schema of the search_path), in one transaction,
    /// and returns the versions it applied (empty when up to date). On any failure nothing
    /// is applied. Blocks while another session holds the lock.
    /// Statements that cannot run in a transaction (CREATE INDEX CONCURRENTLY) are not supported.
    @discardableResult
    public static func apply(_ migrations: [Migration], on connection: PGConnection,
                             lockKey: Int64 = defaultLockKey) throws -> [Int64] {
        var previous: Int64?
        for migration in migrations {
            if let previous, migration.version <= previous {
                throw PGError(.usage, "migration versions must increase: \(migration.version) follows \(previous)")
            }
            previous = migration.version
        }
        return try connection.transaction { conn in
            try conn.execute("SELECT pg_advisory_xact_lock($1)", [.int(lockKey)])
            try conn.executeScript("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version bigint PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
            var applied = Set<Int64>()
            for row in try conn.query("SELECT version FROM schema_migrations") {
                applied.insert(try row.int64(0))
            }
            var done: [Int64] = []
            for migration in migrations where !applied.contains(migration.version) {
                do throws(PGError) {
                    try conn.executeScript(migration.sql)
                } catch {
                    throw PGError(error.kind, "migration \(migration.version) \(migration.name) failed: \(error.message)",
                                  sqlState: error.sqlState, detail: error.detail, constraint: error.constraint)
                }
                try conn.execute("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                                 [.int(migration.version), .text(migration.name)])
                done.append(migration.version)
            }
            return done
        }
    }

    /// The versions recorded in schema_migrations, ascending (empty if the table does not exist).
    public static func appliedVersions(on connection: PGConnection) throws(PGError) -> [Int64] {
        let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL")
        guard try exists[0].bool(0) else { return [] }
        var versions: [Int64] = []
        for row in try connection.query("SELECT version FROM schema_migrations ORDER BY version") {
            versions.append(try row.int64(0))
        }
        return versions
    }
}
