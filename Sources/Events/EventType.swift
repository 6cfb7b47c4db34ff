// The routing keys of the event contract (docs/events.md). The raw value is both the AMQP
// routing key and the `type` field of the JSON body.

public enum EventType: String, Sendable, CaseIterable, Hashable {
    case userRegistered = "user.registered"
    case userProfileUpdated = "user.profile.updated"
    case userDeleted = "user.deleted"
    case postCreated = "post.created"
    case postUpdated = "post.updated"
    case postDeleted = "post.deleted"
    case postLiked = "post.liked"
    case postCommented = "post.commented"
    case userFollowed = "user.followed"
    case userMentioned = "user.mentioned"

    /// The routing key the event is published with (same as `rawValue`).
    public var routingKey: String { rawValue }

    /// The `data` fields an event of this type must carry; decode rejects an event without them.
    public var requiredDataFields: [EventData.Field] {
        switch self {
        case .userRegistered: [.userId, .username]
        case .userProfileUpdated: [.userId, .changed]
        case .userDeleted: [.userId]
        case .postCreated, .postUpdated, .postDeleted: [.postId, .userId]
        case .postLiked: [.postId, .postOwnerId]
        case .postCommented: [.postId, .commentId, .postOwnerId, .excerpt]
        case .userFollowed: [.followerId, .followeeId]
        case .userMentioned: [.mentionedUserId, .postId]
        }
    }

    /// Whether the event targets one user, so `recipientId` is required: the publisher resolves
    /// the recipient and notifyd never calls another service to find it.
    public var requiresRecipient: Bool {
        switch self {
        case .userRegistered, .postLiked, .postCommented, .userFollowed, .userMentioned: true
        case .userProfileUpdated, .userDeleted, .postCreated, .postUpdated, .postDeleted: false
        }
    }
}
