// libFuzzer entry for the HTTP1 module, compiled together with Sources/HTTP1/*.swift by
// scripts/test.d/fuzz-http1.sh. The first byte picks a mode; the rest is the input:
//   0-127   HTTP request parser, differential: the whole buffer at once must give the same
//           events as the same bytes cut at two points derived from the input, one byte at a
//           time, under both default and tiny limits; every `consumed` must stay in bounds.
//           The same holds for HTTPConnectionState's actions (Connection.swift).
//   128-191 JSON parser: a parsed document must re-encode to bytes that parse back to the
//           same encoding.
//   192-255 Router, percent-decoding and query parsing on the input as a path and query.
// An invariant violation traps, which libFuzzer reports as a crash.

enum Recorded: Equatable {
    case head(HTTPRequestHead)
    case body([UInt8])
    case end(HTTPHeaders?)
    case paused
    case error(HTTPParseError)
}

func check(_ condition: Bool, _ message: StaticString) {
    if !condition { fatalError("invariant: \(message)") }
}

func transcript(_ data: UnsafeRawBufferPointer, cuts: [Int], limits: HTTPParserLimits, bodyLimit: Int?) -> [Recorded] {
    var parser = HTTPRequestParser(limits: limits)
    var out: [Recorded] = []
    var start = 0
    for end in cuts + [data.count] where end >= start && end <= data.count {
        var rest = UnsafeRawBufferPointer(rebasing: data[start..<end])
        start = end
        var guardSteps = 0
        while true {
            guardSteps += 1
            check(guardSteps < 1_000_000, "feed made no progress")
            let step = parser.feed(rest)
            check(step.consumed >= 0 && step.consumed <= rest.count, "consumed out of bounds")
            rest = UnsafeRawBufferPointer(rebasing: rest[step.consumed...])
            switch step.event {
            case .needMore:
                check(rest.isEmpty, "needMore left bytes")
            case .head(let h):
                out.append(.head(h))
                check(parser.phase == .receivingBody, "phase after head")
                if let bodyLimit { parser.setBodyLimit(bodyLimit) }
                continue
            case .body(let b):
                check(!b.isEmpty, "empty body event")
                if case .body(let prev)? = out.last { out[out.count - 1] = .body(prev + Array(b)) } else { out.append(.body(Array(b))) }
                continue
            case .end(let t):
                out.append(.end(t))
                continue
            case .paused:
                check(step.consumed == 0, "paused consumed bytes")
                out.append(.paused)
                return out
            case .error(let e):
                check([400, 413, 414, 431, 501, 505].contains(e.status.code), "unexpected error status")
                out.append(.error(e))
                return out
            }
            break
        }
    }
    return out
}

func fuzzHTTP(_ data: UnsafeRawBufferPointer, seed: UInt8) {
    var tiny = HTTPParserLimits()
    tiny.maxHeadBytes = 64
    tiny.maxHeaderCount = 3
    tiny.maxTargetBytes = 16
    tiny.defaultMaxBodyBytes = 8
    tiny.maxChunkExtensionBytes = 8
    tiny.maxTrailerBytes = 16
    for (limits, bodyLimit) in [(HTTPParserLimits(), nil), (tiny, Optional(Int(seed & 15)))] {
        let whole = transcript(data, cuts: [], limits: limits, bodyLimit: bodyLimit)
        let n = data.count
        let a = n == 0 ? 0 : Int(seed) % (n + 1)
        let b = n == 0 ? 0 : (a + Int(seed) * 7 + 1) % (n + 1)
        check(transcript(data, cuts: [min(a, b), max(a, b)], limits: limits, bodyLimit: bodyLimit) == whole, "split changed the events")
        if n <= 512 {
            check(transcript(data, cuts: Array(0..<n), limits: limits, bodyLimit: bodyLimit) == whole, "byte-at-a-time changed the events")
        }
        let actions = connectionTranscript(data, cuts: [], limits: limits, seed: seed)
        check(connectionTranscript(data, cuts: [min(a, b), max(a, b)], limits: limits, seed: seed) == actions,
              "split changed the connection's actions")
    }
}

func fuzzJSON(_ data: UnsafeRawBufferPointer) {
    guard let value = try? JSONParser.parse(data, limits: JSONParseLimits(maxDepth: 32, maxBytes: 64 * 1024)) else { return }
    let encoded = value.jsonBytes
    guard let again = try? JSONParser.parse(encoded) else { fatalError("writer output did not parse") }
    check(again.jsonBytes == encoded, "JSON round trip changed the document")
}

func fuzzRouter(_ data: UnsafeRawBufferPointer) {
    let text = String(decoding: data, as: UTF8.self)
    var router = Router<Int>(defaultBodyLimit: 100)
    router.add(.GET, "/notifications/:userId", 1)
    router.add(.PUT, "/notifications/:id/read", 2)
    router.add(.GET, "/notifications/stats", 3)
    router.add(.GET, "/", 4)
    let parts = text.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
    let path = String(parts.first ?? "")
    for method in [HTTPMethod.GET, .PUT, .DELETE] {
        switch router.match(method: method, path: path) {
        case .found(_, let p, let limit):
            check(limit == 100, "body limit")
            check(p.count <= 1, "parameter count")
        case .methodNotAllowed(let allowed):
            check(!allowed.isEmpty && !allowed.contains(method), "allow list")
        case .notFound, .invalidPath:
            break
        }
    }
    let query = QueryParameters(parts.count > 1 ? String(parts[1]) : nil)
    for pair in query { _ = pair.name.utf8.count + pair.value.utf8.count }
    if let decoded = PercentDecoding.decodePathSegment(text) {
        check(decoded.utf8.count <= text.utf8.count, "decoding grew the segment")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let all = UnsafeRawBufferPointer(start: bytes, count: size)
    let mode = all[0]
    let data = UnsafeRawBufferPointer(rebasing: all[1...])
    switch mode {
    case 0..<128: fuzzHTTP(data, seed: mode)
    case 128..<192: fuzzJSON(data)
    default: fuzzRouter(data)
    }
    return 0
}
