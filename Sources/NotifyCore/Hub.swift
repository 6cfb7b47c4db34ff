// The sessions of one loop, keyed by userId, and the fan-out of committed notifications.
//
// Loop-confined (one hub per loop; with several loops, each holds its own users' sessions and
// `deliver` is sent to every loop). Every method runs on the loop thread.
//
// Ordering guarantee on connect (no live notification lost between the backlog read and the
// registration): `open` registers the session first, in phase `.loading`, where live
// notifications for it are buffered; then it reads the backlog on the store thread. The store
// thread commits batches and runs reads one after the other, and ids grow with commits, so a
// notification committed before the read is in the backlog (or older than the cursor) and one
// committed after it has a larger id than anything the read saw. When the backlog arrives it
// is sent, then the buffered notifications with ids above the last id sent (the ones already
// in the backlog are dropped), and the session turns live.
//
// Deleted users (no session may survive a deletion): the hub keeps the ids of deleted users
// in `deletedUsers`, loaded from the store's tombstones at start and extended by
// `usersDeleted` when the ingest commits a user.deleted. Both run on the loop, so they are
// ordered with `open`: a session registered before `usersDeleted` runs is closed by it
// (whatever its phase, backlog read in flight included), and one that opens after it is
// refused by `open` (its handshake passed before the id arrived). The handshake and REST
// check the same set (Notifyd.decideUpgrade, NotifyAPI), a hash lookup per request.
//
// Delivery is at least once per live session: a slow consumer is closed by the WebSocket
// layer and its notifications stay in the store, unread and undelivered, for its next connect.
import IOCore
import Store
import WebSocket

public final class Hub {
    let store: LoopStore
    let metrics: NotifyMetrics
    let config: NotifydConfig
    let log: ((String) -> Void)?
    /// userId -> the newest of that user's sessions (usually 1-3: phones, tabs); the others
    /// follow through `Session.nextOfUser`. An intrusive list rather than an array per user:
    /// memory per idle session is a headline figure, and an array is one more allocation.
    private(set) var users: [Int64: Session] = [:]
    public private(set) var sessionCount = 0
    /// Live notifications buffered per loading session before it is closed with 1013.
    let loadingBufferLimit: Int
    /// The per-session limit on client messages (config.clientRate / clientBurst).
    let rateLimit: ClientRateLimit
    /// Users deleted (tombstones): refused at the handshake, on REST and in `open`.
    private(set) var deletedUsers: Set<Int64> = []

    public init(loop: EventLoop, store: any NotificationStoreAccess, config: NotifydConfig, metrics: NotifyMetrics,
                log: ((String) -> Void)? = nil) {
        self.store = LoopStore(loop: loop, access: store)
        self.metrics = metrics
        self.config = config
        self.log = log
        loadingBufferLimit = max(2 * config.backlogLimit, 1000)
        rateLimit = ClientRateLimit(perSecond: config.clientRate, burst: config.clientBurst)
    }

    public var usersOnline: Int { users.count }

    /// Whether `userId` may open one more session (the upgrade hook answers 429 otherwise).
    public func canAdmit(userId: Int64) -> Bool {
        sessionCount(userId: userId) < config.maxConnectionsPerUser
    }

    /// The number of sessions `userId` has on this loop (a walk of at most the per-user limit).
    func sessionCount(userId: Int64) -> Int {
        var n = 0
        var next = users[userId]
        while let session = next {
            n += 1
            next = session.nextOfUser
        }
        return n
    }

    /// Calls `body` for each session (the next one is read before the call, so `body` may
    /// unlink the current one).
    private func forEachSession(of head: Session?, _ body: (Session) -> Void) {
        var next = head
        while let session = next {
            next = session.nextOfUser
            body(session)
        }
    }

    /// Whether `userId` was deleted (its tokens are refused with 401 user_deleted).
    public func isDeleted(_ userId: Int64) -> Bool { deletedUsers.contains(userId) }

    /// Records deleted users (the store's tombstones at start, then each committed
    /// user.deleted) and closes their sessions with 4003, in any phase.
    public func usersDeleted<S: Sequence>(_ userIds: S) where S.Element == Int64 {
        var doomed: [Session] = []
        for userId in userIds {
            deletedUsers.insert(userId)
            forEachSession(of: users[userId]) { doomed.append($0) }
        }
        for session in doomed { close(session, SessionClose.userDeleted) }
    }

    /// Registers a session whose connection just opened, then reads and sends its backlog.
    /// A deleted user's session (deleted between its handshake and now) is closed with 4003.
    public func open(_ session: Session) {
        if isDeleted(session.userId) {
            session.phase = .closed
            session.transport?.close(code: SessionClose.userDeleted.code, reason: SessionClose.userDeleted.reason)
            return
        }
        guard !session.registered, canAdmit(userId: session.userId) else {
            session.phase = .closed
            session.transport?.close(code: SessionClose.tooMany.code, reason: SessionClose.tooMany.reason)
            return
        }
        session.nextOfUser = users.updateValue(session, forKey: session.userId)
        session.registered = true
        session.rateTAT = Self.rateClock()
        sessionCount += 1
        metrics.sessions.add(1, ordering: .relaxed)
        loadBacklog(session)
    }

    /// Called by the transport once its connection has closed (any reason). Idempotent.
    public func sessionClosed(_ session: Session) {
        session.phase = .closed
        session.buffered = []
        guard session.registered, let head = users[session.userId] else { return }
        if head === session {
            users[session.userId] = session.nextOfUser
        } else {
            var previous = head
            while let next = previous.nextOfUser, next !== session { previous = next }
            guard previous.nextOfUser === session else { return }
            previous.nextOfUser = session.nextOfUser
        }
        session.nextOfUser = nil
        session.registered = false
        sessionCount -= 1
        metrics.sessions.subtract(1, ordering: .relaxed)
    }

    /// Fan-out of a committed batch (store id order). Each notification with at least one
    /// session online is encoded once into a frame shared by all its sessions.
    public func deliver(_ batch: [Notification]) {
        for n in batch {
            guard let head = users[n.userId] else { continue }
            var frame: PreparedFrame?
            forEachSession(of: head) { session in
                switch session.phase {
                case .closed:
                    return
                case .loading:
                    if !session.buffer(n, limit: loadingBufferLimit) { close(session, SessionClose.overflow) }
                case .live:
                    guard n.id > session.lastSentId else { return }
                    let shared = frame ?? ServerMessage.notificationFrame(n)
                    frame = shared
                    send(shared, to: session, lastId: n.id, count: 1)
                }
            }
        }
    }

    /// Handles one text message from a session's client (the payload is only valid during
    /// the call). Every message, valid or not, first passes the session's rate limit (over
    /// it: `rate_limited`, and it counts as invalid). Invalid messages get an error message;
    /// past `maxInvalidMessages` the session is closed with 1008.
    public func received(text: UnsafeRawBufferPointer, from session: Session) {
        guard !session.isClosed else { return }
        guard rateLimit.admit(&session.rateTAT, now: Self.rateClock()) else {
            metrics.clientMessagesRateLimited.add(1, ordering: .relaxed)
            return refuse(session, "rate_limited")
        }
        switch ClientMessage.parse(text, maxBytes: config.maxClientMessageBytes) {
        case .failure(let invalid):
            refuse(session, invalid.name)
        case .success(let message):
            apply(message, from: session)
        }
    }

    /// Counts an invalid message: an error message back, or 1008 past the limit.
    private func refuse(_ session: Session, _ name: String) {
        if session.invalidMessages < .max { session.invalidMessages += 1 }
        if Int(session.invalidMessages) > min(config.maxInvalidMessages, Int(UInt8.max) - 1) {
            close(session, SessionClose.abuse)
        } else {
            _ = session.transport?.transmit(ServerMessage.errorFrame(name))
        }
    }

    /// The rate limiter's clock: monotonic 10 ms ticks, wrapping (ClientRateLimit).
    static func rateClock() -> UInt16 { UInt16(truncatingIfNeeded: monotonicNanos() / 10_000_000) }

    /// A binary message: the protocol is text only.
    public func receivedBinary(from session: Session) {
        close(session, SessionClose.binary)
    }

    /// Closes every session whose token expired at `now` (seconds). One walk for all sessions,
    /// run by a repeating loop timer, instead of a timer per session.
    public func closeExpired(now: Int64) {
        var expired: [Session] = []
        for (_, head) in users {
            forEachSession(of: head) { session in
                if session.tokenExpiry <= now && !session.isClosed { expired.append(session) }
            }
        }
        for session in expired { close(session, SessionClose.tokenExpired) }
    }

    /// Shutdown: closes every session with 1001.
    public func closeAll() {
        var all: [Session] = []
        all.reserveCapacity(sessionCount)
        for (_, head) in users { forEachSession(of: head) { all.append($0) } }
        for session in all where !session.isClosed { close(session, SessionClose.shutdown) }
    }

    // MARK: internals

    private func apply(_ message: ClientMessage, from session: Session) {
        let (now, userId) = (nowMillis(), session.userId)
        let op: @Sendable (any NotificationStore) throws -> Void
        let what: String
        switch message {
        case .ack(let ids) where !ids.isEmpty:
            (op, what) = ({ _ = try $0.markDelivered(ids: ids, userId: userId, at: now) }, "ack")
        case .read(let ids) where !ids.isEmpty:
            (op, what) = ({ _ = try $0.markRead(ids: ids, userId: userId, at: now) }, "read")
        default:
            return
        }
        store.run(op) { [log] result in
            switch result {
            case .success:
                break
            case .failure(let error) where error is StoreQueueFull:
                // Overload, not the client's fault: tell it to retry; not counted as invalid.
                if !session.isClosed { _ = session.transport?.transmit(ServerMessage.errorFrame("busy")) }
            case .failure(let error):
                log?("\(what) for user \(userId) failed: \(error)")
            }
        }
    }

    private func close(_ session: Session, _ why: (code: WebSocketCloseCode, reason: String)) {
        guard !session.isClosed else { return }
        session.phase = .closed
        session.buffered = []
        session.transport?.close(code: why.code, reason: why.reason)
    }

    /// Sends a frame carrying `count` notifications up to id `lastId`.
    private func send(_ frame: PreparedFrame, to session: Session, lastId: Int64, count: Int) {
        switch session.transport?.transmit(frame) ?? .closed {
        case .queued:
            session.lastSentId = max(session.lastSentId, lastId)
            if count > 0 { metrics.notificationsDelivered.add(count, ordering: .relaxed) }
        case .closed:
            session.phase = .closed
        case .closedSlowConsumer:
            // Counted by the WebSocket layer (metrics read its counter at scrape time).
            session.phase = .closed
        }
    }

    private struct BacklogRead: Sendable {
        var notifications: [Notification]
        var unread: Int
        var more: Bool
    }

    private func loadBacklog(_ session: Session) {
        let (userId, limit, since) = (session.userId, config.backlogLimit, session.since)
        store.run({ store -> BacklogRead in
            if let since {
                var rows = try store.since(userId: userId, afterId: since, limit: limit + 1)
                let more = rows.count > limit
                if more { rows.removeLast(rows.count - limit) }
                return BacklogRead(notifications: rows, unread: try store.unreadCount(userId: userId), more: more)
            }
            let b = try store.backlog(userId: userId, limit: limit)
            return BacklogRead(notifications: b.notifications, unread: b.unreadCount, more: b.more)
        }, then: { [weak self] result in
            self?.backlogLoaded(session, result)
        })
    }

    private func backlogLoaded(_ session: Session, _ result: Result<BacklogRead, any Error>) {
        guard session.phase == .loading else { return }
        let buffered = session.buffered
        session.buffered = []
        switch result {
        case .failure(let error):
            log?("backlog read for user \(session.userId) failed: \(error)")
            close(session, SessionClose.storeError)
        case .success(let read):
            session.phase = .live
            // Half the outbound limit: the backlog alone never makes a slow consumer.
            let (frame, kept) = ServerMessage.backlogFrame(read.notifications, unread: read.unread, more: read.more,
                                                           budget: max(4096, config.outboundLimitBytes / 2),
                                                           keepNewest: session.since == nil)
            let lastId = kept.last?.id ?? session.lastSentId
            send(frame, to: session, lastId: lastId, count: kept.count)
            for n in buffered where n.id > session.lastSentId && session.isLive {
                send(ServerMessage.notificationFrame(n), to: session, lastId: n.id, count: 1)
            }
        }
    }
}
