// Byte classes of RFC 9110/9112 used by the parser, the serializer and the router.
// Internal: tables are computed once; lookups are a load and a test, no branches per class.

@usableFromInline
enum ASCII {
    static let cr: UInt8 = 13
    static let lf: UInt8 = 10
    static let sp: UInt8 = 32
    static let htab: UInt8 = 9
    static let colon: UInt8 = 58
    static let semicolon: UInt8 = 59
    static let question: UInt8 = 63
    static let slash: UInt8 = 47
    static let percent: UInt8 = 37
    static let plus: UInt8 = 43
    static let equals: UInt8 = 61
    static let ampersand: UInt8 = 38
    static let comma: UInt8 = 44
    static let quote: UInt8 = 34
    static let backslash: UInt8 = 92

    /// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
    static let tokenTable: [Bool] = (0..<256).map { (b: Int) -> Bool in
        switch b {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: return true
        default: return "!#$%&'*+-.^_`|~".utf8.contains(UInt8(b))
        }
    }

    @inline(__always) static func isToken(_ b: UInt8) -> Bool { tokenTable[Int(b)] }

    /// field-vchar / SP / HTAB / obs-text: anything but CTLs (other than HTAB) and DEL.
    @inline(__always) static func isFieldValueByte(_ b: UInt8) -> Bool {
        b == htab || (b >= 0x20 && b != 0x7F)
    }

    /// Bytes allowed in a request-target: visible ASCII only (no CTL, SP, DEL or non-ASCII).
    @inline(__always) static func isTargetByte(_ b: UInt8) -> Bool { b > 0x20 && b < 0x7F }

    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b }

    @inline(__always) static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }

    /// ASCII case-insensitive equality of two strings (header names, tokens).
    static func equalsIgnoringCase(_ a: String, _ b: String) -> Bool {
        guard a.utf8.count == b.utf8.count else { return false }
        var a = a, b = b
        return a.withUTF8 { pa in
            b.withUTF8 { pb in
                guard pa.count == pb.count else { return false }
                for i in 0..<pa.count where lower(pa[i]) != lower(pb[i]) { return false }
                return true
            }
        }
    }

    /// True when the comma-separated list `value` holds `token` (case-insensitive, OWS
    /// around elements ignored), as in `Connection: keep-alive, Upgrade`.
    static func listContainsToken(_ value: String, _ token: String) -> Bool {
        for element in value.utf8.split(separator: comma, omittingEmptySubsequences: true) {
            let trimmed = trimOWS(element)
            if trimmed.count == token.utf8.count,
               zip(trimmed, token.utf8).allSatisfy({ lower($0) == lower($1) }) {
                return true
            }
        }
        return false
    }

    static func trimOWS<C: BidirectionalCollection>(_ c: C) -> C.SubSequence where C.Element == UInt8 {
        var s = c[...]
        while let f = s.first, f == sp || f == htab { s = s.dropFirst() }
        while let l = s.last, l == sp || l == htab { s = s.dropLast() }
        return s
    }
}
