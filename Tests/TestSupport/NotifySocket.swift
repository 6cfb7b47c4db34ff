// A bound AF_UNIX datagram socket standing in for systemd's notify socket: point
// NOTIFY_SOCKET at `path` and read what the daemon sends (READY=1, WATCHDOG=1, ...).
#if canImport(Glibc)
import Glibc
#endif

public struct NotifySocketError: Error, CustomStringConvertible {
    public let description: String
}

public final class NotifySocket {
    public let path: String
    public let fd: Int32

    /// `timeoutSeconds` bounds each `receive()`: a missing message fails a test, never hangs it.
    public init(timeoutSeconds: Int = 10) throws {
        path = "/tmp/instaverse-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw NotifySocketError(description: "socket(AF_UNIX) failed: errno \(errno)") }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &addr.sun_path) { dst in bytes.withUnsafeBytes { dst.copyMemory(from: $0) } }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else {
            close(fd)
            throw NotifySocketError(description: "bind(\(path)) failed: errno \(errno)")
        }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd); unlink(path) }

    /// The next datagram, or nil after the receive timeout.
    public func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self)
    }
}
