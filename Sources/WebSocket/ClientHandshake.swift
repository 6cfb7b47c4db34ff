// The client side of the opening handshake (RFC 6455 section 4.1): the request head, then the
// checks on the server's 101.

/// What the server agreed to.
public struct WebSocketClientHandshakeAccept: Sendable, Equatable {
    public var subprotocol: String?
    public var deflate: PerMessageDeflateParameters?
}

/// One opening handshake of a client connection. Create it, write `requestHead`, parse the
/// response with the HTTP layer, then call `validate`.
public struct WebSocketClientHandshake: Sendable {
    /// The Sec-WebSocket-Key sent (16 random bytes, base64).
    public let key: String
    /// The complete GET request head, ending with the blank line.
    public let requestHead: [UInt8]
    public let offeredSubprotocols: [String]
    public let offeredDeflate: Bool

    /// `path` is the request target ("/ws?userId=7"); `host` the Host header value
    /// ("127.0.0.1:5004"); `extraHeaders` go in verbatim (Authorization, Origin, ...).
    public init(host: String, path: String, subprotocols: [String] = [], offerDeflate: Bool = false,
                extraHeaders: [(name: String, value: String)] = []) {
        key = HandshakeCrypto.randomKey()
        offeredSubprotocols = subprotocols
        offeredDeflate = offerDeflate
        var head = "GET \(path.isEmpty ? "/" : path) HTTP/1.1\r\nHost: \(host)\r\n"
        head += "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
        if !subprotocols.isEmpty { head += "Sec-WebSocket-Protocol: \(subprotocols.joined(separator: ", "))\r\n" }
        if offerDeflate { head += "Sec-WebSocket-Extensions: \(PerMessageDeflate.clientOffer)\r\n" }
        for h in extraHeaders { head += "\(h.name): \(h.value)\r\n" }
        head += "\r\n"
        requestHead = Array(head.utf8)
    }

    /// Checks the server's response: status 101, Upgrade: websocket, Connection: upgrade, the
    /// Sec-WebSocket-Accept matching `key`, a subprotocol (if any) that was offered, and
    /// permessage-deflate parameters this client can honour.
    public func validate(status: Int, headers: [(name: String, value: String)]) -> Result<WebSocketClientHandshakeAccept, WebSocketHandshakeError> {
        guard status == 101 else { return .failure(.init("status \(status), not 101")) }
        guard HeaderValues.containsToken(headers, "Upgrade", "websocket") else {
            return .failure(.init("missing Upgrade: websocket"))
        }
        guard HeaderValues.containsToken(headers, "Connection", "upgrade") else {
            return .failure(.init("missing Connection: Upgrade"))
        }
        let accepts = HeaderValues.all(headers, "Sec-WebSocket-Accept")
        guard accepts.count == 1, HeaderValues.trim(Substring(accepts[0])) == HandshakeCrypto.accept(key: key) else {
            return .failure(.init("wrong Sec-WebSocket-Accept"))
        }
        let protocols = HeaderValues.tokens(headers, "Sec-WebSocket-Protocol")
        var subprotocol: String?
        if !protocols.isEmpty {
            guard protocols.count == 1, offeredSubprotocols.contains(String(protocols[0])) else {
                return .failure(.init("server chose a subprotocol that was not offered"))
            }
            subprotocol = String(protocols[0])
        }
        switch PerMessageDeflate.acceptResponse(HeaderValues.all(headers, "Sec-WebSocket-Extensions"), offered: offeredDeflate) {
        case .failure(let e): return .failure(e)
        case .success(let deflate): return .success(WebSocketClientHandshakeAccept(subprotocol: subprotocol, deflate: deflate))
        }
    }
}
