// The server side of the opening handshake (RFC 6455 section 4.2), independent of any HTTP
// parser: the caller passes the request line's method and version and the header list.

/// What a server accepts. Built once at startup and shared (Sendable).
public struct WebSocketServerConfiguration: Sendable {
    /// Subprotocols this server speaks, in its order of preference.
    public var subprotocols: [String]
    /// Overrides `subprotocols`: given the client's offers in order, returns the one to
    /// answer with (it must be one of them) or nil. notifyd uses this for `bearer.<jwt>`.
    public var selectSubprotocol: (@Sendable ([String]) -> String?)?
    /// Whether permessage-deflate may be negotiated.
    public var allowDeflate: Bool

    public init(subprotocols: [String] = [], allowDeflate: Bool = true,
                selectSubprotocol: (@Sendable ([String]) -> String?)? = nil) {
        self.subprotocols = subprotocols
        self.allowDeflate = allowDeflate
        self.selectSubprotocol = selectSubprotocol
    }
}

/// An accepted upgrade: write `responseHead`, then speak WebSocket.
public struct WebSocketServerHandshakeAccept: Sendable {
    /// "HTTP/1.1 101 Switching Protocols" with every header and the blank line.
    public var responseHead: [UInt8]
    /// The chosen subprotocol, echoed in the response; nil when none.
    public var subprotocol: String?
    /// Everything the client offered in Sec-WebSocket-Protocol, in order.
    public var offeredSubprotocols: [String]
    /// The negotiated permessage-deflate parameters, nil when not negotiated.
    public var deflate: PerMessageDeflateParameters?
}

/// A refused upgrade: write `responseHead` (status line, headers and a text body), then close.
public struct WebSocketHandshakeRejection: Error, Sendable, Equatable {
    public var status: Int
    public var reason: String
    public var responseHead: [UInt8]

    /// A complete `Connection: close` response with `reason` as a text/plain body. `extraHeaders`
    /// are added verbatim (e.g. Sec-WebSocket-Version: 13 on a 426, WWW-Authenticate on a 401).
    public init(status: Int, reason: String, extraHeaders: [(name: String, value: String)] = []) {
        self.status = status
        self.reason = reason
        let body = reason + "\n"
        var head = "HTTP/1.1 \(status) \(WebSocketHandshakeRejection.phrase(status))\r\n"
        head += "Content-Type: text/plain; charset=utf-8\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n"
        for h in extraHeaders { head += "\(h.name): \(h.value)\r\n" }
        head += "\r\n" + body
        responseHead = Array(head.utf8)
    }

    static func phrase(_ status: Int) -> String {
        switch status {
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 426: return "Upgrade Required"
        case 429: return "Too Many Requests"
        case 503: return "Service Unavailable"
        default: return "Error"
        }
    }
}

/// A failed client-side check, with a reason for logs.
public struct WebSocketHandshakeError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

public enum WebSocketServerHandshake {
    /// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + GUID)).
    public static func acceptValue(forKey key: String) -> String {
        HandshakeCrypto.accept(key: key)
    }

    /// Checks an upgrade request and builds the 101 response or the rejection.
    ///
    /// Rejections: 405 (with Allow: GET) for a method other than GET; 400 for HTTP older than
    /// 1.1, no Host, a missing Connection: upgrade, or a Sec-WebSocket-Key that is not base64
    /// of 16 bytes; 426 with `Upgrade: websocket` when Upgrade does not name websocket, and
    /// with `Sec-WebSocket-Version: 13` when the version is not 13. `extraHeaders` go into the
    /// 101 verbatim. Called on the loop thread, once per upgrade; it allocates (a handshake is
    /// not a hot path).
    public static func respond(
        method: String, httpVersion: (major: Int, minor: Int),
        headers: [(name: String, value: String)],
        configuration: WebSocketServerConfiguration,
        extraHeaders: [(name: String, value: String)] = []
    ) -> Result<WebSocketServerHandshakeAccept, WebSocketHandshakeRejection> {
        guard method == "GET" else {
            return .failure(.init(status: 405, reason: "WebSocket upgrade needs GET", extraHeaders: [("Allow", "GET")]))
        }
        guard httpVersion.major > 1 || (httpVersion.major == 1 && httpVersion.minor >= 1) else {
            return .failure(.init(status: 400, reason: "WebSocket upgrade needs HTTP/1.1"))
        }
        guard HeaderValues.containsToken(headers, "Upgrade", "websocket") else {
            return .failure(.init(status: 426, reason: "Upgrade: websocket required",
                                  extraHeaders: [("Upgrade", "websocket"), ("Connection", "Upgrade")]))
        }
        guard HeaderValues.containsToken(headers, "Connection", "upgrade") else {
            return .failure(.init(status: 400, reason: "Connection: Upgrade required"))
        }
        let versions = HeaderValues.tokens(headers, "Sec-WebSocket-Version")
        guard versions.count == 1, versions[0] == "13" else {
            return .failure(.init(status: 426, reason: "Sec-WebSocket-Version 13 required",
                                  extraHeaders: [("Sec-WebSocket-Version", "13")]))
        }
        guard !HeaderValues.all(headers, "Host").isEmpty else {
            return .failure(.init(status: 400, reason: "Host required"))
        }
        let keys = HeaderValues.all(headers, "Sec-WebSocket-Key")
        guard keys.count == 1 else {
            return .failure(.init(status: 400, reason: "exactly one Sec-WebSocket-Key required"))
        }
        let key = HeaderValues.trim(Substring(keys[0]))
        guard HandshakeCrypto.isValidKey(key) else {
            return .failure(.init(status: 400, reason: "Sec-WebSocket-Key must be base64 of 16 bytes"))
        }

        let offered = HeaderValues.tokens(headers, "Sec-WebSocket-Protocol").map(String.init)
        var chosen: String?
        if !offered.isEmpty {
            if let select = configuration.selectSubprotocol {
                chosen = select(offered).flatMap { offered.contains($0) ? $0 : nil }
            } else {
                chosen = configuration.subprotocols.first { offered.contains($0) }
            }
        }
        var deflate: (response: String, parameters: PerMessageDeflateParameters)?
        if configuration.allowDeflate {
            deflate = PerMessageDeflate.negotiate(offers: HeaderValues.all(headers, "Sec-WebSocket-Extensions"))
        }

        var head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        head += "Sec-WebSocket-Accept: \(HandshakeCrypto.accept(key: key))\r\n"
        if let chosen { head += "Sec-WebSocket-Protocol: \(chosen)\r\n" }
        if let deflate { head += "Sec-WebSocket-Extensions: \(deflate.response)\r\n" }
        for h in extraHeaders { head += "\(h.name): \(h.value)\r\n" }
        head += "\r\n"
        return .success(WebSocketServerHandshakeAccept(
            responseHead: Array(head.utf8), subprotocol: chosen,
            offeredSubprotocols: offered, deflate: deflate?.parameters))
    }
}
