// Who may open a session, checked against the real binary: every refusal is an HTTP answer
// before any 101 (the raw socket sees the status line), with {"error":"<name>","message":...};
// the two token carriers (header, subprotocol) open a session and a token in the URL, in any
// spelling, is refused with 400 token_in_url; the per-user limit answers 429; tokens never
// reach the log.
import Foundation
import NotifyCore
import Testing
import TestSupport

@Suite(.serialized) struct HandshakeTests {
    @Test func refusalsComeBeforeTheUpgrade() throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        let daemon = try NotifydProcess(lane: lane, env: ["INSTAVERSE_ALLOWED_ORIGINS": "https://app.instaverse.test"])
        let port = daemon.port
        let user: Int64 = 7
        let good = try TestTokens.token(user: user)
        let cases: [(String, [(String, String)], Int, String)] = [
            ("/ws?userId=7", [], 401, "missing_token"),
            ("/ws?userId=7", [("Authorization", "Bearer \(try TestTokens.token(user: user, expiresIn: -10))")], 401, "expired"),
            ("/ws?userId=7", [("Authorization", "Bearer \(try TestTokens.token(user: user, notBefore: 600))")], 401, "not_yet_valid"),
            ("/ws?userId=7", [("Authorization", "Bearer \(try TestTokens.forged(user: user))")], 401, "bad_signature"),
            ("/ws?userId=7", [("Authorization", "Bearer \(TestTokens.algNone(user: user))")], 401, "unsupported_alg"),
            ("/ws?userId=7", [("Authorization", "Bearer garbage")], 401, "malformed"),
            ("/ws?userId=7", [("Authorization", "Basic \(good)")], 401, "malformed"),  // not Bearer <token68>
            ("/ws?userId=8", [("Authorization", "Bearer \(good)")], 403, "forbidden"),
            ("/ws?userId=7", [("Authorization", "Bearer \(good)"), ("Origin", "https://evil.test")], 403, "origin_not_allowed"),
            ("/ws", [("Authorization", "Bearer \(good)")], 400, "bad_user_id"),
            ("/ws?userId=7&since=x", [("Authorization", "Bearer \(good)")], 400, "bad_since"),
        ]
        for (path, headers, status, name) in cases {
            let (answer, _, _) = try HTTP.upgrade(port: port, path: path, headers: headers)
            #expect(answer.status == status, "\(name)")
            #expect(answer.json?["error"] as? String == name, "\(name): \(answer.text)")
            #expect((answer.json?["message"] as? String)?.isEmpty == false, "\(name) has no message: \(answer.text)")
            #expect(answer.header("Content-Type") == "application/json")
        }
        // An allowed Origin passes.
        let (ok, _, _) = try HTTP.upgrade(port: port, path: "/ws?userId=7",
                                          headers: [("Authorization", "Bearer \(good)"), ("Origin", "https://app.instaverse.test")])
        #expect(ok.status == 101)
        daemon.expectCleanExit()
        #expect(!daemon.log.contains(good), "a token reached the log")
        #expect(!daemon.log.contains("access_token=ey"), "a query string reached the log")
    }

    /// Origins compare as browsers serialize them (RFC 6454): a configured entry written with
    /// capitals, a trailing slash or a default port matches the browser's form, and the header
    /// is normalized the same way; another scheme, host or port is still refused.
    @Test func originsAreComparedInTheirSerializedForm() throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        let daemon = try NotifydProcess(lane: lane, env: ["INSTAVERSE_ALLOWED_ORIGINS": "https://App.Instaverse.test/,http://localhost:80"])
        let token = try TestTokens.token(user: 13)
        let cases: [(String, Int)] = [
            ("https://app.instaverse.test", 101),
            ("https://APP.instaverse.test:443", 101),
            ("http://localhost", 101),
            ("http://localhost:80/", 101),
            ("https://app.instaverse.test.evil", 403),
            ("http://app.instaverse.test", 403),
            ("https://app.instaverse.test:8443", 403),
            ("http://localhost:8080", 403),
            ("null", 403),
        ]
        for (origin, status) in cases {
            let (answer, _, _) = try HTTP.upgrade(port: daemon.port, path: "/ws?userId=13",
                                                  headers: [("Authorization", "Bearer \(token)"), ("Origin", origin)])
            #expect(answer.status == status, "\(origin): \(answer.text)")
        }
        daemon.expectCleanExit()
    }

    /// A token in the URL is refused before anything else is looked at (even with a valid
    /// header beside it, so the client learns to stop), in every spelling of the name, and
    /// nothing of the query reaches the log.
    @Test func aTokenInTheURLIsRefusedInEverySpelling() throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        let daemon = try NotifydProcess(lane: lane)
        let port = daemon.port
        let token = try TestTokens.token(user: 12)
        let queries = [
            "userId=12&access_token=\(token)",
            "userId=12&access%5Ftoken=\(token)",
            "userId=12&access%5ftoken=\(token)",
            "userId=12&%61ccess_token=\(token)",
            "userId=12&access%255Ftoken=\(token)",
            "userId=12&ACCESS_TOKEN=\(token)",
            "userId=12&Access-Token=\(token)",
            "userId=12&access_token=opaque-not-a-jwt",
            "userId=12&t=\(token)",
            "access_token=\(token)&userId=12",
        ]
        for query in queries {
            for path in ["/ws", "/"] {
                for headers in [[], [("Authorization", "Bearer \(token)")]] {
                    let (answer, _, _) = try HTTP.upgrade(port: port, path: "\(path)?\(query)", headers: headers)
                    #expect(answer.status == 400, "\(query)")
                    #expect(answer.json?["error"] as? String == "token_in_url", "\(query): \(answer.text)")
                    #expect(answer.json?["message"] as? String ==
                            "send the token in an Authorization header or the bearer.<jwt> subprotocol")
                }
            }
            // REST refuses it too, whatever the header says.
            let rest = try HTTP.get(port: port, "/notifications/12?\(query)", token: token)
            #expect(rest.status == 400, "REST \(query)")
            #expect(rest.json?["error"] as? String == "token_in_url", "REST \(query): \(rest.text)")
        }
        // The same requests with the token where it belongs succeed.
        #expect(try HTTP.upgrade(port: port, path: "/ws?userId=12", headers: [("Authorization", "Bearer \(token)")]).0.status == 101)
        #expect(try HTTP.get(port: port, "/notifications/12", token: token).status == 200)
        daemon.expectCleanExit()
        let log = daemon.log
        #expect(log.contains("session refused: 400 token_in_url on /ws"), "the upgrade refusal was not logged")
        #expect(log.contains("REST refused: 400 token_in_url on GET /notifications/12"), "the REST refusal was not logged")
        #expect(!log.contains(token), "a token reached the log")
        for leak in ["access_token", "ccess%5", "opaque-not-a-jwt", "Access-Token", "ACCESS_TOKEN", "userId=12&"] {
            #expect(!log.contains(leak), "a query string reached the log: \(leak)")
        }
    }

    /// The URL-token check refuses credentials in any spelling and nothing else: the
    /// session's and REST's own parameters pass, and so do names that merely contain "token".
    @Test func theURLTokenCheckIsNarrow() throws {
        let jwt = try TestTokens.token(user: 5)
        for carrying in ["access_token=x", "access%5Ftoken=x", "access%255Ftoken=x", "ACCESS-TOKEN=x", "token=x", "jwt=x",
                         "id_token=x", "Authorization=Bearer+x", "bearer=x", "a=\(jwt)", "a=Bearer%20\(jwt)",
                         "\(jwt)", "userId=5&access_token"] {
            #expect(SessionAuthenticator.queryCarriesToken(carrying), "\(carrying) passed")
        }
        for plain in [nil, "", "userId=5", "userId=5&since=0", "userId=5&unread=true&limit=50&before=9",
                      "tokenizer=1", "userId=5&x=eyJ", "caption=version+1.2.3"] {
            #expect(!SessionAuthenticator.queryCarriesToken(plain), "\(plain ?? "nil") was refused")
        }
    }

    @Test func theTokenMayComeInTheHeaderOrTheSubprotocol() throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        let daemon = try NotifydProcess(lane: lane)
        let net = try ClientLoop()
        defer { net.stop() }
        let token = try TestTokens.token(user: 11)
        let viaHeader = try net.connect(port: daemon.port, path: "/ws?userId=11", headers: [("Authorization", "Bearer \(token)")])
        let viaProtocol = try net.connect(port: daemon.port, path: "/ws?userId=11", subprotocols: ["bearer.\(token)"])
        let onSeedPath = try net.connect(port: daemon.port, path: "/?userId=11", headers: [("Authorization", "Bearer \(token)")])
        for probe in [viaHeader, viaProtocol, onSeedPath] {
            #expect(probe.isOpen)
            #expect(probe.waitForMessages(1))
            #expect(probe.backlog?["unread"] as? Int == 0)
            #expect(probe.backlog?["more"] as? Bool == false)
        }
        // The browser path: the 101 must select the offered bearer subprotocol.
        let (answer, _, _) = try HTTP.upgrade(port: daemon.port, path: "/ws?userId=11",
                                              headers: [("Sec-WebSocket-Protocol", "bearer.\(token)")])
        #expect(answer.status == 101)
        #expect(answer.header("Sec-WebSocket-Protocol") == "bearer.\(token)")
        daemon.expectCleanExit()
        #expect(!daemon.log.contains(token))
    }

    @Test func theSeventeenthConnectionOfAUserIsRefusedWith429() throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        let daemon = try NotifydProcess(lane: lane, env: ["INSTAVERSE_NOTIFYD_MAX_CONNECTIONS_PER_USER": "3"])
        let net = try ClientLoop()
        defer { net.stop() }
        let token = try TestTokens.token(user: 21)
        var probes: [WSProbe] = []
        for _ in 0..<3 {
            let p = try net.connect(port: daemon.port, path: "/ws?userId=21", headers: [("Authorization", "Bearer \(token)")])
            #expect(p.waitForMessages(1))
            probes.append(p)
        }
        let (answer, _, _) = try HTTP.upgrade(port: daemon.port, path: "/ws?userId=21",
                                              headers: [("Authorization", "Bearer \(token)")])
        #expect(answer.status == 429)
        #expect(answer.json?["error"] as? String == "too_many_connections")
        // Another user is not affected, and a closed session frees its slot.
        let other = try net.connect(port: daemon.port, path: "/ws?userId=22",
                                    headers: [("Authorization", "Bearer \(try TestTokens.token(user: 22))")])
        #expect(other.isOpen)
        probes[0].close()
        #expect(probes[0].waitForClose() == 1000)
        let again = eventually(seconds: 10) {
            (try? HTTP.upgrade(port: daemon.port, path: "/ws?userId=21", headers: [("Authorization", "Bearer \(token)")]))?.0.status == 101
        }
        #expect(again)
        daemon.expectCleanExit()
    }
}
