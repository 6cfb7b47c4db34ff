// The hub in-process, with the store's timing in the test's hands: the ordering guarantee
// between the backlog read and live notifications (nothing lost, nothing twice), fan-out
// encoded once, per-user limits, expiry and shutdown closes. No sockets, no broker.
import Foundation
import Testing
import Synchronization
import IOCore
import NotifyCore
import Store
import Tokens
import WebSocket

/// A store whose operations wait until the test runs them, so a test decides whether a
/// backlog read happens before or after a commit.
final class GatedStore: NotificationStoreAccess {
    private final class Box: Sendable {
        let store = Mutex(InMemoryNotificationStore())
    }
    private let box = Box()
    private let pending = Mutex<[@Sendable () -> Void]>([])

    func perform<T: Sendable>(_ op: @escaping @Sendable (any NotificationStore) throws -> T,
                              completion: @escaping @Sendable (Result<T, any Error>) -> Void) {
        pending.withLock { $0.append { [box] in
            let result = box.store.withLock { s in Result { try op(s) } }
            completion(result)
        } }
    }

    /// Runs the queued operations now (their completions hop to the loop).
    func runPending() {
        let jobs = pending.withLock { jobs in defer { jobs = [] }; return jobs }
        for job in jobs { job() }
    }

    var pendingCount: Int { pending.withLock { $0.count } }

    /// A direct write, as the ingest would commit it; returns the stored rows.
    func commit(_ batch: [NewNotification]) throws -> [Store.Notification] {
        try box.store.withLock { try $0.insert(batch: batch) }
    }
}

/// Runs `loop`'s iterations without blocking until `done` holds: the work here is already
/// queued on the loop (store completions, cross-thread hand-offs), so no clock is involved.
/// Returns false when 1,000 iterations did not get there.
func runLoop(_ loop: EventLoop, until done: () -> Bool) -> Bool {
    for _ in 0..<1000 {
        if done() { return true }
        _ = loop.runNoWait()
    }
    return done()
}

/// Records what the hub sends; decodes the (unmasked, short-header) frames' payloads.
final class RecordingTransport: SessionTransport {
    var texts: [String] = []
    var frames: [ObjectIdentifier] = []
    var closed: (code: UInt16, reason: String)?
    var refuseAsSlow = false

    func transmit(_ frame: PreparedFrame) -> SessionSendResult {
        if closed != nil { return .closed }
        if refuseAsSlow { return .closedSlowConsumer }
        frames.append(ObjectIdentifier(frame))
        texts.append(frame.withUnsafeBytes { bytes in
            var length = Int(bytes[1] & 0x7F), offset = 2
            if length == 126 { length = Int(bytes[2]) << 8 | Int(bytes[3]); offset = 4 }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]), as: UTF8.self)
        })
        return .queued
    }

    func close(code: WebSocketCloseCode, reason: String) { closed = (code.rawValue, reason) }

    var ids: [Int64] {
        var out: [Int64] = []
        for text in texts {
            guard let m = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else { continue }
            if let list = m["notifications"] as? [[String: Any]] {
                out += list.compactMap { ($0["id"] as? NSNumber)?.int64Value }
            } else if let n = m["notification"] as? [String: Any], let id = (n["id"] as? NSNumber)?.int64Value {
                out.append(id)
            }
        }
        return out
    }
}

struct HubFixture {
    let loop: EventLoop
    let store = GatedStore()
    let hub: Hub
    let metrics = NotifyMetrics()

    init(limit: Int = 16, backlog: Int = 500, configure: (inout NotifydConfig) -> Void = { _ in }) throws {
        loop = try EventLoop()
        var config = NotifydConfig(keys: try JWTKeySet(current: try JWTKey(kid: "k", secret: Array(repeating: 7, count: 32))))
        config.maxConnectionsPerUser = limit
        config.backlogLimit = backlog
        configure(&config)
        hub = Hub(loop: loop, store: store, config: config, metrics: metrics)
    }

    /// Runs the pending store operations and lets their completions run on the loop, until
    /// no store operation is left queued (a completion may queue the next one).
    func settle() {
        repeat {
            store.runPending()
            _ = loop.runNoWait()
        } while store.pendingCount > 0
    }

    /// Runs the loop until `done` holds (see `runLoop(_:until:)`).
    func run(until done: () -> Bool) -> Bool { runLoop(loop, until: done) }

    func session(user: Int64, since: Int64? = nil, exp: Int64 = Int64.max) -> (Session, RecordingTransport) {
        let t = RecordingTransport()
        let s = Session(grant: SessionGrant(userId: user, tokenExpiry: exp, subprotocol: nil, since: since), transport: t)
        return (s, t)
    }

    func like(_ n: Int, to user: Int64) -> NewNotification {
        NewNotification(eventId: "e\(n)-\(user)", userId: user, kind: .like, actorId: 9, actorUsername: "bob", postId: Int64(n),
                        text: "bob liked your post", createdAt: 1_700_000_000_000)
    }

    func close() throws {
        try loop.close()
        #expect(loop.openHandleCount == 0)
    }
}

@Suite struct HubTests {
    @Test func liveNotificationsDuringTheBacklogReadAreNeitherLostNorDuplicated() throws {
        let f = try HubFixture()
        let old = try f.store.commit([f.like(1, to: 7), f.like(2, to: 7)])
        let (s, t) = f.session(user: 7)
        f.hub.open(s)
        #expect(f.store.pendingCount == 1)          // the backlog read is queued, not run
        // A batch committed before the read, whose hand-off reaches the loop only now.
        let early = try f.store.commit([f.like(3, to: 7)])
        f.hub.deliver(old + early)                   // late delivery of everything so far
        #expect(t.texts.isEmpty)                     // buffered while loading
        f.settle()                                    // the read sees 1, 2, 3
        let late = try f.store.commit([f.like(4, to: 7)])
        f.hub.deliver(late)
        #expect(t.ids == [old[0].id, old[1].id, early[0].id, late[0].id])
        #expect(s.isLive)
        try f.close()
    }

    @Test func aCommitAfterTheReadIsFlushedAfterTheBacklog() throws {
        let f = try HubFixture()
        _ = try f.store.commit([f.like(1, to: 7)])
        let (s, t) = f.session(user: 7)
        f.hub.open(s)
        f.store.runPending()                          // the read runs (sees 1); its completion is queued
        let after = try f.store.commit([f.like(2, to: 7)])
        f.hub.deliver(after)                          // reaches the loop before the backlog
        #expect(f.run { t.ids.count == 2 })
        #expect(t.ids.last == after[0].id)
        #expect(t.texts.first?.hasPrefix(#"{"type":"backlog""#) == true)
        try f.close()
    }

    @Test func eachNotificationIsEncodedOnceForAllSessionsOfItsUser() throws {
        let f = try HubFixture()
        let sessions = (0..<3).map { _ in f.session(user: 7) }
        let other = f.session(user: 8)
        for (s, _) in sessions + [other] { f.hub.open(s) }
        f.settle()
        let batch = try f.store.commit([f.like(1, to: 7), f.like(2, to: 7)])
        f.hub.deliver(batch)
        let frames = sessions.map { $0.1.frames.suffix(2) }
        #expect(Set(frames.map { $0.first }).count == 1, "one frame object shared by every session")
        #expect(Set(frames.map { $0.last }).count == 1)
        #expect(other.1.texts.count == 1)             // only its backlog
        #expect(f.metrics.notificationsDelivered.load(ordering: .relaxed) == 6)
        #expect(f.hub.usersOnline == 2 && f.hub.sessionCount == 4)
        try f.close()
    }

    @Test func limitsExpiryAndShutdown() throws {
        let f = try HubFixture(limit: 2)
        let a = f.session(user: 7, exp: 100)
        let b = f.session(user: 7, exp: 200)
        f.hub.open(a.0)
        f.hub.open(b.0)
        #expect(!f.hub.canAdmit(userId: 7))
        #expect(f.hub.canAdmit(userId: 8))
        let c = f.session(user: 7)
        f.hub.open(c.0)                               // the race past the pre-upgrade check
        #expect(c.1.closed?.code == 1008)
        f.settle()
        f.hub.closeExpired(now: 150)
        #expect(a.1.closed?.code == 4001 && a.1.closed?.reason == "token expired")
        #expect(b.1.closed == nil)
        f.hub.sessionClosed(a.0)
        #expect(f.hub.canAdmit(userId: 7))
        f.hub.closeAll()
        #expect(b.1.closed?.code == 1001)
        f.hub.sessionClosed(b.0)
        #expect(f.hub.sessionCount == 0 && f.hub.usersOnline == 0)
        #expect(f.metrics.sessions.load(ordering: .relaxed) == 0)
        try f.close()
    }

    @Test func clientMessages() throws {
        var ok = Array(#"{"type":"read","ids":[1,2,3]}"#.utf8)
        #expect(ok.withUnsafeBytes { ClientMessage.parse($0, maxBytes: 4096) } == .success(.read([1, 2, 3])))
        ok = Array(#"{"type":"ack","ids":[]}"#.utf8)
        #expect(ok.withUnsafeBytes { ClientMessage.parse($0, maxBytes: 4096) } == .success(.ack([])))
        let cases: [(String, String)] = [("{", "invalid_json"), ("[]", "unknown_type"), (#"{"type":"x"}"#, "unknown_type"),
                                         (#"{"type":"ack"}"#, "bad_ids"), (#"{"type":"ack","ids":[-1]}"#, "bad_ids"),
                                         (#"{"type":"ack","ids":["1"]}"#, "bad_ids")]
        for (text, name) in cases {
            let bytes = Array(text.utf8)
            #expect(bytes.withUnsafeBytes { ClientMessage.parse($0, maxBytes: 4096) } == .failure(ClientMessage.Invalid(name: name)))
        }
        let big = Array(repeating: UInt8(ascii: " "), count: 5000)
        #expect(big.withUnsafeBytes { ClientMessage.parse($0, maxBytes: 4096) } == .failure(ClientMessage.Invalid(name: "message_too_large")))
    }
}
