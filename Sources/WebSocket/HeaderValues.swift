// Small helpers over HTTP header lists for the handshake: no HTTP module is involved; the
// caller passes the request's or response's headers as (name, value) pairs.
import CryptoBytes

enum HeaderValues {
    /// All values of header `name` (compared case-insensitively), in order.
    static func all(_ headers: [(name: String, value: String)], _ name: String) -> [String] {
        var out: [String] = []
        for h in headers where asciiEqualsIgnoringCase(h.name, name) { out.append(h.value) }
        return out
    }

    /// The comma-separated elements of every value of header `name`, trimmed, empty ones dropped.
    static func tokens(_ headers: [(name: String, value: String)], _ name: String) -> [Substring] {
        var out: [Substring] = []
        for value in all(headers, name) {
            for part in value.split(separator: ",") {
                let t = trim(part)
                if !t.isEmpty { out.append(t) }
            }
        }
        return out
    }

    /// Whether header `name`'s comma-separated tokens include `token`, case-insensitively.
    static func containsToken(_ headers: [(name: String, value: String)], _ name: String, _ token: String) -> Bool {
        tokens(headers, name).contains { asciiEqualsIgnoringCase($0, token) }
    }

    static func trim(_ s: Substring) -> Substring {
        var s = s
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }

    static func asciiEqualsIgnoringCase<A: StringProtocol, B: StringProtocol>(_ a: A, _ b: B) -> Bool {
        var i = a.utf8.makeIterator()
        var j = b.utf8.makeIterator()
        while true {
            switch (i.next(), j.next()) {
            case (nil, nil): return true
            case (let x?, let y?):
                if lower(x) != lower(y) { return false }
            default: return false
            }
        }
    }

    @inline(__always) static func lower(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c + 32 : c }
}

/// SHA-1 and base64 for Sec-WebSocket-Key / Sec-WebSocket-Accept (CryptoBytes).
enum HandshakeCrypto {
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// base64(SHA-1(key + GUID)) (RFC 6455 section 4.2.2).
    static func accept(key: some StringProtocol) -> String {
        Base64.encode(SHA1Digest.hash(Array(key.utf8) + Array(guid.utf8)))
    }

    /// Whether `key` is base64 for exactly 16 bytes: 22 alphabet characters then "==".
    static func isValidKey(_ key: some StringProtocol) -> Bool {
        let u = Array(key.utf8)
        guard u.count == 24, u[22] == UInt8(ascii: "="), u[23] == UInt8(ascii: "=") else { return false }
        for c in u[0..<22] {
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"):
                continue
            default:
                return false
            }
        }
        return true
    }

    /// A fresh Sec-WebSocket-Key: 16 bytes from OpenSSL's CSPRNG, base64.
    static func randomKey() -> String {
        Base64.encode(SecureRandom.bytes(16))
    }
}
