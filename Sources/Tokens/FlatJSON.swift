// The small JSON reader and writer JWT needs: one flat object of scalar members (the JOSE
// header and the claims set). Nested values are parsed for validity and kept as `.other`
// so a token with claims we do not use (aud arrays, custom objects) still verifies.
// Input is untrusted and at most 8 KiB (JWT.maxTokenBytes); depth is bounded.

enum JSONScalar: Equatable {
    case string(String)
    case integer(Int64)
    case bool(Bool)
    case null
    /// A fraction or exponent number, an array or an object: valid JSON we do not interpret.
    case other
}

struct FlatJSONObject {
    private(set) var members: [String: JSONScalar] = [:]

    subscript(key: String) -> JSONScalar? { members[key] }

    /// Parses `bytes` as one JSON object; nil when it is not valid JSON, not an object,
    /// nested deeper than 16 levels, or has a duplicate top-level member name (RFC 7515
    /// §4: a duplicate must be rejected or the last one used; rejecting removes any
    /// doubt about which `alg` or `exp` a token means).
    static func parse(_ bytes: [UInt8]) -> FlatJSONObject? {
        var parser = Parser(bytes: bytes)
        guard let object = parser.parseTopObject() else { return nil }
        parser.skipWhitespace()
        return parser.index == bytes.count ? object : nil
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0
        let maxDepth = 16

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipWhitespace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x09 || bytes[index] == 0x0A || bytes[index] == 0x0D {
                index += 1
            }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func parseTopObject() -> FlatJSONObject? {
            guard consume(UInt8(ascii: "{")) else { return nil }
            var object = FlatJSONObject()
            if consume(UInt8(ascii: "}")) { return object }
            repeat {
                skipWhitespace()
                guard let key = parseString(), consume(UInt8(ascii: ":")) else { return nil }
                guard let value = parseValue(depth: 1) else { return nil }
                if object.members.updateValue(value, forKey: key) != nil { return nil }
            } while consume(UInt8(ascii: ","))
            return consume(UInt8(ascii: "}")) ? object : nil
        }

        mutating func parseValue(depth: Int) -> JSONScalar? {
            guard depth <= maxDepth else { return nil }
            skipWhitespace()
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""):
                return parseString().map { .string($0) }
            case UInt8(ascii: "{"):
                index += 1
                if consume(UInt8(ascii: "}")) { return .other }
                repeat {
                    skipWhitespace()
                    guard parseString() != nil, consume(UInt8(ascii: ":")), parseValue(depth: depth + 1) != nil else { return nil }
                } while consume(UInt8(ascii: ","))
                return consume(UInt8(ascii: "}")) ? .other : nil
            case UInt8(ascii: "["):
                index += 1
                if consume(UInt8(ascii: "]")) { return .other }
                repeat {
                    guard parseValue(depth: depth + 1) != nil else { return nil }
                } while consume(UInt8(ascii: ","))
                return consume(UInt8(ascii: "]")) ? .other : nil
            case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
            case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
            case UInt8(ascii: "n"): return literal("null") ? .null : nil
            default: return parseNumber()
            }
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { return false }
            index += count
            return true
        }

        /// RFC 8259 number grammar. An integer that fits Int64 is `.integer`; any other
        /// valid number is `.other` (a NumericDate with a fraction is not accepted).
        mutating func parseNumber() -> JSONScalar? {
            var negative = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { negative = true; index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { return nil }
            var value: Int64 = 0
            var overflow = false
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
            } else {
                while index < bytes.count, isDigit(bytes[index]) {
                    let digit = Int64(bytes[index] - UInt8(ascii: "0"))
                    let (times, o1) = value.multipliedReportingOverflow(by: 10)
                    let (sum, o2) = negative ? times.subtractingReportingOverflow(digit) : times.addingReportingOverflow(digit)
                    overflow = overflow || o1 || o2
                    value = sum
                    index += 1
                }
            }
            var integral = true
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                integral = false
                index += 1
                guard index < bytes.count, isDigit(bytes[index]) else { return nil }
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                integral = false
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard index < bytes.count, isDigit(bytes[index]) else { return nil }
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            return integral && !overflow ? .integer(value) : .other
        }

        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        /// A JSON string at `index` (which must be a quote); nil on a control character,
        /// a bad escape, a lone surrogate or invalid UTF-8.
        mutating func parseString() -> String? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            index += 1
            var out: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(validating: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { return nil }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        guard var scalar = hex4() else { return nil }
                        if (0xD800...0xDBFF).contains(scalar) {
                            guard literal("\\u"), let low = hex4(), (0xDC00...0xDFFF).contains(low) else { return nil }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if (0xDC00...0xDFFF).contains(scalar) {
                            return nil
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { return nil }
                        out.append(contentsOf: UTF8.encode(unicode).map { Array($0) } ?? [])
                    default:
                        return nil
                    }
                default:
                    if byte < 0x20 { return nil }
                    out.append(byte)
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard index + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                index += 1
                let digit: UInt32
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
                default: return nil
                }
                value = value << 4 | digit
            }
            return value
        }
    }
}

/// Appends `value` as a JSON string literal (quotes included) to `out`, escaping the
/// quote, the backslash and every control character.
func appendJSONString(_ value: String, to out: inout [UInt8]) {
    let hex: [UInt8] = Array("0123456789abcdef".utf8)
    out.append(UInt8(ascii: "\""))
    for byte in value.utf8 {
        switch byte {
        case UInt8(ascii: "\""): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case 0x0A: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case 0x0D: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case 0x09: out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case 0..<0x20:
            out.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                    hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
        default: out.append(byte)
        }
    }
    out.append(UInt8(ascii: "\""))
}
