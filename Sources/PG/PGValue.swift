// Query parameters. Every parameter travels as text in PQexecParams' parameter array, never
// spliced into the SQL, so quotes and backslashes in values cannot change the statement.
// NULL is `nil` in the `[PGValue?]` array.

public enum PGValue: Sendable, Hashable {
    case text(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    /// Sent in bytea hex form (`\x…`); the column or a cast must be bytea.
    case bytea([UInt8])

    /// Appends the text form plus a terminating NUL to `storage`.
    /// Throws `.encode` for a String holding a NUL byte (PostgreSQL text cannot contain one).
    func appendText(to storage: inout [CChar]) throws(PGError) {
        switch self {
        case .text(let string):
            for byte in string.utf8 {
                if byte == 0 { throw PGError(.encode, "a text parameter contains a NUL byte") }
                storage.append(CChar(bitPattern: byte))
            }
        case .int(let value):
            for byte in String(value).utf8 { storage.append(CChar(bitPattern: byte)) }
        case .double(let value):
            let text: String
            if value.isNaN { text = "NaN" }
            else if value.isInfinite { text = value < 0 ? "-Infinity" : "Infinity" }
            else { text = String(value) }   // shortest form that round-trips
            for byte in text.utf8 { storage.append(CChar(bitPattern: byte)) }
        case .bool(let value):
            storage.append(CChar(bitPattern: value ? UInt8(ascii: "t") : UInt8(ascii: "f")))
        case .bytea(let bytes):
            storage.append(CChar(bitPattern: UInt8(ascii: "\\")))
            storage.append(CChar(bitPattern: UInt8(ascii: "x")))
            for byte in bytes {
                storage.append(CChar(bitPattern: PGHex.digit(byte >> 4)))
                storage.append(CChar(bitPattern: PGHex.digit(byte & 0x0f)))
            }
        }
        storage.append(0)
    }
}

extension PGValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
}

extension PGValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) { self = .int(value) }
}

extension PGValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension PGValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension PGValue {
    public static func int(_ value: Int) -> PGValue { .int(Int64(value)) }
}

enum PGHex {
    static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    static func value(_ ascii: UInt8) -> UInt8? {
        switch ascii {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return ascii - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return ascii - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return ascii - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
