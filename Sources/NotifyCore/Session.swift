// One authenticated WebSocket session, and what the hub needs from the connection under it.
import Store
import WebSocket

/// What a send did. The WebSocket layer closes a connection whose outbound queue passes its
/// limit (1008, slow consumer) and reports it here so the hub counts it.
public enum SessionSendResult: Equatable, Sendable {
    case queued
    /// The connection is closing or closed; nothing was sent.
    case closed
    /// This send pushed the connection past its outbound limit: it is being closed with 1008.
    case closedSlowConsumer
}

/// The connection under a session (the Web module's WebSocket connection, or a test double).
/// Loop-confined. After `close` the transport reports its end through `Hub.sessionClosed`.
public protocol SessionTransport: AnyObject {
    /// Queues a complete frame (the same PreparedFrame may go to many connections).
    func transmit(_ frame: PreparedFrame) -> SessionSendResult
    /// Starts the close handshake with `code` and `reason`.
    func close(code: WebSocketCloseCode, reason: String)
}

/// A session on the loop. Small on purpose (memory per idle session is a headline figure):
/// 72 bytes with the object header, one allocation per session, no array of its own. It is
/// also the WebSocket connection's handler (NotifydWebSocket.swift), so no bridge object.
///
/// Layout: identity, the delivery cursor, the transport, the next session of the same user
/// (the hub's per-user list is intrusive), the loading buffer (empty, i.e. no storage,
/// outside `.loading`), then the expiry, the flags, the invalid-message count and the rate
/// limiter's 16-bit clock.
public final class Session {
    enum Phase: UInt8 {
        /// Registered, waiting for its backlog read: live notifications are buffered in
        /// `buffered`.
        case loading
        case live
        case closed
    }

    public let userId: Int64
    /// The highest notification id sent to this session (dedupe between backlog and live).
    /// Starts at the client's cursor (`since`), which says it has everything up to it.
    var lastSentId: Int64
    /// The connection under the session: set at creation (tests) or when the WebSocket opens.
    var transport: (any SessionTransport)?
    /// The next session of the same user in the hub's list (nil: the last one).
    var nextOfUser: Session?
    /// Live notifications that arrived while loading.
    var buffered: [Notification] = []
    /// The token's exp in seconds since the epoch, clamped to 0...UInt32.max (year 2106).
    let expiry: UInt32
    /// phase (bits 0-1), registered (bit 2), hasSince (bit 3): one byte, so that the rate
    /// limiter's two bytes fit in the same 72-byte allocation.
    private var flags: UInt8
    /// Invalid client messages so far (saturates; the limit is far below 255).
    var invalidMessages: UInt8 = 0
    /// The rate limiter's state (ClientRateLimit): the theoretical arrival time of the next
    /// message, in the limiter's 10 ms ticks, wrapping every 655 s.
    var rateTAT: UInt16 = 0

    public init(grant: SessionGrant, transport: (any SessionTransport)? = nil) {
        userId = grant.userId
        expiry = UInt32(clamping: grant.tokenExpiry)
        flags = Phase.loading.rawValue | (grant.since != nil ? Self.hasSinceBit : 0)
        lastSentId = grant.since ?? 0
        self.transport = transport
    }

    private static let phaseMask: UInt8 = 0b11
    private static let registeredBit: UInt8 = 0b100
    private static let hasSinceBit: UInt8 = 0b1000

    var phase: Phase {
        get { Phase(rawValue: flags & Self.phaseMask) ?? .closed }
        set { flags = (flags & ~Self.phaseMask) | newValue.rawValue }
    }
    /// Whether the session is in the hub's per-user list.
    var registered: Bool {
        get { flags & Self.registeredBit != 0 }
        set { flags = newValue ? flags | Self.registeredBit : flags & ~Self.registeredBit }
    }
    /// Whether the client gave a cursor (`since`); its value is the initial `lastSentId`.
    var hasSince: Bool { flags & Self.hasSinceBit != 0 }

    /// The token's exp in seconds since the epoch (clamped to year 2106).
    public var tokenExpiry: Int64 { Int64(expiry) }
    /// The client's cursor, nil for the unread backlog.
    var since: Int64? { hasSince ? lastSentId : nil }

    /// Appends a live notification while loading; false when the buffer is full.
    func buffer(_ n: Notification, limit: Int) -> Bool {
        guard phase == .loading else { return true }
        guard buffered.count < limit else { return false }
        buffered.append(n)
        return true
    }

    public var isLive: Bool { phase == .live }
    public var isClosed: Bool { phase == .closed }
}

/// Close codes and reasons of the session protocol (docs/notifyd.md).
public enum SessionClose {
    /// The token's exp passed: 4001 (application range, so clients can tell it from a
    /// protocol failure and refresh the token before reconnecting).
    public static let tokenExpired = (code: WebSocketCloseCode(rawValue: 4001), reason: "token expired")
    /// The user was deleted (user.deleted applied): 4003, so clients stop reconnecting; a
    /// new handshake with the same token answers 401 user_deleted.
    public static let userDeleted = (code: WebSocketCloseCode(rawValue: 4003), reason: "user deleted")
    /// Too many invalid client messages.
    public static let abuse = (code: WebSocketCloseCode.policyViolation, reason: "too many invalid messages")
    /// A binary message: the protocol is JSON text.
    public static let binary = (code: WebSocketCloseCode.unsupportedData, reason: "text messages only")
    /// The per-user connection limit was reached after the upgrade (a race with another
    /// connect of the same user); before the upgrade the answer is 429.
    public static let tooMany = (code: WebSocketCloseCode.policyViolation, reason: "too many connections")
    /// Live notifications piled up while the backlog was read (the client reconnects and
    /// resumes with `since`).
    public static let overflow = (code: WebSocketCloseCode(rawValue: 1013), reason: "try again later")
    /// The backlog could not be read.
    public static let storeError = (code: WebSocketCloseCode.internalError, reason: "store unavailable")
    /// Daemon shutdown.
    public static let shutdown = (code: WebSocketCloseCode.goingAway, reason: "server shutting down")
}
