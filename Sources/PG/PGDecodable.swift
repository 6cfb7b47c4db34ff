// Decoding of text-format cells. Each decoder reads the bytes libpq holds in place; only
// String and [UInt8] allocate (their own storage).
import CPQ

/// A type a text-format cell decodes to. `pgText` is the cell without its terminating NUL and
/// is valid only during the call.
public protocol PGDecodable: Sendable {
    static func decode(pgText: UnsafeBufferPointer<UInt8>) -> Self?
}

extension String: PGDecodable {
    public static func decode(pgText: UnsafeBufferPointer<UInt8>) -> String? {
        String(decoding: pgText, as: UTF8.self)
    }
}

extension Int64: PGDecodable {
    public static func decode(pgText: UnsafeBufferPointer<UInt8>) -> Int64? {
        var index = 0
        var negative = false
        if let first = pgText.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            index = 1
        }
        guard index < pgText.count else { return nil }
        // Accumulate negatively so Int64.min parses without overflow.
        var value: Int64 = 0
        while index < pgText.count {
            let byte = pgText[index]
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = times.subtractingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            if overflow1 || overflow2 { return nil }
            value = next
            index += 1
        }
        if negative { return value }
        return value == .min ? nil : -value
    }
}

extension Int: PGDecodable {
    public static func decode(pgText: UnsafeBufferPointer<UInt8>) -> Int? {
        Int64.decode(pgText: pgText).flatMap { Int(exactly: $0) }
    }
}

extension Int32: PGDecodable {
    public static func decode(pgText: UnsafeBufferPointer<UInt8>) -> Int32? {
        Int64.decode(pgText: pgText).flatMap { Int32(exactly: $0) }
    }
}

extension Bool: PGDecodable {
    public static func decode(pgText: UnsafeBufferPointer<UInt8>) -> Bool? {
        guard pgText.count == 1 else { return nil }
        switch pgText[0] {
        case UInt8(ascii: "t"): return true
        case UInt8(ascii: "f"): return false
        default: return nil
        }
    }
}

extension Double: PGDecodable {
    public static func decode(pgText: UnsafeBufferPointer<UInt8>) -> Double? {
        // PostgreSQL spells the specials "Infinity", "-Infinity", "NaN"; Double(String) does not.
        let text = String(decoding: pgText, as: UTF8.self)
        switch text {
        case "Infinity": return .infinity
        case "-Infinity": return -.infinity
        case "NaN": return .nan
        default: return Double(text)
        }
    }
}

extension Array: PGDecodable where Element == UInt8 {
    /// bytea in hex output form (`\x0a1b…`, the server default since 9.0).
    public static func decode(pgText: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        guard pgText.count >= 2, pgText[0] == UInt8(ascii: "\\"), pgText[1] == UInt8(ascii: "x"),
              pgText.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity((pgText.count - 2) / 2)
        var index = 2
        while index < pgText.count {
            guard let high = PGHex.value(pgText[index]), let low = PGHex.value(pgText[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }
}
