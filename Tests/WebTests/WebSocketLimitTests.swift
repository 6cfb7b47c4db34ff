// The binding's timers and limits with small configured values: idle ping, pong timeout,
// slow consumers closed with 1008 and counted; and the client's response-head parser.
import Testing
import Synchronization
import IOCore
import HTTP1
@testable import Web
import WebSocket
#if canImport(Glibc)
import Glibc
#endif

extension WebTests {
    @Suite struct WebSocketLimits {
        @Test func idlePeerIsPingedAndClosedWhenItNeverAnswers() throws {
            var configuration = WebSocketConfiguration()
            configuration.pingInterval = 200
            configuration.pongTimeout = 200
            let server = try WSTestServer(configuration: configuration)
            let raw = try RawClient(port: server.port)
            #expect(raw.webSocketHandshake()?.status == 101)
            let start = ContinuousClock.now
            let ping = try #require(raw.readFrame())
            #expect(ping.opcode == 9)
            let pingedAfter = elapsedMilliseconds(since: start)
            #expect(pingedAfter >= 150, "pinged before the 200 ms interval: after \(pingedAfter) ms")
            // No pong: the transport is closed without a close frame.
            #expect(raw.waitsForEOF())
            #expect(try server.eventually { $0.ws.counters.openConnections == 0 })
            #expect(server.serverEvents.snapshot.closes == [nil])

            // A peer that answers pings stays.
            let polite = try RawClient(port: server.port)
            #expect(polite.webSocketHandshake()?.status == 101)
            for _ in 0..<3 {
                let p = try #require(polite.readFrame())
                #expect(p.opcode == 9)
                polite.send(RawClient.frame(.pong, p.payload))
            }
            #expect(try server.onLoop { $0.ws.counters.openConnections } == 1)
            #expect(server.stop())
        }

        @Test func peerThatNeverReadsIsClosedWith1008AsASlowConsumer() throws {
            var configuration = WebSocketConfiguration()
            configuration.outboundHardLimit = 64 * 1024
            configuration.closeTimeout = 20_000
            let server = try WSTestServer(configuration: configuration)
            let raw = try RawClient(port: server.port)
            #expect(raw.webSocketHandshake()?.status == 101)
            #expect(try server.eventually { $0.ws.connections.count == 1 })
            let sent = try server.onLoop { side -> (Int, WebSocketSendStatus) in
                guard let connection = side.ws.connections.first else { return (0, .closed) }
                let chunk = [UInt8](repeating: 0x61, count: 16 * 1024)
                var count = 0
                while count < 10_000 {
                    let status = connection.send(binary: chunk)
                    if status == .closed { return (count, status) }
                    count += 1
                }
                return (count, .sent)
            }
            #expect(sent.1 == .closed, "sent \(sent.0) messages without being closed")
            #expect(try server.onLoop { $0.ws.counters.slowConsumerCloses } == 1)
            // Draining now, the peer finds every admitted message, then the 1008 close.
            var frames = 0
            var close: RawFrame?
            while let frame = raw.readFrame() {
                if frame.opcode == 8 { close = frame; break }
                frames += 1
            }
            #expect(frames == sent.0)
            #expect(close?.closeCode == 1008)
            #expect(String(decoding: close?.payload.dropFirst(2) ?? [], as: UTF8.self) == "slow consumer")
            raw.send(RawClient.closeFrame(1008))
            #expect(raw.waitsForEOF())
            raw.close()
            #expect(try server.eventually { $0.ws.counters.openConnections == 0 })
            #expect(server.stop())
        }

        @Test func idleConnectionObjectIsSmall() throws {
            let server = try WSTestServer()
            let raw = try RawClient(port: server.port)
            #expect(raw.webSocketHandshake()?.status == 101)
            let bytes = try server.onLoop { side -> Int in
                guard let connection = side.ws.connections.first else { return -1 }
                return mallocUsableSize(Unmanaged.passUnretained(connection).toOpaque())
            }
            // 152 bytes requested: glibc's 160-byte chunk (usable 152). Memory per idle
            // connection is a headline figure (docs/websocket.md); a new field must pay for itself.
            #expect(bytes > 0 && bytes <= 152, "WebSocketConnection takes \(bytes) bytes")
            #expect(server.stop())
        }

        @Test func responseHeadParserIsSplitIndependentAndBounded() throws {
            let head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: abc=\r\n\r\n"
            let bytes = Array(head.utf8) + [0x81, 0x00]
            for cut in 0...bytes.count {
                var parser = WebSocketResponseHeadParser()
                var status = 0
                var names: [String] = []
                var headEnd = -1
                var fed = 0
                for part in [Array(bytes[0..<cut]), Array(bytes[cut...])] {
                    let result = part.withUnsafeBytes { parser.feed($0) }
                    if case .complete(let s, let h, let consumed) = result {
                        status = s
                        names = h.map(\.name)
                        headEnd = fed + consumed
                        break
                    }
                    fed += part.count
                }
                #expect(status == 101, "cut \(cut)")
                #expect(names == ["Upgrade", "Connection", "Sec-WebSocket-Accept"])
                #expect(headEnd == bytes.count - 2, "cut \(cut): head ends at \(headEnd)")
            }
            let bad = ["HTTP/2 101 x\r\n\r\n", "HTTP/1.1 1o1 x\r\n\r\n", "HTTP/1.1 101 x\r\n folded\r\n\r\n",
                       "HTTP/1.1 101 x\r\nno colon\r\n\r\n", "HTTP/1.1 101 x\r\nbad name: v\r\n\r\n",
                       "HTTP/1.1 101 x\r\nA: \u{1}\r\n\r\n", "junk\r\n\r\n"]
            for text in bad {
                var parser = WebSocketResponseHeadParser()
                let result = Array(text.utf8).withUnsafeBytes { parser.feed($0) }
                guard case .invalid = result else {
                    Issue.record("accepted \(text.debugDescription)")
                    continue
                }
            }
            var long = WebSocketResponseHeadParser()
            let filler = Array(("HTTP/1.1 101 x\r\n" + String(repeating: "X-A: b\r\n", count: 2000)).utf8)
            guard case .invalid = filler.withUnsafeBytes({ long.feed($0) }) else {
                Issue.record("an over-long head was not refused")
                return
            }
            var many = WebSocketResponseHeadParser()
            let fields = Array(("HTTP/1.1 101 x\r\n" + String(repeating: "A: b\r\n", count: 101) + "\r\n").utf8)
            guard case .invalid = fields.withUnsafeBytes({ many.feed($0) }) else {
                Issue.record("101 header fields were accepted")
                return
            }
        }
    }
}
