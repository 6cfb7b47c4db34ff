// Response serialization and the JSON writer's escaping.
import Testing
import HTTP1

func text(_ b: [UInt8]) -> String { String(decoding: b, as: UTF8.self) }

@Suite struct Responses {
    @Test func statusLineHeadersAndLength() {
        var head = HTTPResponseHead(status: .ok, headers: ["Content-Type": "text/plain", "Content-Length": "999"])
        head.headers.add(name: "X-A", value: "1")
        let out = HTTPResponse.encode(head, body: bytes("hi"), keepAlive: true)
        #expect(text(out) == "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nhi")
    }

    @Test func connectionHeaderFollowsKeepAliveAndVersion() {
        let head = HTTPResponseHead(status: .notFound)
        #expect(text(HTTPResponse.encode(head, keepAlive: false)) == "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        #expect(text(HTTPResponse.encode(head, keepAlive: true, requestVersion: .http1_0)).contains("Connection: keep-alive\r\n"))
        #expect(!text(HTTPResponse.encode(head, keepAlive: true)).contains("Connection"))
    }

    @Test func noContentLengthWhenTheStatusForbidsABody() {
        let out = text(HTTPResponse.encode(HTTPResponseHead(status: .noContent), body: bytes("x"), keepAlive: true))
        #expect(out == "HTTP/1.1 204 No Content\r\n\r\n")
        var up = [UInt8]()
        HTTPResponseHead(status: .switchingProtocols, headers: ["Upgrade": "websocket", "Connection": "Upgrade"])
            .serialize(into: &up, contentLength: nil, keepAlive: true)
        // Connection is owned by the serializer; an upgrade writes it as a plain header name variant.
        #expect(text(up) == "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")
    }

    @Test func headerInjectionIsNeutralised() {
        let head = HTTPResponseHead(status: .ok, headers: ["X-Evil": "a\r\nSet-Cookie: b"])
        let out = text(HTTPResponse.encode(head, keepAlive: true))
        #expect(out.contains("X-Evil: a  Set-Cookie: b\r\n"))
        #expect(!out.contains("\r\nSet-Cookie"))
    }

    @Test func reasonPhrasesAndDate() {
        #expect(HTTPStatus.uriTooLong.reasonPhrase == "URI Too Long")
        #expect(HTTPStatus.requestHeaderFieldsTooLarge.reasonPhrase == "Request Header Fields Too Large")
        #expect(HTTPStatus(299).reasonPhrase == "Success")
        #expect(HTTPDate.format(secondsSince1970: 784_111_777) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(secondsSince1970: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(secondsSince1970: 1_709_210_096) == "Thu, 29 Feb 2024 12:34:56 GMT")
        let out = text(HTTPResponse.encode(HTTPResponseHead(status: .ok), keepAlive: true, date: "Thu, 01 Jan 1970 00:00:00 GMT"))
        #expect(out.hasSuffix("Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n"))
    }

    @Test func parseErrorResponse() {
        let out = text(HTTPResponse.error(HTTPParseError(.requestHeaderFieldsTooLarge, "too many header fields")))
        #expect(out.hasPrefix("HTTP/1.1 431 Request Header Fields Too Large\r\n"))
        #expect(out.contains("Connection: close\r\n"))
        #expect(out.contains("Content-Type: application/json\r\n"))
        #expect(out.hasSuffix("\r\n\r\n{\"error\":\"request_header_fields_too_large\",\"message\":\"too many header fields\"}"))
    }
}

@Suite struct JSONWriting {
    @Test func objectsArraysAndCommas() {
        var w = JSONWriter()
        w.beginObject()
        w.key("notifications")
        w.beginArray()
        w.beginObject(); w.member("id", 1); w.member("read", false); w.endObject()
        w.beginObject(); w.member("id", 2); w.member("commentId", nil as Int?); w.endObject()
        w.endArray()
        w.member("unreadCount", 2)
        w.key("ratio"); w.double(0.5)
        w.key("whole"); w.double(3)
        w.key("nan"); w.double(.nan)
        w.key("empty"); w.beginArray(); w.endArray()
        w.endObject()
        #expect(text(w.bytes) == #"{"notifications":[{"id":1,"read":false},{"id":2,"commentId":null}],"unreadCount":2,"ratio":0.5,"whole":3,"nan":null,"empty":[]}"#)
    }

    @Test func stringEscaping() {
        var w = JSONWriter()
        w.string("q\"b\\s/\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}é😀\u{2028}\u{2029}")
        #expect(text(w.bytes) == #""q\"b\\s/\n\r\t\b\f\u0000\u001f"# + "\u{7f}é😀" + #"\u2028\u2029""#)
        // Round trip through the parser.
        let parsed = try? JSONParser.parse(w.bytes)
        #expect(parsed == .string("q\"b\\s/\n\r\t\u{8}\u{c}\u{0}\u{1f}\u{7f}é😀\u{2028}\u{2029}"))
    }

    @Test func intExtremes() {
        var w = JSONWriter()
        w.beginArray(); w.int(Int.min); w.int(Int.max); w.int(0); w.int(-7); w.endArray()
        #expect(text(w.bytes) == "[\(Int.min),\(Int.max),0,-7]")
    }
}
