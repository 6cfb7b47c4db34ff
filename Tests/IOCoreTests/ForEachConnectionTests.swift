// EventLoop.forEachConnection: the walk owners use instead of keeping a list per connection.
import Testing
@testable import IOCore

extension IOCoreTests {
    @Suite struct ForEachConnection {
        final class Idle: TCPConnectionDelegate {
            func connection(_ connection: TCPConnection, didRead bytes: UnsafeRawBufferPointer) {}
            /// Stays open after the peer's FIN, so only the closed side leaves the walk.
            func connectionDidReadEOF(_ connection: TCPConnection) {}
        }

        /// Visits every accepted and connecting connection, never the listener, and stops
        /// visiting a connection once its close callback ran.
        @Test func visitsConnectionsNotListeners() throws {
            let loop = try EventLoop()
            let idle = Idle()
            var accepted: [TCPConnection] = []
            let listener = try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { connection in
                connection.start(delegate: idle)
                accepted.append(connection)
            }
            var clients: [TCPConnection] = []
            for _ in 0..<3 {
                try TCPConnection.connect(on: loop, host: "127.0.0.1", port: listener.localPort) { result in
                    if case .success(let c) = result {
                        c.start(delegate: idle)
                        clients.append(c)
                    }
                }
            }
            try #require(run(loop) { accepted.count == 3 && clients.count == 3 })

            var seen: [TCPConnection] = []
            loop.forEachConnection { seen.append($0) }
            #expect(seen.count == 6)
            #expect(Set(seen) == Set(accepted + clients))

            for c in accepted { c.close() }
            _ = runDue(loop) { loop.openHandleCount <= 4 }  // the closes (and the check timer's) complete
            var after = 0
            loop.forEachConnection { _ in after += 1 }
            #expect(after == 3)

            listener.close()
            clients.removeAll()
            accepted.removeAll()
            try loop.close()
            #expect(loop.openHandleCount == 0)
        }
    }
}
