// Every limit and every malformed or ambiguous request gets its status.
import Testing
import HTTP1

@Suite struct Limits {
    @Test func targetTooLongIs414() {
        let long = "/" + String(repeating: "a", count: 8 * 1024 + 1)
        #expect(firstError("GET \(long) HTTP/1.1\r\nHost: x\r\n\r\n") == 414)
        // Also when the request line never ends.
        #expect(firstError("GET " + long + long) == 414)
        // Exactly at the limit is accepted when the head fits.
        var limits = HTTPParserLimits()
        limits.maxTargetBytes = 100
        #expect(firstError("GET /\(String(repeating: "b", count: 99)) HTTP/1.1\r\nHost: x\r\n\r\n", limits: limits) == nil)
        #expect(firstError("GET /\(String(repeating: "b", count: 100)) HTTP/1.1\r\nHost: x\r\n\r\n", limits: limits) == 414)
    }

    @Test func headTooLargeIs431() {
        let big = "X-Big: " + String(repeating: "v", count: 8 * 1024) + "\r\n"
        #expect(firstError("GET / HTTP/1.1\r\nHost: x\r\n" + big + "\r\n") == 431)
        // Unterminated header section past the limit.
        #expect(firstError("GET / HTTP/1.1\r\nHost: x\r\nX: " + String(repeating: "v", count: 9000)) == 431)
    }

    @Test func tooManyHeadersIs431() {
        let fields = (0..<100).map { "X-\($0): 1\r\n" }.joined()
        #expect(firstError("GET / HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n") == 431)   // 101 fields
        let ninetyNine = (0..<99).map { "X-\($0): 1\r\n" }.joined()
        #expect(firstError("GET / HTTP/1.1\r\nHost: x\r\n" + ninetyNine + "\r\n") == nil)
    }

    @Test func bodyLimitIs413ForContentLengthAndChunked() {
        let cl = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello world"
        #expect(firstError(cl, bodyLimit: 10) == 413)
        #expect(firstError(cl, bodyLimit: 11) == nil)
        let chunked = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"
        #expect(firstError(chunked, bodyLimit: 10) == 413)
        #expect(firstError(chunked, bodyLimit: 11) == nil)
        var limits = HTTPParserLimits()
        limits.defaultMaxBodyBytes = 4
        #expect(firstError(cl, limits: limits) == 413)
    }

    @Test func bodyLimitFailsBeforeAnyBodyByte() {
        let events = run(bytes("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n" + String(repeating: "z", count: 100)), bodyLimit: 10)
        #expect(events.count == 2)
        #expect(events.last == .error(413))
    }

    @Test func trailerSectionTooLargeIs431() {
        var limits = HTTPParserLimits()
        limits.maxTrailerBytes = 64
        let req = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: " + String(repeating: "t", count: 100) + "\r\n\r\n"
        #expect(firstError(req, limits: limits) == 431)
    }
}

@Suite struct Malformed {
    @Test(arguments: [
        "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n",            // obs-fold
        "GET / HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n",           // space in name
        "GET / HTTP/1.1\r\nHost: x\r\nName : 1\r\n\r\n",              // space before colon
        "GET / HTTP/1.1\r\nHost: x\r\n: 1\r\n\r\n",                   // empty name
        "GET / HTTP/1.1\r\nHost: x\r\nX(y): 1\r\n\r\n",               // separator in name
        "G@T / HTTP/1.1\r\nHost: x\r\n\r\n",                          // invalid method
        "GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",               // bare CR in value
        "GET / HTTP/1.1\r\nHost: x\nX: 1\r\n\r\n",                    // bare LF
        "GET / HTTP/1.1\nHost: x\r\n\r\n",                            // bare LF after request line
        "GET / HTTP/1.1\r\nHost: x\r\nX: a\u{0}b\r\n\r\n",            // NUL in value
        "GET / HTTP/1.1\r\nHost: x\r\nX: a\u{7f}\r\n\r\n",            // DEL in value
        "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",                       // space in target
        "GET  / HTTP/1.1\r\nHost: x\r\n\r\n",                         // double space
        "GET / HTTP/1.1 \r\nHost: x\r\n\r\n",                         // trailing space
        "GET / HTTP/11\r\nHost: x\r\n\r\n",                           // bad version
        "GET / http/1.1\r\nHost: x\r\n\r\n",                          // lowercase version
        "GET /caf\u{e9} HTTP/1.1\r\nHost: x\r\n\r\n",                 // non-ASCII target
        "GET / HTTP/1.1\r\n\r\n",                                     // HTTP/1.1 without Host
        "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",               // two Hosts
        "GET nothing HTTP/1.1\r\nHost: x\r\n\r\n",                    // not a target form
    ])
    func invalidSyntaxIs400(request: String) {
        #expect(firstError(request) == 400)
    }

    @Test func unsupportedVersionIs505() {
        #expect(firstError("GET / HTTP/2.0\r\nHost: x\r\n\r\n") == 505)
        #expect(firstError("GET / HTTP/1.2\r\nHost: x\r\n\r\n") == 505)
    }

    @Test(arguments: [
        "zz\r\n", "-1\r\n", "\r\n", "1x\r\n", "5\r\nhelloXX", "5\nhello\r\n", "1 2\r\n",
        "ffffffffffffffffff\r\n",  // overflow
        "5;a\u{1}b\r\nhello\r\n",   // control byte in extension
        "5;q=\"unterminated\r\nhello\r\n",
    ])
    func badChunkFramingIs400(chunk: String) {
        let req = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + "0\r\n\r\n"
        #expect(firstError(req, bodyLimit: Int.max) == 400)
    }

    @Test func hugeChunkExtensionIs400() {
        let req = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;" + String(repeating: "a", count: 5000) + "\r\nx\r\n0\r\n\r\n"
        #expect(firstError(req) == 400)
    }

    @Test func errorsAreSticky() {
        var parser = HTTPRequestParser()
        bytes("BAD\u{1} / HTTP/1.1\r\n").withUnsafeBytes { raw in
            guard case .error(let e) = parser.feed(raw).event else { Issue.record("no error"); return }
            #expect(e.status == .badRequest)
            #expect(!e.reason.isEmpty)
        }
        #expect(parser.phase == .failed)
        bytes(simpleGET).withUnsafeBytes { raw in
            let step = parser.feed(raw)
            guard case .error = step.event else { Issue.record("parser recovered"); return }
            #expect(step.consumed == 0)
        }
    }
}

@Suite struct Smuggling {
    @Test(arguments: [
        "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",         // CL.TE
        "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",         // TE.CL
        "Content-Length: 5\r\nContent-Length: 6\r\n",                  // differing duplicates
        "Content-Length: 5, 6\r\n",                                    // differing list
        "Content-Length: +5\r\n",
        "Content-Length: 5a\r\n",
        "Content-Length: 0x5\r\n",
        "Content-Length: \r\n",
        "Content-Length: 99999999999999999999999\r\n",                // overflow
        "Transfer-Encoding: identity\r\n",                             // final coding not chunked
        "Transfer-Encoding: chunked, identity\r\n",
        "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n",
        "Transfer-Encoding: xchunked\r\n",
        "Transfer-Encoding:\r\n",
        "Transfer-Encoding: chunked,\r\n",
    ])
    func ambiguousFramingIs400(fields: String) {
        #expect(firstError("POST / HTTP/1.1\r\nHost: x\r\n" + fields + "\r\n0\r\n\r\n") == 400)
    }

    @Test func identicalDuplicateContentLengthIsAccepted() {
        let events = run(bytes("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nokGET"))
        #expect(events.count == 3)
        #expect(events[1] == .body(bytes("ok")))
    }

    @Test func transferEncodingInHTTP10Is400() {
        #expect(firstError("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n") == 400)
    }

    @Test func unknownCodingBeforeChunkedIs501() {
        #expect(firstError("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n") == 501)
    }

    @Test func chunkedCaseInsensitive() {
        #expect(firstError("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n") == nil)
    }
}

@Suite struct SplitIndependentErrors {
    /// Found by the fuzzer: an over-long request line without a space used to give 414 when
    /// it arrived whole and 400 when it arrived in pieces.
    @Test func overlongRequestLineGivesTheSameErrorForEverySplit() {
        var limits = HTTPParserLimits()
        limits.maxTargetBytes = 16
        limits.maxHeadBytes = 64
        for line in ["G" + String(repeating: "x", count: 100) + " / HTTP/1.1\r\nHost: x\r\n\r\n",
                     "GET /" + String(repeating: "y", count: 100) + " HTTP/1.1\r\nHost: x\r\n\r\n",
                     "GET / HTTP/1.1\r\nHost: x\r\nA: " + String(repeating: "z", count: 80) + "\r\n\r\n"] {
            let data = bytes(line)
            let whole = run(data, limits: limits)
            #expect(whole.count == 1)
            for cut in 0...data.count { #expect(run(data, cuts: [cut], limits: limits) == whole) }
            #expect(run(data, cuts: Array(1..<data.count), limits: limits) == whole)
        }
    }
}
