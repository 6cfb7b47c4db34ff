// The opening handshake, both sides.
import Foundation
import Testing
@testable import WebSocket

/// Splits a request or response head into its first line and (name, value) headers.
func headLines(_ bytes: [UInt8]) -> (first: String, headers: [(name: String, value: String)]) {
    let text = String(decoding: bytes, as: UTF8.self)
    let head = text.components(separatedBy: "\r\n\r\n")[0]
    var lines = head.components(separatedBy: "\r\n")
    let first = lines.removeFirst()
    let headers = lines.map { line -> (name: String, value: String) in
        let colon = line.firstIndex(of: ":")!
        return (String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
    }
    return (first, headers)
}


@Suite struct ServerHandshake {
    static let good: [(name: String, value: String)] = [
        ("Host", "example.com"), ("upgrade", "WebSocket"), ("Connection", "keep-alive, Upgrade"),
        ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
    ]

    func respond(_ headers: [(name: String, value: String)], method: String = "GET", version: (Int, Int) = (1, 1),
                 configuration: WebSocketServerConfiguration = .init()) -> Result<WebSocketServerHandshakeAccept, WebSocketHandshakeRejection> {
        WebSocketServerHandshake.respond(method: method, httpVersion: version, headers: headers, configuration: configuration)
    }

    @Test func rfcExampleAcceptKey() {
        #expect(WebSocketServerHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func acceptsAndAnswers101() throws {
        let accepted = try respond(Self.good).get()
        let (first, headers) = headLines(accepted.responseHead)
        #expect(first == "HTTP/1.1 101 Switching Protocols")
        #expect(headers.contains { $0.name == "Sec-WebSocket-Accept" && $0.value == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" })
        #expect(accepted.subprotocol == nil && accepted.deflate == nil)
        #expect(String(decoding: accepted.responseHead, as: UTF8.self).hasSuffix("\r\n\r\n"))
    }

    @Test func rejections() {
        func status(_ r: Result<WebSocketServerHandshakeAccept, WebSocketHandshakeRejection>) -> Int {
            if case .failure(let e) = r { return e.status }
            return 101
        }
        var h = Self.good
        #expect(status(respond(h, method: "POST")) == 405)
        #expect(status(respond(h, version: (1, 0))) == 400)
        #expect(status(respond(h.filter { $0.name != "upgrade" })) == 426)
        #expect(status(respond(h.filter { $0.name != "Connection" })) == 400)
        #expect(status(respond(h.filter { $0.name != "Host" })) == 400)
        h[3].value = "c2hvcnQ="
        #expect(status(respond(h)) == 400)
        h = Self.good
        h.append(("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="))
        #expect(status(respond(h)) == 400, "two keys")
        h = Self.good
        h[4].value = "8"
        let r = respond(h)
        #expect(status(r) == 426)
        if case .failure(let e) = r {
            #expect(String(decoding: e.responseHead, as: UTF8.self).contains("Sec-WebSocket-Version: 13\r\n"))
            #expect(String(decoding: e.responseHead, as: UTF8.self).hasPrefix("HTTP/1.1 426 Upgrade Required\r\n"))
        }
    }

    @Test func subprotocolSelection() throws {
        let h = Self.good + [("Sec-WebSocket-Protocol", "chat, superchat"), ("Sec-WebSocket-Protocol", "bearer.abc")]
        let byList = try respond(h, configuration: .init(subprotocols: ["superchat", "chat"])).get()
        #expect(byList.subprotocol == "superchat")
        #expect(byList.offeredSubprotocols == ["chat", "superchat", "bearer.abc"])
        let byClosure = try respond(h, configuration: .init(selectSubprotocol: { $0.first { $0.hasPrefix("bearer.") } })).get()
        #expect(byClosure.subprotocol == "bearer.abc")
        #expect(headLines(byClosure.responseHead).headers.contains { $0.name == "Sec-WebSocket-Protocol" && $0.value == "bearer.abc" })
        let none = try respond(h, configuration: .init(subprotocols: ["other"])).get()
        #expect(none.subprotocol == nil)
        #expect(!String(decoding: none.responseHead, as: UTF8.self).contains("Sec-WebSocket-Protocol"))
    }

    @Test func deflateNegotiatedOnlyWhenAllowed() throws {
        let h = Self.good + [("Sec-WebSocket-Extensions", "permessage-deflate; client_max_window_bits")]
        let on = try respond(h).get()
        #expect(on.deflate == PerMessageDeflateParameters())
        #expect(headLines(on.responseHead).headers.contains { $0.name == "Sec-WebSocket-Extensions" && $0.value == "permessage-deflate; client_no_context_takeover" })
        let off = try respond(h, configuration: .init(allowDeflate: false)).get()
        #expect(off.deflate == nil)
    }
}

@Suite struct ClientHandshakeSuite {
    @Test func clientAndServerAgree() throws {
        let client = WebSocketClientHandshake(host: "127.0.0.1:5004", path: "/ws?userId=7", subprotocols: ["notify.v1"], offerDeflate: true)
        let (first, headers) = headLines(client.requestHead)
        #expect(first == "GET /ws?userId=7 HTTP/1.1")
        #expect(HandshakeCrypto.isValidKey(client.key))
        let server = try WebSocketServerHandshake.respond(
            method: "GET", httpVersion: (1, 1), headers: headers,
            configuration: .init(subprotocols: ["notify.v1"])).get()
        let response = headLines(server.responseHead)
        let accepted = try client.validate(status: 101, headers: response.headers).get()
        #expect(accepted.subprotocol == "notify.v1")
        #expect(accepted.deflate == server.deflate)
        #expect(accepted.deflate?.serverNoContextTakeover == true)
        #expect(accepted.deflate?.clientNoContextTakeover == true)
    }

    @Test func clientRejectsBadResponses() {
        let client = WebSocketClientHandshake(host: "h", path: "/", subprotocols: ["a"])
        let accept = WebSocketServerHandshake.acceptValue(forKey: client.key)
        let base: [(name: String, value: String)] = [("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Accept", accept)]
        #expect((try? client.validate(status: 101, headers: base).get()) == WebSocketClientHandshakeAccept(subprotocol: nil, deflate: nil))
        #expect((try? client.validate(status: 200, headers: base).get()) == nil)
        #expect((try? client.validate(status: 101, headers: [base[0], base[1], ("Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")]).get()) == nil)
        #expect((try? client.validate(status: 101, headers: base + [("Sec-WebSocket-Protocol", "b")]).get()) == nil)
        #expect((try? client.validate(status: 101, headers: base + [("Sec-WebSocket-Extensions", "permessage-deflate")]).get()) == nil,
                "deflate not offered")
    }
}
