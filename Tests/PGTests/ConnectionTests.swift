// PGConnection against the private PostgreSQL: parameters, typed getters, errors with
// SQLSTATE, transactions, and reconnect after the server ends the session.
import Testing
import PG
import TestSupport

@Suite struct ConnectionTests {
    @Test func connectFailureCarriesLibpqMessage() throws {
        let url = try Servers.postgresURL(database: "no_such_db_here")
        do {
            _ = try PGConnection(url: url)
            Issue.record("connected to a database that does not exist")
        } catch {
            #expect(error.kind == .connection)
            #expect(error.message.contains("no_such_db_here"))
        }
    }

    @Test func parametersSurviveQuotesUnicodeAndNull() throws {
        let schema = try TestSchema()
        defer { schema.drop() }
        let conn = try schema.connect()
        try conn.executeScript("""
            CREATE TABLE people (id bigserial PRIMARY KEY, name text NOT NULL, age bigint,
                                 score double precision, active bool, avatar bytea, note text)
            """)
        let hostile = "O'Brien \"q\" \\ '); DROP TABLE people; --"
        let unicode = "Zoë 🌍 日本語 ∑"
        let blob: [UInt8] = [0, 1, 0x27, 0x5c, 0xff, 0x80]
        let inserted = try conn.execute(
            "INSERT INTO people (name, age, score, active, avatar, note) VALUES ($1, $2, $3, $4, $5, $6), ($7, $8, $9, $10, $11, $12)",
            [.text(hostile), .int(Int64.min), .double(-0.1), .bool(true), .bytea(blob), nil,
             .text(unicode), 42, 1e300, false, .bytea([]), "x"])
        #expect(inserted == 2)

        let rows = try conn.query("SELECT name, age, score, active, avatar, note FROM people ORDER BY id")
        #expect(rows.count == 2)
        #expect(rows.columnNames == ["name", "age", "score", "active", "avatar", "note"])
        #expect(try rows[0].string("name") == hostile)
        #expect(try rows[0].int64("age") == Int64.min)
        #expect(try rows[0].double(2) == -0.1)
        #expect(try rows[0].bool("active") == true)
        #expect(try rows[0].bytes("avatar") == blob)
        #expect(try rows[0].get("note", as: String?.self) == nil)
        #expect(try rows[0].isNull("note"))
        #expect(throws: PGError.self) { try rows[0].string("note") }
        #expect(try rows[1].string(0) == unicode)
        #expect(try rows[1].get(1, as: Int.self) == 42)
        #expect(try rows[1].double("score") == 1e300)
        #expect(try rows[1].bool(3) == false)
        #expect(try rows[1].bytes(4) == [])
        #expect(try rows[1].get("note", as: String?.self) == "x")

        // The parameter is a value, never SQL: the lookup by the hostile name finds the row.
        let found = try conn.query("SELECT count(*) FROM people WHERE name = $1", [.text(hostile)])
        #expect(try found[0].int64(0) == 1)
        #expect(throws: PGError.self) { try conn.query("SELECT $1::text", [.text("nul\u{0}byte")]) }
    }

    @Test func uniqueViolationHasSQLStateAndConstraint() throws {
        let schema = try TestSchema()
        defer { schema.drop() }
        let conn = try schema.connect()
        try conn.executeScript("CREATE TABLE users (id serial PRIMARY KEY, email text CONSTRAINT users_email_key UNIQUE)")
        try conn.execute("INSERT INTO users (email) VALUES ($1)", ["a@example.com"])
        do {
            try conn.execute("INSERT INTO users (email) VALUES ($1)", ["a@example.com"])
            Issue.record("duplicate insert succeeded")
        } catch {
            #expect(error.kind == .server)
            #expect(error.sqlState == "23505")
            #expect(error.isUniqueViolation)
            #expect(error.constraint == "users_email_key")
        }
        // The session is still usable after a statement error.
        #expect(try conn.query("SELECT count(*) FROM users")[0].int64(0) == 1)
    }

    @Test func transactionCommitsOrRollsBackOnThrow() throws {
        struct Boom: Error {}
        let schema = try TestSchema()
        defer { schema.drop() }
        let conn = try schema.connect()
        try conn.executeScript("CREATE TABLE t (v text)")
        let value = try conn.transaction { tx in
            try tx.execute("INSERT INTO t VALUES ($1)", ["kept"])
            return 7
        }
        #expect(value == 7)
        #expect(throws: Boom.self) {
            try conn.transaction { tx in
                try tx.execute("INSERT INTO t VALUES ($1)", ["dropped"])
                throw Boom()
            }
        }
        // Nested: the inner failure rolls back to its savepoint only.
        try conn.transaction { tx in
            try tx.execute("INSERT INTO t VALUES ($1)", ["outer"])
            _ = try? tx.transaction { inner in
                try inner.execute("INSERT INTO t VALUES ($1)", ["inner"])
                throw Boom()
            }
        }
        // A swallowed statement error makes COMMIT a ROLLBACK, and that is reported.
        do {
            try conn.transaction { tx in
                try tx.execute("INSERT INTO t VALUES ($1)", ["lost"])
                _ = try? tx.execute("SELECT 1/0")
            }
            Issue.record("COMMIT of an aborted transaction reported success")
        } catch let error as PGError {
            #expect(error.sqlState == "25P02")
        }
        let rows = try conn.query("SELECT v FROM t ORDER BY v")
        #expect(try rows.map { try $0.string(0) } == ["kept", "outer"])
    }

    @Test func preparedStatementsAndReconnectAfterTermination() throws {
        let schema = try TestSchema()
        defer { schema.drop() }
        let conn = try schema.connect()
        let admin = try schema.connect()
        conn.prepare("add", "SELECT $1::bigint + $2::bigint")
        #expect(try conn.query(prepared: "add", [2, 3])[0].int64(0) == 5)

        let oldPID = conn.backendPID
        #expect(try admin.query("SELECT pg_terminate_backend($1)", [.int(Int64(oldPID))])[0].bool(0))
        // The first call after the kill sees the broken session and throws .connection ...
        do {
            try conn.execute("SELECT 1")
            Issue.record("query on a terminated session succeeded")
        } catch {
            #expect(error.kind == .connection)
        }
        // ... and the next one resets it: new backend, same search_path, prepared statement re-prepared.
        #expect(try conn.query("SELECT current_schema()")[0].string(0) == schema.name)
        #expect(conn.backendPID != oldPID)
        #expect(try conn.query(prepared: "add", [40, 2])[0].int64(0) == 42)
    }
}
