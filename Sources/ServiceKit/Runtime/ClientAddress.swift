// Which client sent a request. Behind the gateway the socket peer is nginx (127.0.0.1), and
// nginx appends the address it saw to X-Forwarded-For (`$proxy_add_x_forwarded_for`): only
// that last hop is trustworthy, every earlier entry is whatever the client wrote. A request
// from any other peer is taken at its socket address, its X-Forwarded-For ignored.
import HTTP1
import Web

public enum ClientAddress {
    /// Peers whose X-Forwarded-For is believed (the gateway on this host).
    public static let defaultTrustedProxies: Set<String> = ["127.0.0.1", "::1"]

    /// The client's IP as text; "unknown" when the connection is already gone. Loop thread.
    public static func of(_ request: HTTPRequest, trustedProxies: Set<String> = defaultTrustedProxies) -> String {
        guard let peer = request.remoteAddress?.ip else { return "unknown" }
        guard trustedProxies.contains(peer) else { return peer }
        return lastForwardedHop(request.headers.values(name: "X-Forwarded-For")) ?? peer
    }

    /// The last address of the last X-Forwarded-For field, trimmed; nil when there is none or
    /// it is not a plausible address (at most 45 characters of hex digits, '.', ':').
    static func lastForwardedHop(_ fields: [String]) -> String? {
        guard let field = fields.last, let last = field.split(separator: ",").last else { return nil }
        let hop = String(last).trimmingCharacters(in: " ")
        guard !hop.isEmpty, hop.utf8.count <= 45, hop.utf8.allSatisfy({ byte in
            (byte >= 48 && byte <= 57) || (byte >= 97 && byte <= 102) || (byte >= 65 && byte <= 70)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
        }) else { return nil }
        return hop
    }
}
