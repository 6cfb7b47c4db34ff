// A strict RFC 8259 parser with limits, for untrusted request bodies. Recursive descent,
// bounded by `maxDepth` so a hostile body cannot exhaust the stack; strings are validated
// UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF; \u escapes must pair).

public struct JSONParseLimits: Sendable, Equatable {
    /// Nesting of arrays and objects (the document's top-level container is depth 1).
    public var maxDepth: Int = 32
    /// Bytes of the whole document.
    public var maxBytes: Int = 1024 * 1024
    public init(maxDepth: Int = 32, maxBytes: Int = 1024 * 1024) {
        self.maxDepth = maxDepth
        self.maxBytes = maxBytes
    }
}

public struct JSONParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    /// Byte offset where parsing stopped.
    public var offset: Int
    /// The object member whose value failed, as a dotted path from the top (`profile.bio`);
    /// nil when the error is outside any member's value. Lets a 400 name the field.
    public var member: String? = nil
    public var description: String {
        guard let member else { return "\(reason) at byte \(offset)" }
        return "\(reason) in \(member) at byte \(offset)"
    }
}

public enum JSONParser {
    /// Parses exactly one JSON value, surrounded by optional whitespace.
    public static func parse(_ bytes: UnsafeRawBufferPointer, limits: JSONParseLimits = JSONParseLimits())
        throws(JSONParseError) -> JSONValue
    {
        if bytes.count > limits.maxBytes {
            throw JSONParseError(reason: "document too large", offset: limits.maxBytes)
        }
        var cursor = Cursor(bytes: bytes, limits: limits)
        cursor.skipWhitespace()
        let value = try cursor.value(depth: 0)
        cursor.skipWhitespace()
        if cursor.i != bytes.count { throw cursor.error("trailing characters after the value") }
        return value
    }

    public static func parse(_ bytes: [UInt8], limits: JSONParseLimits = JSONParseLimits())
        throws(JSONParseError) -> JSONValue
    {
        let result: Result<JSONValue, JSONParseError> = bytes.withUnsafeBytes { raw in
            do throws(JSONParseError) { return .success(try parse(raw, limits: limits)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    public static func parse(_ text: String, limits: JSONParseLimits = JSONParseLimits())
        throws(JSONParseError) -> JSONValue
    {
        try parse(Array(text.utf8), limits: limits)
    }
}

struct Cursor {
    let bytes: UnsafeRawBufferPointer
    let limits: JSONParseLimits
    var i = 0

    init(bytes: UnsafeRawBufferPointer, limits: JSONParseLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    func error(_ reason: String) -> JSONParseError { JSONParseError(reason: reason, offset: i) }

    @inline(__always) var peek: UInt8? { i < bytes.count ? bytes[i] : nil }

    mutating func skipWhitespace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return
            }
        }
    }

    mutating func literal(_ word: StaticString, _ value: JSONValue) throws(JSONParseError) -> JSONValue {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw error("invalid literal") }
        let p = word.utf8Start
        for k in 0..<n where bytes[i + k] != p[k] { throw error("invalid literal") }
        i += n
        return value
    }

    mutating func value(depth: Int) throws(JSONParseError) -> JSONValue {
        guard let b = peek else { throw error("unexpected end of input") }
        switch b {
        case 0x7B: return try object(depth: depth + 1)
        case 0x5B: return try array(depth: depth + 1)
        case ASCII.quote: return .string(try string())
        case 0x74: return try literal("true", .bool(true))
        case 0x66: return try literal("false", .bool(false))
        case 0x6E: return try literal("null", .null)
        case 0x2D, 0x30...0x39: return try number()
        default: throw error("unexpected character")
        }
    }

    mutating func array(depth: Int) throws(JSONParseError) -> JSONValue {
        if depth > limits.maxDepth { throw error("nesting too deep") }
        i += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if peek == 0x5D { i += 1; return .array(items) }
        while true {
            skipWhitespace()
            items.append(try value(depth: depth))
            skipWhitespace()
            switch peek {
            case ASCII.comma: i += 1
            case 0x5D: i += 1; return .array(items)
            default: throw error("expected , or ]")
            }
        }
    }

    mutating func object(depth: Int) throws(JSONParseError) -> JSONValue {
        if depth > limits.maxDepth { throw error("nesting too deep") }
        i += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if peek == 0x7D { i += 1; return .object(members) }
        while true {
            skipWhitespace()
            guard peek == ASCII.quote else { throw error("expected a member name") }
            let keyOffset = i
            let key = try string()
            skipWhitespace()
            guard peek == ASCII.colon else { throw error("expected :") }
            i += 1
            skipWhitespace()
            let v: JSONValue
            do {
                v = try value(depth: depth)
            } catch {
                var named = error
                named.member = named.member.map { key + "." + $0 } ?? key
                throw named
            }
            if members.updateValue(v, forKey: key) != nil {
                throw JSONParseError(reason: "duplicate member name", offset: keyOffset)
            }
            skipWhitespace()
            switch peek {
            case ASCII.comma: i += 1
            case 0x7D: i += 1; return .object(members)
            default: throw error("expected , or }")
            }
        }
    }

    mutating func number() throws(JSONParseError) -> JSONValue {
        let start = i
        var integral = true
        if peek == 0x2D { i += 1 }
        guard let first = peek, first >= 0x30, first <= 0x39 else { throw error("invalid number") }
        i += 1
        if first != 0x30 { skipDigits() }
        if peek == 0x2E {
            integral = false
            i += 1
            guard skipDigits() > 0 else { throw error("invalid number") }
        }
        if peek == 0x65 || peek == 0x45 {
            integral = false
            i += 1
            if peek == ASCII.plus || peek == 0x2D { i += 1 }
            guard skipDigits() > 0 else { throw error("invalid number") }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        if integral, let v = Int64(text) { return .int(v) }
        guard let d = Double(text), d.isFinite else { throw error("number out of range") }
        return .double(d)
    }

    @discardableResult
    mutating func skipDigits() -> Int {
        let start = i
        while let b = peek, b >= 0x30, b <= 0x39 { i += 1 }
        return i - start
    }

    /// Parses a string starting at its opening quote.
    mutating func string() throws(JSONParseError) -> String {
        i += 1
        let start = i
        // Fast path: no escapes, so the bytes are the string.
        while i < bytes.count {
            let b = bytes[i]
            if b == ASCII.quote {
                let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
                i += 1
                return s
            }
            if b == ASCII.backslash { break }
            if b < 0x20 { throw error("control character in string") }
            if b < 0x80 { i += 1 } else { try skipUTF8Sequence() }
        }
        var out = [UInt8](UnsafeRawBufferPointer(rebasing: bytes[start..<i]))
        while i < bytes.count {
            let b = bytes[i]
            if b == ASCII.quote {
                i += 1
                return String(decoding: out, as: UTF8.self)
            }
            if b < 0x20 { throw error("control character in string") }
            if b == ASCII.backslash {
                try escape(into: &out)
            } else if b < 0x80 {
                out.append(b)
                i += 1
            } else {
                let s = i
                try skipUTF8Sequence()
                out.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[s..<i]))
            }
        }
        throw error("unterminated string")
    }

    mutating func escape(into out: inout [UInt8]) throws(JSONParseError) {
        i += 1
        guard let e = peek else { throw error("unterminated escape") }
        i += 1
        switch e {
        case ASCII.quote: out.append(ASCII.quote)
        case ASCII.backslash: out.append(ASCII.backslash)
        case ASCII.slash: out.append(ASCII.slash)
        case 0x62: out.append(0x08)
        case 0x66: out.append(0x0C)
        case 0x6E: out.append(0x0A)
        case 0x72: out.append(0x0D)
        case 0x74: out.append(0x09)
        case 0x75:
            var scalar = try hex4()
            if scalar >= 0xD800, scalar <= 0xDBFF {
                guard i + 1 < bytes.count, bytes[i] == ASCII.backslash, bytes[i + 1] == 0x75 else {
                    throw error("unpaired surrogate")
                }
                i += 2
                let low = try hex4()
                guard low >= 0xDC00, low <= 0xDFFF else { throw error("unpaired surrogate") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if scalar >= 0xDC00, scalar <= 0xDFFF {
                throw error("unpaired surrogate")
            }
            appendUTF8(scalar, to: &out)
        default:
            throw error("invalid escape")
        }
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard i + 4 <= bytes.count else { throw error("invalid \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            guard let h = ASCII.hexValue(bytes[i]) else { throw error("invalid \\u escape") }
            v = v << 4 | UInt32(h)
            i += 1
        }
        return v
    }

    /// Validates one multi-byte UTF-8 sequence at `i` (RFC 3629 table) and steps over it.
    mutating func skipUTF8Sequence() throws(JSONParseError) {
        let b0 = bytes[i]
        let count: Int
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch b0 {
        case 0xC2...0xDF: count = 2
        case 0xE0: count = 3; lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: count = 3
        case 0xED: count = 3; hi = 0x9F
        case 0xF0: count = 4; lo = 0x90
        case 0xF1...0xF3: count = 4
        case 0xF4: count = 4; hi = 0x8F
        default: throw error("invalid UTF-8")
        }
        guard i + count <= bytes.count else { throw error("invalid UTF-8") }
        let b1 = bytes[i + 1]
        guard b1 >= lo, b1 <= hi else { throw error("invalid UTF-8") }
        for k in 2..<max(2, count) where bytes[i + k] & 0xC0 != 0x80 { throw error("invalid UTF-8") }
        i += count
    }
}

/// Encodes a scalar value (already checked: not a surrogate, at most U+10FFFF) as UTF-8.
func appendUTF8(_ v: UInt32, to out: inout [UInt8]) {
    switch v {
    case 0..<0x80:
        out.append(UInt8(v))
    case 0x80..<0x800:
        out.append(0xC0 | UInt8(v >> 6))
        out.append(0x80 | UInt8(v & 0x3F))
    case 0x800..<0x10000:
        out.append(0xE0 | UInt8(v >> 12))
        out.append(0x80 | UInt8(v >> 6 & 0x3F))
        out.append(0x80 | UInt8(v & 0x3F))
    default:
        out.append(0xF0 | UInt8(v >> 18 & 0x07))
        out.append(0x80 | UInt8(v >> 12 & 0x3F))
        out.append(0x80 | UInt8(v >> 6 & 0x3F))
        out.append(0x80 | UInt8(v & 0x3F))
    }
}
