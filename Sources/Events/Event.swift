// One event of the contract between publishers and notifyd (docs/events.md).
//
// Values are plain data: Sendable, Equatable, cheap to pass between threads. The JSON form
// is produced by `encode()` and checked by `Event.decode(_:)` (EventCoding.swift).

public struct EventActor: Sendable, Hashable {
    public var id: Int64
    public var username: String

    public init(id: Int64, username: String) {
        self.id = id
        self.username = username
    }
}

/// The `data` object. Which fields are set depends on the type (EventType.requiredDataFields);
/// fields a type does not use stay nil and are omitted from the JSON.
public struct EventData: Sendable, Hashable {
    public var userId: Int64?
    public var username: String?
    public var changed: [String]?
    public var postId: Int64?
    public var commentId: Int64?
    public var postOwnerId: Int64?
    public var followerId: Int64?
    public var followeeId: Int64?
    public var mentionedUserId: Int64?
    public var excerpt: String?
    public var caption: String?

    /// Names of the data fields, as they appear in the JSON.
    public enum Field: String, Sendable, CaseIterable {
        case userId, username, changed, postId, commentId, postOwnerId, followerId, followeeId,
             mentionedUserId, excerpt, caption
    }

    public init(userId: Int64? = nil, username: String? = nil, changed: [String]? = nil,
                postId: Int64? = nil, commentId: Int64? = nil, postOwnerId: Int64? = nil,
                followerId: Int64? = nil, followeeId: Int64? = nil, mentionedUserId: Int64? = nil,
                excerpt: String? = nil, caption: String? = nil) {
        self.userId = userId
        self.username = username
        self.changed = changed
        self.postId = postId
        self.commentId = commentId
        self.postOwnerId = postOwnerId
        self.followerId = followerId
        self.followeeId = followeeId
        self.mentionedUserId = mentionedUserId
        self.excerpt = excerpt
        self.caption = caption
    }

    /// Whether `field` is set.
    public func has(_ field: Field) -> Bool {
        switch field {
        case .userId: userId != nil
        case .username: username != nil
        case .changed: changed != nil
        case .postId: postId != nil
        case .commentId: commentId != nil
        case .postOwnerId: postOwnerId != nil
        case .followerId: followerId != nil
        case .followeeId: followeeId != nil
        case .mentionedUserId: mentionedUserId != nil
        case .excerpt: excerpt != nil
        case .caption: caption != nil
        }
    }
}

public struct Event: Sendable, Hashable {
    /// UUID (lowercase, canonical form); also the AMQP message_id and the idempotency key.
    public var id: String
    public var type: EventType
    /// ISO-8601 UTC with milliseconds, e.g. 2026-11-25T04:00:00.123Z.
    public var occurredAt: String
    public var actor: EventActor
    public var recipientId: Int64?
    public var data: EventData

    public init(id: String, type: EventType, occurredAt: String, actor: EventActor,
                recipientId: Int64?, data: EventData) {
        self.id = id
        self.type = type
        self.occurredAt = occurredAt
        self.actor = actor
        self.recipientId = recipientId
        self.data = data
    }

    /// A new event with a fresh UUID v4 id and the current time.
    public static func make(_ type: EventType, actor: EventActor, recipientId: Int64?,
                            data: EventData) -> Event {
        Event(id: EventID.random(), type: type, occurredAt: EventClock.now(), actor: actor,
              recipientId: recipientId, data: data)
    }
}
