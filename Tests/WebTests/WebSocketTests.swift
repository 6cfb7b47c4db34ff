// The WebSocket binding over real loopback sockets: handshake accept and reject, echo at frame
// length boundaries, fragmented input from a raw peer, ping/pong, the close handshake both
// ways, shutdown with 1001, fan-out of one prepared frame, permessage-deflate end to end.
import Testing
import Synchronization
import IOCore
import HTTP1
import Web
import WebSocket

/// What a test's client side saw, filled on the loop.
final class ConnectOutcome: Sendable {
    let result = Mutex<String?>(nil)
}

extension WebTests {
    @Suite struct WebSocketBinding {
        static func bigConfiguration() -> WebSocketConfiguration {
            var c = WebSocketConfiguration()
            c.maxMessageSize = 2 << 20
            c.outboundHardLimit = 8 << 20
            return c
        }

        @Test func clientHandshakeSubprotocolAndEchoAtFrameLengthBoundaries() throws {
            let server = try WSTestServer(configuration: Self.bigConfiguration()) { request, events in
                #expect(request.path == "/ws")
                #expect(request.query == "userId=7")
                #expect(request.headers["X-Test"] == "yes")
                #expect(request.offeredSubprotocols == ["chat", "bearer.abc"])
                return .accept(subprotocol: "bearer.abc", handler: RecordingHandler(events, echo: true))
            }
            let clientEvents = WSEvents()
            let outcome = ConnectOutcome()
            let sizes = [0, 125, 126, 65536, 1 << 20]
            try server.onLoop { side in
                side.client.connect(host: "127.0.0.1", port: server.port, path: "/ws?userId=7", headers: [("X-Test", "yes")],
                                    subprotocols: ["chat", "bearer.abc"], handler: RecordingHandler(clientEvents, echo: false)) { result in
                    switch result {
                    case .success(let connection):
                        outcome.result.withLock { $0 = "open" }
                        for size in sizes {
                            connection.send(text: String(repeating: "é", count: size / 2) + (size % 2 == 1 ? "x" : ""))
                            connection.send(binary: (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) })
                        }
                    case .failure(let error):
                        outcome.result.withLock { $0 = "\(error)" }
                    }
                }
            }
            #expect(try server.eventually { _ in clientEvents.snapshot.binaries.count == sizes.count && clientEvents.snapshot.texts.count == sizes.count })
            #expect(outcome.result.withLock { $0 } == "open")
            let seen = clientEvents.snapshot
            #expect(seen.opened == 1)
            #expect(seen.binaries.map(\.count) == sizes)
            for (i, size) in sizes.enumerated() {
                #expect(seen.binaries[i] == (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) })
                #expect(seen.texts[i].count == size)
            }
            #expect(server.serverEvents.snapshot.texts.map(\.count) == sizes)
            let counters = try server.onLoop { $0.ws.counters }
            #expect(counters.openConnections == 1)
            #expect(counters.messagesIn == 10 && counters.messagesOut == 10)
            #expect(server.stop())
        }

        @Test func rejectWith401BeforeTheUpgrade() throws {
            let server = try WSTestServer { request, _ in
                request.headers["Authorization"] == nil
                    ? .reject(.unauthorized, headers: ["WWW-Authenticate": "Bearer"], body: Array("no token\n".utf8))
                    : .reject(.forbidden)
            }
            let raw = try RawClient(port: server.port)
            let response = try #require(raw.webSocketHandshake())
            #expect(response.status == 401)
            #expect(response.header("WWW-Authenticate") == "Bearer")
            #expect(response.header("Upgrade") == nil)
            #expect(response.text == "no token\n")
            #expect(raw.waitsForEOF())

            let outcome = ConnectOutcome()
            try server.onLoop { side in
                side.client.connect(host: "127.0.0.1", port: server.port, path: "/ws", headers: [("Authorization", "Bearer x")],
                                    handler: RecordingHandler(WSEvents(), echo: false)) { result in
                    if case .failure(.rejected(let status, _)) = result { outcome.result.withLock { $0 = "rejected \(status)" } }
                    else { outcome.result.withLock { $0 = "unexpected" } }
                }
            }
            #expect(try server.eventually { _ in outcome.result.withLock { $0 } != nil })
            #expect(outcome.result.withLock { $0 } == "rejected 403")
            // A bad handshake is refused by the codec before the callback: version 8 gets 426.
            let old = try RawClient(port: server.port)
            old.send("GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n")
            let refused = try #require(old.readResponse())
            #expect(refused.status == 426)
            #expect(refused.header("Sec-WebSocket-Version") == "13")
            #expect(refused.header("Content-Type") == "application/json")
            #expect(refused.text.hasPrefix(#"{"error":"upgrade_required","message":"#))
            #expect(try server.onLoop { $0.ws.counters.openConnections } == 0)
            #expect(server.stop())
        }

        @Test func fragmentedMessageWithInterleavedPingFromARawSocketByteByByte() throws {
            let server = try WSTestServer()
            let raw = try RawClient(port: server.port)
            #expect(raw.webSocketHandshake()?.status == 101)
            var wire = RawClient.frame(.text, Array("Hel".utf8), fin: false)
            wire += RawClient.frame(.ping, Array("p1".utf8))
            wire += RawClient.frame(.continuation, Array("lo, wö".utf8), fin: false)
            wire += RawClient.frame(.continuation, Array("rld".utf8), fin: true)
            for byte in wire { raw.send([byte]) }
            let pong = try #require(raw.readFrame())
            #expect(pong.opcode == 0xA && pong.payload == Array("p1".utf8))
            let echo = try #require(raw.readFrame())
            #expect(echo.opcode == 1 && echo.fin && String(decoding: echo.payload, as: UTF8.self) == "Hello, wörld")
            #expect(server.serverEvents.snapshot.texts == [Array("Hello, wörld".utf8)])
            #expect(server.stop())
        }

        @Test func peerInitiatedCloseIsEchoedThenTheServerClosesTCP() throws {
            let server = try WSTestServer()
            let raw = try RawClient(port: server.port)
            #expect(raw.webSocketHandshake()?.status == 101)
            raw.send(RawClient.closeFrame(4000, "bye"))
            let answer = try #require(raw.readFrame())
            #expect(answer.closeCode == 4000)
            #expect(raw.waitsForEOF())
            raw.close()
            #expect(try server.eventually { _ in server.serverEvents.snapshot.closes == [4000] })
            // An invalid close code from the peer is a protocol error: 1002.
            let bad = try RawClient(port: server.port)
            #expect(bad.webSocketHandshake()?.status == 101)
            bad.send(RawClient.closeFrame(1005))
            #expect(bad.readFrame()?.closeCode == 1002)
            #expect(bad.waitsForEOF())
            #expect(server.stop())
        }

        @Test func serverInitiatedCloseReachesTheClientWithItsCode() throws {
            let server = try WSTestServer()
            let clientEvents = WSEvents()
            try server.onLoop { side in
                side.client.connect(host: "127.0.0.1", port: server.port, path: "/ws", handler: RecordingHandler(clientEvents, echo: false)) { _ in }
            }
            #expect(try server.eventually { $0.ws.connections.count == 1 && clientEvents.snapshot.opened == 1 })
            try server.onLoop { $0.ws.connections.first?.close(code: WebSocketCloseCode(rawValue: 4001), reason: "done") }
            #expect(try server.eventually { _ in clientEvents.snapshot.closes == [4001] && server.serverEvents.snapshot.closes == [4001] })
            #expect(try server.eventually { $0.ws.counters.openConnections == 0 && $0.client.counters.openConnections == 0 })

            // And the other way: the client closes with 1000.
            try server.onLoop { side in
                side.client.connect(host: "127.0.0.1", port: server.port, path: "/ws", handler: RecordingHandler(clientEvents, echo: false)) { result in
                    if case .success(let connection) = result { connection.close(code: .normal) }
                }
            }
            #expect(try server.eventually { _ in clientEvents.snapshot.closes == [4001, 1000] && server.serverEvents.snapshot.closes == [4001, 1000] })
            #expect(server.stop())
        }

        @Test func shutdownSends1001ToEveryConnection() throws {
            let server = try WSTestServer()
            let raws = try (0..<3).map { _ in try RawClient(port: server.port) }
            for raw in raws { #expect(raw.webSocketHandshake()?.status == 101) }
            let finished = ConnectOutcome()
            try server.onLoop { side in side.ws.shutdown { finished.result.withLock { $0 = "done" } } }
            for raw in raws {
                #expect(raw.readFrame()?.closeCode == 1001)
                raw.send(RawClient.closeFrame(1001))
                #expect(raw.waitsForEOF())
                raw.close()
            }
            #expect(try server.eventually { _ in finished.result.withLock { $0 } == "done" })
            // Upgrades after shutdown get 503.
            let late = try RawClient(port: server.port)
            #expect(late.webSocketHandshake()?.status == 503)
            #expect(server.stop())
        }

        @Test func oneSharedPreparedFrameReachesAHundredConnections() throws {
            let server = try WSTestServer()
            let clientEvents = WSEvents()
            try server.onLoop { side in
                for _ in 0..<100 {
                    side.client.connect(host: "127.0.0.1", port: server.port, path: "/ws", handler: RecordingHandler(clientEvents, echo: false)) { _ in }
                }
            }
            #expect(try server.eventually { $0.ws.connections.count == 100 && clientEvents.snapshot.opened == 100 })
            let statuses = try server.onLoop { side -> [WebSocketSendStatus] in
                let message = WebSocketPreparedMessage(text: "notification #1")
                #expect(message.plain.sharedBytes != nil)
                return side.ws.connections.map { $0.send(message) }
            }
            #expect(statuses.allSatisfy { $0 == .sent })
            #expect(try server.eventually { _ in clientEvents.snapshot.texts.count == 100 })
            #expect(clientEvents.snapshot.texts.allSatisfy { $0 == Array("notification #1".utf8) })
            #expect(server.stop())
        }

        @Test func permessageDeflateNegotiatedEndToEnd() throws {
            let server = try WSTestServer()
            let clientEvents = WSEvents()
            let text = String(repeating: "notification payload, compressible. ", count: 300)
            try server.onLoop { side in
                side.client.connect(host: "127.0.0.1", port: server.port, path: "/ws", offerDeflate: true,
                                    handler: RecordingHandler(clientEvents, echo: false)) { result in
                    if case .success(let connection) = result {
                        #expect(connection.isCompressionNegotiated)
                        connection.send(text: text)
                    }
                }
            }
            #expect(try server.eventually { _ in clientEvents.snapshot.texts.count == 1 })
            #expect(clientEvents.snapshot.texts.first == Array(text.utf8))
            let statuses = try server.onLoop { side -> [WebSocketSendStatus] in
                let message = WebSocketPreparedMessage(text: text, deflate: side.ws.context.deflate)
                #expect((message.compressed?.count ?? Int.max) < message.plain.count / 10)
                let negotiated = side.ws.connections.filter { $0.isCompressionNegotiated }.count
                #expect(negotiated == 1)
                return side.ws.connections.map { $0.send(message) }
            }
            #expect(statuses == [.sent])
            #expect(try server.eventually { _ in clientEvents.snapshot.texts.count == 2 })
            #expect(clientEvents.snapshot.texts.last == Array(text.utf8))

            // A raw peer sees RSV1 on the echo of a compressible message.
            let raw = try RawClient(port: server.port)
            let response = try #require(raw.webSocketHandshake(extra: "Sec-WebSocket-Extensions: permessage-deflate\r\n"))
            #expect(response.header("Sec-WebSocket-Extensions")?.hasPrefix("permessage-deflate") == true)
            raw.send(RawClient.frame(.binary, Array(text.utf8)))
            let echoed = try #require(raw.readFrame())
            #expect(echoed.rsv1 && echoed.opcode == 2 && echoed.payload.count < text.utf8.count / 10)
            #expect(server.stop())
        }
    }
}
