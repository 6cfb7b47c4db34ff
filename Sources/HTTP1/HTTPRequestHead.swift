// What the request parser produces for one message head, and its limits and errors.

/// A request method. Any token is a valid method; the constants cover what the router
/// and the services use. Comparison is case-sensitive, as RFC 9110 requires.
public struct HTTPMethod: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public static let GET = HTTPMethod("GET")
    public static let HEAD = HTTPMethod("HEAD")
    public static let POST = HTTPMethod("POST")
    public static let PUT = HTTPMethod("PUT")
    public static let PATCH = HTTPMethod("PATCH")
    public static let DELETE = HTTPMethod("DELETE")
    public static let OPTIONS = HTTPMethod("OPTIONS")
    public static let CONNECT = HTTPMethod("CONNECT")
    public static let TRACE = HTTPMethod("TRACE")

    public var description: String { rawValue }
}

/// HTTP/1.0 or HTTP/1.1 (the parser answers 505 to any other version).
public struct HTTPVersion: Hashable, Sendable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public init(major: Int, minor: Int) { self.major = major; self.minor = minor }
    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)
    public var description: String { "HTTP/\(major).\(minor)" }
}

/// How the body of a request is framed, decided from its head.
public enum HTTPBodyFraming: Sendable, Equatable {
    case none
    case contentLength(UInt64)
    case chunked
}

/// A parsed request head. Strings are the head's only allocations.
public struct HTTPRequestHead: Sendable, Equatable {
    public var method: HTTPMethod
    /// The request-target exactly as received (origin-form `/a/b?x=1`, absolute-form, `*`,
    /// or authority-form for CONNECT).
    public var target: String
    /// The path of the target, still percent-encoded (the router decodes per segment).
    /// For absolute-form targets it is the path after the authority ("/" when empty).
    public var path: String
    /// The query after the first `?`, without the `?`, still encoded; nil when there is none.
    public var query: String?
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var framing: HTTPBodyFraming
    /// Whether the connection may carry another request after this one's response:
    /// HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
    public var keepAlive: Bool
    /// The `Upgrade` header's value when this is an HTTP/1.1 upgrade request (`Connection`
    /// lists `upgrade` and `Upgrade` is present), else nil. `websocket` for a WebSocket handshake.
    public var upgrade: String?
    /// True when the client sent `Expect: 100-continue` and waits before sending its body.
    public var expectsContinue: Bool

    public var isUpgrade: Bool { upgrade != nil }
    /// True for a WebSocket opening handshake (`Upgrade: websocket` on a GET).
    public var isWebSocketUpgrade: Bool {
        guard method == .GET, let upgrade else { return false }
        return ASCII.listContainsToken(upgrade, "websocket")
    }
}

/// Parser limits. The defaults follow ARCHITECTURE.md (head <= 8 KiB, <= 100 headers).
public struct HTTPParserLimits: Sendable, Equatable {
    /// Bytes of the request line plus header section, CRLFs included (431 past it;
    /// 414 when the request line alone is the one too long).
    public var maxHeadBytes: Int = 8 * 1024
    /// Header fields per request (431 past it).
    public var maxHeaderCount: Int = 100
    /// Bytes of the request-target (414 past it).
    public var maxTargetBytes: Int = 8 * 1024
    /// Body bytes allowed when the caller does not call `setBodyLimit` after the head (413).
    public var defaultMaxBodyBytes: Int = 1024 * 1024
    /// Bytes of one chunk's extensions (400 past it): they are skipped, never stored, but an
    /// unbounded extension would let a peer keep the parser busy without any body progress.
    public var maxChunkExtensionBytes: Int = 1024
    /// Bytes of the trailer section of a chunked body (431 past it).
    public var maxTrailerBytes: Int = 8 * 1024

    public init() {}
}

/// Why a request cannot be served: the status to answer with and a short reason for logs.
/// After an error the connection cannot be resynchronised: answer and close.
public struct HTTPParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: HTTPStatus
    public var reason: String

    public init(_ status: HTTPStatus, _ reason: String) {
        self.status = status
        self.reason = reason
    }

    public var description: String { "\(status.code) \(reason)" }
}
