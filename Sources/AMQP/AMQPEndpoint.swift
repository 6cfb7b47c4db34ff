// Where a broker is: parsed from amqp://user:pass@host:port/vhost (RFC 3986 percent-decoding,
// so the default vhost "/" is written %2f).

public struct AMQPEndpoint: Sendable, Hashable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String
    public var vhost: String

    public init(host: String, port: Int = 5672, user: String = "guest", password: String = "guest", vhost: String = "/") {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.vhost = vhost
    }

    /// Parses amqp://[user[:pass]@]host[:port][/vhost]. A missing or empty vhost means "/";
    /// user and password default to guest. amqps:// is refused (no TLS in this build).
    ///
    /// The delimiters are found byte-wise in the UTF-8: a Character-wise search would miss an
    /// '@' followed by a combining mark (one grapheme), read the password as host and port,
    /// and then repeat it in the error.
    public init(url: String) throws(AMQPError) {
        let prefix = "amqp://"
        guard url.utf8.starts(with: prefix.utf8) else { throw .invalidURL("scheme must be amqp:// in \(redacted(url))") }
        var rest = url[url.utf8.index(url.startIndex, offsetBy: prefix.utf8.count)...]
        var path: Substring = ""
        if let slash = rest.utf8.firstIndex(of: UInt8(ascii: "/")) {
            path = rest[rest.utf8.index(after: slash)...]
            rest = rest[..<slash]
        }
        var user = "guest", password = "guest"
        if let at = rest.utf8.lastIndex(of: UInt8(ascii: "@")) {
            let info = rest[..<at]
            rest = rest[rest.utf8.index(after: at)...]
            if let colon = info.utf8.firstIndex(of: UInt8(ascii: ":")) {
                user = try percentDecode(info[..<colon])
                password = try percentDecode(info[info.utf8.index(after: colon)...])
            } else {
                user = try percentDecode(info)
                password = ""
            }
        }
        var host = String(rest), port = 5672
        if rest.utf8.first == UInt8(ascii: "[") {  // IPv6 literal
            guard let close = rest.utf8.firstIndex(of: UInt8(ascii: "]")) else { throw .invalidURL("unclosed [ in host") }
            host = String(rest[rest.utf8.index(after: rest.startIndex)..<close])
            let after = rest[rest.utf8.index(after: close)...]
            if after.utf8.first == UInt8(ascii: ":") {
                guard let p = parsePort(after[after.utf8.index(after: after.startIndex)...]) else { throw .invalidURL("bad port") }
                port = p
            } else if !after.isEmpty {
                throw .invalidURL("junk after ]")
            }
        } else if let colon = rest.utf8.lastIndex(of: UInt8(ascii: ":")) {
            host = String(rest[..<colon])
            guard let p = parsePort(rest[rest.utf8.index(after: colon)...]) else {
                throw .invalidURL("bad port in \(redacted(url))")
            }
            port = p
        }
        guard !host.isEmpty else { throw .invalidURL("no host in \(redacted(url))") }
        let vhost = try percentDecode(path)
        self.init(host: host, port: port, user: user, password: password, vhost: vhost.isEmpty ? "/" : vhost)
    }
}

/// 1-65535 in decimal digits only (Int("+80") would accept a sign).
private func parsePort(_ s: Substring) -> Int? {
    guard !s.isEmpty, s.utf8.count <= 5, s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let p = Int(s),
          (1...65535).contains(p) else { return nil }
    return p
}

/// The URL with its password replaced, for error messages and logs (byte-wise, like the parser).
func redacted(_ url: String) -> String {
    let prefix = "amqp://"
    guard url.utf8.starts(with: prefix.utf8), let at = url.utf8.lastIndex(of: UInt8(ascii: "@")) else { return url }
    let start = url.utf8.index(url.startIndex, offsetBy: prefix.utf8.count)
    guard start < at, let colon = url[start..<at].utf8.firstIndex(of: UInt8(ascii: ":")) else { return url }
    return String(url[...colon]) + "***" + String(url[at...])
}

private func percentDecode(_ s: Substring) throws(AMQPError) -> String {
    var out = [UInt8]()
    out.reserveCapacity(s.utf8.count)
    var it = s.utf8.makeIterator()
    while let c = it.next() {
        if c == UInt8(ascii: "%") {
            guard let h = it.next(), let l = it.next(), let hv = hexValue(h), let lv = hexValue(l) else {
                throw .invalidURL("bad percent escape")
            }
            out.append(hv << 4 | lv)
        } else {
            out.append(c)
        }
    }
    return String(decoding: out, as: UTF8.self)
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 48...57: c - 48
    case 65...70: c - 55
    case 97...102: c - 87
    default: nil
    }
}
