// The request parser: splits, pipelining, chunked framing, limits, smuggling, keep-alive.
import Testing
import HTTP1

let simpleGET = "GET /notifications/7?unread=true&limit=50 HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n"
let postCL = "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nContent-Type: application/json\r\n\r\n{\"a\":[1,2]}"
let postChunked = "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    + "5;name=value;q=\"a \\\"b\\\"\"\r\nhello\r\n6 ; x\r\n world\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n"
let upgradeWS = "GET /ws?userId=7 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

@Suite struct RequestParsing {
    @Test func parsesAGetHead() throws {
        let events = run(bytes(simpleGET))
        #expect(events.count == 2)
        let head = try #require(events.first?.head)
        #expect(head.method == .GET)
        #expect(head.target == "/notifications/7?unread=true&limit=50")
        #expect(head.path == "/notifications/7")
        #expect(head.query == "unread=true&limit=50")
        #expect(head.version == .http1_1)
        #expect(head.headers["host"] == "x")
        #expect(head.headers["ACCEPT"] == "*/*")
        #expect(head.keepAlive)
        #expect(!head.isUpgrade)
        #expect(events.last == .end(nil))
    }

    @Test(arguments: [simpleGET, postCL, postChunked, upgradeWS])
    func everySplitGivesTheSameEvents(request: String) {
        let data = bytes(request)
        let whole = run(data)
        #expect(!whole.isEmpty)
        for cut in 0...data.count {
            #expect(run(data, cuts: [cut]) == whole, "cut at \(cut)")
        }
        // One byte at a time.
        #expect(run(data, cuts: Array(1..<data.count)) == whole)
    }

    @Test func contentLengthBody() {
        let events = run(bytes(postCL))
        #expect(events.count == 3)
        #expect(events[1] == .body(bytes("{\"a\":[1,2]}")))
        #expect(events[2] == .end(nil))
    }

    @Test func chunkedBodyWithExtensionsAndTrailers() throws {
        let events = run(bytes(postChunked))
        #expect(events.count == 3)
        #expect(events.first?.head?.headers["transfer-encoding"] == "chunked")
        #expect(events[1] == .body(bytes("hello world")))
        guard case .end(let trailers?) = events[2] else {
            Issue.record("expected trailers, got \(events[2])")
            return
        }
        #expect(trailers["x-checksum"] == "abc")
        #expect(trailers.count == 2)
    }

    @Test func pipelinedRequestsInOneBuffer() {
        let three = simpleGET + postCL + postChunked
        let events = run(bytes(three))
        let heads = events.compactMap(\.head)
        #expect(heads.map(\.path) == ["/notifications/7", "/a", "/up"])
        #expect(events.filter { if case .end = $0 { return true }; return false }.count == 3)
        #expect(events == run(bytes(simpleGET)) + run(bytes(postCL)) + run(bytes(postChunked)))
        // And split everywhere, the same.
        let data = bytes(three)
        for cut in stride(from: 0, through: data.count, by: 7) {
            #expect(run(data, cuts: [cut, min(data.count, cut + 13)]) == events)
        }
    }

    @Test func emptyLinesBeforeARequestAreIgnored() {
        let events = run(bytes("\r\n\r\n" + simpleGET))
        #expect(events.first?.head?.path == "/notifications/7")
    }

    @Test func phaseTracksTheMessage() {
        var parser = HTTPRequestParser()
        #expect(parser.phase == .idle)
        let part = bytes("GET / HTTP/1.1\r\nHo")
        part.withUnsafeBytes { #expect(parser.feed($0).consumed == part.count) }
        #expect(parser.phase == .receivingHead)
        #expect(parser.isMessageInProgress)
        let rest = bytes("st: x\r\nContent-Length: 3\r\n\r\nab")
        rest.withUnsafeBytes { raw in
            let step = parser.feed(raw)
            guard case .head = step.event else { Issue.record("no head"); return }
            #expect(parser.phase == .receivingBody)
            let body = parser.feed(UnsafeRawBufferPointer(rebasing: raw[step.consumed...]))
            guard case .body(let b) = body.event else { Issue.record("no body"); return }
            #expect(Array(b) == bytes("ab"))
        }
        #expect(parser.phase == .receivingBody)
        bytes("c").withUnsafeBytes { raw in
            _ = parser.feed(raw)
            let end = parser.feed(UnsafeRawBufferPointer(rebasing: raw[1...]))
            guard case .end = end.event else { Issue.record("no end"); return }
        }
        #expect(parser.phase == .idle)
        #expect(!parser.isMessageInProgress)
    }

    @Test func absoluteFormAndAsterisk() {
        #expect(run(bytes("GET http://h.example/p/q?x=1 HTTP/1.1\r\nHost: h\r\n\r\n")).first?.head?.path == "/p/q")
        #expect(run(bytes("GET http://h.example HTTP/1.1\r\nHost: h\r\n\r\n")).first?.head?.path == "/")
        #expect(run(bytes("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n")).first?.head?.path == "*")
        #expect(firstError("GET * HTTP/1.1\r\nHost: h\r\n\r\n") == 400)
    }
}

@Suite struct KeepAliveAndUpgrade {
    func head(_ s: String) -> HTTPRequestHead? { run(bytes(s)).first?.head }

    @Test func keepAliveRules() {
        #expect(head("GET / HTTP/1.1\r\nHost: x\r\n\r\n")?.keepAlive == true)
        #expect(head("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")?.keepAlive == false)
        #expect(head("GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, Close\r\n\r\n")?.keepAlive == false)
        #expect(head("GET / HTTP/1.0\r\n\r\n")?.keepAlive == false)
        #expect(head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")?.keepAlive == true)
        #expect(head("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n")?.keepAlive == false)
    }

    @Test func closeStopsParsingFurtherRequests() {
        let events = run(bytes("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" + simpleGET))
        #expect(events.count == 3)
        #expect(events.last == .paused)
    }

    @Test func webSocketUpgradeIsDetectedAndPauses() throws {
        let events = run(bytes(upgradeWS + "\u{81}\u{05}hello"))
        let h = try #require(events.first?.head)
        #expect(h.isUpgrade)
        #expect(h.isWebSocketUpgrade)
        #expect(h.upgrade == "websocket")
        #expect(events.count == 3)
        #expect(events[1] == .end(nil))
        #expect(events[2] == .paused)
    }

    @Test func upgradeLeavesTheFollowingBytesUnconsumed() {
        var parser = HTTPRequestParser()
        let data = bytes(upgradeWS) + [0x81, 0x00]
        data.withUnsafeBytes { raw in
            var rest = raw
            var sawPause = false
            for _ in 0..<5 {
                let step = parser.feed(rest)
                rest = UnsafeRawBufferPointer(rebasing: rest[step.consumed...])
                if case .paused = step.event { sawPause = true; break }
            }
            #expect(sawPause)
            #expect(Array(rest) == [0x81, 0x00])
        }
        #expect(parser.phase == .upgraded)
        parser.resumeAfterDeclinedUpgrade()
        #expect(parser.phase == .idle)
    }

    @Test func upgradeNeedsConnectionUpgradeAndHTTP11() {
        #expect(head("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n")?.isUpgrade == false)
        #expect(head("GET / HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n")?.isUpgrade == false)
        #expect(head("POST / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n")?.isWebSocketUpgrade == false)
    }

    @Test func expectContinue() {
        #expect(head("PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n")?.expectsContinue == true)
        #expect(head(simpleGET)?.expectsContinue == false)
    }
}
