// libFuzzer entry for the WebSocket client's response-head parser
// (Sources/Web/WebSocketResponseHead.swift, compiled alone: it has no imports). Each input is
// parsed whole and again cut in two at a position taken from its first byte; both must agree
// on the outcome, the head end, and the status, and the head end must lie inside the input.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzResponseHead(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    var whole = WebSocketResponseHeadParser()
    let a = summary(whole.feed(input), fed: 0)
    var split = WebSocketResponseHeadParser()
    let cut = size == 0 ? 0 : Int(input[0]) % (size + 1)
    var b = summary(split.feed(UnsafeRawBufferPointer(rebasing: input[0..<cut])), fed: 0)
    if b.kind == 0 { b = summary(split.feed(UnsafeRawBufferPointer(rebasing: input[cut...])), fed: cut) }
    precondition(a.kind == b.kind, "outcome depends on the split")
    if a.kind == 1 {
        precondition(a.end == b.end && a.status == b.status && a.count == b.count, "head differs with the split")
        precondition(a.end > 0 && a.end <= size, "head end outside the input")
        precondition(a.status >= 100 && a.status <= 999 && a.count <= 100, "limits")
    }
    return 0
}

/// kind: 0 need more, 1 complete, 2 invalid; end: head end from the start of the stream.
private func summary(_ r: WebSocketResponseHeadParser.Result, fed: Int) -> (kind: Int, end: Int, status: Int, count: Int) {
    switch r {
    case .needMore: return (0, 0, 0, 0)
    case .complete(let status, let headers, let consumed): return (1, fed + consumed, status, headers.count)
    case .invalid: return (2, 0, 0, 0)
    }
}
