// Test helpers: state shared with the consumer thread, waited on through a condition variable
// (tests wait on the condition itself, with a deadline, never a fixed sleep).
import Foundation
import Testing
import AMQP
import Events
import TestSupport

/// What a test consumer saw.
struct Record {
    var ids = Set<String>()
    var deliveries = 0
    var redelivered = 0
    var poison = 0
    var first: AMQPDelivery?
    var states: [AMQPConsumerState] = []
    var stop = false
}

/// A consumer that decodes every delivery as an Event, records good ones by message id,
/// rejects undecodable ones, and acks each batch from the consumer thread's callback.
func startRecordingConsumer(queue: String, keys: [String], heartbeat: Int = 10,
                            ackFromCallback: Bool = true) throws -> (AMQPConsumer, Watched<Record>) {
    var config = try AMQPConsumerConfig(url: try Servers.amqpURL(), queue: queue, bindingKeys: keys)
    config.heartbeatSeconds = heartbeat
    config.reconnectMaxDelay = .seconds(1)
    let record = Watched(Record())
    let box = Watched<AMQPConsumer?>(nil)
    let consumer = try AMQPConsumer(config: config, onState: { state in
        record.update { $0.states.append(state) }
    }, onBatch: { batch in
        guard let consumer = box.read({ $0 }) else { return }
        var goodIds: [String] = []
        for d in batch {
            if (try? Event.decode(d.body)) == nil {
                consumer.reject(d.tag)
            } else if let id = d.messageId {
                goodIds.append(id)
            }
        }
        let poison = batch.count - goodIds.count
        record.update { r in
            if r.first == nil { r.first = batch.first }
            r.deliveries += batch.count
            r.poison += poison
            r.redelivered += batch.filter(\.redelivered).count
            r.ids.formUnion(goodIds)
        }
        if ackFromCallback, let last = batch.last { consumer.ack(upTo: last.tag) }
    })
    box.update { $0 = consumer }
    try consumer.start()
    return (consumer, record)
}

/// A unique prefix so each test's routing keys reach only its own queue.
func uniquePrefix() -> String { "t" + String(EventID.random().prefix(8)) }

/// A valid post.liked event published under `prefix.post.liked`.
func likeMessage(prefix: String, n: Int64) -> OutgoingMessage {
    let e = Event.make(.postLiked, actor: EventActor(id: n, username: "user\(n)"), recipientId: 7,
                       data: EventData(postId: n, postOwnerId: 7))
    return OutgoingMessage(routingKey: "\(prefix).post.liked", messageId: e.id, type: e.type.rawValue, body: e.encode())
}

func connected(_ r: Record) -> Bool {
    r.states.contains { if case .connected = $0 { true } else { false } }
}

/// Deletes a test's queue and its dead-letter queue.
func cleanUp(queue: String) {
    guard let url = try? Servers.amqpURL(), let endpoint = try? AMQPEndpoint(url: url),
          let admin = try? AMQPAdmin(endpoint: endpoint) else { return }
    try? admin.deleteQueue(queue)
    try? admin.deleteQueue(queue + ".dead")
}
