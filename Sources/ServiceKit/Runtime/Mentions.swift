// @mentions in captions and comments (story- and social-service publish user.mentioned for
// each known name). Pure, no I/O; fuzzed by Fuzz/Edges (mode "mentions").

public enum Mentions {
    /// The distinct `@username` names in `text`, in order of appearance, at most `limit`.
    /// A mention is '@' at the start or after a character that is not a letter, digit, '_'
    /// or '@', followed by 1-30 of [A-Za-z0-9_] (the username rule of auth-service).
    public static func usernames(in text: String, limit: Int = 10) -> [String] {
        let bytes = Array(text.utf8)
        var found: [String] = []
        var index = 0
        while index < bytes.count, found.count < limit {
            if bytes[index] == UInt8(ascii: "@"), index == 0 || !isWord(bytes[index - 1]) && bytes[index - 1] != UInt8(ascii: "@") {
                var end = index + 1
                while end < bytes.count, isWord(bytes[end]) { end += 1 }
                let length = end - index - 1
                if length >= 1, length <= 30 {
                    let name = String(decoding: bytes[(index + 1)..<end], as: UTF8.self)
                    if !found.contains(where: { $0.lowercased() == name.lowercased() }) { found.append(name) }
                }
                index = end
                continue
            }
            index += 1
        }
        return found
    }

    static func isWord(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
    }
}
