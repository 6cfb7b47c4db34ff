// The status line and header fields of an HTTP/1.1 response head (the server's answer to the
// upgrade). Only what the handshake check needs: lenient about reason phrases, strict about
// the status code. Pure; called once per connection.

struct ResponseHead {
    var status: Int
    var headers: [(name: String, value: String)]

    /// `bytes` is the head including the final CRLF CRLF. Nil when it is not HTTP/1.x.
    init?(_ bytes: ArraySlice<UInt8>) {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: true).makeIterator()
        guard let statusLine = lines.next(), statusLine.hasPrefix("HTTP/1.") else { return nil }
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[1].count == 3, let code = Int(parts[1]) else { return nil }
        status = code
        headers = []
        while let line = lines.next() {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let value = line[line.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" })
            headers.append((String(line[..<colon]), String(value)))
        }
    }
}
