// A query's result, read in place from libpq's PGresult (text format): no copy of the rows
// is made; a getter decodes one cell when asked.
import CPQ

/// The rows of one statement. Immutable after creation.
///
/// `@unchecked Sendable`: libpq documents a PGresult as read-only after creation and safe to
/// read from any thread; this class only reads it and frees it once, in deinit. So a result
/// may be returned from PGPool work to a completion on another thread.
public final class PGResult: @unchecked Sendable, RandomAccessCollection {
    let raw: OpaquePointer

    /// Number of rows.
    public let count: Int
    public let columnCount: Int

    init(taking raw: OpaquePointer) {
        self.raw = raw
        self.count = Int(PQntuples(raw))
        self.columnCount = Int(PQnfields(raw))
    }

    deinit { PQclear(raw) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }
    public subscript(row: Int) -> PGRow {
        precondition(row >= 0 && row < count, "row \(row) out of range 0..<\(count)")
        return PGRow(result: self, index: row)
    }

    public func columnName(_ column: Int) -> String {
        guard column >= 0, column < columnCount, let name = PQfname(raw, Int32(column)) else { return "" }
        return String(cString: name)
    }

    public var columnNames: [String] { (0..<columnCount).map(columnName) }

    /// The index of a column by its name as the query labels it (case-sensitive, exact).
    public func columnIndex(_ name: String) -> Int? {
        for column in 0..<columnCount {
            guard let raw = PQfname(raw, Int32(column)) else { continue }
            if strcmpEqual(raw, name) { return column }
        }
        return nil
    }

    /// Rows affected by INSERT/UPDATE/DELETE (PQcmdTuples); 0 for other statements.
    public var affectedRows: Int {
        guard let raw = PQcmdTuples(raw) else { return 0 }
        return Int(String(cString: raw)) ?? 0
    }

    /// The command tag, e.g. "INSERT 0 1", "COMMIT", or "ROLLBACK" for a COMMIT of an aborted transaction.
    public var commandTag: String {
        guard let raw = PQcmdStatus(raw) else { return "" }
        return String(cString: raw)
    }

    private func strcmpEqual(_ cString: UnsafePointer<CChar>, _ name: String) -> Bool {
        var index = 0
        for byte in name.utf8 {
            if UInt8(bitPattern: cString[index]) != byte { return false }
            index += 1
        }
        return cString[index] == 0
    }
}

/// One row of a PGResult. Keeps its result alive.
public struct PGRow: Sendable {
    public let result: PGResult
    public let index: Int

    public func isNull(_ column: Int) -> Bool {
        PQgetisnull(result.raw, Int32(index), Int32(column)) != 0
    }

    /// The cell decoded as `T`. Throws `.decode` when it is NULL or does not parse as `T`.
    public func get<T: PGDecodable>(_ column: Int, as type: T.Type = T.self) throws(PGError) -> T {
        guard let value = try get(column, as: T?.self) else {
            throw PGError(.decode, "column \(result.columnName(column)) (row \(index)) is NULL, expected \(T.self)")
        }
        return value
    }

    /// The cell decoded as `T`, or nil when it is NULL. Throws `.decode` when it does not parse.
    public func get<T: PGDecodable>(_ column: Int, as type: T?.Type) throws(PGError) -> T? {
        guard column >= 0, column < result.columnCount else {
            throw PGError(.usage, "column \(column) out of range 0..<\(result.columnCount)")
        }
        if isNull(column) { return nil }
        let row = Int32(index), col = Int32(column)
        let length = Int(PQgetlength(result.raw, row, col))
        guard let base = PQgetvalue(result.raw, row, col) else { return nil }
        let bytes = UnsafeRawPointer(base).withMemoryRebound(to: UInt8.self, capacity: length + 1) {
            UnsafeBufferPointer(start: $0, count: length)
        }
        guard let value = T.decode(pgText: bytes) else {
            throw PGError(.decode, "column \(result.columnName(column)) (row \(index)) is not a \(T.self): \(String(decoding: bytes.prefix(64), as: UTF8.self))")
        }
        return value
    }

    public func get<T: PGDecodable>(_ column: String, as type: T.Type = T.self) throws(PGError) -> T {
        try get(try columnIndex(column), as: type)
    }

    public func get<T: PGDecodable>(_ column: String, as type: T?.Type) throws(PGError) -> T? {
        try get(try columnIndex(column), as: type)
    }

    public func isNull(_ column: String) throws(PGError) -> Bool { isNull(try columnIndex(column)) }

    // Named getters for the common types; NULL throws. Use `get(_:as: T?.self)` for nullable columns.
    public func int64(_ column: Int) throws(PGError) -> Int64 { try get(column) }
    public func int64(_ column: String) throws(PGError) -> Int64 { try get(column) }
    public func string(_ column: Int) throws(PGError) -> String { try get(column) }
    public func string(_ column: String) throws(PGError) -> String { try get(column) }
    public func bool(_ column: Int) throws(PGError) -> Bool { try get(column) }
    public func bool(_ column: String) throws(PGError) -> Bool { try get(column) }
    public func double(_ column: Int) throws(PGError) -> Double { try get(column) }
    public func double(_ column: String) throws(PGError) -> Double { try get(column) }
    public func bytes(_ column: Int) throws(PGError) -> [UInt8] { try get(column) }
    public func bytes(_ column: String) throws(PGError) -> [UInt8] { try get(column) }

    private func columnIndex(_ name: String) throws(PGError) -> Int {
        guard let column = result.columnIndex(name) else {
            throw PGError(.usage, "no column named \(name) (columns: \(result.columnNames.joined(separator: ", ")))")
        }
        return column
    }
}
