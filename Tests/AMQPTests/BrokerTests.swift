// The consumer and the publisher against the private RabbitMQ. Serialized: one test stops
// and starts the broker.
import Foundation
import Testing
import AMQP
import Events
import TestSupport

@Suite(.serialized) struct BrokerTests {
    @Test func publishConfirmConsumeRoundTrip() throws {
        let prefix = uniquePrefix(), queue = "\(prefix).q"
        defer { cleanUp(queue: queue) }
        let (consumer, record) = try startRecordingConsumer(queue: queue, keys: ["\(prefix).#"], ackFromCallback: false)
        defer { consumer.stop() }
        try #require(record.wait(seconds: 15, until: connected), "consumer did not connect: \(record.read { $0.states })")

        let publisher = AMQPPublisher(config: try AMQPPublisherConfig(url: try Servers.amqpURL()))
        let event = Event.make(.postCommented, actor: EventActor(id: 42, username: "alice"), recipientId: 7,
                               data: EventData(postId: 991, commentId: 5, postOwnerId: 7, excerpt: "nice"))
        var message = OutgoingMessage(event: event)
        message.routingKey = "\(prefix).post.commented"
        #expect(try publisher.publish([message]) == [.confirmed])

        try #require(record.wait(seconds: 10) { $0.deliveries == 1 })
        let d = try #require(record.read { $0.first })
        #expect(d.messageId == event.id)
        #expect(d.type == "post.commented")
        #expect(d.contentType == "application/json")
        #expect(d.exchange == "instaverse.events")
        #expect(d.routingKey == "\(prefix).post.commented")
        #expect(d.redelivered == false)
        #expect(d.tag.generation == 1)
        let now = UInt64(Date().timeIntervalSince1970)
        #expect(d.timestamp.map { $0 + 60 >= now && $0 <= now + 60 } == true)
        #expect(try Event.decode(d.body) == event)

        consumer.ack(upTo: d.tag)
        #expect(record.wait(seconds: 5) { _ in consumer.counters.acked == 1 })
        consumer.ack(upTo: d.tag)  // already settled: ignored, must not close the channel
        consumer.reject(d.tag)  // already settled: ignored
        consumer.ack(upTo: AMQPDeliveryTag(generation: 0, value: 1))  // stale generation: ignored
        #expect(record.wait(seconds: 5) { _ in consumer.counters.ignoredSettlements == 3 })
        #expect(consumer.counters.acked == 1)
        #expect(consumer.counters.rejected == 0)
        #expect(consumer.counters.reconnects == 0)
        // The channel is still open: a second message flows.
        #expect(try publisher.publish([likeMessage(prefix: prefix, n: 1)]) == [.confirmed])
        #expect(record.wait(seconds: 10) { $0.deliveries == 2 })
    }

    @Test func tenThousandEventsNoneLostNoneDuplicated() throws {
        let prefix = uniquePrefix(), queue = "\(prefix).q", total = 10_000
        defer { cleanUp(queue: queue) }
        let (consumer, record) = try startRecordingConsumer(queue: queue, keys: ["\(prefix).#"])
        defer { consumer.stop() }
        try #require(record.wait(seconds: 15, until: connected))
        let messages = (0..<total).map { likeMessage(prefix: prefix, n: Int64($0)) }
        let publisher = AMQPPublisher(config: try AMQPPublisherConfig(url: try Servers.amqpURL()))
        try publisher.connect()

        var confirmed = 0
        for chunk in stride(from: 0, to: total, by: 500) {
            let outcomes = try publisher.publish(Array(messages[chunk..<min(chunk + 500, total)]))
            confirmed += outcomes.filter { $0 == .confirmed }.count
        }
        #expect(confirmed == total)
        #expect(record.wait(seconds: 60) { _ in consumer.counters.acked == total })
        let r = record.read { $0 }
        #expect(r.ids.count == total)
        #expect(r.deliveries == total, "duplicates: \(r.deliveries - r.ids.count)")
        #expect(r.ids == Set(messages.map(\.messageId)))
    }

    @Test func aBacklogLargerThanPrefetchDrainsCompletely() throws {
        let prefix = uniquePrefix(), queue = "\(prefix).q", total = 10_000
        defer { cleanUp(queue: queue) }
        // Declare the queue and its bindings, then stop: the backlog builds with no consumer.
        let (first, firstRecord) = try startRecordingConsumer(queue: queue, keys: ["\(prefix).#"])
        try #require(firstRecord.wait(seconds: 15, until: connected))
        first.stop()
        let publisher = AMQPPublisher(config: try AMQPPublisherConfig(url: try Servers.amqpURL()))
        let messages = (0..<total).map { likeMessage(prefix: prefix, n: Int64($0)) }
        for chunk in stride(from: 0, to: total, by: 1000) {
            #expect(try publisher.publish(Array(messages[chunk..<chunk + 1000])).allSatisfy { $0 == .confirmed })
        }
        let (consumer, record) = try startRecordingConsumer(queue: queue, keys: ["\(prefix).#"])
        defer { consumer.stop() }
        #expect(record.wait(seconds: 60) { _ in consumer.counters.acked == total })
        let r = record.read { $0 }
        #expect(r.ids.count == total)
        #expect(r.deliveries == total)
    }

    @Test func poisonMessageIsDeadLetteredExactlyOnce() throws {
        let prefix = uniquePrefix(), queue = "\(prefix).q"
        defer { cleanUp(queue: queue) }
        let (consumer, record) = try startRecordingConsumer(queue: queue, keys: ["\(prefix).#"])
        try #require(record.wait(seconds: 15, until: connected))
        let publisher = AMQPPublisher(config: try AMQPPublisherConfig(url: try Servers.amqpURL()))
        let poison = OutgoingMessage(routingKey: "\(prefix).post.liked", messageId: "poison-\(prefix)",
                                     body: Array("{not json".utf8))
        let good = [likeMessage(prefix: prefix, n: 1), likeMessage(prefix: prefix, n: 2)]
        #expect(try publisher.publish([good[0], poison, good[1]]) == [.confirmed, .confirmed, .confirmed])
        #expect(record.wait(seconds: 10) { _ in consumer.counters.acked == 2 && consumer.counters.rejected == 1 })
        consumer.stop()
        let r = record.read { $0 }
        #expect(r.deliveries == 3, "the poison message came back \(r.deliveries - 3) times")
        #expect(r.poison == 1)
        #expect(r.ids == Set(good.map(\.messageId)))

        let admin = try AMQPAdmin(endpoint: try AMQPEndpoint(url: try Servers.amqpURL()))
        #expect(try admin.messageCount(queue: queue) == 0)
        let dead = try #require(try admin.get(queue: "\(queue).dead"))
        #expect(dead.messageId == poison.messageId)
        #expect(dead.body == poison.body)
        #expect(dead.exchange == "instaverse.dlx")
        #expect(try admin.get(queue: "\(queue).dead") == nil, "dead-lettered more than once")
    }

    @Test func unroutablePublishIsReported() throws {
        let prefix = uniquePrefix(), queue = "\(prefix).q"
        defer { cleanUp(queue: queue) }
        let (consumer, record) = try startRecordingConsumer(queue: queue, keys: ["\(prefix).routed.#"])
        defer { consumer.stop() }
        try #require(record.wait(seconds: 15, until: connected))
        let publisher = AMQPPublisher(config: try AMQPPublisherConfig(url: try Servers.amqpURL()))
        let routed = likeMessage(prefix: "\(prefix).routed", n: 1)
        let lost = likeMessage(prefix: "\(prefix).nobody", n: 2)
        let routed2 = likeMessage(prefix: "\(prefix).routed", n: 3)
        #expect(try publisher.publish([routed, lost, routed2]) == [.confirmed, .unroutable, .confirmed])
        #expect(try publisher.publish([lost]) == [.unroutable])
        #expect(record.wait(seconds: 10) { $0.ids == [routed.messageId, routed2.messageId] })
    }

    /// Runs against a broker of its own: it stops or freezes the broker, which must not
    /// disturb the suites that share the common node meanwhile.
    @Test func brokerRestartMidStreamLosesNothing() throws {
        let broker = try PrivateBroker()
        defer { broker.shutdown() }
        try broker.use { try brokerRestartMidStreamLosesNothingBody(broker) }
    }

    private func brokerRestartMidStreamLosesNothingBody(_ broker: PrivateBroker) throws {
        let prefix = uniquePrefix(), queue = "\(prefix).q", total = 6000, batchSize = 100, firstPart = 1000
        defer { cleanUp(queue: queue) }
        let (consumer, record) = try startRecordingConsumer(queue: queue, keys: ["\(prefix).#"])
        defer { consumer.stop() }
        try #require(record.wait(seconds: 15, until: connected))
        let messages = (0..<total).map { likeMessage(prefix: prefix, n: Int64($0)) }
        let url = try Servers.amqpURL()

        struct Progress {
            var confirmed = Set<String>(), unexpected: [String] = []
            var retried = 0, failures = 0, firstPartDone = false, done = false
            var brokerDown = false
        }
        let progress = Watched(Progress())
        let thread = Thread {
            guard let config = try? AMQPPublisherConfig(url: url) else { return }
            let publisher = AMQPPublisher(config: config)
            for chunk in stride(from: 0, to: total, by: batchSize) {
                var batch = Array(messages[chunk..<min(chunk + batchSize, total)])
                while !batch.isEmpty {
                    do {
                        let outcomes = try publisher.publish(batch)
                        let ok = zip(batch, outcomes).filter { $0.1 == .confirmed }.map { $0.0.messageId }
                        let bad = zip(batch, outcomes).filter { $0.1 == .unroutable }.map { $0.0.messageId }
                        batch = zip(batch, outcomes).filter { $0.1 != .confirmed }.map { $0.0 }
                        progress.update { p in
                            p.confirmed.formUnion(ok)
                            p.unexpected += bad
                            p.retried += batch.count
                        }
                    } catch {
                        progress.update { $0.failures += 1 }
                    }
                    // Back off while the broker is away (a timed wait, woken early by nothing).
                    if !batch.isEmpty { progress.wait(seconds: 0.2) { _ in false } }
                }
                if chunk + batchSize == firstPart { progress.update { $0.firstPartDone = true } }
                // Hold the rest until the broker is down, so part of the stream meets the outage
                // however fast the first part went (before, this raced the broker's stop).
                if chunk + batchSize == 2 * firstPart { progress.wait(seconds: 60) { $0.brokerDown } }
                // Pace the rest (at most ~5,000/s) so that the broker stops mid-stream.
                if chunk + batchSize >= firstPart { progress.wait(seconds: 0.02) { _ in false } }
            }
            progress.update { $0.done = true }
        }
        thread.start()

        try #require(progress.wait(seconds: 60) { $0.firstPartDone }, "publishing did not start")
        #expect(broker.stop())
        #expect(record.wait(seconds: 30) { r in
            r.states.contains { if case .disconnected = $0 { true } else { false } }
        }, "the consumer did not notice the broker going away")
        progress.update { $0.brokerDown = true }
        #expect(progress.wait(seconds: 30) { $0.failures + $0.retried > 0 }, "the publisher did not meet the outage")
        #expect(broker.start())

        #expect(progress.wait(seconds: 120) { $0.done }, "the publisher did not finish")
        #expect(record.wait(seconds: 120) { $0.ids.count == total }, "consumed \(record.read { $0.ids.count }) of \(total)")
        let p = progress.read { $0 }
        let r = record.read { $0 }
        #expect(p.confirmed.count == total)
        #expect(p.unexpected.isEmpty)
        #expect(r.ids == Set(messages.map(\.messageId)))
        #expect(p.failures + p.retried > 0, "the publisher never saw the broker down")
        #expect(record.wait(seconds: 30) { _ in consumer.counters.reconnects >= 1 })
    }

    /// Runs against a broker of its own: it stops or freezes the broker, which must not
    /// disturb the suites that share the common node meanwhile.
    @Test func heartbeatsDetectAFrozenBroker() throws {
        let broker = try PrivateBroker()
        defer { broker.shutdown() }
        try broker.use { try heartbeatsDetectAFrozenBrokerBody(broker) }
    }

    private func heartbeatsDetectAFrozenBrokerBody(_ broker: PrivateBroker) throws {
        let prefix = uniquePrefix(), queue = "\(prefix).q"
        defer { cleanUp(queue: queue) }
        let (consumer, record) = try startRecordingConsumer(queue: queue, keys: ["\(prefix).#"], heartbeat: 1)
        defer { consumer.stop() }
        try #require(record.wait(seconds: 15, until: connected))
        let pid = try #require(broker.pid, "the private broker's PID")
        // SIGSTOP freezes the broker with its sockets open: only missing heartbeats reveal it.
        #expect(shell("kill -STOP \(pid)") == 0)
        let noticed = record.wait(seconds: 15) { r in
            r.states.contains { if case .disconnected = $0 { true } else { false } }
        }
        #expect(shell("kill -CONT \(pid)") == 0)
        #expect(noticed, "a frozen broker was not detected")
        #expect(record.wait(seconds: 30) { r in r.states.filter { if case .connected = $0 { true } else { false } }.count >= 2 },
                "no reconnect after the broker resumed")
    }
}
