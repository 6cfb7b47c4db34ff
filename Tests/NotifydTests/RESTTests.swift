// The REST API of the real binary: the caller's own data only (the IDOR matrix over REST and
// WebSocket, with nothing changed by a denied call), read, read-all, paging, probes.
import Foundation
import Testing
import TestSupport

@Suite struct RESTTests {
    @Test func everyEndpointServesOnlyTheCallersData() throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        let daemon = try NotifydProcess(lane: lane)
        let feed = try EventFeed(lane: lane)
        let (alice, bob): (Int64, Int64) = (501, 502)
        let aliceToken = try TestTokens.token(user: alice)
        let bobToken = try TestTokens.token(user: bob)
        try feed.publish([like(post: 1, by: 9, owner: alice), like(post: 2, by: 9, owner: bob), like(post: 3, by: 9, owner: bob)])
        #expect(eventually(seconds: 15) {
            (try? unreadCount(daemon, alice, aliceToken)) == 1 && (try? unreadCount(daemon, bob, bobToken)) == 2
        })
        let bobPage = try #require(try HTTP.get(port: daemon.port, "/notifications/\(bob)", token: bobToken).json)
        let bobIds = ((bobPage["notifications"] as? [[String: Any]]) ?? []).compactMap { ($0["id"] as? NSNumber)?.int64Value }
        try #require(bobIds.count == 2)
        let p = daemon.port
        // Alice against Bob: all denied.
        #expect(try HTTP.get(port: p, "/notifications/\(bob)", token: aliceToken).status == 403)
        #expect(try HTTP.put(port: p, "/notifications/\(bob)/read-all", token: aliceToken).status == 403)
        #expect(try HTTP.put(port: p, "/notifications/\(bobIds[0])/read", token: aliceToken).status == 404)
        #expect(try HTTP.put(port: p, "/notifications/999999/read", token: aliceToken).status == 404)
        let (ws, _, _) = try HTTP.upgrade(port: p, path: "/ws?userId=\(bob)", headers: [("Authorization", "Bearer \(aliceToken)")])
        #expect(ws.status == 403)
        // No token, a bad token: 401.
        #expect(try HTTP.get(port: p, "/notifications/\(bob)").status == 401)
        #expect(try HTTP.get(port: p, "/notifications/\(bob)", token: try TestTokens.forged(user: bob)).status == 401)
        #expect(try HTTP.put(port: p, "/notifications/\(bobIds[0])/read", token: TestTokens.algNone(user: bob)).status == 401)
        // Nothing of Bob's changed.
        #expect(try unreadCount(daemon, bob, bobToken) == 2)
        // Bob himself: read one (twice: idempotent), then read-all.
        #expect(try HTTP.put(port: p, "/notifications/\(bobIds[0])/read", token: bobToken).status == 204)
        #expect(try HTTP.put(port: p, "/notifications/\(bobIds[0])/read", token: bobToken).status == 204)
        #expect(try unreadCount(daemon, bob, bobToken) == 1)
        #expect(try HTTP.put(port: p, "/notifications/\(bob)/read-all", token: bobToken).status == 204)
        #expect(try unreadCount(daemon, bob, bobToken) == 0)
        #expect(try unreadCount(daemon, alice, aliceToken) == 1)
        let unread = try #require(try HTTP.get(port: p, "/notifications/\(bob)?unread=true", token: bobToken).json)
        #expect((unread["notifications"] as? [Any])?.isEmpty == true)
        daemon.expectCleanExit()
    }

    @Test func pagesGoBackwardsWithBeforeAndLimit() throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        let daemon = try NotifydProcess(lane: lane)
        let feed = try EventFeed(lane: lane)
        let user: Int64 = 600
        let token = try TestTokens.token(user: user)
        try feed.publish((1...7).map { like(post: Int64($0), by: 9, owner: user) })
        #expect(eventually(seconds: 15) { (try? unreadCount(daemon, user, token)) == 7 })
        var seen: [Int64] = []
        var path = "/notifications/\(user)?limit=3"
        var pages = 0
        while pages < 10 {
            let page = try #require(try HTTP.get(port: daemon.port, path, token: token).json)
            let ids = ((page["notifications"] as? [[String: Any]]) ?? []).compactMap { ($0["id"] as? NSNumber)?.int64Value }
            #expect(ids == ids.sorted(by: >), "newest first")
            #expect(page["unreadCount"] as? Int == 7)
            seen += ids
            pages += 1
            guard let next = (page["next"] as? NSNumber)?.int64Value else { break }
            path = "/notifications/\(user)?limit=3&before=\(next)"
        }
        #expect(pages == 3)
        #expect(seen.count == 7 && Set(seen).count == 7)
        #expect(seen == seen.sorted(by: >))
        #expect(try HTTP.get(port: daemon.port, "/notifications/\(user)?limit=0", token: token).status == 400)
        let tooMany = try HTTP.get(port: daemon.port, "/notifications/\(user)?limit=101", token: token)
        #expect(tooMany.status == 400)
        // The services' error shape: a code and a message naming the parameter.
        #expect(tooMany.json?["error"] as? String == "bad_limit")
        #expect((tooMany.json?["message"] as? String)?.contains("limit") == true)
        #expect(try HTTP.get(port: daemon.port, "/notifications/\(user)?before=abc", token: token).status == 400)
        daemon.expectCleanExit()
    }

    @Test func probesAndMetrics() throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        let daemon = try NotifydProcess(lane: lane)
        #expect(try HTTP.get(port: daemon.port, "/healthz").status == 200)
        #expect(try HTTP.get(port: daemon.port, "/readyz").status == 200)
        let metrics = try HTTP.get(port: daemon.port, "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.header("Content-Type")?.hasPrefix("text/plain") == true)
        for family in ["notifyd_events_consumed_total", "notifyd_notifications_stored_total", "notifyd_notifications_delivered_total",
                       "notifyd_slow_consumer_closes_total", "notifyd_connections", "notifyd_sessions", "notifyd_users_online",
                       "notifyd_store_batch_seconds_bucket", "notifyd_broker_reconnects_total"] {
            #expect(metrics.text.contains("# TYPE \(family.replacingOccurrences(of: "_bucket", with: ""))"), "\(family)")
        }
        #expect(try HTTP.get(port: daemon.port, "/nope").status == 404)
        daemon.expectCleanExit()
    }
}
