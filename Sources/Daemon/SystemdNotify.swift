// sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET per state change.
//
// The daemon calls `ready()` once it listens and its store is open, `watchdog()` from a
// repeating timer on the event loop (so a stalled loop stops the pings and systemd restarts
// the process), `stopping()` when a graceful stop begins, and `status(_:)` for humans.
// Thread: any; each call opens no state beyond one socket created at init.
#if canImport(Glibc)
import Glibc
#endif

public final class SystemdNotifier: Sendable {
    /// The socket path from NOTIFY_SOCKET ("@name" is the abstract namespace), or nil when
    /// the process does not run under systemd (every call is then a no-op).
    public let socketPath: String?
    /// Half of WATCHDOG_USEC in microseconds (the interval systemd recommends), or nil when
    /// the unit has no WatchdogSec or the watchdog is meant for another PID.
    public let watchdogIntervalMicros: UInt64?
    private let fd: Int32

    public init(environment: [String: String] = SystemdNotifier.processEnvironment()) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        if let usec = environment["WATCHDOG_USEC"].flatMap(UInt64.init), usec > 0,
           environment["WATCHDOG_PID"].flatMap(Int32.init).map({ $0 == getpid() }) ?? true {
            watchdogIntervalMicros = usec / 2
        } else {
            watchdogIntervalMicros = nil
        }
        fd = path == nil ? -1 : socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    }

    deinit { if fd >= 0 { close(fd) } }

    public static func processEnvironment() -> [String: String] {
        var env: [String: String] = [:]
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            if let v = getenv(key) { env[key] = String(cString: v) }
        }
        return env
    }

    @discardableResult public func ready(status: String? = nil) -> Bool {
        send("READY=1\nMAINPID=\(getpid())" + (status.map { "\nSTATUS=\($0)" } ?? ""))
    }
    @discardableResult public func watchdog() -> Bool { send("WATCHDOG=1") }
    @discardableResult public func stopping() -> Bool { send("STOPPING=1") }
    @discardableResult public func reloading() -> Bool { send("RELOADING=1") }
    @discardableResult public func status(_ text: String) -> Bool { send("STATUS=\(text)") }

    /// Sends one datagram. Returns false when not under systemd or when the send failed
    /// (systemd gone): the daemon goes on either way.
    @discardableResult public func send(_ message: String) -> Bool {
        guard let path = socketPath, fd >= 0 else { return false }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }   // abstract namespace
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            bytes.withUnsafeBytes { raw.copyMemory(from: $0) }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (bytes.first == 0 ? 0 : 1))
        let sent = message.utf8CString.withUnsafeBufferPointer { text in
            withUnsafePointer(to: &addr) { ptr in
                ptr.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    sendto(fd, text.baseAddress, text.count - 1, Int32(MSG_NOSIGNAL), sa, length)
                }
            }
        }
        return sent >= 0
    }
}
