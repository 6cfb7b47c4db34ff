// A WebSocket target given as ws://host:port/path. Only numeric addresses (the I/O core does
// no DNS; "localhost" is mapped to 127.0.0.1). `{user}` in the path is replaced by the user
// id of each connection (notifyd: ws://127.0.0.1:5004/ws?userId={user}).
import Foundation

struct WSTarget: Equatable, Sendable, CustomStringConvertible {
    var host: String
    var port: Int
    /// Request target, starting with "/", possibly holding `{user}`.
    var path: String

    var description: String { "ws://\(hostHeader)\(path)" }

    /// The Host header value (IPv6 in brackets).
    var hostHeader: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Parses `ws://host[:port][/path]`. Returns nil for any other scheme or a bad port.
    init?(_ url: String) {
        guard url.hasPrefix("ws://") else { return nil }
        var rest = Substring(url.dropFirst(5))
        var pathPart = "/"
        if let slash = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) {
            pathPart = String(rest[slash...])
            if pathPart.hasPrefix("?") { pathPart = "/" + pathPart }
            rest = rest[..<slash]
        }
        var hostPart = String(rest)
        var port = 80
        if hostPart.hasPrefix("[") {
            guard let close = hostPart.firstIndex(of: "]") else { return nil }
            let after = hostPart[hostPart.index(after: close)...]
            let inner = String(hostPart[hostPart.index(after: hostPart.startIndex)..<close])
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()) else { return nil }
                port = p
            } else if !after.isEmpty { return nil }
            hostPart = inner
        } else if let colon = hostPart.lastIndex(of: ":") {
            guard let p = Int(hostPart[hostPart.index(after: colon)...]) else { return nil }
            port = p
            hostPart = String(hostPart[..<colon])
        }
        guard !hostPart.isEmpty, (1...65535).contains(port) else { return nil }
        host = hostPart == "localhost" ? "127.0.0.1" : hostPart
        self.port = port
        path = pathPart
    }

    /// True for 127.0.0.0/8 and ::1: the only targets allowed without --allow-remote.
    var isLoopback: Bool {
        if host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts.allSatisfy({ UInt8($0) != nil }) else { return false }
        return parts[0] == "127"
    }

    /// The request target for `user`.
    func path(for user: Int) -> String {
        path.contains("{user}") ? path.replacingOccurrences(of: "{user}", with: String(user)) : path
    }
}
