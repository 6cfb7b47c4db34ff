// The lifecycle every daemon shares, on a real loop and a real notify socket: READY=1 then
// WATCHDOG=1 at once, and a SIGTERM that drains, says STOPPING=1 and stops the loop with no
// handle left open.
import IOCore
import Testing
import TestSupport
@testable import Daemon
#if canImport(Glibc)
import Glibc
#endif

@Suite struct DaemonLifecycleTests {
    @Test func aSignalDrainsThenStopsTheLoopWithNoHandleLeft() throws {
        let sock = try NotifySocket(timeoutSeconds: 10)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": sock.path, "WATCHDOG_USEC": "2000000"])
        let loop = try EventLoop()
        var drains = 0
        let lifecycle = try DaemonLifecycle(loop: loop, notifier: notifier,
                                            log: Log(component: "test", level: .error, redact: { $0 })) { done in
            drains += 1
            // The daemon's drain ends later, on the loop: done() from a timer.
            _ = loop.schedule(after: .zero) { done() }
        }
        lifecycle.ready(status: "up")
        #expect(try #require(sock.receive()).contains("READY=1"))
        #expect(sock.receive() == "WATCHDOG=1")
        // SIGTERM only while the lifecycle watches it (libuv's handler takes it from the
        // process's default action, which would end the test run).
        _ = loop.schedule(after: .zero) { kill(getpid(), SIGTERM) }
        loop.run()
        #expect(drains == 1)
        #expect(sock.receive() == "STOPPING=1")
        // Watchers and the watchdog timer were cancelled: the loop closes cleanly.
        try loop.close()
    }
}
