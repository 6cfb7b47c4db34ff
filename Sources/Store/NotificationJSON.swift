// The wire form of a notification (ARCHITECTURE.md, notifyd): written by hand into a byte
// buffer because the hub encodes each notification once and fans the same bytes out to
// every session. No Foundation, no allocation beyond the caller's buffer.
//
// {"id":123,"kind":"LIKE_NOTIFICATION","actor":{"id":42,"username":"alice"},"postId":991,
//  "commentId":null,"text":"alice liked your post","createdAt":"2026-11-25T04:00:00.123Z","read":false}

extension Notification {
    /// Appends the wire JSON object to `out`.
    public func writeJSON(into out: inout [UInt8]) {
        JSONOut.raw(#"{"id":"#, &out)
        JSONOut.int(id, &out)
        JSONOut.raw(#","kind":""#, &out)
        JSONOut.raw(kind.rawValue, &out)
        JSONOut.raw(#"","actor":{"id":"#, &out)
        JSONOut.int(actorId, &out)
        JSONOut.raw(#","username":"#, &out)
        JSONOut.string(actorUsername, &out)
        JSONOut.raw(#"},"postId":"#, &out)
        JSONOut.optionalInt(postId, &out)
        JSONOut.raw(#","commentId":"#, &out)
        JSONOut.optionalInt(commentId, &out)
        JSONOut.raw(#","text":"#, &out)
        JSONOut.string(text, &out)
        JSONOut.raw(#","createdAt":""#, &out)
        JSONOut.iso8601(milliseconds: createdAt, &out)
        JSONOut.raw(readAt == nil ? #"","read":false}"# : #"","read":true}"#, &out)
    }

    /// The wire JSON object as bytes.
    public var json: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(192 + text.utf8.count + actorUsername.utf8.count)
        writeJSON(into: &out)
        return out
    }
}

/// Byte-level JSON pieces, shared by the notification writer and the callers that wrap
/// notifications into messages (backlog, REST pages).
public enum JSONOut {
    @inline(__always)
    public static func raw(_ text: StaticString, _ out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    public static func raw(_ text: String, _ out: inout [UInt8]) { out.append(contentsOf: text.utf8) }

    public static func int(_ value: Int64, _ out: inout [UInt8]) {
        if value == 0 { out.append(UInt8(ascii: "0")); return }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)   // 24 bytes: room for the 20 digits of UInt64.max, on the stack
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            if value < 0 { out.append(UInt8(ascii: "-")) }
            while count > 0 { count -= 1; out.append(buffer[count]) }
        }
    }

    public static func optionalInt(_ value: Int64?, _ out: inout [UInt8]) {
        if let value { int(value, &out) } else { raw("null", &out) }
    }

    /// A JSON string literal: escapes the quote, the backslash and every control
    /// character; other UTF-8 passes through unchanged (Swift strings are valid UTF-8).
    public static func string(_ value: String, _ out: inout [UInt8]) {
        let hex: StaticString = "0123456789abcdef"
        out.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(UInt8(ascii: "\\")); out.append(byte)
            case UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(byte)
            case 0x0A: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "n"))
            case 0x0D: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "r"))
            case 0x09: out.append(UInt8(ascii: "\\")); out.append(UInt8(ascii: "t"))
            case 0..<0x20:
                raw("\\u00", &out)
                out.append(hex.utf8Start[Int(byte >> 4)])
                out.append(hex.utf8Start[Int(byte & 0x0F)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// ISO-8601 UTC with milliseconds, "YYYY-MM-DDTHH:MM:SS.mmmZ", for years 0-9999
    /// (clamped outside). Civil date from days since the epoch by Howard Hinnant's
    /// public-domain algorithm; no calendar object per call.
    public static func iso8601(milliseconds: Int64, _ out: inout [UInt8]) {
        let clamped = min(max(milliseconds, -62_167_219_200_000), 253_402_300_799_999)
        let (days, msOfDay) = floorDivide(clamped, 86_400_000)
        let z = days + 719_468
        let (era, _) = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        digits(year, 4, &out)
        out.append(UInt8(ascii: "-"))
        digits(month, 2, &out)
        out.append(UInt8(ascii: "-"))
        digits(day, 2, &out)
        out.append(UInt8(ascii: "T"))
        digits(msOfDay / 3_600_000, 2, &out)
        out.append(UInt8(ascii: ":"))
        digits(msOfDay / 60_000 % 60, 2, &out)
        out.append(UInt8(ascii: ":"))
        digits(msOfDay / 1000 % 60, 2, &out)
        out.append(UInt8(ascii: "."))
        digits(msOfDay % 1000, 3, &out)
        out.append(UInt8(ascii: "Z"))
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
        let q = a / b, r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }

    private static func digits(_ value: Int64, _ width: Int, _ out: inout [UInt8]) {
        var divisor: Int64 = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            out.append(UInt8(ascii: "0") + UInt8(rest / divisor % 10))
            rest %= divisor
            divisor /= 10
        }
    }
}
