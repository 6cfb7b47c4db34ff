// Events to notifications: the pure half of notifyd's ingest (docs/events.md, "Routing keys").
//
// `NotificationMapper.map` is a function of the event and the receive time only: no store, no
// I/O, so it is tested without servers and runs on the store thread for every delivery.
//
// Decisions:
// - The recipient is the event's `recipientId` (the publisher resolved it, and Event.decode
//   requires it for every type mapped here). The type's own field (postOwnerId, followeeId,
//   mentionedUserId, userId) is the fallback, so a hand-built Event without recipientId still
//   maps the way the contract describes.
// - "No notification to the actor": an event whose actor is its recipient is ignored, except
//   user.registered. There auth publishes the new user as the actor and as the recipient, so
//   the rule would suppress every WELCOME; a welcome is by nature addressed to its own cause.
// - createdAt is `occurredAt` in ms since the epoch. Event.decode has already checked its
//   shape; a value of the right shape that is no calendar time (month 13) falls back to the
//   receive time rather than rejecting the event: the time is display data, the
//   notification is worth more than its timestamp.
import Events
import Store

public enum NotificationMapping: Sendable, Equatable {
    /// Store this notification (deduplicated by its eventId).
    case notify(NewNotification)
    /// Delete the notifications to and from this user (user.deleted).
    case deleteUser(Int64)
    /// Nothing to do: a type notifyd does not notify on, or the actor is the recipient.
    case ignore
}

public enum NotificationMapper {
    /// The event types `map` turns into something other than `.ignore`: the routing keys
    /// notifyd's queue binds.
    public static let handledTypes: [EventType] = [
        .userRegistered, .userDeleted, .postLiked, .postCommented, .userFollowed, .userMentioned,
    ]

    /// Maps one decoded event. `receivedAtMs` is used only when `occurredAt` is no valid time.
    public static func map(_ event: Event, receivedAtMs: Int64) -> NotificationMapping {
        let d = event.data
        let actor = event.actor
        let createdAt = timestampMillis(event.occurredAt) ?? receivedAtMs

        func make(_ kind: NotificationKind, to recipient: Int64?, postId: Int64? = nil, commentId: Int64? = nil,
                  text: String, allowSelf: Bool = false) -> NotificationMapping {
            guard let recipient else { return .ignore }
            if recipient == actor.id && !allowSelf { return .ignore }
            return .notify(NewNotification(eventId: event.id, userId: recipient, kind: kind, actorId: actor.id,
                                           actorUsername: actor.username, postId: postId, commentId: commentId,
                                           text: text, createdAt: createdAt))
        }

        switch event.type {
        case .postLiked:
            return make(.like, to: event.recipientId ?? d.postOwnerId, postId: d.postId,
                        text: "\(actor.username) liked your post")
        case .postCommented:
            return make(.comment, to: event.recipientId ?? d.postOwnerId, postId: d.postId, commentId: d.commentId,
                        text: "\(actor.username) commented: \(d.excerpt ?? "")")
        case .userFollowed:
            return make(.newFollower, to: event.recipientId ?? d.followeeId,
                        text: "\(actor.username) started following you")
        case .userMentioned:
            return make(.mention, to: event.recipientId ?? d.mentionedUserId, postId: d.postId, commentId: d.commentId,
                        text: "\(actor.username) mentioned you")
        case .userRegistered:
            let name = d.username ?? actor.username
            return make(.welcome, to: event.recipientId ?? d.userId, text: "Welcome to Instaverse, \(name)!",
                        allowSelf: true)
        case .userDeleted:
            guard let user = d.userId else { return .ignore }
            return .deleteUser(user)
        case .userProfileUpdated, .postCreated, .postUpdated, .postDeleted:
            return .ignore
        }
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction]Z` as milliseconds since 1970 (the fraction truncated to
    /// ms); nil when the shape or a field's range is wrong. No Foundation.
    public static func timestampMillis(_ s: String) -> Int64? {
        var s = s
        return s.withUTF8(parseTimestamp)
    }
}

private func parseTimestamp(_ u: UnsafeBufferPointer<UInt8>) -> Int64? {
    guard u.count >= 20, u.count <= 40, u[u.count - 1] == UInt8(ascii: "Z") else { return nil }
    func num(_ from: Int, _ len: Int) -> Int64? {
        var v: Int64 = 0
        for i in from..<(from + len) {
            let c = u[i]
            guard c >= 48 && c <= 57 else { return nil }
            v = v * 10 + Int64(c - 48)
        }
        return v
    }
    guard u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"), u[10] == UInt8(ascii: "T"),
          u[13] == UInt8(ascii: ":"), u[16] == UInt8(ascii: ":"),
          let year = num(0, 4), let month = num(5, 2), let day = num(8, 2),
          let hour = num(11, 2), let minute = num(14, 2), let second = num(17, 2),
          year >= 1, (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60 else { return nil }
    var millis: Int64 = 0
    let fractionEnd = u.count - 1
    if fractionEnd > 19 {
        guard u[19] == UInt8(ascii: "."), fractionEnd > 20 else { return nil }
        var scale: Int64 = 100
        for i in 20..<fractionEnd {
            let c = u[i]
            guard c >= 48 && c <= 57 else { return nil }
            millis += Int64(c - 48) * scale
            scale /= 10
        }
    }
    // Days since 1970-01-01 from the civil date (proleptic Gregorian, era-based).
    let y = month <= 2 ? year - 1 : year
    let era = y / 400
    let yoe = y - era * 400
    let mp = (month + 9) % 12
    let doy = (153 * mp + 2) / 5 + day - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    let days = era * 146_097 + doe - 719_468
    return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millis
}
