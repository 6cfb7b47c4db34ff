// permessage-deflate: zlib round trips, the parser's compressed path, negotiation, zip bombs.
import Testing
@testable import WebSocket

func compress(_ deflate: DeflateContext, _ data: [UInt8], windowBits: Int = 15) -> [UInt8] {
    data.withUnsafeBytes { Array(deflate.compress($0, windowBits: windowBits)!) }
}

@Suite struct DeflateCodec {
    @Test func roundTripAndTailStripped() throws {
        let deflate = DeflateContext()
        for input in [[], Array("Hello".utf8), Array(repeating: UInt8(ascii: "a"), count: 100_000), noise(70_000)] {
            for bits in [8, 9, 12, 15] {
                let packed = compress(deflate, input, windowBits: bits)
                #expect(Array(packed.suffix(4)) != [0, 0, 0xFF, 0xFF])
                let result = packed.withUnsafeBytes { deflate.decompress($0, maxSize: 1 << 20) }
                guard case .ok(let out) = result else { Issue.record("decompress failed"); continue }
                #expect(Array(out) == input)
            }
        }
    }

    @Test func rfcExampleHelloDecompresses() {
        // RFC 7692 section 7.2.3.1: "Hello" compressed.
        let deflate = DeflateContext()
        let packed: [UInt8] = [0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
        guard case .ok(let out) = packed.withUnsafeBytes({ deflate.decompress($0, maxSize: 100) }) else {
            Issue.record("decompress failed"); return
        }
        #expect(Array(out) == Array("Hello".utf8))
        guard case .invalid = [UInt8]([0xFF, 0xFF, 0xFF]).withUnsafeBytes({ deflate.decompress($0, maxSize: 100) }) else {
            Issue.record("garbage accepted"); return
        }
    }

    @Test func compressedMessagesThroughTheParser() {
        let deflate = DeflateContext()
        let text = Array(String(repeating: "notification ", count: 300).utf8)
        let packed = compress(deflate, text)
        // One frame, then the same message in three fragments, with a ping in between.
        let single = frame(.text, packed, compressed: true, from: .client)
        let third = packed.count / 3
        let fragmented = frame(.text, Array(packed[0..<third]), fin: false, compressed: true, from: .client)
            + frame(.ping, [1], from: .client)
            + frame(.continuation, Array(packed[third..<(2 * third)]), fin: false, from: .client)
            + frame(.continuation, Array(packed[(2 * third)...]), from: .client)
        for cut in [0, 1, 5, 17, single.count - 1] {
            #expect(parse(single, role: .server, splits: [cut], compression: true, deflate: deflate) == [.text(text)])
        }
        #expect(parse(fragmented, role: .server, splits: [3, 40], compression: true, deflate: deflate) == [.ping([1]), .text(text)])
        // RSV1 on a continuation frame is a protocol error.
        var bad = frame(.text, [0x61], fin: false, from: .client) + frame(.continuation, [0x62], from: .client)
        bad[7] |= 0x40
        #expect(parse(bad, role: .server, compression: true, deflate: deflate) == [.failure(1002)])
        // Compressed invalid UTF-8 text fails with 1007 after inflation.
        let invalid = frame(.text, compress(deflate, [0x61, 0xFF]), compressed: true, from: .client)
        #expect(parse(invalid, role: .server, compression: true, deflate: deflate) == [.failure(1007)])
    }

    @Test func zipBombIsRefusedWith1009() {
        let deflate = DeflateContext()
        let bomb = compress(deflate, Array(repeating: 0, count: 1 << 20))
        #expect(bomb.count < 2048)
        let bytes = frame(.binary, bomb, compressed: true, from: .client)
        #expect(parse(bytes, role: .server, max: 4096, compression: true, deflate: deflate) == [.failure(1009)])
        guard case .tooBig = bomb.withUnsafeBytes({ deflate.decompress($0, maxSize: 4096) }) else {
            Issue.record("bomb not refused"); return
        }
        // Exactly at the limit is fine.
        let fits = compress(deflate, Array(repeating: 7, count: 4096))
        #expect(parse(frame(.binary, fits, compressed: true, from: .client), role: .server, max: 4096, compression: true, deflate: deflate)
                == [.binary(Array(repeating: 7, count: 4096))])
    }

    @Test func compressedFrameWithoutContextIsAnInternalError() {
        let deflate = DeflateContext()
        let bytes = frame(.text, compress(deflate, Array("x".utf8)), compressed: true, from: .client)
        #expect(parse(bytes, role: .server, compression: true, deflate: nil) == [.failure(1011)])
    }
}

@Suite struct DeflateNegotiation {
    func negotiate(_ offers: String...) -> String? { PerMessageDeflate.negotiate(offers: offers)?.response }

    @Test func serverAnswers() {
        #expect(negotiate("permessage-deflate") == "permessage-deflate; client_no_context_takeover")
        #expect(negotiate("permessage-deflate; client_max_window_bits") == "permessage-deflate; client_no_context_takeover")
        #expect(negotiate("permessage-deflate; server_no_context_takeover; client_no_context_takeover")
                == "permessage-deflate; server_no_context_takeover; client_no_context_takeover")
        #expect(negotiate("permessage-deflate; server_max_window_bits=10")
                == "permessage-deflate; client_no_context_takeover; server_max_window_bits=10")
        #expect(PerMessageDeflate.negotiate(offers: ["permessage-deflate; server_max_window_bits=\"9\""])?.parameters.serverMaxWindowBits == 9)
        #expect(negotiate("x-webkit-deflate-frame") == nil)
        #expect(negotiate("") == nil)
    }

    @Test func invalidOffersAreDeclinedOneByOne() {
        for bad in ["permessage-deflate; server_max_window_bits=16", "permessage-deflate; server_max_window_bits=7",
                    "permessage-deflate; server_max_window_bits", "permessage-deflate; server_max_window_bits=010",
                    "permessage-deflate; client_max_window_bits=abc", "permessage-deflate; unknown=1",
                    "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                    "permessage-deflate; client_no_context_takeover=1", "permessage-deflate; ;"] {
            #expect(negotiate(bad) == nil, "\(bad)")
        }
        // The first offer is invalid, the second (in another header line) is taken.
        #expect(negotiate("permessage-deflate; server_max_window_bits=20, permessage-deflate; server_max_window_bits=12")
                == "permessage-deflate; client_no_context_takeover; server_max_window_bits=12")
        #expect(negotiate("permessage-deflate; foo", "permessage-deflate") == "permessage-deflate; client_no_context_takeover")
    }

    @Test func clientChecksTheAnswer() {
        func accept(_ v: String) -> PerMessageDeflateParameters? {
            try? PerMessageDeflate.acceptResponse([v], offered: true).get()
        }
        #expect(accept("permessage-deflate; server_no_context_takeover")?.serverNoContextTakeover == true)
        #expect(accept("permessage-deflate; server_no_context_takeover; client_max_window_bits=9")?.clientMaxWindowBits == 9)
        #expect(accept("permessage-deflate") == nil, "context takeover would need per-connection zlib state")
        #expect(accept("permessage-deflate; server_no_context_takeover; bogus") == nil)
        #expect(accept("permessage-deflate; server_no_context_takeover, permessage-deflate; server_no_context_takeover") == nil)
        #expect((try? PerMessageDeflate.acceptResponse([], offered: true).get()) == .some(nil))
    }
}

@Suite struct Prepared {
    @Test func preparedFrameEqualsEncoderOutput() {
        for size in [0, 125, 126, 65536] {
            let payload = noise(size)
            let prepared = payload.withUnsafeBytes { PreparedFrame(opcode: .binary, payload: $0) }
            #expect(prepared.withUnsafeBytes { Array($0) } == frame(.binary, payload, from: .server))
            #expect(!prepared.isCompressed)
        }
        #expect(PreparedFrame.text("héllo").withUnsafeBytes { Array($0) } == frame(.text, Array("héllo".utf8), from: .server))
    }

    @Test func compressedPreparedFrameDecodesOnEveryConnection() throws {
        let deflate = DeflateContext()
        let text = Array(#"{"type":"notification","notification":{"id":123,"kind":"LIKE_NOTIFICATION"}}"#.utf8)
        let prepared = try #require(text.withUnsafeBytes { PreparedFrame(opcode: .text, payload: $0, deflate: deflate) })
        #expect(prepared.isCompressed && prepared.withUnsafeBytes { $0[0] } == 0xC1)
        #expect(prepared.withUnsafeBytes { Array($0) } == frame(.text, compress(deflate, text), compressed: true, from: .server))
        // The same bytes, read by two independent clients.
        for _ in 0..<2 {
            #expect(parse(prepared.withUnsafeBytes { Array($0) }, role: .client, compression: true, deflate: DeflateContext()) == [.text(text)])
        }
    }
}
