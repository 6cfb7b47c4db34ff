// The stored notification and what the event consumer hands the store to create one.

public enum NotificationKind: String, Sendable, CaseIterable {
    case like = "LIKE_NOTIFICATION"
    case comment = "COMMENT_NOTIFICATION"
    case newFollower = "NEW_FOLLOWER"
    case mention = "MENTION"
    case welcome = "WELCOME"
}

/// One notification as stored. Times are milliseconds since the Unix epoch (UTC).
public struct Notification: Sendable, Equatable {
    /// Assigned by the store, strictly increasing and never reused: the client cursor.
    public var id: Int64
    /// The id of the event it came from; unique, so a redelivered event is stored once.
    public var eventId: String
    /// The recipient.
    public var userId: Int64
    public var kind: NotificationKind
    public var actorId: Int64
    public var actorUsername: String
    public var postId: Int64?
    public var commentId: Int64?
    public var text: String
    public var createdAt: Int64
    /// When a live session acknowledged it (WebSocket `ack`).
    public var deliveredAt: Int64?
    /// When the user marked it read; nil while unread.
    public var readAt: Int64?

    public init(id: Int64, eventId: String, userId: Int64, kind: NotificationKind, actorId: Int64, actorUsername: String,
                postId: Int64?, commentId: Int64?, text: String, createdAt: Int64, deliveredAt: Int64? = nil, readAt: Int64? = nil) {
        self.id = id
        self.eventId = eventId
        self.userId = userId
        self.kind = kind
        self.actorId = actorId
        self.actorUsername = actorUsername
        self.postId = postId
        self.commentId = commentId
        self.text = text
        self.createdAt = createdAt
        self.deliveredAt = deliveredAt
        self.readAt = readAt
    }

    public var isRead: Bool { readAt != nil }
}

/// A notification to store: everything but the id and the delivery/read times.
public struct NewNotification: Sendable, Equatable {
    public var eventId: String
    public var userId: Int64
    public var kind: NotificationKind
    public var actorId: Int64
    public var actorUsername: String
    public var postId: Int64?
    public var commentId: Int64?
    public var text: String
    public var createdAt: Int64

    public init(eventId: String, userId: Int64, kind: NotificationKind, actorId: Int64, actorUsername: String,
                postId: Int64? = nil, commentId: Int64? = nil, text: String, createdAt: Int64) {
        self.eventId = eventId
        self.userId = userId
        self.kind = kind
        self.actorId = actorId
        self.actorUsername = actorUsername
        self.postId = postId
        self.commentId = commentId
        self.text = text
        self.createdAt = createdAt
    }

    func stored(id: Int64) -> Notification {
        Notification(id: id, eventId: eventId, userId: userId, kind: kind, actorId: actorId, actorUsername: actorUsername,
                     postId: postId, commentId: commentId, text: text, createdAt: createdAt)
    }
}
