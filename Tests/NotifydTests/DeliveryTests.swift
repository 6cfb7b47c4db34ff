// Events in, notifications out, through the real binary and the real broker: the backlog on
// connect, live delivery to every session of the recipient (once each), `since` resume,
// client ack/read messages changing the store.
import Foundation
import Testing
import TestSupport
import Store

@Suite struct DeliveryTests {
    @Test func backlogOnConnectThenLiveToEverySessionOnce() throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        let daemon = try NotifydProcess(lane: lane)
        let feed = try EventFeed(lane: lane)
        let owner: Int64 = 7
        let token = try TestTokens.token(user: owner)
        // Offline: three likes (one by the owner himself: no notification) and one for someone else.
        try feed.publish([like(post: 1, by: 42, owner: owner), like(post: 2, by: 43, owner: owner),
                          like(post: 3, by: owner, owner: owner), like(post: 4, by: 42, owner: 99)])
        #expect(eventually(seconds: 15) { (try? unreadCount(daemon, owner, token)) == 2 })

        let net = try ClientLoop()
        defer { net.stop() }
        let phone = try net.connect(port: daemon.port, path: "/ws?userId=7", headers: [("Authorization", "Bearer \(token)")])
        let tab = try net.connect(port: daemon.port, path: "/?userId=7", subprotocols: ["bearer.\(token)"])
        for probe in [phone, tab] {
            try #require(probe.waitForMessages(1))
            let backlog = try #require(probe.backlog)
            #expect(backlog["unread"] as? Int == 2)
            #expect(backlog["more"] as? Bool == false)
            let list = try #require(backlog["notifications"] as? [[String: Any]])
            #expect(list.count == 2)
            #expect(list.first?["kind"] as? String == "LIKE_NOTIFICATION")
            #expect((list.first?["actor"] as? [String: Any])?["username"] as? String == "user42")
            #expect(list.first?["read"] as? Bool == false)
        }
        // Live: both sessions get the new like exactly once, encoded identically.
        try feed.publish([like(post: 5, by: 44, owner: owner)])
        for probe in [phone, tab] {
            #expect(probe.waitForMessages(2))
            let live = probe.messages.last
            #expect(live?["type"] as? String == "notification")
            #expect(((live?["notification"] as? [String: Any])?["postId"] as? Int) == 5)
        }
        #expect(phone.state.read { $0.texts.last } == tab.state.read { $0.texts.last })
        #expect(phone.receivedIds.count == 3 && Set(phone.receivedIds).count == 3)
        let metrics = try HTTP.get(port: daemon.port, "/metrics").text
        #expect(metrics.contains("notifyd_sessions 2"))
        #expect(metrics.contains("notifyd_users_online 1"))
        #expect(metrics.contains("notifyd_notifications_delivered_total 6"))
        daemon.expectCleanExit()
    }

    @Test func sinceResumesExactlyAfterTheCursor() throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        let daemon = try NotifydProcess(lane: lane, env: ["INSTAVERSE_NOTIFYD_BACKLOG_LIMIT": "4"])
        let feed = try EventFeed(lane: lane)
        let user: Int64 = 30
        let token = try TestTokens.token(user: user)
        try feed.publish((1...10).map { like(post: Int64($0), by: 100 + Int64($0), owner: user) })
        #expect(eventually(seconds: 15) { (try? unreadCount(daemon, user, token)) == 10 })
        let page = try #require(try HTTP.get(port: daemon.port, "/notifications/30?limit=100", token: token).json)
        let ids = ((page["notifications"] as? [[String: Any]]) ?? []).compactMap { ($0["id"] as? NSNumber)?.int64Value }.sorted()
        try #require(ids.count == 10)
        let net = try ClientLoop()
        defer { net.stop() }
        // After the 3rd: the 4th..7th (capped at 4) with more=true, oldest first.
        let a = try net.connect(port: daemon.port, path: "/ws?userId=30&since=\(ids[2])", headers: [("Authorization", "Bearer \(token)")])
        try #require(a.waitForMessages(1))
        #expect(a.receivedIds == Array(ids[3..<7]))
        #expect(a.backlog?["more"] as? Bool == true)
        #expect(a.backlog?["unread"] as? Int == 10)
        // After the 8th: the 9th and 10th, more=false; read ones are included in a resume.
        _ = try HTTP.put(port: daemon.port, "/notifications/\(ids[8])/read", token: token)
        let b = try net.connect(port: daemon.port, path: "/ws?userId=30&since=\(ids[7])", headers: [("Authorization", "Bearer \(token)")])
        try #require(b.waitForMessages(1))
        #expect(b.receivedIds == [ids[8], ids[9]])
        #expect(b.backlog?["more"] as? Bool == false)
        // Without a cursor: the newest 4 unread (the 9th is read now).
        let c = try net.connect(port: daemon.port, path: "/ws?userId=30", headers: [("Authorization", "Bearer \(token)")])
        try #require(c.waitForMessages(1))
        #expect(c.receivedIds == [ids[5], ids[6], ids[7], ids[9]])
        #expect(c.backlog?["more"] as? Bool == true)
        daemon.expectCleanExit()
    }

    @Test func ackAndReadMessagesUpdateTheStore() throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        let daemon = try NotifydProcess(lane: lane)
        let feed = try EventFeed(lane: lane)
        let user: Int64 = 40
        let token = try TestTokens.token(user: user)
        let net = try ClientLoop()
        defer { net.stop() }
        let s = try net.connect(port: daemon.port, path: "/ws?userId=40", headers: [("Authorization", "Bearer \(token)")])
        try #require(s.waitForMessages(1))
        try feed.publish((1...3).map { like(post: Int64($0), by: 200, owner: user) })
        try #require(s.waitForMessages(4))
        let ids = s.receivedIds
        #expect(ids.count == 3)
        s.send(#"{"type":"ack","ids":[\#(ids[0]),\#(ids[1]),\#(ids[2])]}"#)
        s.send(#"{"type":"read","ids":[\#(ids[0]),\#(ids[1])]}"#)
        #expect(eventually(seconds: 10) { (try? unreadCount(daemon, user, token)) == 1 })
        // Delivery times are not on the wire: check them in the store file.
        #expect(eventually(seconds: 10) {
            let rows = (try? storedNotifications(path: lane.storePath, where: "user_id = \(user)")) ?? []
            return rows.count == 3 && rows.allSatisfy { $0.deliveredAt != nil }
        })
        // Another user's ids are not touched by this session's read.
        let otherToken = try TestTokens.token(user: 41)
        try feed.publish([like(post: 9, by: 200, owner: 41)])
        #expect(eventually(seconds: 10) { (try? unreadCount(daemon, 41, otherToken)) == 1 })
        let page = try #require(try HTTP.get(port: daemon.port, "/notifications/41", token: otherToken).json)
        let foreign = try #require(((page["notifications"] as? [[String: Any]])?.first?["id"] as? NSNumber)?.int64Value)
        s.send(#"{"type":"read","ids":[\#(foreign)]}"#)
        // Invalid messages get an error message, the session stays open.
        s.send("not json")
        s.send(#"{"type":"dance"}"#)
        #expect(s.waitForMessages(6))
        let errors = s.messages.filter { $0["type"] as? String == "error" }.compactMap { $0["error"] as? String }
        #expect(errors == ["invalid_json", "unknown_type"])
        #expect(try unreadCount(daemon, 41, otherToken) == 1)
        #expect(s.isOpen)
        daemon.expectCleanExit()
    }

    @Test func repeatedInvalidMessagesCloseTheSessionWith1008() throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        let daemon = try NotifydProcess(lane: lane)
        let net = try ClientLoop()
        defer { net.stop() }
        let s = try net.connect(port: daemon.port, path: "/ws?userId=45",
                                headers: [("Authorization", "Bearer \(try TestTokens.token(user: 45))")])
        try #require(s.waitForMessages(1))
        for _ in 0..<11 { s.send("{") }
        #expect(s.waitForClose() == 1008)
        daemon.expectCleanExit()
    }

    @Test func aFloodOfReadMessagesIsRateLimitedAndClosedWhileOthersStillGetDelivery() throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        let daemon = try NotifydProcess(lane: lane)
        let feed = try EventFeed(lane: lane)
        let net = try ClientLoop()
        defer { net.stop() }
        let abuser = try net.connect(port: daemon.port, path: "/ws?userId=46",
                                     headers: [("Authorization", "Bearer \(try TestTokens.token(user: 46))")])
        let other = try net.connect(port: daemon.port, path: "/ws?userId=47",
                                    headers: [("Authorization", "Bearer \(try TestTokens.token(user: 47))")])
        try #require(abuser.waitForMessages(1) && other.waitForMessages(1))
        for i in 1...200 { abuser.send(#"{"type":"read","ids":[\#(i)]}"#) }
        #expect(abuser.waitForClose() == 1008)
        // The burst (20) passed; then rate_limited, ten of them, and the eleventh closed it.
        let errors = abuser.messages.filter { $0["type"] as? String == "error" }.compactMap { $0["error"] as? String }
        #expect(errors.count == 10 && errors.allSatisfy { $0 == "rate_limited" }, "\(errors)")
        // Another user's live delivery still arrives.
        try feed.publish([like(post: 1, by: 300, owner: 47)])
        #expect(other.waitForMessages(2))
        #expect(other.messages.last?["type"] as? String == "notification")
        #expect(other.isOpen)
        let metrics = try HTTP.get(port: daemon.port, "/metrics").text
        #expect(metrics.contains("notifyd_client_messages_rate_limited_total "))
        #expect(!metrics.contains("notifyd_client_messages_rate_limited_total 0\n"))
        #expect(metrics.contains("# TYPE notifyd_store_jobs_queued gauge"))
        #expect(metrics.contains("notifyd_store_jobs_rejected_total 0"))
        daemon.expectCleanExit()
    }
}

/// The caller's unreadCount through REST.
func unreadCount(_ daemon: NotifydProcess, _ user: Int64, _ token: String) throws -> Int? {
    let answer = try HTTP.get(port: daemon.port, "/notifications/\(user)?limit=1", token: token)
    return answer.json?["unreadCount"] as? Int
}
