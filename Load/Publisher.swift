// The event source of `deliver` and `soak`: post.commented events published straight to
// RabbitMQ (exchange instaverse.events) with publisher confirms, on a thread of its own
// (rabbitmq-c blocks). Each event goes to the next connected user round-robin and carries
// its measurement in fields notifyd copies into the notification: data.commentId = a
// sequence number unique in the run (duplicate detection), data.postId = CLOCK_MONOTONIC in
// µs just before the publish (publish-to-receive latency; the clock is machine-wide).
//
// Pacing: every 10 ms slot publishes what keeps the published count at rate x elapsed, in
// batches of at most 500 that wait for their confirms; without --rate, batches of 200
// back to back.
import AMQP
import Events
import Foundation
import Synchronization

final class PublisherState: Sendable {
    struct Counts: Sendable { var published = 0; var confirmed = 0; var failed = 0; var done = false; var error: String? }
    let counts = Mutex(Counts())
    let stopRequested = Atomic<Bool>(false)
}

enum DeliverPublisher {
    /// The actor of every event: nobody in 1...100,000 (no self-notification filtering).
    static let actor = EventActor(id: 900_000_001, username: "loadgen")

    /// Publishes until `duration` elapses or `state.stopRequested`. Blocks; call on its own thread.
    static func run(url: String, users: Int, rate: Double?, duration: Double, state: PublisherState) {
        let publisher: AMQPPublisher
        do { publisher = AMQPPublisher(config: try AMQPPublisherConfig(url: url)); try publisher.connect() } catch {
            state.counts.withLock { $0.error = "AMQP: \(error)"; $0.done = true }
            return
        }
        let start = monotonicNanos()
        let end = start + UInt64(duration * 1e9)
        var seq: Int64 = 0
        var batch: [OutgoingMessage] = []
        while !state.stopRequested.load(ordering: .relaxed) {
            let now = monotonicNanos()
            if now >= end { break }
            var want = 200
            if let rate, rate > 0 {
                let due = Int(rate * seconds(from: start, to: now)) - Int(seq)
                if due <= 0 { usleep(1000); continue }
                want = min(due, 500)
            }
            batch.removeAll(keepingCapacity: true)
            let micros = Int64(monotonicNanos() / 1000)
            for _ in 0..<want {
                seq += 1
                let user = Int64((Int(seq) - 1) % users + 1)
                let event = Event(id: EventID.random(), type: .postCommented, occurredAt: EventClock.now(), actor: actor,
                                  recipientId: user,
                                  data: EventData(postId: micros, commentId: seq, postOwnerId: user, excerpt: "load"))
                batch.append(OutgoingMessage(event: event))
            }
            do {
                let outcomes = try publisher.publish(batch)
                let ok = outcomes.filter { $0 == .confirmed }.count
                state.counts.withLock { $0.published += batch.count; $0.confirmed += ok; $0.failed += batch.count - ok }
            } catch {
                state.counts.withLock { $0.published += batch.count; $0.failed += batch.count; $0.error = "AMQP: \(error)" }
                break
            }
        }
        publisher.close()
        state.counts.withLock { $0.done = true }
    }
}
