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
    func send(_ frame: PreparedFrame) -> SessionSendResult
    /// Starts the close handshake with `code` and `reason`.
    func close(code: WebSocketCloseCode, reason: String)
}

/// A session on the loop. Small on purpose (memory per idle session is a headline figure):
/// identity, token expiry, the transport, the delivery cursor and a phase.
public final class Session {
    enum Phase {
        /// Registered, waiting for its backlog read: live notifications are buffered here.
        case loading([Notification])
        case live
        case closed
    }

    public let userId: Int64
    /// The token's exp in seconds since the epoch.
    public let tokenExpiry: Int64
    let since: Int64?
    let transport: any SessionTransport
    var phase: Phase = .loading([])
    /// The highest notification id sent to this session (dedupe between backlog and live).
    var lastSentId: Int64 = 0
    var invalidMessages: Int32 = 0
    /// Position in the hub's per-user array (O(1) removal).
    var slot = -1

    public init(grant: SessionGrant, transport: any SessionTransport) {
        userId = grant.userId
        tokenExpiry = grant.tokenExpiry
        since = grant.since
        self.transport = transport
    }

    /// Appends a live notification while loading; false when the buffer is full.
    func buffer(_ n: Notification, limit: Int) -> Bool {
        guard case .loading(var buffered) = phase else { return true }
        guard buffered.count < limit else { return false }
        phase = .live   // releases the enum's reference so the append below does not copy
        buffered.append(n)
        phase = .loading(buffered)
        return true
    }

    public var isLive: Bool { if case .live = phase { true } else { false } }
    public var isClosed: Bool { if case .closed = phase { true } else { false } }
}

/// Close codes and reasons of the session protocol (docs/notifyd.md).
public enum SessionClose {
    /// The token's exp passed: 4001 (application range, so clients can tell it from a
    /// protocol failure and refresh the token before reconnecting).
    public static let tokenExpired = (code: WebSocketCloseCode(rawValue: 4001), reason: "token expired")
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
