// The connection state machine: close handshake, timers, slow consumers.
import Testing
@testable import WebSocket

enum Act: Equatable {
    case text([UInt8]), binary([UInt8]), sendPong([UInt8]), sendClose(UInt16?, Bool), closeTransport
}

func feed(_ state: inout WebSocketConnectionState, _ bytes: [UInt8], now: UInt64 = 0, context: WebSocketContext) -> [Act] {
    var copy = bytes
    var out: [Act] = []
    copy.withUnsafeMutableBytes { buf in
        var offset = 0
        while true {
            switch state.next(buf, offset: &offset, now: now, context: context) {
            case .needMore: return
            case .text(let p): out.append(.text(Array(p)))
            case .binary(let p): out.append(.binary(Array(p)))
            case .sendPong(let p): out.append(.sendPong(Array(p)))
            case .sendClose(let code, let after): out.append(.sendClose(code?.rawValue, after))
            case .closeTransport: out.append(.closeTransport)
            }
        }
    }
    return out
}

@Suite struct ConnectionStates {
    let context = WebSocketContext()
    var config: WebSocketConfiguration { context.configuration }

    func openServer(at now: UInt64 = 0) -> WebSocketConnectionState {
        WebSocketConnectionState(role: .server, openedAt: now, deflate: nil, configuration: config)
    }

    @Test func messagesPingsAndPeerClose() {
        var s = openServer()
        let bytes = frame(.text, Array("hi".utf8), from: .client) + frame(.ping, [9], from: .client)
            + frame(.close, [0x03, 0xE8], from: .client) + frame(.text, [0x61], from: .client)
        #expect(feed(&s, bytes, context: context) == [.text(Array("hi".utf8)), .sendPong([9]), .sendClose(1000, true)])
        #expect(s.phase == .closed && s.peerCloseCode == .normal)
        #expect(s.nextDeadline == nil)
    }

    @Test func clientAnswersCloseAndWaitsForTheServer() {
        var s = WebSocketConnectionState(role: .client, openedAt: 0, deflate: nil, configuration: config)
        #expect(feed(&s, frame(.close, [], from: .server), now: 100, context: context) == [.sendClose(nil, false)])
        #expect(s.phase == .closeReceived)
        do { let r = s.tick(now: 100 + config.closeTimeout - 1, configuration: config); #expect(r == .none) }
        do { let r = s.tick(now: 100 + config.closeTimeout, configuration: config); #expect(r == .closeTransport) }
    }

    @Test func localCloseHandshake() {
        var s = openServer()
        do { let r = s.close(code: .goingAway, now: 10, configuration: config); #expect(r) }
        do { let r = s.close(code: .normal, now: 11, configuration: config); #expect(!r, "only one close frame") }
        #expect(s.phase == .closeSent && s.localCloseCode == .goingAway)
        // Data after our close is dropped; the peer's close completes the handshake.
        #expect(feed(&s, frame(.text, [0x61], from: .client) + frame(.close, [0x03, 0xE9], from: .client), context: context) == [.closeTransport])
        #expect(s.phase == .closed)
    }

    @Test func closeTimeoutWhenThePeerNeverAnswers() {
        var s = openServer()
        do { let r = s.shutdown(now: 1000, configuration: config); #expect(r) }
        #expect(s.nextDeadline == 1000 + config.closeTimeout)
        do { let r = s.tick(now: 1000 + config.closeTimeout, configuration: config); #expect(r == .closeTransport) }
    }

    @Test func protocolErrorSendsItsCode() {
        var s = openServer()
        #expect(feed(&s, frame(.text, [0x61], from: .server), context: context) == [.sendClose(1002, true)])
        var t = openServer()
        let big = WebSocketContext(configuration: { var c = WebSocketConfiguration(); c.maxMessageSize = 4096; return c }())
        #expect(feed(&t, frame(.binary, noise(5000), from: .client), context: big) == [.sendClose(1009, true)])
    }

    @Test func idlePingAndPongTimeout() {
        var s = openServer(at: 0)
        #expect(s.nextDeadline == config.pingInterval)
        do { let r = s.tick(now: config.pingInterval - 1, configuration: config); #expect(r == .none) }
        // Traffic postpones the ping.
        _ = feed(&s, frame(.text, [0x61], from: .client), now: 20_000, context: context)
        do { let r = s.tick(now: config.pingInterval, configuration: config); #expect(r == .none) }
        #expect(s.nextDeadline == 20_000 + config.pingInterval)
        do { let r = s.tick(now: 45_000, configuration: config); #expect(r == .sendPing) }
        #expect(s.nextDeadline == 45_000 + config.pongTimeout)
        // A pong answers it and restarts the idle period.
        _ = feed(&s, frame(.pong, [], from: .client), now: 46_000, context: context)
        do { let r = s.tick(now: 55_000, configuration: config); #expect(r == .none) }
        do { let r = s.tick(now: 71_000, configuration: config); #expect(r == .sendPing) }
        // No answer within pongTimeout: close the transport.
        do { let r = s.tick(now: 71_000 + config.pongTimeout, configuration: config); #expect(r == .closeTransport) }
        #expect(s.phase == .closed)
    }

    @Test func handshakeTimeout() {
        var s = WebSocketConnectionState(role: .server, handshakeStartedAt: 500, configuration: config)
        do { let r = s.tick(now: 500 + config.handshakeTimeout - 1, configuration: config); #expect(r == .none) }
        do { let r = s.tick(now: 500 + config.handshakeTimeout, configuration: config); #expect(r == .closeTransport) }
        var t = WebSocketConnectionState(role: .server, handshakeStartedAt: 0, configuration: config)
        t.handshakeCompleted(deflate: nil, now: 100, configuration: config)
        #expect(t.isOpen && t.nextDeadline == 100 + config.pingInterval)
    }

    @Test func slowConsumerIsClosedWith1008() {
        var s = openServer()
        do { let r = s.admit(bytes: 1000, queuedBytes: config.outboundHardLimit - 1000, now: 0, configuration: config); #expect(r == .send) }
        do { let r = s.admit(bytes: 1001, queuedBytes: config.outboundHardLimit - 1000, now: 5, configuration: config); #expect(r == .closeSlowConsumer) }
        #expect(s.localCloseCode == WebSocketConnectionState.slowConsumerCode && s.localCloseCode?.rawValue == 1008)
        do { let r = s.admit(bytes: 1, queuedBytes: 0, now: 6, configuration: config); #expect(r == .notOpen) }
        do { let r = s.tick(now: 5 + config.closeTimeout, configuration: config); #expect(r == .closeTransport) }
    }

    @Test func compressedConnection() {
        let params = PerMessageDeflateParameters()
        var s = WebSocketConnectionState(role: .server, openedAt: 0, deflate: params, configuration: config)
        let text = Array("compressed hello".utf8)
        let packed = text.withUnsafeBytes { Array(context.deflate.compress($0)!) }
        #expect(feed(&s, frame(.text, packed, compressed: true, from: .client), context: context) == [.text(text)])
    }

    @Test func stateIsSmall() {
        // Per-connection memory is a headline figure; the state stays inline in the binding's object.
        #expect(MemoryLayout<WebSocketConnectionState>.size <= 88, "\(MemoryLayout<WebSocketConnectionState>.size)")
        #expect(MemoryLayout<WebSocketFrameParser>.size <= 56, "\(MemoryLayout<WebSocketFrameParser>.size)")
    }
}

@Suite struct Sizes {
    @Test func parserAndStateSizes() {
        #expect(MemoryLayout<WebSocketFrameParser>.size <= 100, "\(MemoryLayout<WebSocketFrameParser>.size) bytes")
    }
}
