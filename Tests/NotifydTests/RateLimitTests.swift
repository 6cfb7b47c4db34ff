// The per-session rate limit of client messages and the store's overload answer, in-process
// (HubFixture: no sockets, the store's timing in the test's hands), plus the limiter's
// arithmetic on a clock the test sets.
import Foundation
import Testing
import IOCore
@testable import NotifyCore
import Store
import Tokens
import WebSocket

/// A store access that refuses every job as a full queue would (NotificationPipeline.perform).
final class FullStore: NotificationStoreAccess {
    func perform<T: Sendable>(_ op: @escaping @Sendable (any NotificationStore) throws -> T,
                              completion: @escaping @Sendable (Result<T, any Error>) -> Void) {
        completion(.failure(StoreQueueFull()))
    }
}

@Suite struct RateLimitTests {
    @Test func twoHundredReadsAtOnceAreCutAfterTheBurstAndTheSessionIsClosed() throws {
        let f = try HubFixture()   // defaults: 10/s, burst 20, 10 invalid messages allowed
        let (abuser, at) = f.session(user: 7)
        let (other, ot) = f.session(user: 8)
        f.hub.open(abuser)
        f.hub.open(other)
        f.settle()
        #expect(abuser.isLive && other.isLive)
        let read = Array(#"{"type":"read","ids":[1]}"#.utf8)
        for _ in 0..<200 {
            read.withUnsafeBytes { f.hub.received(text: $0, from: abuser) }
        }
        // The burst reached the store; the rest did not (checked before any time can refill).
        let queued = f.store.pendingCount
        #expect(queued >= 20 && queued <= 22, "\(queued) reads reached the store")
        let errors = at.texts.filter { $0 == #"{"type":"error","error":"rate_limited"}"# }.count
        #expect(errors >= 9 && errors <= 10, "\(errors) rate_limited errors")
        #expect(at.closed?.code == 1008)
        #expect(at.closed?.reason == SessionClose.abuse.reason)
        #expect(abuser.isClosed)
        #expect(f.metrics.clientMessagesRateLimited.load(ordering: .relaxed) >= 10)
        f.settle()
        // Another user's live delivery is unaffected.
        let batch = try f.store.commit([f.like(1, to: 8)])
        f.hub.deliver(batch)
        #expect(ot.ids.last == batch[0].id)
        #expect(ot.closed == nil)
        try f.close()
    }

    @Test func aClientWithinTheRateIsNeverRefused() throws {
        // Burst 2: a third message at once is refused, and the limit is enforced per session.
        let f = try HubFixture { $0.clientBurst = 2 }
        let (a, at) = f.session(user: 7)
        let (b, bt) = f.session(user: 7)
        f.hub.open(a)
        f.hub.open(b)
        f.settle()
        let ack = Array(#"{"type":"ack","ids":[1]}"#.utf8)
        for _ in 0..<2 { ack.withUnsafeBytes { f.hub.received(text: $0, from: a) } }
        for _ in 0..<2 { ack.withUnsafeBytes { f.hub.received(text: $0, from: b) } }
        #expect(!at.texts.contains { $0.contains("rate_limited") } && !bt.texts.contains { $0.contains("rate_limited") })
        ack.withUnsafeBytes { f.hub.received(text: $0, from: a) }
        #expect(at.texts.last == #"{"type":"error","error":"rate_limited"}"#)
        #expect(at.closed == nil)   // one refusal is one invalid message, far below the limit
        try f.close()
    }

    @Test func theLimiterRefillsAtTheRateAndSurvivesTheClockWrapping() {
        let limit = ClientRateLimit(perSecond: 10, burst: 20)
        #expect(limit.interval == 10 && limit.tolerance == 190)
        for start: UInt16 in [0, 1000, 65_500] {   // 65_500: the burst crosses the wrap
            var tat = start
            var admitted = 0
            for _ in 0..<100 where limit.admit(&tat, now: start) { admitted += 1 }
            #expect(admitted == 20)
            // 1 s later: 10 more (the rate), not a full burst.
            admitted = 0
            for _ in 0..<100 where limit.admit(&tat, now: start &+ 100) { admitted += 1 }
            #expect(admitted == 10)
            // Idle for 5 minutes: full burst again; a stale time from an earlier lap is past.
            admitted = 0
            for _ in 0..<100 where limit.admit(&tat, now: start &+ 30_000 &+ 100) { admitted += 1 }
            #expect(admitted == 20)
        }
        // Clamped settings.
        #expect(ClientRateLimit(perSecond: 1000, burst: 0).interval == 1)
        #expect(ClientRateLimit(perSecond: 1, burst: 1000).tolerance == 30_000)
    }

    @Test func aFullStoreQueueAnswersBusyWithoutCountingAgainstTheClient() throws {
        let loop = try EventLoop()
        let config = NotifydConfig(keys: try JWTKeySet(current: try JWTKey(kid: "k", secret: Array(repeating: 7, count: 32))))
        let hub = Hub(loop: loop, store: FullStore(), config: config, metrics: NotifyMetrics())
        let t = RecordingTransport()
        let s = Session(grant: SessionGrant(userId: 7, tokenExpiry: Int64.max, subprotocol: nil, since: nil), transport: t)
        hub.open(s)   // the backlog read is refused too: closed 1011
        #expect(runLoop(loop) { t.closed != nil })
        #expect(t.closed?.code == 1011)

        let u = RecordingTransport()
        let live = Session(grant: SessionGrant(userId: 8, tokenExpiry: Int64.max, subprotocol: nil, since: nil), transport: u)
        live.phase = .live
        live.rateTAT = Hub.rateClock()
        let read = Array(#"{"type":"read","ids":[1]}"#.utf8)
        for _ in 0..<15 { read.withUnsafeBytes { hub.received(text: $0, from: live) } }
        #expect(runLoop(loop) { u.texts.count >= 15 })
        #expect(u.texts.count == 15)
        #expect(u.texts.allSatisfy { $0 == #"{"type":"error","error":"busy"}"# })
        #expect(live.invalidMessages == 0 && u.closed == nil)
        try loop.close()
    }
}
