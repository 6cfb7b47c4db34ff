// PGPool after its sessions died (pg_terminate_backend: what a server restart or an admin
// does to an idle session): an idle connection is pinged before use, a job whose first
// statement met a dead session runs again once on a fresh connection, and a job that had
// already run a statement is never re-run.
import Foundation
import Synchronization
import Testing
import PG
import TestSupport

@Suite struct PoolRecoveryTests {
    /// Runs `work` on `pool` and waits for its outcome.
    func run<T: Sendable>(_ pool: PGPool, _ work: @Sendable @escaping (PGConnection) throws -> T) throws -> Result<T, any Error> {
        let outcome = Recorder<Result<T, any Error>>()
        try pool.submit(work, completion: { outcome.append($0) })
        try #require(outcome.wait(seconds: 20) { $0.count == 1 })
        return outcome.all[0]
    }

    func terminate(_ pid: Int32, schema: TestSchema) throws {
        let admin = try schema.connect()
        try admin.query("SELECT pg_terminate_backend($1)", [.int(Int64(pid))])
        // Wait until the backend is gone, so the pool's next use meets a dead session.
        #expect(eventually {
            (try? admin.query("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", [.int(Int64(pid))])[0].int64(0)) == 0
        })
    }

    /// Kills the session of a one-worker pool, then runs a job that reads its backend pid.
    /// Returns whether the job ran on a new session and how many times `work` ran.
    func afterTheSessionDied(idleCheck: Duration) throws -> (newSession: Bool, attempts: Int) {
        let schema = try TestSchema()
        defer { schema.drop() }
        let pool = PGPool(url: schema.url, threads: 1, idleCheck: idleCheck)
        defer { pool.shutdown() }
        let first = try run(pool) { conn in conn.backendPID }.get()
        try terminate(first, schema: schema)
        let attempts = Atomic<Int>(0)
        let pid = try run(pool) { conn in
            attempts.add(1, ordering: .relaxed)
            return try conn.query("SELECT pg_backend_pid()")[0].int64(0)
        }.get()
        return (pid != Int64(first), attempts.load(ordering: .relaxed))
    }

    @Test func aJobWhoseFirstStatementMeetsADeadSessionRunsAgainOnce() throws {
        // No ping (an hour of idleness first), so only the retry can save the job.
        let outcome = try afterTheSessionDied(idleCheck: .seconds(3600))
        #expect(outcome.newSession)
        #expect(outcome.attempts == 2)
    }

    @Test func anIdleConnectionIsPingedBeforeUse() throws {
        let outcome = try afterTheSessionDied(idleCheck: .zero)
        #expect(outcome.newSession)
        #expect(outcome.attempts == 1, "the ping found the dead session: no retry needed")
    }

    @Test func aJobThatAlreadyRanAStatementIsNotRunAgain() throws {
        let schema = try TestSchema()
        defer { schema.drop() }
        let setup = try schema.connect()
        try setup.execute("CREATE TABLE writes (n int)")
        let pool = PGPool(url: schema.url, threads: 1, idleCheck: .seconds(3600))
        defer { pool.shutdown() }
        let attempts = Atomic<Int>(0)
        let outcome = try run(pool) { conn in
            attempts.add(1, ordering: .relaxed)
            try conn.execute("INSERT INTO writes VALUES (1)")          // committed (autocommit)
            try conn.query("SELECT pg_terminate_backend(pg_backend_pid())")  // the session dies
        }
        guard case .failure(let error as PGError) = outcome else {
            Issue.record("expected a PGError, got \(outcome)")
            return
        }
        #expect(error.isUnavailable)
        #expect(attempts.load(ordering: .relaxed) == 1)
        #expect(try setup.query("SELECT count(*) FROM writes")[0].int64(0) == 1)
        // The next job gets a fresh, working connection.
        #expect(try run(pool) { conn in try conn.query("SELECT 1")[0].int64(0) }.get() == 1)
    }
}
