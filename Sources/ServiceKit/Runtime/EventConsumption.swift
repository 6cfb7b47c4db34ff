// Consuming events: an AMQPConsumer thread hands batches to a PGPool worker, which applies
// each event in its own transaction and then acks the batch. Events are applied at least
// once, so every `apply` must be idempotent (deletes, upserts).
import AMQP
import Events
import PG

/// What a service consumes: the routing keys and the function applying one event.
public struct EventSubscription: Sendable {
    public var keys: [EventType]
    /// Runs on a PGPool worker inside a transaction. Throwing leaves the batch unacked (it
    /// is redelivered after the consumer reconnects).
    public var apply: @Sendable (PGConnection, Event) throws -> Void

    public init(keys: [EventType], apply: @escaping @Sendable (PGConnection, Event) throws -> Void) {
        self.keys = keys
        self.apply = apply
    }
}

/// Starts the consumer; returns it (the caller stops it at shutdown).
func startConsumer(url: String, queue: String, subscription: EventSubscription, pool: PGPool,
                   log: ServiceLog) throws -> AMQPConsumer {
    let config = try AMQPConsumerConfig(url: url, queue: queue, bindingKeys: subscription.keys.map(\.routingKey))
    let holder = ConsumerHolder()
    let consumer = try AMQPConsumer(config: config, onState: { state in
        log.info("consumer \(queue): \(state)")
    }, onBatch: { deliveries in
        guard let consumer = holder.consumer, let last = deliveries.last else { return }
        do {
            try pool.submit({ connection in
                for delivery in deliveries {
                    let event: Event
                    do {
                        event = try Event.decode(delivery.body)
                    } catch {
                        log.warning("consumer \(queue): rejecting an undecodable message: \(error)")
                        consumer.reject(delivery.tag)
                        continue
                    }
                    try connection.transaction { tx in try subscription.apply(tx, event) }
                }
            }, completion: { result in
                switch result {
                case .success: consumer.ack(upTo: last.tag)
                case .failure(let error): log.error("consumer \(queue): batch not applied, left unacked: \(error)")
                }
            })
        } catch {
            log.error("consumer \(queue): cannot queue a batch: \(error)")
        }
    })
    holder.set(consumer)
    try consumer.start()
    return consumer
}

/// Lets the consumer's own callback reach it (the callback is created before the consumer).
///
/// `@unchecked Sendable`: written once by `set` before `start()` creates the consumer
/// thread (thread creation orders the write before every read), read-only afterwards.
private final class ConsumerHolder: @unchecked Sendable {
    private(set) var consumer: AMQPConsumer?
    func set(_ consumer: AMQPConsumer) { self.consumer = consumer }
}
