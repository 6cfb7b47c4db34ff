// TCP over loopback: echo, half-close, backpressure, source address, refused connects,
// abrupt peers and close semantics. Every test ends with no handle left (withLoop).
import Testing
@testable import IOCore
import CLibUV

extension IOCoreTests {
    @Suite struct TCP {
        @Test(arguments: ["127.0.0.1", "::1"])
        func echoesOneMebibyteAndHalfClosesBothWays(host: String) throws {
            let payload = pattern(1 << 20)
            var received: [UInt8] = []
            received.reserveCapacity(payload.count)
            var serverSawEOF = false
            var clientCloseError: IOError?
            var firstStatus: SendStatus?
            let roomy = TCPConnection.Options(writeLimits: WriteLimits(lowWatermark: 64 << 10, highWatermark: 4 << 20, hardLimit: 8 << 20))
            try withLoop { loop in
                let listener = try TCPListener(loop: loop, host: host, port: 0, options: .init(connection: roomy)) { connection in
                    let echo = Delegate()
                    echo.onRead = { connection, bytes in
                        let status = connection.send(bytes)
                        #expect(status != .refused && status != .closed)
                    }
                    echo.onEOF = { connection in
                        serverSawEOF = true
                        connection.shutdown()  // FIN once every echoed byte is out
                    }
                    connection.start(delegate: echo)
                }
                #expect(listener.localPort > 0)
                #expect(listener.localAddress.isIPv6 == host.contains(":"))
                try TCPConnection.connect(on: loop, host: host, port: listener.localPort, options: roomy) { result in
                    guard case .success(let connection) = result else {
                        Issue.record("connect: \(result)")
                        loop.stop()
                        return
                    }
                    let reader = Delegate()
                    reader.onRead = { _, bytes in received.append(contentsOf: bytes) }
                    reader.onEOF = { connection in connection.close() }
                    reader.onClose = { _, error in
                        clientCloseError = error
                        loop.stop()
                    }
                    connection.start(delegate: reader)
                    firstStatus = connection.send(SharedBytes(payload))
                    connection.shutdown()
                    #expect(connection.send([1]) == .closed, "send after shutdown must be refused as closed")
                }
            }
            #expect(firstStatus == .written || firstStatus == .queued || firstStatus == .backpressure)
            #expect(serverSawEOF)
            #expect(clientCloseError == nil)
            #expect(received.count == payload.count)
            #expect(received == payload)
        }

        @Test func slowPeerGetsBackpressureThenRefusedThenWritableAfterItDrains() throws {
            let limits = WriteLimits(lowWatermark: 64 << 10, highWatermark: 256 << 10, hardLimit: 1 << 20)
            var statuses: [SendStatus] = []
            var queuedAtRefusal = 0
            var queuedAtWritable = -1
            var drained = 0
            var server: TCPConnection?
            var client: TCPConnection?
            try withLoop { loop in
                // Starts once both ends exist: fill the client's queue while the server does
                // not read, then let the server read.
                func fillThenDrain() {
                    guard let server, let client else { return }
                    let chunk = SharedBytes(pattern(64 << 10))
                    for _ in 0..<4096 {  // at most 256 MiB: far more than loopback buffers hold
                        let status = client.send(chunk)
                        if statuses.last != status { statuses.append(status) }
                        if status == .refused { break }
                    }
                    queuedAtRefusal = client.queuedBytes
                    let sink = Delegate()
                    sink.onRead = { _, bytes in drained += bytes.count }
                    server.start(delegate: sink)
                }
                let listener = try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { connection in
                    server = connection  // accepted but not reading: a slow consumer
                    fillThenDrain()
                }
                try TCPConnection.connect(on: loop, host: "127.0.0.1", port: listener.localPort,
                                          options: .init(writeLimits: limits)) { result in
                    guard case .success(let connection) = result else {
                        Issue.record("connect: \(result)")
                        loop.stop()
                        return
                    }
                    let writer = Delegate()
                    writer.onWritable = { connection in
                        queuedAtWritable = connection.queuedBytes
                        loop.stop()
                    }
                    connection.start(delegate: writer)
                    client = connection
                    fillThenDrain()
                }
            }
            #expect(client?.writeLimits == limits)
            #expect(statuses.first == .written)
            #expect(statuses.last == .refused)
            let backpressure = statuses.firstIndex(of: .backpressure)
            #expect(backpressure != nil && backpressure! < statuses.count - 1, "backpressure before refusal: \(statuses)")
            #expect(queuedAtRefusal > limits.highWatermark && queuedAtRefusal <= limits.hardLimit, "queue bounded: \(queuedAtRefusal)")
            #expect(queuedAtWritable >= 0 && queuedAtWritable <= limits.lowWatermark)
            #expect(drained > 0)
        }

        @Test func connectsFromAChosenSourceAddress() throws {
            var seenByServer: String?
            var clientLocal: String?
            try withLoop { loop in
                var pending = 2
                func oneDone() {
                    pending -= 1
                    if pending == 0 { loop.stop() }
                }
                let listener = try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { connection in
                    seenByServer = connection.remoteAddress?.ip
                    connection.close()
                    oneDone()
                }
                try TCPConnection.connect(on: loop, host: "127.0.0.1", port: listener.localPort, sourceAddress: "127.0.0.2") { result in
                    if case .success(let connection) = result {
                        clientLocal = connection.localAddress?.ip
                        connection.close()
                    } else {
                        Issue.record("connect: \(result)")
                    }
                    oneDone()
                }
            }
            #expect(seenByServer == "127.0.0.2")
            #expect(clientLocal == "127.0.0.2")
        }

        @Test func refusedConnectIsAnIOErrorNamedECONNREFUSED() throws {
            var failure: IOError?
            try withLoop { loop in
                // A port that was just free: bind, read it, close.
                let probe = try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { $0.close() }
                let port = probe.localPort
                probe.close()
                try TCPConnection.connect(on: loop, host: "127.0.0.1", port: port) { result in
                    if case .failure(let error) = result { failure = error }
                    loop.stop()
                }
            }
            #expect(failure?.name == "ECONNREFUSED")
            #expect(failure?.code == UV_ECONNREFUSED.rawValue)
            #expect(failure?.message.isEmpty == false)
        }

        @Test func badAddressesAreErrorsNotTraps() throws {
            #expect(throws: IOError.self) { try SocketAddress(ip: "300.1.2.3", port: 80) }
            #expect(throws: IOError.self) { try SocketAddress(ip: "::g", port: 80) }
            #expect(throws: IOError.self) { try SocketAddress(ip: "127.0.0.1", port: 70000) }
            let v6 = try SocketAddress(ip: "::1", port: 8080)
            #expect(v6.description == "[::1]:8080")
            #expect(try SocketAddress(ip: "10.1.2.3", port: 5).description == "10.1.2.3:5")
        }

        @Test func peerResetBecomesACloseCallbackWithECONNRESET() throws {
            var serverError: IOError?
            var closes = 0
            var sendAfterClose: SendStatus?
            var client: TCPConnection?
            try withLoop { loop in
                let listener = try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { connection in
                    let watcher = Delegate()
                    // The client resets once the server has read its byte: an RST that reaches
                    // a socket still in the accept queue reads as a plain EOF on Linux.
                    watcher.onRead = { _, _ in client?.reset() }
                    watcher.onClose = { connection, error in
                        closes += 1
                        serverError = error
                        sendAfterClose = connection.send([1, 2, 3])
                        loop.stop()
                    }
                    connection.start(delegate: watcher)
                }
                try TCPConnection.connect(on: loop, host: "127.0.0.1", port: listener.localPort) { result in
                    guard case .success(let connection) = result else {
                        Issue.record("connect: \(result)")
                        loop.stop()
                        return
                    }
                    client = connection
                    connection.send(Array("x".utf8))
                }
            }
            #expect(closes == 1)
            #expect(serverError?.name == "ECONNRESET")
            #expect(sendAfterClose == .closed)
        }

        @Test func noCallbackFollowsALocalClose() throws {
            var reads = 0
            var closes = 0
            var closeError: IOError?
            try withLoop { loop in
                let listener = try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { connection in
                    let closer = Delegate()
                    closer.onRead = { connection, _ in
                        reads += 1
                        connection.close()
                        connection.close()  // idempotent
                    }
                    closer.onEOF = { _ in Issue.record("EOF after close") }
                    closer.onClose = { _, error in
                        closes += 1
                        closeError = error
                    }
                    connection.start(delegate: closer)
                }
                try TCPConnection.connect(on: loop, host: "127.0.0.1", port: listener.localPort) { result in
                    guard case .success(let connection) = result else {
                        Issue.record("connect: \(result)")
                        loop.stop()
                        return
                    }
                    let client = Delegate()
                    client.onEOF = { connection in connection.close() }
                    client.onClose = { _, _ in loop.stop() }
                    connection.start(delegate: client)
                    for _ in 0..<3 { connection.send(pattern(1000)) }
                    loop.schedule(after: .milliseconds(5)) { connection.send(pattern(1000)) }
                }
            }
            #expect(reads == 1)
            #expect(closes == 1)
            #expect(closeError == nil)
        }

        @Test func reusePortLetsTwoListenersShareAPort() throws {
            try withLoop { loop in
                let options = TCPListener.Options(reusePort: true)
                let first = try TCPListener(loop: loop, host: "127.0.0.1", port: 0, options: options) { $0.close() }
                let second = try TCPListener(loop: loop, host: "127.0.0.1", port: first.localPort, options: options) { $0.close() }
                #expect(second.localPort == first.localPort)
                #expect(throws: IOError.self) {
                    _ = try TCPListener(loop: loop, host: "127.0.0.1", port: first.localPort) { $0.close() }
                }
                loop.stop()
            }
        }
    }
}
