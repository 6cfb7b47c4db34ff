// The one error type of the PG module. Server errors keep PostgreSQL's SQLSTATE so callers
// can map them (23505 unique_violation -> HTTP 409) without parsing messages.
import CPQ

public struct PGError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The connection could not be made or was lost. The next call on the same
        /// PGConnection tries PQreset first.
        case connection
        /// The server rejected a statement; `sqlState` says why.
        case server
        /// A parameter could not be encoded as text (a String holding a NUL byte).
        case encode
        /// A column value was NULL where a value was required, or did not parse as the type asked for.
        case decode
        /// The PGPool's queue is full: the caller should shed load (HTTP 503).
        case poolFull
        /// The PGPool or OutboxRelay is shut down.
        case shutdown
        /// The API was used in a way it does not support (bad identifier, unknown column name).
        case usage
    }

    public let kind: Kind
    /// Five-character SQLSTATE for server errors (e.g. "23505"); nil otherwise.
    public let sqlState: String?
    /// Primary message (PQerrorMessage or the server's message).
    public let message: String
    /// The server's DETAIL line, when it sent one.
    public let detail: String?
    /// The constraint that failed, when the server named one (unique, foreign key, check).
    public let constraint: String?

    public init(_ kind: Kind, _ message: String, sqlState: String? = nil, detail: String? = nil, constraint: String? = nil) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.constraint = constraint
    }

    /// SQLSTATE 23505.
    public var isUniqueViolation: Bool { sqlState == "23505" }
    /// SQLSTATE 23503.
    public var isForeignKeyViolation: Bool { sqlState == "23503" }
    /// SQLSTATE 40001 or 40P01: the transaction may be retried as a whole.
    public var isRetryableTransactionFailure: Bool { sqlState == "40001" || sqlState == "40P01" }
    /// The database cannot be used right now, through no fault of the statement: the
    /// connection failed or was lost (class 08), or the server is shutting down or starting
    /// (57P01-57P03). A client may retry later (HTTP 503).
    public var isUnavailable: Bool {
        if kind == .connection { return true }
        guard let sqlState else { return false }
        return sqlState.hasPrefix("08") || sqlState == "57P01" || sqlState == "57P02" || sqlState == "57P03"
    }
    /// Text the server cannot store: a NUL in a parameter (`.encode`), invalid UTF-8
    /// (22021) or a character the encoding lacks (22P05).
    public var isBadText: Bool { kind == .encode || sqlState == "22021" || sqlState == "22P05" }

    public var description: String {
        var text = "PGError(\(kind)"
        if let sqlState { text += " \(sqlState)" }
        text += "): \(message)"
        if let detail { text += " (\(detail))" }
        return text
    }

    /// Builds the error for a failed result. Called on the connection's thread while `result`
    /// is alive; copies every string it keeps.
    static func from(result: OpaquePointer?, connection: OpaquePointer) -> PGError {
        let connectionLost = PQstatus(connection) == CONNECTION_BAD
        guard let result else {
            return PGError(.connection, trimmed(PQerrorMessage(connection)) ?? "no result from server")
        }
        func field(_ code: Character) -> String? {
            guard let ascii = code.asciiValue, let raw = PQresultErrorField(result, Int32(ascii)) else { return nil }
            return String(cString: raw)
        }
        let sqlState = field("C")
        let message = field("M") ?? trimmed(PQresultErrorMessage(result)) ?? trimmed(PQerrorMessage(connection)) ?? "unknown error"
        if connectionLost && sqlState == nil {
            return PGError(.connection, message)
        }
        return PGError(connectionLost ? .connection : .server, message, sqlState: sqlState,
                       detail: field("D"), constraint: field("n"))
    }

    static func trimmed(_ raw: UnsafePointer<CChar>?) -> String? {
        guard let raw else { return nil }
        var text = String(cString: raw)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text.isEmpty ? nil : text
    }
}
