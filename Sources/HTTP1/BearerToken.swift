// The one parser of `Authorization: Bearer <token>` (RFC 6750 §2.1), for notifyd and the
// services alike.
//
//   credentials = auth-scheme 1*SP token68            (RFC 9110 §11.4)
//   auth-scheme = "Bearer", compared case-insensitively (RFC 9110 §11.1)
//   token68     = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//
// Whitespace around the field value is not part of it (RFC 9110 §5.5), so leading and
// trailing SP/HTAB are ignored; nothing else is forgiven: another scheme, a missing or
// empty token, a byte outside token68 (a quote, a comma, a space inside the token) or a
// second credential make the header malformed.

/// What the Authorization header of a request says about a bearer token.
public enum BearerCredentials: Sendable, Equatable {
    /// No Authorization header.
    case absent
    /// An Authorization header that is not `Bearer <token68>`.
    case malformed
    /// The token (not yet verified: only its syntax is checked).
    case token(String)

    /// Parses the first Authorization field of `headers`.
    public init(_ headers: HTTPHeaders) {
        guard let value = headers["Authorization"] else {
            self = .absent
            return
        }
        self = BearerCredentials(authorization: value)
    }

    /// Parses one Authorization field value.
    public init(authorization value: String) {
        var bytes = Substring(value).utf8[...]
        while let first = bytes.first, first == ASCII.sp || first == ASCII.htab { bytes = bytes.dropFirst() }
        while let last = bytes.last, last == ASCII.sp || last == ASCII.htab { bytes = bytes.dropLast() }
        let scheme = Array("bearer".utf8)
        guard bytes.count > scheme.count,
              zip(bytes.prefix(scheme.count), scheme).allSatisfy({ $0 | 0x20 == $1 }) else {
            self = .malformed
            return
        }
        var rest = bytes.dropFirst(scheme.count)
        guard rest.first == ASCII.sp else {
            self = .malformed
            return
        }
        while rest.first == ASCII.sp { rest = rest.dropFirst() }
        let body = rest.prefix { $0 != ASCII.equals }
        let padding = rest.dropFirst(body.count)
        guard !body.isEmpty, body.allSatisfy(BearerCredentials.isToken68), padding.allSatisfy({ $0 == ASCII.equals }) else {
            self = .malformed
            return
        }
        self = .token(String(decoding: rest, as: UTF8.self))
    }

    /// The token, or nil when absent or malformed.
    public var token: String? {
        if case .token(let token) = self { return token }
        return nil
    }

    private static func isToken68(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "+"), UInt8(ascii: "/"):
            return true
        default:
            return false
        }
    }
}
