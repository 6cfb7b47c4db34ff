// A thin owner of sqlite3 handles for this module: one connection, prepared statements
// that live as long as the store (prepared once, reset after each use), errors mapped to
// StoreError in one place. Connections are opened with SQLITE_OPEN_NOMUTEX: each is used
// by one thread only (the owning store or reader), so SQLite's own mutex would be waste.
import CSQLite

final class SQLiteConnection {
    let handle: OpaquePointer

    init(path: String, readOnly: Bool) throws(StoreError) {
        var db: OpaquePointer?
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &db, flags, nil)
        guard code == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite3_close_v2(db) }
            throw .database(code: code, message: "open \(path): \(message)")
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
    }

    /// Runs when the last statement referencing this connection is gone (statements hold
    /// it strongly), so close never meets an unfinalized statement.
    deinit { sqlite3_close_v2(handle) }

    func error(_ code: Int32, _ context: String) -> StoreError {
        .database(code: code, message: "\(context): \(String(cString: sqlite3_errmsg(handle)))")
    }

    /// Runs one or more statements that return no rows of interest (schema, pragmas).
    func exec(_ sql: String) throws(StoreError) {
        let code = sqlite3_exec(handle, sql, nil, nil, nil)
        guard code == SQLITE_OK else { throw error(code, sql) }
    }

    func prepare(_ sql: String) throws(StoreError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else { throw error(code, "prepare \(sql)") }
        return SQLiteStatement(connection: self, handle: statement)
    }

    /// The single integer a query like `PRAGMA user_version` returns.
    func queryInt(_ sql: String) throws(StoreError) -> Int64 {
        let statement = try prepare(sql)
        guard try statement.step() else { throw .corrupt("no row from \(sql)") }
        return statement.int64(0)
    }

    /// The single text a query like `PRAGMA journal_mode=WAL` returns.
    func queryText(_ sql: String) throws(StoreError) -> String {
        let statement = try prepare(sql)
        guard try statement.step() else { throw .corrupt("no row from \(sql)") }
        return statement.text(0)
    }

    var changes: Int { Int(sqlite3_changes(handle)) }
    var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
}

final class SQLiteStatement {
    let connection: SQLiteConnection
    let handle: OpaquePointer

    init(connection: SQLiteConnection, handle: OpaquePointer) {
        self.connection = connection
        self.handle = handle
    }

    deinit { sqlite3_finalize(handle) }

    func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(handle, index, value)
    }

    func bind(_ index: Int32, _ value: Int64?) {
        if let value { sqlite3_bind_int64(handle, index, value) } else { sqlite3_bind_null(handle, index) }
    }

    func bind(_ index: Int32, _ value: String) {
        let count = Int32(value.utf8.count)
        // TRANSIENT: SQLite copies, so the Swift buffer need not outlive this call.
        _ = value.withCString { sqlite3_bind_text(handle, index, $0, count, instaverse_sqlite_transient()) }
    }

    /// Advances: true when a row is ready, false when done. Throws on any error (the
    /// statement must still be reset by the caller, which `defer { reset() }` does).
    func step() throws(StoreError) -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw connection.error(code, String(cString: sqlite3_sql(handle)))
        }
    }

    /// Readies the statement for its next use and drops its bindings.
    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    func optionalInt64(_ column: Int32) -> Int64? {
        sqlite3_column_type(handle, column) == SQLITE_NULL ? nil : sqlite3_column_int64(handle, column)
    }

    func text(_ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }
}
