// PGPool (work off the caller's thread, bounded queue, shutdown) and Migrations
// (idempotent, and safe when two sessions migrate at the same moment).
import Foundation
import Testing
import PG

@Suite struct PoolTests {
    @Test func runsWorkOffTheCallersThreadAndReturnsResults() throws {
        let schema = try TestSchema()
        defer { schema.drop() }
        let pool = PGPool(url: schema.url, threads: 2)
        defer { pool.shutdown() }
        let callerThread = Thread.current.description
        let results = Recorder<(Int64, Bool)>()
        for index in 0..<20 {
            try pool.submit({ conn in
                let sum = try conn.query("SELECT $1::bigint * 2", [.int(Int64(index))])[0].int64(0)
                return (sum, Thread.current.description != callerThread)
            }, completion: { result in
                if case .success(let value) = result { results.append(value) }
            })
        }
        #expect(results.wait(seconds: 20) { $0.count == 20 })
        let all = results.all
        #expect(Set(all.map(\.0)) == Set((0..<20).map { Int64($0) * 2 }))
        #expect(all.allSatisfy { $0.1 })
    }

    @Test func reportsErrorsAndRefusesWhenFullOrShutDown() throws {
        let schema = try TestSchema()
        defer { schema.drop() }
        let pool = PGPool(url: schema.url, threads: 1, queueCapacity: 2)
        let gate = DispatchSemaphore(value: 0)
        let outcomes = Recorder<String>()
        // Occupy the only worker until the gate opens.
        let running = DispatchSemaphore(value: 0)
        try pool.submit({ _ in running.signal(); gate.wait() }, completion: { _ in outcomes.append("blocker") })
        try #require(running.wait(timeout: .now() + 20) == .success)
        #expect(pool.queuedCount == 0)
        try pool.submit({ conn in try conn.query("SELECT * FROM missing_table") },
                        completion: { result in
                            if case .failure(let error as PGError) = result, error.sqlState == "42P01" { outcomes.append("42P01") }
                        })
        try pool.submit({ _ in 1 }, completion: { _ in outcomes.append("second") })
        do {
            try pool.submit({ _ in 1 }, completion: { _ in outcomes.append("overflow ran") })
            Issue.record("a third queued job was accepted with queueCapacity 2")
        } catch {
            #expect(error.kind == .poolFull)
        }
        gate.signal()
        pool.shutdown()   // drains the queue before joining
        #expect(outcomes.all == ["blocker", "42P01", "second"])
        #expect(throws: PGError.self) { try pool.submit({ _ in 1 }, completion: { _ in }) }
    }
}

@Suite struct MigrationTests {
    static let list = [
        Migration(1, "users", "CREATE TABLE users (id bigserial PRIMARY KEY, email text UNIQUE NOT NULL)"),
        Migration(2, "profiles", "ALTER TABLE users ADD COLUMN bio text; CREATE INDEX users_bio ON users (bio)"),
        Migration(5, "seed", "INSERT INTO users (email) VALUES ('admin@example.com')"),
    ]

    @Test func appliesOnceAndIsIdempotent() throws {
        let schema = try TestSchema()
        defer { schema.drop() }
        let conn = try schema.connect()
        #expect(try Migrations.apply(Array(Self.list.prefix(2)), on: conn) == [1, 2])
        #expect(try Migrations.apply(Self.list, on: conn) == [5])
        #expect(try Migrations.apply(Self.list, on: conn) == [])
        #expect(try Migrations.appliedVersions(on: conn) == [1, 2, 5])
        #expect(try conn.query("SELECT count(*) FROM users")[0].int64(0) == 1)
    }

    @Test func failedMigrationAppliesNothing() throws {
        let schema = try TestSchema()
        defer { schema.drop() }
        let conn = try schema.connect()
        let broken = Self.list + [Migration(6, "broken", "ALTER TABLE nowhere ADD COLUMN x int")]
        #expect(throws: PGError.self) { try Migrations.apply(broken, on: conn) }
        #expect(try Migrations.appliedVersions(on: conn) == [])
        #expect(throws: PGError.self) { try Migrations.apply([Migration(2, "a", ""), Migration(1, "b", "")], on: conn) }
    }

    @Test func twoSessionsMigratingAtOnceApplyEachVersionOnce() throws {
        let schema = try TestSchema()
        defer { schema.drop() }
        let outcomes = Recorder<Result<[Int64], PGError>>()
        let start = DispatchSemaphore(value: 0)
        let url = schema.url
        let list = Self.list
        for _ in 0..<2 {
            Thread.detachNewThread {
                start.wait()
                do {
                    let conn = try PGConnection(url: url)
                    outcomes.append(.success(try Migrations.apply(list, on: conn)))
                } catch let error as PGError {
                    outcomes.append(.failure(error))
                } catch {
                    outcomes.append(.failure(PGError(.usage, "\(error)")))
                }
            }
        }
        start.signal()
        start.signal()
        #expect(outcomes.wait(seconds: 30) { $0.count == 2 })
        let applied = try outcomes.all.map { try $0.get() }
        #expect(applied.flatMap { $0 }.sorted() == [1, 2, 5])
        #expect(applied.contains([]))
        let conn = try schema.connect()
        #expect(try conn.query("SELECT count(*) FROM users")[0].int64(0) == 1)
    }
}
