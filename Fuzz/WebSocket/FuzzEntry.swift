// libFuzzer entry for the WebSocket module, compiled together with Sources/WebSocket by
// scripts/test.d/fuzz-websocket.sh (not part of the package build).
//
// Byte 0 picks the mode. Frames mode (bit 7 clear): bit 0 role, bit 1 permessage-deflate,
// bits 2-3 the message limit; byte 1 seeds the read sizes. The rest is parsed twice, once in
// one read and once cut into pseudo-random reads, and the two event streams must be equal;
// every payload must respect the limit and nothing may follow a failure. The same bytes then
// go through the connection state machine. Handshake mode (bit 7 set): the rest is split at
// newlines into header values for the server handshake and the deflate negotiation.

// The harness is single-threaded; the context is only touched from LLVMFuzzerTestOneInput.
nonisolated(unsafe) let fuzzDeflate = DeflateContext()

enum FuzzEvent: Equatable {
    case message(UInt8, [UInt8]), ping([UInt8]), pong([UInt8]), close(UInt16?, [UInt8]), failure(UInt16)
}

func fuzzParse(_ data: UnsafeRawBufferPointer, role: WebSocketRole, compression: Bool, max: Int, seed: UInt8?) -> [FuzzEvent] {
    var parser = WebSocketFrameParser(role: role, compression: compression)
    var events: [FuzzEvent] = []
    var failed = false
    var start = 0
    var x = UInt32(seed ?? 0) &* 2654435761 | 1
    while start < data.count || start == 0 {
        var n = data.count - start
        if seed != nil {
            x ^= x << 13; x ^= x >> 17; x ^= x << 5
            n = min(n, 1 + Int(x % 23))
        }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: n, alignment: 8)
        defer { chunk.deallocate() }
        if n > 0 { chunk.copyMemory(from: UnsafeRawBufferPointer(rebasing: data[start..<(start + n)])) }
        start += n
        var offset = 0
        loop: while true {
            let event = parser.next(chunk, offset: &offset, maxMessageSize: max, deflate: fuzzDeflate)
            if failed, case .needMore = event {} else if failed { fatalError("event after failure") }
            switch event {
            case .needMore:
                if offset != n { fatalError("needMore before consuming the buffer") }
                break loop
            case .text(let p):
                if p.count > max || !UTF8Validator.isValid(p) { fatalError("bad text") }
                events.append(.message(1, Array(p)))
            case .binary(let p):
                if p.count > max { fatalError("binary over the limit") }
                events.append(.message(2, Array(p)))
            case .ping(let p):
                if p.count > 125 { fatalError("ping over 125") }
                events.append(.ping(Array(p)))
            case .pong(let p): events.append(.pong(Array(p)))
            case .close(let code, let reason):
                if let code, !code.isValidReceived { fatalError("bad close code") }
                events.append(.close(code?.rawValue, Array(reason)))
            case .failure(let code):
                failed = true
                events.append(.failure(code.rawValue))
            }
        }
        if n == 0 { break }
    }
    return events
}

func fuzzFrames(_ data: UnsafeRawBufferPointer, mode: UInt8, seed: UInt8) {
    let role: WebSocketRole = mode & 1 == 0 ? .server : .client
    let compression = mode & 2 != 0
    let max = [125, 4096, 65536, 1 << 20][Int(mode >> 2) & 3]
    let whole = fuzzParse(data, role: role, compression: compression, max: max, seed: nil)
    let pieces = fuzzParse(data, role: role, compression: compression, max: max, seed: seed)
    if whole != pieces { fatalError("read boundaries changed the events") }

    var config = WebSocketConfiguration()
    config.maxMessageSize = max
    let context = WebSocketContext(configuration: config, deflate: fuzzDeflate)
    var state = WebSocketConnectionState(role: role, openedAt: 0,
                                         deflate: compression ? PerMessageDeflateParameters() : nil, configuration: config)
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: data.count, alignment: 8)
    defer { copy.deallocate() }
    if data.count > 0 { copy.copyMemory(from: data) }
    var offset = 0
    while true {
        if case .needMore = state.next(copy, offset: &offset, now: 1, context: context) { break }
    }
    _ = state.tick(now: 100_000, configuration: config)
}

func fuzzHandshake(_ data: UnsafeRawBufferPointer) {
    let text = String(decoding: data, as: UTF8.self)
    let values = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    _ = PerMessageDeflate.negotiate(offers: values)
    _ = PerMessageDeflate.acceptResponse(values, offered: true)
    var headers: [(name: String, value: String)] = [("Host", "h"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                                    ("Sec-WebSocket-Version", "13")]
    for (i, v) in values.enumerated() {
        let names = ["Sec-WebSocket-Key", "Sec-WebSocket-Extensions", "Sec-WebSocket-Protocol", "Connection", "Upgrade"]
        headers.append((names[i % names.count], v))
    }
    let result = WebSocketServerHandshake.respond(method: "GET", httpVersion: (1, 1), headers: headers,
                                                  configuration: WebSocketServerConfiguration(subprotocols: ["a", "b"]))
    if case .success(let accepted) = result {
        if let d = accepted.deflate, !(8...15).contains(d.serverMaxWindowBits) { fatalError("window bits") }
        if let p = accepted.subprotocol, !accepted.offeredSubprotocols.contains(p) { fatalError("subprotocol not offered") }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    guard let bytes, count >= 2 else { return 0 }
    let mode = bytes[0]
    let data = UnsafeRawBufferPointer(start: bytes + 2, count: count - 2)
    if mode & 0x80 != 0 {
        fuzzHandshake(data)
    } else {
        fuzzFrames(data, mode: mode, seed: bytes[1])
    }
    return 0
}
