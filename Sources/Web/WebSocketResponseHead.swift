// The client's reader of the server's answer to its upgrade request: the status line and the
// header section only (a 101 has no body; any other status ends the attempt), with limits.
// Public because it is the project's one reader of response heads: social-service's blocking
// lookup of a post in story-service (ServiceKit/Social/StoryClient.swift) uses it too, and
// reads the body after the head itself.

/// An incremental parser of one HTTP/1.1 response head. Bytes in, one result out; it never
/// reads past the blank line, so the caller hands what follows to the WebSocket codec.
///
/// Limits: at most `maxHeadBytes` (8 KiB) before the blank line and `maxHeaderCount` (100)
/// fields. Accepted: `HTTP/1.x SSS reason` (reason optional), fields `name: value` with a token
/// name, lines ending in CRLF (a bare LF is tolerated). Rejected: obsolete line folding,
/// control characters other than HTAB in values, a missing colon, a malformed status line.
public struct WebSocketResponseHeadParser {
    public static let maxHeadBytes = 8 * 1024
    public static let maxHeaderCount = 100

    public enum Result {
        /// The head is not complete yet: feed more.
        case needMore
        /// The head ended `consumed` bytes into the input of this call.
        case complete(status: Int, headers: [HTTPHeaderPair], consumed: Int)
        case invalid(String)
    }

    private var buffer: [UInt8] = []
    private var failed = false

    public init() {}

    /// Feeds the next bytes of the stream. After `.complete` or `.invalid` the parser is done.
    public mutating func feed(_ input: UnsafeRawBufferPointer) -> Result {
        if failed { return .invalid("already failed") }
        let previous = buffer.count
        let room = WebSocketResponseHeadParser.maxHeadBytes + 4 - previous
        buffer.append(contentsOf: input.prefix(max(room, 0)))
        // Look for the end of the head (CRLFCRLF or LFLF), starting just before the new bytes.
        var i = max(previous - 3, 0)
        var end = -1
        while i < buffer.count {
            if buffer[i] == 10 {
                if i + 1 < buffer.count, buffer[i + 1] == 10 { end = i + 2; break }
                if i + 2 < buffer.count, buffer[i + 1] == 13, buffer[i + 2] == 10 { end = i + 3; break }
            }
            i += 1
        }
        if end < 0 {
            if buffer.count > WebSocketResponseHeadParser.maxHeadBytes {
                failed = true
                return .invalid("response head over \(WebSocketResponseHeadParser.maxHeadBytes) bytes")
            }
            return .needMore
        }
        if end > WebSocketResponseHeadParser.maxHeadBytes + 4 {
            failed = true
            return .invalid("response head over \(WebSocketResponseHeadParser.maxHeadBytes) bytes")
        }
        let parsed = WebSocketResponseHeadParser.parse(buffer[0..<end])
        buffer = []
        switch parsed {
        case .success(let (status, headers)):
            return .complete(status: status, headers: headers, consumed: end - previous)
        case .failure(let reason):
            failed = true
            return .invalid(reason.text)
        }
    }

    struct Reason: Error { let text: String }

    private static func parse(_ head: ArraySlice<UInt8>) -> Swift.Result<(Int, [HTTPHeaderPair]), Reason> {
        var lines: [ArraySlice<UInt8>] = []
        var start = head.startIndex
        var i = head.startIndex
        while i < head.endIndex {
            if head[i] == 10 {
                var lineEnd = i
                if lineEnd > start, head[lineEnd - 1] == 13 { lineEnd -= 1 }
                lines.append(head[start..<lineEnd])
                start = i + 1
            }
            i += 1
        }
        // The last line is the empty one ending the head.
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        guard let statusLine = lines.first else { return .failure(Reason(text: "empty response")) }
        guard let status = parseStatusLine(statusLine) else { return .failure(Reason(text: "malformed status line")) }
        guard lines.count - 1 <= maxHeaderCount else { return .failure(Reason(text: "more than \(maxHeaderCount) headers")) }
        var headers: [HTTPHeaderPair] = []
        headers.reserveCapacity(lines.count - 1)
        for line in lines.dropFirst() {
            guard let first = line.first, first != 32, first != 9 else {
                return .failure(Reason(text: "obsolete line folding"))
            }
            guard let colon = line.firstIndex(of: 58), colon > line.startIndex else {
                return .failure(Reason(text: "header line without a name and colon"))
            }
            let name = line[line.startIndex..<colon]
            guard name.allSatisfy(isTokenByte) else { return .failure(Reason(text: "invalid header name")) }
            var valueStart = colon + 1
            var valueEnd = line.endIndex
            while valueStart < valueEnd, line[valueStart] == 32 || line[valueStart] == 9 { valueStart += 1 }
            while valueEnd > valueStart, line[valueEnd - 1] == 32 || line[valueEnd - 1] == 9 { valueEnd -= 1 }
            let value = line[valueStart..<valueEnd]
            guard value.allSatisfy({ $0 == 9 || ($0 >= 32 && $0 != 127) }) else {
                return .failure(Reason(text: "control character in a header value"))
            }
            headers.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
        }
        return .success((status, headers))
    }

    /// "HTTP/1.x SSS[ reason]" → SSS.
    private static func parseStatusLine(_ line: ArraySlice<UInt8>) -> Int? {
        let bytes = Array(line)
        let prefix: [UInt8] = Array("HTTP/1.".utf8)
        guard bytes.count >= 12, Array(bytes[0..<7]) == prefix, bytes[7] >= 48, bytes[7] <= 57, bytes[8] == 32 else { return nil }
        var status = 0
        for b in bytes[9..<12] {
            guard b >= 48, b <= 57 else { return nil }
            status = status * 10 + Int(b - 48)
        }
        guard status >= 100 else { return nil }
        if bytes.count > 12 {
            guard bytes[12] == 32 else { return nil }
            guard bytes[13...].allSatisfy({ $0 == 9 || ($0 >= 32 && $0 != 127) }) else { return nil }
        }
        return status
    }

    private static func isTokenByte(_ b: UInt8) -> Bool {
        switch b {
        case 48...57, 65...90, 97...122: return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
             UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
             UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default: return false
        }
    }
}

/// A header as the WebSocket codec's handshake functions take it.
public typealias HTTPHeaderPair = (name: String, value: String)
