// Events leave a service only through its outbox: a handler appends the event in the same
// transaction as its business row (`EventOutbox.append`), and the OutboxRelay thread
// publishes committed rows with publisher confirms (docs/outbox.md).
import AMQP
import Events
import PG

public enum EventOutbox {
    /// Appends `event` to the outbox. Call inside the business transaction. Throws
    /// `InvalidEvent` (a 500: a publisher bug) when the event breaks the contract
    /// (`Event.validate()`): it would be dead-lettered by every consumer, so the business
    /// write is rolled back with it instead.
    public static func append(_ connection: PGConnection, _ event: Event) throws {
        do {
            try event.validate()
        } catch {
            throw InvalidEvent(eventType: event.type, reason: error)
        }
        try Outbox.append(connection, eventId: event.id, routingKey: event.type.routingKey, payload: event.encode())
    }

    /// Builds and appends an event of `type` by `actor`.
    public static func append(_ connection: PGConnection, _ type: EventType, actor: EventActor,
                              recipientId: Int64? = nil, data: EventData) throws {
        try append(connection, Event.make(type, actor: actor, recipientId: recipientId, data: data))
    }
}

/// An event a handler tried to publish that breaks the contract.
public struct InvalidEvent: Error, CustomStringConvertible {
    public let eventType: EventType
    public let reason: EventDecodeError
    public var description: String { "refusing to publish an invalid \(eventType.rawValue) event: \(reason)" }
}

/// The AMQPPublisher used by the relay's publish function.
///
/// `@unchecked Sendable`: AMQPPublisher belongs to one thread at a time. OutboxRelay calls its
/// publish function only on the relay thread, one call at a time, and nothing else touches
/// the box; `close()` runs after `OutboxRelay.stop()` joined that thread.
final class RelayPublisher: @unchecked Sendable {
    private let publisher: AMQPPublisher
    private let log: ServiceLog

    init(config: AMQPPublisherConfig, log: ServiceLog) {
        self.publisher = AMQPPublisher(config: config)
        self.log = log
    }

    /// Publishes the batch and maps each outcome to "the relay may mark it published".
    /// `.unroutable` counts as done: the broker took the message and no queue wants that key
    /// (republishing would block the outbox forever); it is logged. A failed connect throws,
    /// so the relay backs off.
    func publish(_ messages: [OutboxMessage]) throws -> [Bool] {
        let outgoing = messages.map { OutgoingMessage(routingKey: $0.routingKey, messageId: $0.eventId, body: $0.payload) }
        let outcomes = try publisher.publish(outgoing)
        var confirmed: [Bool] = []
        confirmed.reserveCapacity(outcomes.count)
        for (message, outcome) in zip(messages, outcomes) {
            switch outcome {
            case .confirmed:
                confirmed.append(true)
            case .unroutable:
                log.warning("event \(message.eventId) (\(message.routingKey)) is unroutable: no queue is bound for it")
                confirmed.append(true)
            case .nacked, .unconfirmed:
                confirmed.append(false)
            }
        }
        return confirmed
    }

    func close() { publisher.close() }
}
