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
    public init(url: String) throws(AMQPError) {
        let prefix = "amqp://"
        guard url.hasPrefix(prefix) else { throw .invalidURL("scheme must be amqp:// in \(redacted(url))") }
        var rest = Substring(url.dropFirst(prefix.count))
        var path = ""
        if let slash = rest.firstIndex(of: "/") {
            path = String(rest[rest.index(after: slash)...])
            rest = rest[..<slash]
        }
        var user = "guest", password = "guest"
        if let at = rest.lastIndex(of: "@") {
            let info = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = info.firstIndex(of: ":") {
                user = try percentDecode(info[..<colon])
                password = try percentDecode(info[info.index(after: colon)...])
            } else {
                user = try percentDecode(info)
                password = ""
            }
        }
        var host = String(rest), port = 5672
        if rest.hasPrefix("[") {  // IPv6 literal
            guard let close = rest.firstIndex(of: "]") else { throw .invalidURL("unclosed [ in host") }
            host = String(rest[rest.index(after: rest.startIndex)..<close])
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw .invalidURL("bad port") }
                port = p
            } else if !after.isEmpty {
                throw .invalidURL("junk after ]")
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let p = Int(rest[rest.index(after: colon)...]), (1...65535).contains(p) else {
                throw .invalidURL("bad port in \(redacted(url))")
            }
            port = p
        }
        guard !host.isEmpty else { throw .invalidURL("no host in \(redacted(url))") }
        let vhost = try percentDecode(Substring(path))
        self.init(host: host, port: port, user: user, password: password, vhost: vhost.isEmpty ? "/" : vhost)
    }
}

/// The URL with its password replaced, for error messages and logs.
func redacted(_ url: String) -> String {
    let prefix = "amqp://"
    guard url.hasPrefix(prefix), let at = url.lastIndex(of: "@") else { return url }
    let start = url.index(url.startIndex, offsetBy: prefix.count)
    guard start < at, let colon = url[start..<at].firstIndex(of: ":") else { return url }
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
