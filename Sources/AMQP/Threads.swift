// The consumer thread's wake-up pipe (the thread itself is IOCore.JoinableThread).
#if canImport(Glibc)
import Glibc
#endif

/// A non-blocking pipe: any thread writes a byte to wake the thread polling the read end.
/// Writes coalesce (a full pipe already means "wake up").
struct WakePipe: Sendable {
    let readFD: Int32
    let writeFD: Int32

    static func make() -> WakePipe? {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return nil }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        return WakePipe(readFD: fds[0], writeFD: fds[1])
    }

    func wake() {
        var b: UInt8 = 1
        _ = write(writeFD, &b, 1)
    }

    /// Empties the pipe (called by the polling thread after poll reports it readable).
    func drain() {
        var buf = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        while withUnsafeMutableBytes(of: &buf, { read(readFD, $0.baseAddress, $0.count) }) > 0 {}
    }

    /// Waits until woken or `nanos` pass; returns true when woken.
    func wait(nanos: UInt64) -> Bool {
        var p = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
        let ms = Int32(clamping: (nanos + 999_999) / 1_000_000)
        let woke = poll(&p, 1, ms) > 0
        if woke { drain() }
        return woke
    }

    func close() {
        _ = Glibc.close(readFD)
        _ = Glibc.close(writeFD)
    }
}
