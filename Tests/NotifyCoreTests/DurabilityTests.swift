// Volume and failure tests of the pipeline: thousands of events, a simulated crash between
// commit and ack, a broker restart mid-stream. Every event must end up stored exactly once.
// Throughput is printed, never asserted. Nested in PipelineTests so its serialization covers
// both: the broker restart here must not run beside the other broker tests.
import Foundation
import Testing
import AMQP
import Events
import NotifyCore
import Store
import TestSupport

extension PipelineTests {
    @Suite struct DurabilityTests {
        /// `count` likes spread over 50 recipients, each from an actor that is not the recipient.
        func likes(_ count: Int) -> [Event] {
            (0..<count).map { like($0, actor: 1000 + Int64($0 % 200), owner: Int64($0 % 50)) }
        }

        func expectExactlyOnce(_ lane: Lane, _ events: [Event], _ context: String) throws {
            let stored = try lane.storedNotifications(users: 0..<50)
            #expect(stored.count == events.count, "\(context): \(stored.count) rows for \(events.count) events")
            #expect(Set(stored.map(\.eventId)) == Set(events.map(\.id)), "\(context): stored event ids differ")
        }

        @Test func fiveThousandEventsOverFiftyUsers() throws {
            let lane = try Lane()
            defer { lane.cleanUp() }
            // A first pipeline declares the queue; the events wait in the broker while it is
            // stopped, so the second run measures consume -> commit -> ack on a full queue.
            let (first, _) = try startPipeline(lane.config())
            first.stop()
            let events = likes(5000)
            try publishAll(events.map(OutgoingMessage.init(event:)), with: lane.publisher(), batch: 500)
            #expect(try lane.admin().messageCount(queue: lane.queue) == 5000)

            let (pipeline, seen) = try startPipeline(lane.config(), checkVisibility: false)
            defer { pipeline.stop() }
            #expect(seen.wait(seconds: 60) { $0.notifications.count >= 5000 }, "delivered \(seen.read { $0.notifications.count })")
            #expect(eventually(seconds: 10) { pipeline.consumerCounters.acked == 5000 })
            #expect(try lane.admin().messageCount(queue: lane.queue) == 0)
            try expectExactlyOnce(lane, events, "5000 events")
            let delivered = seen.read { $0 }
            #expect(delivered.notifications.count == 5000)
            #expect(Set(delivered.notifications.map(\.id)).count == 5000)
            #expect(pipeline.metrics.storeBatches.load(ordering: .relaxed) > 0)
        }

        @Test func aCrashBetweenCommitAndAckLosesAndDuplicatesNothing() throws {
            let lane = try Lane()
            defer { lane.cleanUp() }
            let events = likes(2000)
            let (first, firstSeen) = try startPipeline(lane.config(), checkVisibility: false)
            let publisher = lane.publisher()
            // Publish the first half, crash once part of it is stored, publish the rest into the
            // queue while nothing consumes it.
            try publishAll(events[..<1000].map(OutgoingMessage.init(event:)), with: publisher, batch: 250)
            #expect(firstSeen.wait(seconds: 30) { $0.notifications.count >= 200 })
            first.crashForTesting()
            let beforeCrash = firstSeen.read { $0.notifications.count }
            let ackedBeforeCrash = first.consumerCounters.acked
            try publishAll(events[1000...].map(OutgoingMessage.init(event:)), with: publisher, batch: 250)

            let (second, secondSeen) = try startPipeline(lane.config(), checkVisibility: false)
            defer { second.stop() }
            // Every event the first run did not ack comes again; those it had committed are skipped.
            #expect(eventually(seconds: 60) {
                second.metrics.eventsConsumed.load(ordering: .relaxed) >= 2000 - ackedBeforeCrash && second.queuedDeliveries == 0
            }, "consumed \(second.metrics.eventsConsumed.load(ordering: .relaxed)) after the crash")
            #expect(eventually(seconds: 20) { (try? lane.admin().messageCount(queue: lane.queue)) == 0 })
            #expect(eventually(seconds: 20) { second.consumerCounters.acked == second.consumerCounters.delivered })
            try expectExactlyOnce(lane, events, "after the crash")
            // Live hand-off is at most once per run: rows committed but not acked before the crash
            // are not pushed again (clients get them from the backlog on reconnect), and nothing is
            // handed out twice.
            let firstIds = Set(firstSeen.read { $0.notifications.map(\.eventId) })
            let secondIds = secondSeen.read { $0.notifications.map(\.eventId) }
            #expect(firstIds.isDisjoint(with: secondIds) && Set(secondIds).count == secondIds.count)
            // Every event the second run consumed was either new (delivered now) or committed by
            // the first run and skipped; rows the first run delivered but had not acked yet come
            // back as duplicates, so the two runs' deliveries together never exceed the total.
            let consumedAgain = second.metrics.eventsConsumed.load(ordering: .relaxed)
            #expect(secondIds.count + second.metrics.duplicatesSkipped.load(ordering: .relaxed) == consumedAgain)
            #expect(beforeCrash + secondIds.count <= 2000,
                    "\(beforeCrash) delivered before the crash (\(ackedBeforeCrash) acked), \(secondIds.count) after")
        }

        /// Runs against a broker of its own: it stops or freezes the broker, which must not
        /// disturb the suites that share the common node meanwhile.
        @Test func aBrokerRestartMidStreamLosesNothing() throws {
            let broker = try PrivateBroker()
            defer { broker.shutdown() }
            try broker.use { try aBrokerRestartMidStreamLosesNothingBody(broker) }
        }

        private func aBrokerRestartMidStreamLosesNothingBody(_ broker: PrivateBroker) throws {
            let lane = try Lane()
            defer { lane.cleanUp() }
            let events = likes(4000)
            let (pipeline, seen) = try startPipeline(lane.config(), checkVisibility: false)
            defer { pipeline.stop() }
            let published = Watched(0)
            let failure = Watched<String?>(nil)
            let messages = events.map(OutgoingMessage.init(event:))
            let thread = Thread {
                do {
                    try publishAll(messages, with: lane.publisher(), batch: 100, pause: published, pace: 0.02, seconds: 180)
                } catch {
                    failure.update { $0 = "\(error)" }
                }
                published.update { $0 = -1 }
            }
            thread.start()
            #expect(published.wait(seconds: 60) { $0 >= 10 || $0 < 0 })
            #expect(broker.stop())
            #expect(eventually(seconds: 30) { !pipeline.isBrokerConnected }, "the pipeline did not notice the broker going away")
            #expect(broker.start())
            #expect(published.wait(seconds: 180) { $0 < 0 }, "the publisher did not finish")
            #expect(failure.read { $0 } == nil)
            #expect(seen.wait(seconds: 120) { Set($0.notifications.map(\.eventId)).count >= 4000 },
                    "delivered \(seen.read { $0.notifications.count }) of 4000")
            #expect(eventually(seconds: 30) { (try? lane.admin().messageCount(queue: lane.queue)) == 0 })
            try expectExactlyOnce(lane, events, "after the broker restart")
            #expect(seen.read { $0.notifications.count } == 4000, "a notification was delivered twice")
            // The reconnect may still be in its backoff when the last event is in: wait for it.
            #expect(eventually(seconds: 30) { pipeline.metrics.brokerReconnects.load(ordering: .relaxed) >= 1 })
        }
    }
}
