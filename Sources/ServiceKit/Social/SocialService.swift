// social-service: likes, comments, shares, follows (port 5003, social_db). Writes that
// notify someone append their event (post.liked, post.commented, user.mentioned,
// user.followed) in the same transaction; no event when the actor is the recipient. A post's
// owner comes only from social's copy of posts (SocialPosts); writes are limited per user
// (a like or comment counts when attempted, before the post lookup), a (kind, actor,
// recipient, object) notifies once per window, and one actor notifies one recipient a capped
// number of times per window (WriteLimits); a deleted user's token writes nothing
// (UserDirectory.requireActive).
import Events
import HTTP1
import PG
import Web

public struct SocialService: ServiceDefinition {
    public static let platforms: Set<String> = ["facebook", "twitter", "x", "instagram", "whatsapp", "telegram",
                                                "pinterest", "reddit", "email", "link"]

    public let options: SocialOptions

    public init(options: SocialOptions) {
        self.options = options
    }

    public var migrations: [Migration] { (try? SocialSchema.migrations()) ?? [] }

    public func subscription(_ config: ServiceConfig) -> EventSubscription? {
        EventSubscription(keys: [.userRegistered, .userProfileUpdated, .userDeleted, .postCreated, .postDeleted],
                          apply: SocialSchema.apply)
    }

    public func maintenance(_ config: ServiceConfig) -> [MaintenanceJob] { [options.limits.maintenance, postBackfill] }

    /// Fills the copy of posts for post ids that likes, comments or shares name but the copy
    /// does not know (rows from before the copy existed, shares), `SocialPosts.backfillBatch`
    /// ids per run, every 10 minutes; see `SocialPosts.backfill`.
    public var postBackfill: MaintenanceJob {
        let story = options.story
        return MaintenanceJob(name: "backfill the copy of posts", interval: .seconds(600)) { conn in
            try SocialPosts.backfill(conn, story: story, batch: SocialPosts.backfillBatch)
        }
    }

    public func install(on service: Service) {
        let posts = SocialPosts(story: options.story, log: service.log)
        let limits = options.limits
        service.route(.POST, "/social/likes/:postId", bodyLimit: 4096) { try like(service, posts, limits, $0, $1) }
        service.route(.DELETE, "/social/likes/:postId/:userId") { try unlike(service, $0, $1) }
        service.route(.GET, "/social/likes/:postId") { try likes(service, $0, $1) }
        service.route(.GET, "/social/comments/:postId") { try comments(service, $0, $1) }
        service.route(.POST, "/social/comments/:postId", bodyLimit: 16 * 1024) { try comment(service, posts, limits, $0, $1) }
        service.route(.DELETE, "/social/comments/:commentId") { try deleteComment(service, posts, $0, $1) }
        service.route(.POST, "/social/share/:postId", bodyLimit: 4096) { try share(service, $0, $1) }
        SocialFollows.install(on: service, limits: limits)
        service.route(.GET, "/healthz") { _, responder in
            responder.respond(json: .ok, JSONWriter.object { $0.member("status", "ok") })
        }
    }

    // MARK: likes

    /// A like or comment by `userId` on `postId`: refused for a deleted user; the attempt is
    /// charged against `kind`'s limit (committed at once, so an attempt on a post that turns
    /// out to be missing counts too, and a loop of lookups of made-up ids ends in 429), then
    /// the post's owner comes from the copy (or story-service), then `body` writes in one
    /// transaction. 429 thrown by a charge inside `body` (mentions) rolls its writes back.
    private func onPost(_ conn: PGConnection, _ posts: SocialPosts, _ limits: WriteLimits, by userId: Int64,
                        _ kind: WriteKind, _ postId: Int64,
                        _ body: (PGConnection, Int64) throws -> Reply) throws -> Reply {
        try UserDirectory.requireActive(conn, userId)
        return try limits.refusing {
            try limits.charge(conn, userId: userId, kind)
            return try posts.withOwner(conn, postId) { ownerId in try conn.transaction { tx in try body(tx, ownerId) } }
        }
    }

    /// Idempotent: the first like is 201 (and notifies the owner, once per dedupe window), a
    /// repeat is 200. No body is needed (the seed's client sends none); one that is sent is
    /// ignored, `postOwnerId` included. Every attempt counts against the likes limit.
    private func like(_ service: Service, _ posts: SocialPosts, _ limits: WriteLimits,
                      _ request: HTTPRequest, _ responder: HTTPResponder) throws {
        let caller = try service.auth.caller(request)
        let postId = try request.id("postId")
        service.database.respond(responder) { conn in
            try onPost(conn, posts, limits, by: caller.userId, .likes, postId) { tx, ownerId in
                let inserted = try tx.execute("""
                    INSERT INTO likes (post_id, user_id) VALUES ($1, $2) ON CONFLICT (post_id, user_id) DO NOTHING
                    """, [.int(postId), .int(caller.userId)])
                if inserted == 1, ownerId != caller.userId {
                    try limits.notifyOnce(tx, .postLiked, actor: try UserDirectory.actor(tx, id: caller.userId),
                                          recipientId: ownerId, objectId: postId,
                                          data: EventData(postId: postId, postOwnerId: ownerId))
                }
                let count = try tx.query("SELECT count(*) FROM likes WHERE post_id = $1", [.int(postId)])[0].int64(0)
                return .json(inserted == 1 ? .created : .ok) { w in
                    w.beginObject()
                    w.member("postId", Int(postId))
                    w.member("liked", true)
                    w.member("likes", Int(count))
                    w.endObject()
                }
            }
        }
    }

    private func unlike(_ service: Service, _ request: HTTPRequest, _ responder: HTTPResponder) throws {
        let caller = try service.auth.caller(request)
        let postId = try request.id("postId")
        let userId = try request.id("userId")
        guard caller.userId == userId || caller.isAdmin else { throw HTTPError.forbidden("you can only remove your own like") }
        service.database.respond(responder) { conn in
            try UserDirectory.requireActive(conn, caller.userId)
            let removed = try conn.execute("DELETE FROM likes WHERE post_id = $1 AND user_id = $2", [.int(postId), .int(userId)])
            guard removed == 1 else { throw HTTPError.notFound("like not found") }
            return .noContent
        }
    }

    private func likes(_ service: Service, _ request: HTTPRequest, _ responder: HTTPResponder) throws {
        let postId = try request.id("postId")
        let page = try Page(request.query)
        service.database.respond(responder) { conn in
            let count = try conn.query("SELECT count(*) FROM likes WHERE post_id = $1", [.int(postId)])[0].int64(0)
            let rows = try conn.query("""
                SELECT l.user_id, COALESCE(u.username, 'user' || l.user_id) FROM likes l
                LEFT JOIN known_users u ON u.id = l.user_id
                WHERE l.post_id = $1 ORDER BY l.created_at DESC, l.user_id LIMIT $2 OFFSET $3
                """, [.int(postId), .int(page.limit), .int(page.offset)])
            var w = JSONWriter()
            w.beginObject()
            w.member("postId", Int(postId))
            w.member("count", Int(count))
            w.key("users")
            w.beginArray()
            for row in rows {
                w.beginObject()
                w.member("id", Int(try row.int64(0)))
                w.member("username", try row.string(1))
                w.endObject()
            }
            w.endArray()
            w.endObject()
            return .json(.ok, w)
        }
    }

    // MARK: comments

    private func comments(_ service: Service, _ request: HTTPRequest, _ responder: HTTPResponder) throws {
        let postId = try request.id("postId")
        let page = try Page(request.query)
        service.database.respond(responder) { conn in
            let rows = try conn.query("""
                SELECT \(SocialSchema.commentColumns) FROM comments c LEFT JOIN known_users u ON u.id = c.user_id
                WHERE c.post_id = $1 ORDER BY c.id LIMIT $2 OFFSET $3
                """, [.int(postId), .int(page.limit), .int(page.offset)])
            var w = JSONWriter()
            w.beginObject()
            w.member("postId", Int(postId))
            w.key("comments")
            w.beginArray()
            for row in rows { try writeComment(row, to: &w) }
            w.endArray()
            w.endObject()
            return .json(.ok, w)
        }
    }

    /// 201 with the comment. Notifies the post's owner (post.commented, from the copy of
    /// posts) and every known @username in the text (user.mentioned, once per post and dedupe
    /// window), never the author; past the per-pair cap (WriteLimits) the comment is stored
    /// without its notification. Every attempt counts one against the comments limit, and a
    /// stored comment one per mentioned user against the mentions limit; over either, nothing
    /// is written (429).
    private func comment(_ service: Service, _ posts: SocialPosts, _ limits: WriteLimits,
                         _ request: HTTPRequest, _ responder: HTTPResponder) throws {
        let caller = try service.auth.caller(request)
        let postId = try request.id("postId")
        let text = try CommentFields(JSONBody(request)).text
        let mentioned = Mentions.usernames(in: text)
        service.database.respond(responder) { conn in
            try onPost(conn, posts, limits, by: caller.userId, .comments, postId) { tx, ownerId in
                let id = try tx.query("""
                    INSERT INTO comments (post_id, user_id, text) VALUES ($1, $2, $3) RETURNING id
                    """, [.int(postId), .int(caller.userId), .text(text)])[0].int64(0)
                let actor = try UserDirectory.actor(tx, id: caller.userId)
                if ownerId != caller.userId {
                    try limits.notifyOnce(tx, .postCommented, actor: actor, recipientId: ownerId, objectId: id,
                                          data: EventData(postId: postId, commentId: id, postOwnerId: ownerId,
                                                          excerpt: excerpt(text)))
                }
                let recipients = try UserDirectory.resolve(tx, usernames: mentioned, excluding: caller.userId)
                try limits.charge(tx, userId: caller.userId, .mentions, amount: recipients.count)
                for userId in recipients {
                    try limits.notifyOnce(tx, .userMentioned, actor: actor, recipientId: userId, objectId: postId,
                                          data: EventData(postId: postId, commentId: id, mentionedUserId: userId))
                }
                let rows = try tx.query("""
                    SELECT \(SocialSchema.commentColumns) FROM comments c LEFT JOIN known_users u ON u.id = c.user_id
                    WHERE c.id = $1
                    """, [.int(id)])
                var w = JSONWriter()
                try writeComment(rows[0], to: &w)
                return .json(.created, w)
            }
        }
    }

    /// By the comment's author, the post's owner (from the copy of posts; asked of
    /// story-service when the copy does not know the post), or an admin.
    private func deleteComment(_ service: Service, _ posts: SocialPosts, _ request: HTTPRequest, _ responder: HTTPResponder) throws {
        let caller = try service.auth.caller(request)
        let id = try request.id("commentId")
        service.database.respond(responder) { conn in
            try UserDirectory.requireActive(conn, caller.userId)
            let rows = try conn.query("SELECT user_id, post_id FROM comments WHERE id = $1", [.int(id)])
            guard let row = rows.first else { throw HTTPError.notFound("comment not found") }
            let author = try row.int64(0), postId = try row.int64(1)
            if caller.userId != author, !caller.isAdmin {
                switch try posts.owner(conn, postId) {
                case .owner(let owner) where owner == caller.userId: break
                case .unavailable(let reply): return reply
                default: throw HTTPError.forbidden("only the comment's author or the post's owner can delete it")
                }
            }
            try conn.execute("DELETE FROM comments WHERE id = $1", [.int(id)])
            return .noContent
        }
    }

    // MARK: shares

    private func share(_ service: Service, _ request: HTTPRequest, _ responder: HTTPResponder) throws {
        let caller = try service.auth.caller(request)
        let postId = try request.id("postId")
        let platform = try JSONBody(request).string("platform", maxLength: 32).lowercased()
        guard SocialService.platforms.contains(platform) else {
            throw HTTPError.badRequest("platform must be one of \(SocialService.platforms.sorted().joined(separator: ", "))")
        }
        service.database.respond(responder) { conn in
            try UserDirectory.requireActive(conn, caller.userId)
            let id = try conn.query("INSERT INTO shares (post_id, user_id, platform) VALUES ($1, $2, $3) RETURNING id",
                                    [.int(postId), .int(caller.userId), .text(platform)])[0].int64(0)
            let count = try conn.query("SELECT count(*) FROM shares WHERE post_id = $1", [.int(postId)])[0].int64(0)
            return .json(.created) { w in
                w.beginObject()
                w.member("id", Int(id))
                w.member("postId", Int(postId))
                w.member("platform", platform)
                w.member("shares", Int(count))
                w.endObject()
            }
        }
    }
}


func writeComment(_ row: PGRow, to w: inout JSONWriter) throws {
    w.beginObject()
    w.member("id", Int(try row.int64(0)))
    w.member("postId", Int(try row.int64(1)))
    w.member("userId", Int(try row.int64(2)))
    w.member("username", try row.string(5))
    w.member("text", try row.string(3))
    w.member("createdAt", try row.string(4))
    w.endObject()
}
