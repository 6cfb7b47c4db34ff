// Deleted users lose notifyd at once: their live sessions close with 4003 when user.deleted
// is applied (in any phase, the backlog read included), and their still-unexpired tokens are
// refused with 401 user_deleted at the handshake and on REST, across a restart. The hub part
// runs in-process with the store's timing in the test's hands; the rest against the binary.
import Foundation
import Testing
import Events
import NotifyCore
import TestSupport

private func userDeleted(_ user: Int64) -> Event {
    Event.make(.userDeleted, actor: EventActor(id: user, username: "user\(user)"), recipientId: nil,
               data: EventData(userId: user))
}

@Suite struct DeletedUserHubTests {
    @Test func aDeletionDuringTheBacklogReadClosesTheSession() throws {
        let f = try HubFixture()
        _ = try f.store.commit([f.like(1, to: 7)])
        let (s, t) = f.session(user: 7)
        let (other, otherT) = f.session(user: 8)
        f.hub.open(s)
        f.hub.open(other)
        #expect(f.store.pendingCount == 2)          // both backlog reads are in flight
        f.hub.usersDeleted([7])
        #expect(t.closed?.code == 4003)
        #expect(t.closed?.reason == "user deleted")
        f.settle()                                  // the read completes after the deletion
        #expect(t.texts.isEmpty, "a deleted user's session received \(t.texts)")
        #expect(s.isClosed)
        #expect(other.isLive)
        #expect(otherT.closed == nil)
        #expect(f.hub.isDeleted(7) && !f.hub.isDeleted(8))
        try f.close()
    }

    @Test func aLiveSessionIsClosedAndALaterOpenIsRefused() throws {
        let f = try HubFixture()
        let (a, ta) = f.session(user: 7)
        let (b, tb) = f.session(user: 7)
        f.hub.open(a)
        f.hub.open(b)
        f.settle()
        #expect(a.isLive && b.isLive)
        f.hub.usersDeleted([7])
        #expect(ta.closed?.code == 4003 && tb.closed?.code == 4003)
        // A handshake that passed before the deletion reached the loop opens afterwards.
        let (late, tl) = f.session(user: 7)
        f.hub.open(late)
        #expect(tl.closed?.code == 4003)
        #expect(late.isClosed)
        #expect(f.store.pendingCount == 0, "a deleted user's backlog was read")
        // Nothing is delivered to the closed sessions.
        f.hub.deliver(try f.store.commit([f.like(2, to: 7)]))
        #expect(ta.texts.count == 1 && tb.texts.count == 1)   // the backlogs only
        #expect(tl.texts.isEmpty)
        try f.close()
    }
}

@Suite(.serialized) struct DeletedUserTests {
    @Test func aDeletedUsersTokenIsRefusedLiveOnRESTAndAfterARestart() throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        var daemon = try NotifydProcess(lane: lane)
        let feed = try EventFeed(lane: lane)
        let net = try ClientLoop()
        defer { net.stop() }
        let (gone, stays): (Int64, Int64) = (31, 32)
        let goneToken = try TestTokens.token(user: gone)
        let staysToken = try TestTokens.token(user: stays)
        try feed.publish([like(post: 1, by: stays, owner: gone)])
        #expect(eventually(seconds: 15) { (try? unreadCount(daemon, gone, goneToken)) == 1 })
        let live = try net.connect(port: daemon.port, path: "/ws?userId=\(gone)", headers: [("Authorization", "Bearer \(goneToken)")])
        let viaProtocol = try net.connect(port: daemon.port, path: "/ws?userId=\(gone)", subprotocols: ["bearer.\(goneToken)"])
        let bystander = try net.connect(port: daemon.port, path: "/ws?userId=\(stays)",
                                        headers: [("Authorization", "Bearer \(staysToken)")])
        #expect(live.waitForMessages(1) && viaProtocol.waitForMessages(1) && bystander.waitForMessages(1))

        try feed.publish([userDeleted(gone)])
        #expect(live.waitForClose() == 4003)
        #expect(viaProtocol.waitForClose() == 4003)
        #expect(bystander.isOpen)

        func expectRefused(_ port: Int, _ when: String) throws {
            let (ws, _, _) = try HTTP.upgrade(port: port, path: "/ws?userId=\(gone)",
                                              headers: [("Authorization", "Bearer \(goneToken)")])
            #expect(ws.status == 401, "\(when): handshake \(ws.text)")
            #expect(ws.json?["error"] as? String == "user_deleted", "\(when): \(ws.text)")
            for rest in [try HTTP.get(port: port, "/notifications/\(gone)", token: goneToken),
                         try HTTP.put(port: port, "/notifications/\(gone)/read-all", token: goneToken)] {
                #expect(rest.status == 401, "\(when): REST \(rest.text)")
                #expect(rest.json?["error"] as? String == "user_deleted", "\(when): REST \(rest.text)")
            }
            // Another user is unaffected.
            #expect(try HTTP.get(port: port, "/notifications/\(stays)", token: staysToken).status == 200)
            #expect(try HTTP.upgrade(port: port, path: "/ws?userId=\(stays)",
                                     headers: [("Authorization", "Bearer \(staysToken)")]).0.status == 101)
        }
        try expectRefused(daemon.port, "live")
        daemon.expectCleanExit()
        #expect(daemon.log.contains("session refused: 401 user_deleted for user \(gone)"), "the upgrade refusal was not logged")
        #expect(daemon.log.contains("REST refused: 401 user_deleted on GET /notifications/\(gone)"), "the REST refusal was not logged")
        #expect(!daemon.log.contains(goneToken), "a token reached the log")

        // The tombstone is in the store: a new process refuses the token from its first request.
        daemon = try NotifydProcess(lane: lane)
        try expectRefused(daemon.port, "after restart")
        daemon.expectCleanExit()
    }
}
