// The frame codec: round trips, splits at every byte, masking, fragmentation, failures.
import Testing
@testable import WebSocket

@Suite struct FrameRoundTrips {
    static let sizes = [0, 1, 125, 126, 127, 65535, 65536]

    @Test(arguments: sizes)
    func clientToServerSplitEverywhere(size: Int) {
        let payload = noise(size)
        let bytes = frame(.binary, payload, from: .client)
        // One byte per read: the parser sees a boundary after every byte of header and payload.
        var parser = WebSocketFrameParser(role: .server)
        var events: [Ev] = []
        for i in bytes.indices { events += drain(&parser, bytes[i...i]) }
        #expect(events == [.binary(payload)])
        // Two reads, cut at every position (sampled in the middle of large payloads).
        let cuts = size <= 200 ? Array(0...bytes.count) : Array(0...20) + Array(stride(from: 21, to: bytes.count - 20, by: 1009)) + Array(bytes.count - 20...bytes.count)
        for cut in cuts {
            #expect(parse(bytes, role: .server, splits: [cut]) == [.binary(payload)], "cut at \(cut)")
        }
    }

    @Test(arguments: sizes)
    func serverToClientSplitEverywhere(size: Int) {
        let payload = noise(size, seed: 7)
        let bytes = frame(.binary, payload, from: .server)
        #expect(bytes.count == size + WebSocketFrameEncoder.headerSize(payloadCount: size, masked: false))
        var parser = WebSocketFrameParser(role: .client)
        var events: [Ev] = []
        for i in bytes.indices { events += drain(&parser, bytes[i...i]) }
        #expect(events == [.binary(payload)])
        let cuts = size <= 200 ? Array(0...bytes.count) : Array(0...20) + Array(bytes.count - 20...bytes.count)
        for cut in cuts {
            #expect(parse(bytes, role: .client, splits: [cut]) == [.binary(payload)], "cut at \(cut)")
        }
    }

    @Test func headerLengthEncodings() {
        #expect(frame(.text, [], from: .server) == [0x81, 0x00])
        #expect(Array(frame(.binary, noise(126), from: .server).prefix(4)) == [0x82, 126, 0x00, 126])
        #expect(Array(frame(.binary, noise(65536), from: .server).prefix(10)) == [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0])
        let masked = frame(.text, Array("Hello".utf8), from: .client, key: 0x7DA0_9F37)
        // RFC 6455 section 5.7: a masked "Hello" with key 37 fa 21 3d.
        let rfc = frame(.text, Array("Hello".utf8), from: .client, key: UInt32(littleEndian: 0x3D21_FA37))
        #expect(rfc == [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])
        #expect(parse(masked, role: .server) == [.text(Array("Hello".utf8))])
    }

    @Test func manyFramesInOneRead() {
        var bytes: [UInt8] = []
        for i in 0..<50 { bytes += frame(.text, Array("message \(i)".utf8), from: .client, key: UInt32(i) &* 2654435761) }
        let events = parse(bytes, role: .server, splits: [7, 300, 301])
        #expect(events == (0..<50).map { .text(Array("message \($0)".utf8)) })
    }
}

@Suite struct Masking {
    @Test func wordMaskingEqualsNaive() {
        let keys: [UInt32] = [0, 0xFFFF_FFFF, 0x1234_5678, 0xDEAD_BEEF]
        for key in keys {
            for length in [0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 64, 1000] {
                for phase in 0..<4 {
                    let data = noise(length, seed: UInt64(length + 1))
                    var fast = data
                    fast.withUnsafeMutableBytes { b in
                        if let p = b.baseAddress { websocketApplyMask(p, length, key: key, phase: phase) }
                    }
                    let naive = data.enumerated().map { i, byte in
                        byte ^ UInt8(truncatingIfNeeded: key >> UInt32(((i + phase) & 3) * 8))
                    }
                    #expect(fast == naive, "key \(key) length \(length) phase \(phase)")
                }
            }
        }
    }

    @Test func maskingInPiecesEqualsOnePass() {
        let data = noise(1001)
        var whole = data
        whole.withUnsafeMutableBytes { websocketApplyMask($0.baseAddress!, 1001, key: 0xA1B2_C3D4, phase: 0) }
        var pieces = data
        pieces.withUnsafeMutableBytes { b in
            var at = 0
            for n in [1, 2, 5, 13, 980] {
                websocketApplyMask(b.baseAddress! + at, n, key: 0xA1B2_C3D4, phase: at & 3)
                at += n
            }
        }
        #expect(whole == pieces)
    }
}

@Suite struct Fragmentation {
    @Test func interleavedPingIsDeliveredBeforeTheMessage() {
        let bytes = frame(.text, Array("Hel".utf8), fin: false, from: .client)
            + frame(.ping, Array("p".utf8), from: .client)
            + frame(.continuation, Array("lo ".utf8), fin: false, from: .client)
            + frame(.pong, [], from: .client)
            + frame(.continuation, Array("world".utf8), from: .client)
        for cut in 0...bytes.count {
            #expect(parse(bytes, role: .server, splits: [cut])
                    == [.ping(Array("p".utf8)), .pong([]), .text(Array("Hello world".utf8))], "cut \(cut)")
        }
    }

    @Test func emptyFragmentsInSmallReads() {
        // Found by the fuzzer: a two-byte header completed from a stash, followed by more
        // frames in the same read, must not stop parsing early.
        var bytes = frame(.text, [0x61], fin: false, from: .server)
        for _ in 0..<10 { bytes += frame(.continuation, [], fin: false, from: .server) }
        bytes += frame(.continuation, [0x62], from: .server) + frame(.pong, [], from: .server)
        for size in 1...6 {
            var parser = WebSocketFrameParser(role: .client)
            var events: [Ev] = []
            for start in stride(from: 0, to: bytes.count, by: size) {
                events += drain(&parser, bytes[start..<min(start + size, bytes.count)])
            }
            #expect(events == [.text([0x61, 0x62]), .pong([])], "reads of \(size)")
        }
    }

    @Test func invalidUTF8AcrossFragmentsFailsAtTheFirstBadByte() {
        // "ab" then the first byte of a 3-byte sequence; the next fragment continues with 'A'.
        let first = frame(.text, [0x61, 0x62, 0xE2], fin: false, from: .client)
        let second = frame(.continuation, [0x41] + Array(repeating: 0x42, count: 1000), from: .client)
        var parser = WebSocketFrameParser(role: .server)
        #expect(drain(&parser, first[...]) == [])
        // Header of the second frame plus one payload byte is enough to fail.
        let headerSize = WebSocketFrameEncoder.headerSize(payloadCount: 1001, masked: true)
        #expect(drain(&parser, second[0..<headerSize]) == [])
        #expect(drain(&parser, second[headerSize...headerSize]) == [.failure(1007)])
        // Afterwards every byte is ignored.
        #expect(drain(&parser, second[(headerSize + 1)...]) == [])
    }

    @Test func truncatedUTF8AtMessageEndFails() {
        let bytes = frame(.text, [0x61], fin: false, from: .client) + frame(.continuation, [0xF0, 0x9F, 0x98], from: .client)
        #expect(parse(bytes, role: .server) == [.failure(1007)])
        let ok = frame(.text, [0xF0, 0x9F], fin: false, from: .client) + frame(.continuation, [0x98, 0x80], from: .client)
        #expect(parse(ok, role: .server) == [.text([0xF0, 0x9F, 0x98, 0x80])])
    }

    @Test func utf8EdgeCases() {
        let valid: [[UInt8]] = [[0x7F], [0xC2, 0x80], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xF4, 0x8F, 0xBF, 0xBF], Array("κόσμε".utf8)]
        let invalid: [[UInt8]] = [[0x80], [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF5], [0xFF]]
        for v in valid { #expect(parse(frame(.text, v, from: .client), role: .server) == [.text(v)]) }
        for v in invalid { #expect(parse(frame(.text, v, from: .client), role: .server) == [.failure(1007)]) }
    }
}

@Suite struct ProtocolErrors {
    @Test func tooLargeMessageFailsAtTheHeader() {
        let big = frame(.text, Array(repeating: 0x61, count: 4097), from: .client)
        var parser = WebSocketFrameParser(role: .server)
        #expect(drain(&parser, big[0..<8], max: 4096) == [.failure(1009)])
        let exact = frame(.text, Array(repeating: 0x61, count: 4096), from: .client)
        #expect(parse(exact, role: .server, max: 4096) == [.text(Array(repeating: 0x61, count: 4096))])
        let fragmented = frame(.binary, noise(3000), fin: false, from: .client) + frame(.continuation, noise(2000), from: .client)
        #expect(parse(fragmented, role: .server, max: 4096) == [.failure(1009)])
    }

    @Test func maskRulesByRole() {
        #expect(parse(frame(.text, Array("hi".utf8), from: .server), role: .server) == [.failure(1002)])
        #expect(parse(frame(.text, Array("hi".utf8), from: .client), role: .client) == [.failure(1002)])
    }

    @Test func reservedBitsOpcodesAndControlRules() {
        var rsv = frame(.text, [0x61], from: .client)
        rsv[0] |= 0x20
        #expect(parse(rsv, role: .server) == [.failure(1002)])
        var rsv1 = frame(.text, [0x61], from: .client)
        rsv1[0] |= 0x40
        #expect(parse(rsv1, role: .server) == [.failure(1002)], "RSV1 without permessage-deflate")
        for op: UInt8 in [3, 4, 5, 6, 7, 11, 12, 13, 14, 15] {
            var f = frame(.binary, [1], from: .client)
            f[0] = 0x80 | op
            #expect(parse(f, role: .server) == [.failure(1002)], "opcode \(op)")
        }
        #expect(parse(frame(.ping, [], fin: false, from: .client), role: .server) == [.failure(1002)])
        #expect(parse(frame(.ping, noise(126), from: .client), role: .server) == [.failure(1002)])
        #expect(parse(frame(.ping, noise(125), from: .client), role: .server) == [.ping(noise(125))])
        #expect(parse(frame(.continuation, [1], from: .client), role: .server) == [.failure(1002)])
        let nested = frame(.text, [0x61], fin: false, from: .client) + frame(.text, [0x62], from: .client)
        #expect(parse(nested, role: .server) == [.failure(1002)])
        // A 16-bit length below 126 is not minimal.
        #expect(parse([0x82, 126, 0, 5, 1, 2, 3, 4, 5], role: .client) == [.failure(1002)])
    }

    @Test func closeCodes() {
        func close(_ code: UInt16, _ reason: [UInt8] = []) -> [UInt8] {
            frame(.close, [UInt8(code >> 8), UInt8(code & 0xFF)] + reason, from: .client)
        }
        for code: UInt16 in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999] {
            #expect(parse(close(code, Array("bye".utf8)), role: .server) == [.close(code, Array("bye".utf8))], "\(code)")
        }
        for code: UInt16 in [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
            #expect(parse(close(code), role: .server) == [.failure(1002)], "\(code)")
        }
        #expect(parse(frame(.close, [], from: .client), role: .server) == [.close(nil, [])])
        #expect(parse(frame(.close, [0x03], from: .client), role: .server) == [.failure(1002)])
        #expect(parse(close(1000, [0xCE, 0xBA, 0xE1]), role: .server) == [.failure(1007)])
    }
}
