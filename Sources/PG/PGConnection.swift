// A blocking libpq connection. It belongs to the one thread that created it (a PGPool worker,
// the outbox relay, a migration at start-up): libpq connections are not thread-safe, so the
// class is deliberately not Sendable. Never use it on an event-loop thread: every call blocks
// until the server answers.
import CPQ

public final class PGConnection {
    let handle: OpaquePointer
    /// Channels this session LISTENs on; re-issued after a reset.
    private var channels: [String] = []
    /// Prepared statements registered by name; prepared lazily on each (re)connected session.
    private var statements: [String: String] = [:]
    private var preparedInSession: Set<String> = []
    /// Nesting depth of `transaction`; > 0 forbids a silent reconnect (the transaction is gone).
    private var transactionDepth = 0
    /// Statements that succeeded on this connection. PGPool compares it before and after a
    /// job: a job whose first statement failed on a dead session ran nothing, so it may run
    /// again on a fresh connection.
    public private(set) var completedStatements = 0

    /// Connects with a libpq URL or key=value string (e.g. postgresql://postgres@127.0.0.1:5432/users_db).
    /// Throws `.connection` with PQerrorMessage when the server cannot be reached.
    public init(url: String) throws(PGError) {
        guard let handle = PQconnectdb(url) else { throw PGError(.connection, "out of memory allocating a PGconn") }
        if PQstatus(handle) != CONNECTION_OK {
            let message = PGError.trimmed(PQerrorMessage(handle)) ?? "connection failed"
            PQfinish(handle)
            throw PGError(.connection, message)
        }
        self.handle = handle
    }

    deinit { PQfinish(handle) }

    /// True while libpq believes the session is usable (PQstatus == CONNECTION_OK).
    public var isConnected: Bool { PQstatus(handle) == CONNECTION_OK }

    /// One round trip with an empty query: true when the server answered. A session that
    /// sat idle across a server restart still reports CONNECTION_OK until it is used; this
    /// finds out (and leaves PQstatus CONNECTION_BAD when it was dead). Never reconnects.
    public func ping() -> Bool {
        guard PQstatus(handle) == CONNECTION_OK, let result = PQexec(handle, "") else { return false }
        defer { PQclear(result) }
        return PQresultStatus(result) == PGRES_EMPTY_QUERY
    }

    /// The backend's process id (pg_backend_pid()), e.g. to terminate it in a test.
    public var backendPID: Int32 { PQbackendPID(handle) }

    /// The socket, for a caller that waits for notifications with poll() or uv_poll.
    public var socketDescriptor: Int32 { PQsocket(handle) }

    /// Runs one statement with text-format parameters `$1…$n` (PQexecParams) and returns its rows.
    /// A broken session is reset before the statement (not inside a transaction); a statement
    /// that fails because the session broke is not retried (it may have committed) and throws `.connection`.
    @discardableResult
    public func query(_ sql: String, _ params: [PGValue?] = []) throws(PGError) -> PGResult {
        try ensureConnected()
        return try withParams(params) { (count, values) throws(PGError) in
            try check(PQexecParams(handle, sql, count, nil, values, nil, nil, 0))
        }
    }

    /// Runs a command and returns the number of rows it affected.
    @discardableResult
    public func execute(_ sql: String, _ params: [PGValue?] = []) throws(PGError) -> Int {
        try query(sql, params).affectedRows
    }

    /// Runs a script of one or more statements with no parameters (simple protocol, PQexec),
    /// for migrations and fixed DDL. Never build `sql` from input.
    public func executeScript(_ sql: String) throws(PGError) {
        try ensureConnected()
        _ = try check(PQexec(handle, sql))
    }

    /// Registers a named statement. It is prepared on the server the first time it runs on
    /// each session (again after a reset).
    public func prepare(_ name: String, _ sql: String) {
        statements[name] = sql
        preparedInSession.remove(name)
    }

    /// Runs a statement registered with `prepare`.
    @discardableResult
    public func query(prepared name: String, _ params: [PGValue?] = []) throws(PGError) -> PGResult {
        guard let sql = statements[name] else { throw PGError(.usage, "no prepared statement named \(name)") }
        try ensureConnected()
        if !preparedInSession.contains(name) {
            _ = try check(PQprepare(handle, name, sql, 0, nil))
            preparedInSession.insert(name)
        }
        return try withParams(params) { (count, values) throws(PGError) in
            try check(PQexecPrepared(handle, name, count, values, nil, nil, 0))
        }
    }

    /// Runs `body` between BEGIN and COMMIT. If `body` throws, the transaction is rolled back
    /// and the error rethrown. Nested calls use a SAVEPOINT. A COMMIT that the server turns into
    /// a ROLLBACK (the transaction had failed and `body` swallowed the error) throws SQLSTATE 25P02.
    @discardableResult
    public func transaction<T>(_ body: (PGConnection) throws -> T) throws -> T {
        let depth = transactionDepth
        let savepoint = "instaverse_sp\(depth)"
        try execute(depth == 0 ? "BEGIN" : "SAVEPOINT \(savepoint)")
        transactionDepth += 1
        let value: T
        do {
            value = try body(self)
        } catch {
            transactionDepth = depth
            if isConnected {
                // The original error is the one that matters; a failed rollback leaves the
                // session in error state, which the next BEGIN reports.
                _ = try? execute(depth == 0 ? "ROLLBACK" : "ROLLBACK TO SAVEPOINT \(savepoint)")
            }
            throw error
        }
        defer { transactionDepth = depth }
        if depth == 0 {
            let result = try query("COMMIT")
            if result.commandTag == "ROLLBACK" {
                throw PGError(.server, "transaction was aborted; COMMIT rolled it back", sqlState: "25P02")
            }
        } else {
            try execute("RELEASE SAVEPOINT \(savepoint)")
        }
        return value
    }

    // MARK: LISTEN / NOTIFY

    /// LISTENs on `channel` (quoted as an identifier). Remembered and re-issued after a reset.
    public func listen(_ channel: String) throws(PGError) {
        try execute("LISTEN " + quoteIdentifier(channel))
        if !channels.contains(channel) { channels.append(channel) }
    }

    /// Reads whatever the socket holds without blocking and returns the notifications received
    /// so far (possibly none). Throws `.connection` when the session broke.
    public func notifications() throws(PGError) -> [PGNotification] {
        try ensureConnected()
        if PQconsumeInput(handle) == 0 {
            throw PGError(.connection, PGError.trimmed(PQerrorMessage(handle)) ?? "connection lost")
        }
        var received: [PGNotification] = []
        while let raw = PQnotifies(handle) {
            let note = raw.pointee
            received.append(PGNotification(channel: String(cString: note.relname),
                                           payload: String(cString: note.extra),
                                           senderPID: note.be_pid))
            PQfreemem(raw)
        }
        return received
    }

    /// Quotes an identifier with PQescapeIdentifier (for LISTEN, schema names in tests).
    public func quoteIdentifier(_ name: String) throws(PGError) -> String {
        let utf8 = Array(name.utf8)
        guard let raw = PQescapeIdentifier(handle, name, utf8.count) else {
            throw PGError(.usage, PGError.trimmed(PQerrorMessage(handle)) ?? "cannot quote identifier")
        }
        defer { PQfreemem(raw) }
        return String(cString: raw)
    }

    // MARK: internals

    /// Resets a broken session (PQreset) before the next statement and restores LISTENs.
    private func ensureConnected() throws(PGError) {
        guard PQstatus(handle) == CONNECTION_BAD else { return }
        if transactionDepth > 0 {
            throw PGError(.connection, "connection lost inside a transaction")
        }
        PQreset(handle)
        guard PQstatus(handle) == CONNECTION_OK else {
            throw PGError(.connection, PGError.trimmed(PQerrorMessage(handle)) ?? "reconnect failed")
        }
        preparedInSession.removeAll()
        for channel in channels {
            _ = try check(PQexec(handle, "LISTEN " + quoteIdentifier(channel)))
        }
    }

    /// Takes ownership of `result`; returns it when the statement succeeded, else frees it and throws.
    private func check(_ result: OpaquePointer?) throws(PGError) -> PGResult {
        guard let result else { throw PGError.from(result: nil, connection: handle) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            completedStatements += 1
            return PGResult(taking: result)
        default:
            let error = PGError.from(result: result, connection: handle)
            PQclear(result)
            throw error
        }
    }

    /// Lays the parameters out as NUL-terminated strings in one buffer and calls `body` with
    /// the count and the C array of pointers (NULL for SQL NULL), valid only during the call.
    private func withParams(
        _ params: [PGValue?],
        _ body: (Int32, UnsafePointer<UnsafePointer<CChar>?>?) throws(PGError) -> PGResult
    ) throws(PGError) -> PGResult {
        if params.isEmpty { return try body(0, nil) }
        var storage: [CChar] = []
        storage.reserveCapacity(params.count * 16)
        var offsets: [Int] = []
        offsets.reserveCapacity(params.count)
        for param in params {
            if let param {
                offsets.append(storage.count)
                try param.appendText(to: &storage)
            } else {
                offsets.append(-1)
            }
        }
        let outcome: Result<PGResult, PGError> = storage.withUnsafeBufferPointer { buffer in
            var pointers: [UnsafePointer<CChar>?] = offsets.map { offset in
                offset < 0 ? nil : buffer.baseAddress.map { base in base + offset }
            }
            return pointers.withUnsafeMutableBufferPointer { array in
                do throws(PGError) {
                    return .success(try body(Int32(params.count), UnsafePointer(array.baseAddress)))
                } catch {
                    return .failure(error)
                }
            }
        }
        return try outcome.get()
    }
}

/// A NOTIFY received on a LISTENed channel.
public struct PGNotification: Sendable, Equatable {
    public let channel: String
    public let payload: String
    public let senderPID: Int32
}
