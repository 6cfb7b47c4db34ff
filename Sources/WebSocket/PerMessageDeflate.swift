// permessage-deflate negotiation (RFC 7692 section 7.1): parsing Sec-WebSocket-Extensions,
// choosing an offer on the server, validating the answer on the client.

/// The negotiated parameters of one connection. Because this module always works with no
/// context takeover in both directions (see DeflateContext), the only parameters that change
/// its behaviour are the window sizes the local side compresses with.
public struct PerMessageDeflateParameters: Equatable, Sendable {
    public var serverNoContextTakeover: Bool
    public var clientNoContextTakeover: Bool
    /// The server's LZ77 window (8...15); the server compresses with at most this.
    public var serverMaxWindowBits: Int
    /// The client's LZ77 window (8...15); the client compresses with at most this.
    public var clientMaxWindowBits: Int

    public init(serverNoContextTakeover: Bool = true, clientNoContextTakeover: Bool = true,
                serverMaxWindowBits: Int = 15, clientMaxWindowBits: Int = 15) {
        self.serverNoContextTakeover = serverNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
        self.serverMaxWindowBits = serverMaxWindowBits
        self.clientMaxWindowBits = clientMaxWindowBits
    }

    /// The window bits to pass to `DeflateContext.compress` when `role` sends.
    public func sendWindowBits(role: WebSocketRole) -> Int {
        role == .server ? serverMaxWindowBits : clientMaxWindowBits
    }
}

/// One element of a Sec-WebSocket-Extensions header: a name and its parameters (values unquoted).
struct WebSocketExtension: Equatable {
    var name: String
    var parameters: [(name: String, value: String?)]

    static func == (a: WebSocketExtension, b: WebSocketExtension) -> Bool {
        a.name == b.name && a.parameters.elementsEqual(b.parameters) { $0.name == $1.name && $0.value == $1.value }
    }

    /// Parses every value of the header (RFC 6455 section 9.1 grammar: token, `;` params,
    /// `token=token` or `token="quoted"`, elements separated by `,`). Nil on a syntax error.
    static func parse(_ values: [String]) -> [WebSocketExtension]? {
        var out: [WebSocketExtension] = []
        for value in values {
            var s = Scanner(Array(value.utf8))
            while true {
                s.skipSpace()
                if s.atEnd { break }
                if s.peek == UInt8(ascii: ",") { s.i += 1; continue }
                guard let name = s.token() else { return nil }
                var ext = WebSocketExtension(name: name.lowercased(), parameters: [])
                while true {
                    s.skipSpace()
                    if s.atEnd { break }
                    if s.peek == UInt8(ascii: ",") { s.i += 1; break }
                    guard s.peek == UInt8(ascii: ";") else { return nil }
                    s.i += 1
                    s.skipSpace()
                    guard let param = s.token() else { return nil }
                    s.skipSpace()
                    var v: String?
                    if !s.atEnd && s.peek == UInt8(ascii: "=") {
                        s.i += 1
                        s.skipSpace()
                        guard let parsed = s.atEnd ? nil : (s.peek == UInt8(ascii: "\"") ? s.quoted() : s.token()) else { return nil }
                        v = parsed
                    }
                    ext.parameters.append((param.lowercased(), v))
                }
                out.append(ext)
            }
        }
        return out
    }

    struct Scanner {
        let b: [UInt8]
        var i = 0
        init(_ b: [UInt8]) { self.b = b }
        var atEnd: Bool { i >= b.count }
        var peek: UInt8 { b[i] }
        mutating func skipSpace() { while i < b.count && (b[i] == 32 || b[i] == 9) { i += 1 } }
        mutating func token() -> String? {
            let start = i
            while i < b.count && Scanner.isTokenChar(b[i]) { i += 1 }
            return i > start ? String(decoding: b[start..<i], as: UTF8.self) : nil
        }
        mutating func quoted() -> String? {
            i += 1
            var out: [UInt8] = []
            while i < b.count {
                let c = b[i]
                i += 1
                if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                if c == UInt8(ascii: "\\") {
                    guard i < b.count else { return nil }
                    out.append(b[i])
                    i += 1
                } else {
                    out.append(c)
                }
            }
            return nil
        }
        static func isTokenChar(_ c: UInt8) -> Bool {
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default:
                return "!#$%&'*+-.^_`|~".utf8.contains(c)
            }
        }
    }
}

/// Negotiation rules. Policy (docs/websocket.md): this side never keeps zlib state per
/// connection, so a server always answers with client_no_context_takeover (a client must
/// accept it, RFC 7692 section 7.1.1.2), and a client offers server_no_context_takeover and
/// refuses an answer without it.
public enum PerMessageDeflate {
    public static let extensionName = "permessage-deflate"

    /// What a client built on this module offers.
    public static let clientOffer =
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits"

    /// Server side: picks the first acceptable permessage-deflate offer among every
    /// Sec-WebSocket-Extensions value. Invalid offers (unknown or repeated parameters, a window
    /// outside 8...15, a value where none belongs) are declined one by one, as RFC 7692
    /// section 5 asks. Returns the response header value and the parameters, or nil.
    public static func negotiate(offers values: [String]) -> (response: String, parameters: PerMessageDeflateParameters)? {
        guard let extensions = WebSocketExtension.parse(values) else { return nil }
        for ext in extensions where ext.name == extensionName {
            if let accepted = acceptOffer(ext) { return accepted }
        }
        return nil
    }

    static func acceptOffer(_ ext: WebSocketExtension) -> (response: String, parameters: PerMessageDeflateParameters)? {
        var params = PerMessageDeflateParameters()
        var seen = Set<String>()
        var serverNoContext = false
        var serverWindow: Int?
        for p in ext.parameters {
            guard seen.insert(p.name).inserted else { return nil }
            switch p.name {
            case "server_no_context_takeover":
                guard p.value == nil else { return nil }
                serverNoContext = true
            case "client_no_context_takeover":
                guard p.value == nil else { return nil }
            case "server_max_window_bits":
                guard let v = p.value, let bits = windowBits(v) else { return nil }
                serverWindow = bits
            case "client_max_window_bits":
                if let v = p.value { guard windowBits(v) != nil else { return nil } }
            default:
                return nil
            }
        }
        var response = extensionName
        if serverNoContext { response += "; server_no_context_takeover" }
        response += "; client_no_context_takeover"
        if let serverWindow {
            response += "; server_max_window_bits=\(serverWindow)"
            params.serverMaxWindowBits = serverWindow
        }
        return (response, params)
    }

    /// Client side: checks the server's Sec-WebSocket-Extensions values against
    /// `clientOffer`. No header means no compression; anything not offered, malformed, or
    /// lacking server_no_context_takeover fails the handshake (returns a reason).
    public static func acceptResponse(_ values: [String], offered: Bool) -> Result<PerMessageDeflateParameters?, WebSocketHandshakeError> {
        guard let extensions = WebSocketExtension.parse(values) else {
            return .failure(WebSocketHandshakeError("malformed Sec-WebSocket-Extensions"))
        }
        if extensions.isEmpty { return .success(nil) }
        guard offered, extensions.count == 1, extensions[0].name == extensionName else {
            return .failure(WebSocketHandshakeError("server chose an extension that was not offered"))
        }
        var params = PerMessageDeflateParameters(serverNoContextTakeover: false)
        var seen = Set<String>()
        for p in extensions[0].parameters {
            guard seen.insert(p.name).inserted else {
                return .failure(WebSocketHandshakeError("repeated permessage-deflate parameter"))
            }
            switch p.name {
            case "server_no_context_takeover" where p.value == nil:
                params.serverNoContextTakeover = true
            case "client_no_context_takeover" where p.value == nil:
                params.clientNoContextTakeover = true
            case "server_max_window_bits":
                guard let v = p.value, let bits = windowBits(v) else {
                    return .failure(WebSocketHandshakeError("bad server_max_window_bits"))
                }
                params.serverMaxWindowBits = bits
            case "client_max_window_bits":
                guard let v = p.value, let bits = windowBits(v) else {
                    return .failure(WebSocketHandshakeError("bad client_max_window_bits"))
                }
                params.clientMaxWindowBits = bits
            default:
                return .failure(WebSocketHandshakeError("unexpected permessage-deflate parameter \(p.name)"))
            }
        }
        guard params.serverNoContextTakeover else {
            return .failure(WebSocketHandshakeError("server did not accept server_no_context_takeover"))
        }
        return .success(params)
    }

    /// 8...15 written as a decimal without leading zeros.
    static func windowBits(_ s: String) -> Int? {
        guard let first = s.utf8.first, first != UInt8(ascii: "0"), s.utf8.count <= 2,
              s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let v = Int(s), (8...15).contains(v) else { return nil }
        return v
    }
}
