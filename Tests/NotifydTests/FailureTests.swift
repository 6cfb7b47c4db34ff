// The guarantees under failure, against the real binary and broker: kill -9 during a burst
// loses nothing and stores nothing twice; a broker restart is survived (readyz 503 -> 200,
// later events arrive); a poison message is dead-lettered and the daemon keeps serving; a
// client that never reads is closed as a slow consumer while its notifications stay stored.
import Foundation
import Testing
import AMQP
import Store
import TestSupport

/// Metric value from the Prometheus text (first sample of `name`).
func metric(_ daemon: NotifydProcess, _ name: String) -> Int? {
    guard let text = try? HTTP.get(port: daemon.port, "/metrics").text else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
        return Int(line.split(separator: " ").last ?? "")
    }
    return nil
}

/// Rows in the store file, and distinct event ids among them.
func storedCounts(_ lane: DaemonLane, users: ClosedRange<Int64>) throws -> (rows: Int, distinctEvents: Int) {
    let all = try storedNotifications(path: lane.storePath, where: "user_id BETWEEN \(users.lowerBound) AND \(users.upperBound)")
    return (all.count, Set(all.map(\.eventId)).count)
}

@Suite(.serialized) struct FailureTests {
    @Test func killDashNineDuringABurstLosesNothingAndDuplicatesNothing() throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        let env = ["INSTAVERSE_NOTIFYD_CAP_PER_USER": "0", "INSTAVERSE_STORE_SYNC": "full"]
        let first = try NotifydProcess(lane: lane, env: env)
        let users: ClosedRange<Int64> = 1001...1020
        let total = 10_000
        let events = (0..<total).map { i in like(post: Int64(i), by: 5, owner: users.lowerBound + Int64(i % users.count)) }
        let published = Watched<Result<Int, DaemonFailed>?>(nil)
        let publisher = Thread {
            do {
                try EventFeed(lane: lane).publish(events)
                published.update { $0 = .success(total) }
            } catch {
                published.update { $0 = .failure(DaemonFailed(message: "publish failed: \(error)")) }
            }
        }
        publisher.start()
        // Kill while events flow: some stored, more on the way.
        let flowing = eventually(seconds: 60, poll: 0.01) { (metric(first, "notifyd_notifications_stored_total") ?? 0) >= 1500 }
        try #require(flowing, "events did not start flowing")
        first.killHard()
        let storedAtKill = try storedCounts(lane, users: users).rows
        #expect(storedAtKill < total, "the kill came too late to prove anything")
        let second = try NotifydProcess(lane: lane, env: env)
        try #require(published.wait(seconds: 120) { $0 != nil })
        if case .failure(let error)? = published.read({ $0 }) { Issue.record("\(error)") }
        let token = try TestTokens.token(user: users.lowerBound)
        let caughtUp = eventually(seconds: 120, poll: 0.1) { (try? storedCounts(lane, users: users).rows) ?? 0 >= total }
        #expect(caughtUp)
        let counts = try storedCounts(lane, users: users)
        #expect(counts.rows == total, "\(storedAtKill) of \(total) stored at the kill")
        #expect(counts.distinctEvents == total)
        #expect(try unreadCount(second, users.lowerBound, token) == total / users.count)
        second.expectCleanExit()
    }

    @Test func sigtermMidBurstDrainsAndAcksThenRestartCompletes() throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        let env = ["INSTAVERSE_NOTIFYD_CAP_PER_USER": "0"]
        let first = try NotifydProcess(lane: lane, env: env)
        let users: ClosedRange<Int64> = 2001...2010
        let total = 3000
        try EventFeed(lane: lane).publish((0..<total).map { like(post: Int64($0), by: 5, owner: users.lowerBound + Int64($0 % 10)) })
        let started = eventually(seconds: 60, poll: 0.01) { (metric(first, "notifyd_notifications_stored_total") ?? 0) >= 500 }
        try #require(started)
        let status = first.terminate(seconds: 30)
        #expect(status == 0, "\(first.log)")
        let consumed = try storedCounts(lane, users: users).rows
        // What the first process stored it also acked: the broker holds exactly the rest.
        let admin = try AMQPAdmin(endpoint: try AMQPEndpoint(url: try Servers.amqpURL()))
        #expect(try admin.messageCount(queue: lane.queue) == total - consumed)
        let second = try NotifydProcess(lane: lane, env: env)
        #expect(eventually(seconds: 60, poll: 0.1) { (try? storedCounts(lane, users: users).rows) == total })
        #expect(try storedCounts(lane, users: users).distinctEvents == total)
        second.expectCleanExit()
    }

    /// Runs against a broker of its own: stopping the shared one would disturb other suites.
    @Test func brokerRestartReadyzGoesDownAndBackAndEventsStillArrive() throws {
        let broker = try PrivateBroker()
        defer { broker.shutdown() }
        try broker.use { try brokerRestartReadyzGoesDownAndBackAndEventsStillArriveBody(broker) }
    }

    private func brokerRestartReadyzGoesDownAndBackAndEventsStillArriveBody(_ broker: PrivateBroker) throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        let daemon = try NotifydProcess(lane: lane)
        let net = try ClientLoop()
        defer { net.stop() }
        let user: Int64 = 3001
        let session = try net.connect(port: daemon.port, path: "/ws?userId=\(user)",
                                      headers: [("Authorization", "Bearer \(try TestTokens.token(user: user))")])
        try #require(session.waitForMessages(1))
        try #require(broker.stop())
        #expect(eventually(seconds: 60, poll: 0.05) { (try? HTTP.get(port: daemon.port, "/readyz"))?.status == 503 })
        #expect(try HTTP.get(port: daemon.port, "/healthz").status == 200)
        try #require(broker.start())
        #expect(daemon.waitUntilReady(seconds: 60))
        #expect((metric(daemon, "notifyd_broker_reconnects_total") ?? 0) >= 1)
        try EventFeed(lane: lane).publish([like(post: 1, by: 9, owner: user)])
        #expect(session.waitForMessages(2, seconds: 30))
        #expect(session.messages.last?["type"] as? String == "notification")
        daemon.expectCleanExit()
    }

    @Test func aPoisonMessageIsDeadLetteredAndTheDaemonKeepsServing() throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        let daemon = try NotifydProcess(lane: lane)
        let feed = try EventFeed(lane: lane)
        try feed.publish([OutgoingMessage(routingKey: "post.liked", messageId: "poison-1", body: Array("{not json".utf8))])
        #expect(eventually(seconds: 15) { metric(daemon, "notifyd_events_rejected_total") == 1 })
        let admin = try AMQPAdmin(endpoint: try AMQPEndpoint(url: try Servers.amqpURL()))
        #expect(eventually(seconds: 15) { (try? admin.messageCount(queue: lane.queue + ".dead")) == 1 })
        let user: Int64 = 4001
        let token = try TestTokens.token(user: user)
        try feed.publish([like(post: 1, by: 9, owner: user)])
        #expect(eventually(seconds: 15) { (try? unreadCount(daemon, user, token)) == 1 })
        #expect(daemon.isRunning)
        #expect(try admin.messageCount(queue: lane.queue) == 0)
        try? admin.deleteQueue(lane.queue + ".dead")
        daemon.expectCleanExit()
    }

    @Test func aClientThatNeverReadsIsClosedAndItsNotificationsStayStored() throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        let daemon = try NotifydProcess(lane: lane, env: ["INSTAVERSE_NOTIFYD_OUTBOUND_LIMIT_BYTES": "16384",
                                                          "INSTAVERSE_NOTIFYD_CAP_PER_USER": "0"])
        let user: Int64 = 5001
        let token = try TestTokens.token(user: user)
        // A raw client with a tiny receive buffer that never reads after the 101.
        let (answer, slow, _) = try HTTP.upgrade(port: daemon.port, path: "/ws?userId=\(user)",
                                                 headers: [("Authorization", "Bearer \(token)")], receiveBuffer: 4096)
        try #require(answer.status == 101)
        #expect(eventually(seconds: 10) { metric(daemon, "notifyd_sessions") == 1 })
        let excerpt = String(repeating: "x", count: 1000)
        let total = 3000
        try EventFeed(lane: lane).publish((0..<total).map { comment(post: Int64($0), by: 9, owner: user, excerpt: excerpt) })
        #expect(eventually(seconds: 60) { (metric(daemon, "notifyd_slow_consumer_closes_total") ?? 0) >= 1 })
        #expect(eventually(seconds: 30) { metric(daemon, "notifyd_sessions") == 0 })
        #expect(eventually(seconds: 60) { (try? unreadCount(daemon, user, token)) == total })
        withExtendedLifetime(slow) {}
        // Reconnecting gets the backlog: 3,000 × ~1 KiB is far over the 16 KiB limit, so the
        // backlog frame is cut to fit (newest first kept, `more` set) instead of closing the
        // session again on every connect.
        let net = try ClientLoop()
        defer { net.stop() }
        let again = try net.connect(port: daemon.port, path: "/ws?userId=\(user)",
                                    headers: [("Authorization", "Bearer \(token)")])
        try #require(again.waitForMessages(1, seconds: 30))
        let backlog = again.messages[0]
        #expect(backlog["type"] as? String == "backlog")
        #expect(backlog["more"] as? Bool == true)
        #expect(backlog["unread"] as? Int == total)
        let got = (backlog["notifications"] as? [[String: Any]]) ?? []
        #expect(!got.isEmpty && got.count < total)
        #expect(metric(daemon, "notifyd_slow_consumer_closes_total") == 1, "the backlog closed the session again")
        #expect(metric(daemon, "notifyd_sessions") == 1)
        daemon.expectCleanExit()
    }
}
