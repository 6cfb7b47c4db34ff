// sd_notify messages checked on a real AF_UNIX datagram socket, as systemd would read them.
import Testing
import TestSupport
@testable import Daemon
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SystemdNotifyTests {
    @Test func readyAndWatchdogReachTheSocket() throws {
        let sock = try NotifySocket(timeoutSeconds: 2)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": sock.path, "WATCHDOG_USEC": "2000000"])
        #expect(notifier.watchdogIntervalMicros == 1_000_000)
        #expect(notifier.ready(status: "listening on 5004"))
        let ready = try #require(sock.receive())
        #expect(ready.contains("READY=1"))
        #expect(ready.contains("MAINPID=\(getpid())"))
        #expect(ready.contains("STATUS=listening on 5004"))
        #expect(notifier.watchdog())
        #expect(sock.receive() == "WATCHDOG=1")
        #expect(notifier.stopping())
        #expect(sock.receive() == "STOPPING=1")
    }

    @Test func withoutSystemdEverythingIsANoOp() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(notifier.socketPath == nil)
        #expect(notifier.watchdogIntervalMicros == nil)
        #expect(notifier.ready() == false)
    }

    @Test func watchdogForAnotherPidIsIgnored() {
        let notifier = SystemdNotifier(environment: ["WATCHDOG_USEC": "1000", "WATCHDOG_PID": "\(getpid() + 1)"])
        #expect(notifier.watchdogIntervalMicros == nil)
    }
}

@Suite struct ConfigTests {
    @Test func malformedValuesNameTheVariable() throws {
        let config = Config(["INSTAVERSE_PORT": "50x4", "INSTAVERSE_FLAG": "maybe", "INSTAVERSE_LIST": " a, b ,,c"])
        #expect(throws: ConfigError.self) { try config.int("INSTAVERSE_PORT", default: 1) }
        do { _ = try config.int("INSTAVERSE_PORT", default: 1); Issue.record("no error") } catch {
            #expect(error.description.hasPrefix("INSTAVERSE_PORT"))
        }
        #expect(throws: ConfigError.self) { try config.bool("INSTAVERSE_FLAG", default: true) }
        #expect(try config.int("INSTAVERSE_MISSING", default: 7) == 7)
        #expect(throws: ConfigError.self) { try Config(["P": "70000"]).int("P", default: 1, range: 1...65535) }
        #expect(config.list("INSTAVERSE_LIST") == ["a", "b", "c"])
    }

    @Test func logRedactsAndFiltersByLevel() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let log = Log(component: "test", level: .info, fd: fds[1], redact: { $0.replacingSecret() })
        log.debug("hidden")
        log.info("token=SECRET here")
        close(fds[1])
        var buffer = [UInt8](repeating: 0, count: 1024)
        let n = read(fds[0], &buffer, buffer.count)
        let text = String(decoding: buffer[0..<max(0, n)], as: UTF8.self)
        #expect(!text.contains("hidden"))
        #expect(!text.contains("SECRET"))
        #expect(text.contains(" info test: token=[redacted] here\n"))
    }
}

private extension String {
    func replacingSecret() -> String {
        split(separator: " ", omittingEmptySubsequences: false)
            .map { $0.hasSuffix("SECRET") ? $0.dropLast(6) + "[redacted]" : $0 }
            .joined(separator: " ")
    }
}
