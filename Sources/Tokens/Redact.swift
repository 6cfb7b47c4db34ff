// Keeps tokens out of logs: every log line that may hold a request target, a header or a
// subprotocol goes through JWT.redact first.

extension JWT {
    public static let redacted = "[redacted]"

    /// Returns `text` with every JWT-looking substring and every `access_token=` query
    /// value replaced by "[redacted]".
    ///
    /// A JWT-looking substring is "eyJ" (base64url of `{"`) followed by base64url
    /// characters, a dot, a second base64url run, and optionally a dot and a third run
    /// (so an unsigned alg=none token is caught too). An `access_token=` value runs up to
    /// the next '&', '#', whitespace, quote or the end.
    public static func redact(_ text: String) -> String {
        let input = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        let marker: [UInt8] = Array("access_token=".utf8)
        let placeholder: [UInt8] = Array(redacted.utf8)
        var changed = false
        var index = 0
        while index < input.count {
            if let end = jwtEnd(input, from: index) {
                out.append(contentsOf: placeholder)
                index = end
                changed = true
                continue
            }
            if hasPrefix(input, marker, at: index) {
                out.append(contentsOf: marker)
                var end = index + marker.count
                while end < input.count, !endsQueryValue(input[end]) { end += 1 }
                if end > index + marker.count {
                    out.append(contentsOf: placeholder)
                    changed = true
                }
                index = end
                continue
            }
            out.append(input[index])
            index += 1
        }
        return changed ? String(decoding: out, as: UTF8.self) : text
    }

    private static func isBase64URL(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
            return true
        default:
            return false
        }
    }

    private static func endsQueryValue(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "&") || byte == UInt8(ascii: "#") || byte == UInt8(ascii: "\"") ||
            byte == UInt8(ascii: "'") || byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    private static func hasPrefix(_ input: [UInt8], _ prefix: [UInt8], at index: Int) -> Bool {
        guard index + prefix.count <= input.count else { return false }
        for offset in 0..<prefix.count where input[index + offset] != prefix[offset] { return false }
        return true
    }

    /// The end index of a JWT-looking run starting at `start`, or nil. The run must not
    /// continue a longer base64url word (so "xeyJ..." inside an unrelated id is left alone
    /// only when it is not itself token-shaped from its own start).
    private static func jwtEnd(_ input: [UInt8], from start: Int) -> Int? {
        guard hasPrefix(input, [UInt8(ascii: "e"), UInt8(ascii: "y"), UInt8(ascii: "J")], at: start) else { return nil }
        if start > 0, isBase64URL(input[start - 1]) { return nil }
        var index = start + 3
        while index < input.count, isBase64URL(input[index]) { index += 1 }
        guard index < input.count, input[index] == UInt8(ascii: ".") else { return nil }
        index += 1
        let payloadStart = index
        while index < input.count, isBase64URL(input[index]) { index += 1 }
        guard index > payloadStart else { return nil }
        if index < input.count, input[index] == UInt8(ascii: ".") {
            index += 1
            while index < input.count, isBase64URL(input[index]) { index += 1 }
        }
        return index
    }
}

extension JWT {
    /// Whether `text` holds a JWT-looking run or an `access_token=` value (what `redact`
    /// would replace). Text without "eyJ" or "access_token=" (almost every query value) is
    /// answered without copying it.
    public static func containsToken(_ text: String) -> Bool {
        guard text.utf8.count >= 3, text.contains("eyJ") || text.contains("access_token=") else { return false }
        return redact(text) != text
    }
}
