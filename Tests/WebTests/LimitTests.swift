// Bad and slow clients: each parse error gets its status then a close; the header timeout
// answers 408 to a slowloris head; idle keep-alive connections close; graceful shutdown lets
// an in-flight request finish; the upgrade hook gets the head and the bytes after it.
import Testing
import Dispatch
import Synchronization
import IOCore
import HTTP1
import Web

extension WebTests {
    @Suite struct Limits {
        static func fastTimeouts() -> HTTPServer.Configuration {
            var configuration = HTTPServer.Configuration()
            configuration.headerTimeout = .milliseconds(300)
            configuration.idleTimeout = .milliseconds(300)
            configuration.sweepInterval = .milliseconds(50)
            return configuration
        }

        static let badRequests: [(String, Int)] = [
            ("GET / HTTP/1.1\r\nHost: t\r\nBad Header\r\n\r\n", 400),
            ("POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world", 413),
            ("GET /" + String(repeating: "a", count: 9000) + " HTTP/1.1\r\nHost: t\r\n\r\n", 414),
            ("GET / HTTP/1.1\r\nHost: t\r\n" + String(repeating: "X-Many: 1\r\n", count: 101) + "\r\n", 431),
            ("GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + String(repeating: "b", count: 9000) + "\r\n\r\n", 431),
            ("GET / HTTP/2.0\r\n\r\n", 505),
        ]

        @Test(arguments: Limits.badRequests)
        func badRequestGetsItsStatusThenClose(request: String, status: Int) throws {
            let server = try TestServer { server in
                server.route(.POST, "/small", bodyLimit: 10) { _, res in res.respond(.ok) }
            }
            let client = try RawClient(port: server.port)
            client.send(request)
            let response = try #require(client.readResponse())
            #expect(response.status == status)
            #expect(response.header("Connection") == "close")
            #expect(client.waitsForEOF())
            #expect(server.stop())
        }

        @Test func slowlorisHeadGets408AfterTheHeaderTimeoutThenClose() throws {
            let server = try TestServer(configuration: Limits.fastTimeouts())
            let client = try RawClient(port: server.port)
            let start = ContinuousClock.now
            client.send("GET / HTTP/1.1\r\nHost: t\r\n")
            client.send("X-Trickle: 1\r\n")  // more bytes do not extend the deadline
            let response = try #require(client.readResponse())
            let elapsed = elapsedMilliseconds(since: start)
            #expect(response.status == 408)
            #expect(client.waitsForEOF())
            #expect(elapsed >= 250, "408 before the 300 ms timeout: after \(elapsed) ms")
            // A connection that never sends anything is closed silently after the same time.
            let silent = try RawClient(port: server.port)
            #expect(silent.waitsForEOF())
            #expect(server.stop())
        }

        @Test func stalledBodyGets408AfterTheBodyTimeout() throws {
            var configuration = Limits.fastTimeouts()
            configuration.bodyTimeout = .milliseconds(300)
            let server = try TestServer(configuration: configuration) { server in
                server.route(.POST, "/upload") { _, res in res.respond(.ok) }
            }
            let client = try RawClient(port: server.port)
            let start = ContinuousClock.now
            client.send("POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
            let response = try #require(client.readResponse())
            let elapsed = elapsedMilliseconds(since: start)
            #expect(response.status == 408)
            #expect(client.waitsForEOF())
            #expect(elapsed >= 250, "408 before the 300 ms timeout: after \(elapsed) ms")
            #expect(server.stop())
        }

        @Test func idleKeepAliveConnectionIsClosedAfterTheIdleTimeout() throws {
            let server = try TestServer(configuration: Limits.fastTimeouts()) { server in
                server.route(.GET, "/") { _, res in res.respond(.noContent) }
            }
            let client = try RawClient(port: server.port)
            client.send("GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(client.readResponse()?.status == 204)
            let start = ContinuousClock.now
            #expect(client.waitsForEOF())
            let elapsed = elapsedMilliseconds(since: start)
            #expect(elapsed >= 250, "closed before the 300 ms idle timeout: after \(elapsed) ms")
            #expect(try server.eventually { $0.connectionCount == 0 })
            #expect(server.stop())
        }

        @Test func gracefulShutdownFinishesTheInFlightRequestAndClosesIdleOnes() throws {
            let received = DispatchSemaphore(value: 0)
            let finished = DispatchSemaphore(value: 0)
            let server = try TestServer { server in
                server.route(.GET, "/quick") { _, res in res.respond(.ok) }
                server.route(.GET, "/work") { _, res in
                    received.signal()
                    server.loop.schedule(after: .milliseconds(200)) { res.respond(.ok, body: Array("done".utf8)) }
                }
            }
            let idle = try RawClient(port: server.port)
            idle.send("GET /quick HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(idle.readResponse()?.status == 200)
            let busy = try RawClient(port: server.port)
            busy.send("GET /work HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(received.wait(timeout: .now() + 5) == .success)
            _ = try server.onLoop { server in
                server.shutdown(graceful: true) { finished.signal() }
                return server.listeningPorts.count
            }
            #expect(idle.waitsForEOF())
            idle.close()
            let response = try #require(busy.readResponse())
            #expect(response.text == "done")
            #expect(response.header("Connection") == "close")
            #expect(busy.waitsForEOF())
            busy.close()  // the server lingers (FIN sent, reading) until the client closes
            #expect(finished.wait(timeout: .now() + 5) == .success)
            #expect(throws: TestFailure.self) { try RawClient(port: server.port) }
            #expect(server.stop())
        }

        @Test func upgradeHookGetsHeadAndBufferedBytesAndCanAcceptOrReject() throws {
            let seen = Mutex<[(String, [UInt8])]>([])
            let server = try TestServer { server in
                server.route(.GET, "/plain") { _, res in res.respond(.ok, body: Array("plain".utf8)) }
                server.onUpgrade = { head, connection, buffered in
                    seen.withLock { $0.append((head.path, buffered)) }
                    switch head.path {
                    case "/ws":
                        connection.delegate = EchoDelegate()
                        _ = connection.send(Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n".utf8))
                        _ = connection.send(buffered)
                        return .accepted
                    case "/plain":
                        return .declined
                    default:
                        return .rejected(.unauthorized, headers: ["WWW-Authenticate": "Bearer"], body: Array("no".utf8))
                    }
                }
            }
            let upgrade = "HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
            let accepted = try RawClient(port: server.port)
            accepted.send("GET /ws " + upgrade + "early")
            #expect(accepted.readResponse()?.status == 101)
            #expect(accepted.read(count: 5) == Array("early".utf8))
            accepted.send("later")
            #expect(accepted.read(count: 5) == Array("later".utf8))
            #expect(try server.onLoop { $0.connectionCount } == 0, "an upgraded connection leaves the server's list")

            let rejected = try RawClient(port: server.port)
            rejected.send("GET /ws-denied " + upgrade)
            let denial = try #require(rejected.readResponse())
            #expect(denial.status == 401)
            #expect(denial.header("WWW-Authenticate") == "Bearer")
            #expect(denial.text == "no")
            #expect(rejected.waitsForEOF())

            let declined = try RawClient(port: server.port)
            declined.send("GET /plain " + upgrade)
            #expect(declined.readResponse()?.text == "plain")

            let paths = seen.withLock { $0.map(\.0) }
            #expect(paths == ["/ws", "/ws-denied", "/plain"])
            #expect(seen.withLock { $0.first?.1 } == Array("early".utf8))
            #expect(server.stop())
        }

        @Test func upgradeOwnerCanRejectLaterWithAnHTTPResponse() throws {
            let server = try TestServer { server in
                server.onUpgrade = { _, connection, _ in
                    connection.delegate = EchoDelegate()
                    server.loop.schedule(after: .milliseconds(30)) {
                        HTTPServer.reject(connection, status: .forbidden, body: Array("bad token".utf8))
                    }
                    return .accepted
                }
            }
            let client = try RawClient(port: server.port)
            client.send("GET /ws HTTP/1.1\r\nHost: t\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n")
            let response = try #require(client.readResponse())
            #expect(response.status == 403)
            #expect(response.text == "bad token")
            #expect(response.header("Connection") == "close")
            #expect(client.waitsForEOF())
            #expect(server.stop())
        }
    }
}
