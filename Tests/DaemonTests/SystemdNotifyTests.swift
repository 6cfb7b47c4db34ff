// sd_notify messages checked on a real AF_UNIX datagram socket, as systemd would read them.
import Testing
@testable import Daemon
#if canImport(Glibc)
import Glibc
#endif

/// A bound datagram socket standing in for systemd's notify socket.
final class NotifySocket {
    let path: String
    let fd: Int32

    init() throws {
        path = "/tmp/instaverse-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(fd >= 0)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { dst in bytes.withUnsafeBytes { dst.copyMemory(from: $0) } }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(rc == 0)
        // Reads wait at most 2 s: a missing message fails the test instead of hanging it.
        var tv = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd); unlink(path) }

    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }
}

@Suite struct SystemdNotifyTests {
    @Test func readyAndWatchdogReachTheSocket() throws {
        let sock = try NotifySocket()
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
