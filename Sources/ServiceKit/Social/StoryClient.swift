// social-service's synchronous question to story-service, `GET /stories/:id`: who owns a post
// that social's copy has not seen yet (its post.created is still in flight). The seed's
// synchronous REST pattern, kept small: one blocking HTTP/1.1 request per call on a fresh
// connection, with one deadline over connect, send and receive (poll), so a slow or dead
// story-service costs a request at most `timeout`. Called on a PGPool worker, never on the
// loop thread.
import HTTP1
import Web
#if canImport(Glibc)
import Glibc
#endif

public struct StoryClient: Sendable {
    public let host: String
    public let port: Int
    public let timeout: Duration

    /// What story-service said about a post.
    enum Answer: Equatable {
        case owner(Int64)
        /// 404: there is no such post (or it is deleted).
        case missing
    }

    /// story-service cannot answer now (refused, timed out, or an answer other than 200/404).
    struct Unavailable: Error, CustomStringConvertible {
        let reason: String
        var description: String { "story-service unavailable: \(reason)" }
    }

    /// `url` is `http://host:port` (a trailing slash is allowed; no path, no TLS).
    public init(url: String, timeout: Duration = .seconds(2)) throws {
        var rest = Substring(url)
        guard rest.hasPrefix("http://") else {
            throw ServiceConfigError(variable: "INSTAVERSE_STORY_URL", problem: "'\(url)' is not http://host:port")
        }
        rest = rest.dropFirst("http://".count)
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let colon = rest.lastIndex(of: ":"), let port = Int(rest[rest.index(after: colon)...]),
              (1...65535).contains(port), colon > rest.startIndex, !rest[..<colon].contains("/") else {
            throw ServiceConfigError(variable: "INSTAVERSE_STORY_URL", problem: "'\(url)' is not http://host:port")
        }
        self.host = String(rest[..<colon])
        self.port = port
        self.timeout = timeout
    }

    /// The owner of `postId` according to story-service. Blocking; on a worker thread.
    func owner(of postId: Int64) throws(Unavailable) -> Answer {
        let (status, body) = try get("/stories/\(postId)")
        switch status {
        case 200:
            guard let json = try? JSONParser.parse(body), let owner = json["userId"]?.intValue, owner > 0 else {
                throw Unavailable(reason: "GET /stories/\(postId) answered 200 without a userId")
            }
            return .owner(Int64(owner))
        case 404:
            return .missing
        default:
            throw Unavailable(reason: "GET /stories/\(postId) answered \(status)")
        }
    }

    /// Largest response body read (a post is well under it).
    static let maxBody = 256 * 1024

    /// One GET with `Connection: close`: the status and the body (by Content-Length, else to EOF).
    private func get(_ path: String) throws(Unavailable) -> (Int, [UInt8]) {
        let deadline = Deadline(after: timeout)
        let fd = try connectSocket(deadline)
        defer { close(fd) }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nAccept: application/json\r\nConnection: close\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            try wait(fd, for: Int16(POLLOUT), deadline)
            let n = request.withUnsafeBytes { send(fd, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0, errno == EAGAIN || errno == EINTR { continue }
            guard n > 0 else { throw Unavailable(reason: "send: errno \(errno)") }
            sent += n
        }
        var parser = WebSocketResponseHeadParser()
        var status: Int?
        var length: Int?
        var body: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            if let length, body.count >= length { break }
            try wait(fd, for: Int16(POLLIN), deadline)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EAGAIN || errno == EINTR { continue }
            guard n >= 0 else { throw Unavailable(reason: "recv: errno \(errno)") }
            if n == 0 {
                guard let status, length == nil || body.count >= length! else { throw Unavailable(reason: "connection closed early") }
                return (status, body)
            }
            if status != nil {
                body.append(contentsOf: chunk[0..<n])
            } else {
                let result = chunk.withUnsafeBytes { parser.feed(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                switch result {
                case .needMore:
                    continue
                case .invalid(let reason):
                    throw Unavailable(reason: "malformed response: \(reason)")
                case .complete(let code, let headers, let consumed):
                    status = code
                    if let value = headers.first(where: { $0.name.lowercased() == "content-length" })?.value {
                        guard let parsed = Int(value), parsed >= 0 else { throw Unavailable(reason: "bad Content-Length") }
                        length = parsed
                    }
                    body.append(contentsOf: chunk[consumed..<n])
                }
            }
            guard body.count <= StoryClient.maxBody else { throw Unavailable(reason: "response body too large") }
        }
        return (status ?? 0, Array(body.prefix(length ?? body.count)))
    }

    /// A non-blocking socket connected to host:port within the deadline.
    private func connectSocket(_ deadline: Deadline) throws(Unavailable) -> Int32 {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw Unavailable(reason: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(list) }
        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Unavailable(reason: "socket: errno \(errno)") }
        if connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) != 0 {
            guard errno == EINPROGRESS else {
                let code = errno
                close(fd)
                throw Unavailable(reason: "connect to \(host):\(port): errno \(code)")
            }
            do {
                try wait(fd, for: Int16(POLLOUT), deadline)
            } catch {
                close(fd)
                throw error
            }
            var error: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size)
            guard error == 0 else {
                close(fd)
                throw Unavailable(reason: "connect to \(host):\(port): errno \(error)")
            }
        }
        return fd
    }

    /// Waits until `fd` is ready for `events` or the deadline passes (then throws).
    private func wait(_ fd: Int32, for events: Int16, _ deadline: Deadline) throws(Unavailable) {
        while true {
            let left = deadline.millisecondsLeft
            guard left > 0 else { throw Unavailable(reason: "no answer within \(timeout)") }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&entry, 1, Int32(clamping: left))
            if n < 0, errno == EINTR { continue }
            if n > 0 { return }
            if n < 0 { throw Unavailable(reason: "poll: errno \(errno)") }
        }
    }
}

/// A point on the monotonic clock.
private struct Deadline {
    let end: Int64

    init(after duration: Duration) {
        let (seconds, attos) = duration.components
        end = Deadline.nowMillis() + seconds * 1000 + attos / 1_000_000_000_000_000
    }

    var millisecondsLeft: Int64 { end - Deadline.nowMillis() }

    static func nowMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
