// The daemon's life under systemd and signals: sd_notify READY/WATCHDOG/STOPPING on a test
// socket, SIGTERM closing sessions with 1001 and exiting 0, expired tokens closing sessions.
import Foundation
import Testing
import TestSupport

@Suite struct LifecycleTests {
    @Test func sdNotifyReadyWatchdogAndStopping() throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        let sock = try NotifySocket()
        let daemon = try NotifydProcess(lane: lane, env: ["NOTIFY_SOCKET": sock.path, "WATCHDOG_USEC": "200000"])
        let ready = try #require(sock.receive())
        #expect(ready.contains("READY=1"))
        #expect(ready.contains("MAINPID=\(daemon.pid)"))
        // Pings every WATCHDOG_USEC/2 from the loop: a few arrive well within the deadline.
        var pings = 0
        while pings < 3, let message = sock.receive() {
            if message == "WATCHDOG=1" { pings += 1 }
        }
        #expect(pings == 3)
        kill(daemon.pid, SIGTERM)
        var stopping = false
        while !stopping, let message = sock.receive() { stopping = message == "STOPPING=1" }
        #expect(stopping)
        #expect(daemon.waitForExit(seconds: 30) == 0)
    }

    /// The watchdog pings come from the event loop: a loop that blocks stops them, so systemd
    /// (WatchdogSec) restarts a daemon whose loop hangs even though its other threads run.
    @Test func aStalledLoopStopsTheWatchdogPings() throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        let sock = try NotifySocket()
        let daemon = try NotifydProcess(lane: lane, env: ["NOTIFY_SOCKET": sock.path, "WATCHDOG_USEC": "200000",
                                                          "INSTAVERSE_DEBUG_STALL_MS": "1500"])
        #expect(try #require(sock.receive()).contains("READY=1"))
        func nextPing() -> Double? {
            while let message = sock.receive() { if message == "WATCHDOG=1" { return TestDeadline.monotonicSeconds() } }
            return nil
        }
        // Steady pings first (every 100 ms).
        var last = try #require(nextPing())
        for _ in 0..<3 { last = try #require(nextPing()) }
        kill(daemon.pid, SIGUSR2)
        // Some gap between pings spans the stall (looked for over the next 50 pings, about
        // 5 s of steady pings at 100 ms: the stall starts at the signal, well within them).
        var longest = 0.0
        for _ in 0..<50 where longest < 1.2 {
            guard let ping = nextPing() else { break }
            longest = max(longest, ping - last)
            last = ping
        }
        #expect(longest >= 1.2, "the pings went on while the loop was blocked (longest gap \(longest) s)")
        // And they resume once the loop runs again: more pings follow the stall.
        for _ in 0..<3 { _ = try #require(nextPing(), "the watchdog pings did not resume after the stall") }
        kill(daemon.pid, SIGTERM)
        #expect(daemon.waitForExit(seconds: 30) == 0)
    }

    @Test func sigtermClosesSessionsWith1001AndExitsZero() throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        let daemon = try NotifydProcess(lane: lane)
        let net = try ClientLoop()
        defer { net.stop() }
        var probes: [WSProbe] = []
        for user: Int64 in [1, 1, 2] {
            let p = try net.connect(port: daemon.port, path: "/ws?userId=\(user)",
                                    headers: [("Authorization", "Bearer \(try TestTokens.token(user: user))")])
            #expect(p.waitForMessages(1))
            probes.append(p)
        }
        kill(daemon.pid, SIGTERM)
        for p in probes { #expect(p.waitForClose() == 1001) }
        #expect(daemon.waitForExit(seconds: 30) == 0)
    }

    @Test func anExpiredTokenClosesItsSessionWith4001() throws {
        let lane = try DaemonLane()
        defer { lane.cleanUp() }
        let daemon = try NotifydProcess(lane: lane)
        let net = try ClientLoop()
        defer { net.stop() }
        let shortLived = try net.connect(port: daemon.port, path: "/ws?userId=70",
                                         headers: [("Authorization", "Bearer \(try TestTokens.token(user: 70, expiresIn: 2))")])
        let longLived = try net.connect(port: daemon.port, path: "/ws?userId=70",
                                        headers: [("Authorization", "Bearer \(try TestTokens.token(user: 70))")])
        #expect(shortLived.waitForMessages(1))
        #expect(shortLived.waitForClose(seconds: 10) == 4001)
        #expect(longLived.isOpen)
        daemon.expectCleanExit()
    }
}
