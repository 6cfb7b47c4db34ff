// Requests over real sockets: routing with parameters and JSON, pipelining order (also with
// a handler that answers later), keep-alive and Connection: close, 404/405, HEAD, 100-continue,
// chunked bodies, large responses under backpressure, handler errors.
import Testing
import Dispatch
import Synchronization
import IOCore
import HTTP1
import Web

extension WebTests {
    @Suite struct Serving {
        /// Routes used by most tests.
        static func addRoutes(_ server: HTTPServer) {
            server.route(.GET, "/text/:word") { req, res in
                res.respond(.ok, headers: ["Content-Type": "text/plain"], body: Array((req.parameters["word"] ?? "?").utf8))
            }
            server.route(.POST, "/users/:id/notes", bodyLimit: 1024) { req, res in
                res.run {
                    let json = try req.json()
                    var w = JSONWriter()
                    w.beginObject()
                    w.member("id", req.parameters.int("id") ?? -1)
                    w.member("note", json["note"]?.stringValue ?? "")
                    w.member("limit", req.query.int("limit"))
                    w.endObject()
                    res.respond(json: .created, w)
                }
            }
            server.route(.GET, "/slow/:ms") { req, res in
                let ms = req.parameters.int("ms") ?? 100
                server.loop.schedule(after: .milliseconds(ms)) {
                    res.respond(.ok, body: Array("slow \(ms)".utf8))
                }
            }
        }

        @Test func jsonPostAndGetRoundTripThroughRouteParameters() throws {
            let server = try TestServer(Serving.addRoutes)
            let client = try RawClient(port: server.port)
            let body = #"{"note":"hello \"world\""}"#
            client.send("POST /users/42/notes?limit=7 HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            let created = try #require(client.readResponse())
            #expect(created.status == 201)
            #expect(created.header("Content-Type") == "application/json")
            #expect(created.header("Date")?.hasSuffix(" GMT") == true)
            #expect(created.header("Server") == nil)
            #expect(created.text == #"{"id":42,"note":"hello \"world\"","limit":7}"#)

            client.send("GET /text/caf%C3%A9 HTTP/1.1\r\nHost: t\r\n\r\n")
            let text = try #require(client.readResponse())
            #expect(text.status == 200)
            #expect(text.text == "café")

            client.send("POST /users/1/notes HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\n{bad}")
            let bad = try #require(client.readResponse())
            #expect(bad.status == 400)
            #expect(bad.text.hasPrefix(#"{"error":"bad_request","message":"invalid JSON"#))
            #expect(server.stop())
        }

        @Test func threePipelinedRequestsInOneWriteAreAnsweredInOrder() throws {
            let server = try TestServer(Serving.addRoutes)
            let client = try RawClient(port: server.port)
            client.send("GET /text/a HTTP/1.1\r\nHost: t\r\n\r\nGET /text/b HTTP/1.1\r\nHost: t\r\n\r\nGET /text/c HTTP/1.1\r\nHost: t\r\n\r\n")
            let bodies = (0..<3).compactMap { _ in client.readResponse()?.text }
            #expect(bodies == ["a", "b", "c"])
            #expect(server.stop())
        }

        @Test func aLaterResponseStillPrecedesTheNextPipelinedOne() throws {
            let server = try TestServer(Serving.addRoutes)
            let client = try RawClient(port: server.port)
            client.send("GET /slow/150 HTTP/1.1\r\nHost: t\r\n\r\nGET /text/fast HTTP/1.1\r\nHost: t\r\n\r\nGET /slow/20 HTTP/1.1\r\nHost: t\r\n\r\n")
            let bodies = (0..<3).compactMap { _ in client.readResponse()?.text }
            #expect(bodies == ["slow 150", "fast", "slow 20"])
            #expect(server.stop())
        }

        @Test func keepAliveReusesTheConnectionAndConnectionCloseEndsIt() throws {
            let server = try TestServer(Serving.addRoutes)
            let client = try RawClient(port: server.port)
            for word in ["one", "two", "three"] {
                client.send("GET /text/\(word) HTTP/1.1\r\nHost: t\r\n\r\n")
                let response = try #require(client.readResponse())
                #expect(response.text == word)
                #expect(response.header("Connection") == nil)
            }
            #expect(try server.onLoop { $0.connectionCount } == 1)
            client.send("GET /text/last HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            let last = try #require(client.readResponse())
            #expect(last.text == "last")
            #expect(last.header("Connection") == "close")
            #expect(client.waitsForEOF())

            // HTTP/1.0 closes unless asked to keep alive.
            let old = try RawClient(port: server.port)
            old.send("GET /text/old HTTP/1.0\r\n\r\n")
            #expect(old.readResponse()?.header("Connection") == "close")
            #expect(old.waitsForEOF())
            #expect(server.stop())
        }

        @Test func aHalfClosedClientStillGetsItsAnswerThenClose() throws {
            let server = try TestServer(Serving.addRoutes)
            let client = try RawClient(port: server.port)
            client.send("GET /slow/50 HTTP/1.1\r\nHost: t\r\n\r\n")
            client.shutdownWrite()
            let response = try #require(client.readResponse())
            #expect(response.text == "slow 50")
            #expect(response.header("Connection") == "close")
            #expect(client.waitsForEOF())
            #expect(try server.eventually { $0.connectionCount == 0 })
            #expect(server.stop())
        }

        @Test func unknownPathIs404AndWrongMethodIs405WithAllow() throws {
            let server = try TestServer(Serving.addRoutes)
            let client = try RawClient(port: server.port)
            client.send("GET /nope HTTP/1.1\r\nHost: t\r\n\r\n")
            let missing = try #require(client.readResponse())
            #expect(missing.status == 404)
            #expect(missing.text == #"{"error":"not_found","message":"not found"}"#)
            client.send("DELETE /text/a HTTP/1.1\r\nHost: t\r\n\r\n")
            let wrong = try #require(client.readResponse())
            #expect(wrong.status == 405)
            #expect(wrong.header("Allow") == "GET, HEAD")
            client.send("GET /text/%zz HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(client.readResponse()?.status == 400)
            // The connection survives answers to bodiless requests.
            client.send("HEAD /text/abc HTTP/1.1\r\nHost: t\r\n\r\n")
            let head = try #require(client.readResponse(bodyless: true))
            #expect(head.status == 200)
            #expect(head.header("Content-Length") == "3")
            client.send("GET /text/after HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(client.readResponse()?.text == "after")
            // A 404 for a request with a body is answered at once, then the connection closes.
            let other = try RawClient(port: server.port)
            other.send("POST /nope HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\npartial")
            #expect(other.readResponse()?.status == 404)
            #expect(other.waitsForEOF())
            #expect(server.stop())
        }

        @Test func expectContinueGets100ThenTheResponse() throws {
            let server = try TestServer(Serving.addRoutes)
            let client = try RawClient(port: server.port)
            let body = #"{"note":"n"}"#
            client.send("POST /users/5/notes HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: \(body.utf8.count)\r\n\r\n")
            #expect(client.readResponse()?.status == 100)
            client.send(body)
            #expect(client.readResponse()?.status == 201)
            // Over the route's limit: 413 without a 100 first.
            client.send("POST /users/5/notes HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n")
            #expect(client.readResponse()?.status == 413)
            #expect(client.waitsForEOF())
            #expect(server.stop())
        }

        @Test func chunkedBodyIsCollected() throws {
            let server = try TestServer(Serving.addRoutes)
            let client = try RawClient(port: server.port)
            client.send("POST /users/9/notes HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"not\r\n7\r\ne\":\"c\"}\r\n0\r\n\r\n")
            let response = try #require(client.readResponse())
            #expect(response.status == 201)
            #expect(response.text == #"{"id":9,"note":"c","limit":null}"#)
            #expect(server.stop())
        }

        @Test func largeResponsesSurviveBackpressureAndStayOrdered() throws {
            let big = (0..<(3 << 20)).map { UInt8($0 % 251) }
            let server = try TestServer { server in
                server.route(.GET, "/big/:tag") { req, res in
                    res.respond(.ok, headers: ["X-Tag": req.parameters["tag"] ?? ""], body: big)
                }
            }
            let client = try RawClient(port: server.port)
            client.send("GET /big/1 HTTP/1.1\r\nHost: t\r\n\r\nGET /big/2 HTTP/1.1\r\nHost: t\r\n\r\n")
            let first = try #require(client.readResponse())
            let second = try #require(client.readResponse())
            #expect(first.header("X-Tag") == "1" && second.header("X-Tag") == "2")
            #expect(first.body == big)
            #expect(second.body == big)
            #expect(server.stop())
        }

        @Test func thrownErrorsMapToStatusesAndDetailsOnlyReachTheLog() throws {
            struct Secret: Error {}
            let lines = Mutex<[String]>([])
            var configuration = HTTPServer.Configuration()
            configuration.log = { line in lines.withLock { $0.append(line) } }
            let server = try TestServer(configuration: configuration) { server in
                server.route(.GET, "/forbidden") { _, res in res.run { throw HTTPError.forbidden("no access") } }
                server.route(.GET, "/crash") { _, res in res.run { throw Secret() } }
                server.route(.GET, "/forgot") { _, _ in }
            }
            let client = try RawClient(port: server.port)
            client.send("GET /forbidden HTTP/1.1\r\nHost: t\r\n\r\n")
            let forbidden = try #require(client.readResponse())
            #expect(forbidden.status == 403)
            #expect(forbidden.text == #"{"error":"forbidden","message":"no access"}"#)
            client.send("GET /crash?access_token=SECRET HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer TOKEN\r\n\r\n")
            let crash = try #require(client.readResponse())
            #expect(crash.status == 500)
            #expect(crash.text == #"{"error":"internal_error","message":"internal error"}"#)
            client.send("GET /forgot HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(client.readResponse()?.status == 500)
            #expect(server.stop())
            let logged = lines.withLock { $0 }
            #expect(logged.contains { $0.contains("GET /crash") && $0.contains("Secret") })
            #expect(logged.contains { $0.contains("GET /forgot") })
            #expect(!logged.contains { $0.contains("SECRET") || $0.contains("TOKEN") })
        }

        @Test func handlersCanBeTestedWithoutASocket() throws {
            let got = Mutex<(Int, [UInt8])?>(nil)
            let responder = HTTPResponder { status, _, body in got.withLock { $0 = (status.code, body) } }
            responder.run { throw HTTPError.badRequest("x") }
            #expect(got.withLock { $0?.0 } == 400)
            #expect(got.withLock { $0.map { String(decoding: $0.1, as: UTF8.self) } } == #"{"error":"x","message":"the request is invalid"}"#)
        }
    }
}
