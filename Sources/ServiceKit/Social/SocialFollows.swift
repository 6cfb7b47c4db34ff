// Follows: POST/DELETE /social/follows/:userId (the caller follows or unfollows userId) and
// the followers/following lists. A new follow notifies the followee (user.followed), once per
// dedupe window however often the caller unfollows and follows again; follows count against
// the caller's follows limit.
import Events
import HTTP1
import PG
import Web

enum SocialFollows {
    static func install(on service: Service, limits: WriteLimits) {
        service.route(.POST, "/social/follows/:userId") { request, responder in
            let caller = try service.auth.caller(request)
            let followee = try request.id("userId")
            guard followee != caller.userId else { throw HTTPError.badRequest("you cannot follow yourself") }
            service.database.respond(responder) { conn in
                try UserDirectory.requireActive(conn, caller.userId)
                return try limits.transaction(conn) { tx in
                    try limits.charge(tx, userId: caller.userId, .follows)
                    let inserted = try tx.execute("""
                        INSERT INTO follows (follower_id, followee_id) VALUES ($1, $2) ON CONFLICT DO NOTHING
                        """, [.int(caller.userId), .int(followee)])
                    if inserted == 1 {
                        try limits.notifyOnce(tx, .userFollowed, actor: try UserDirectory.actor(tx, id: caller.userId),
                                              recipientId: followee, objectId: followee,
                                              data: EventData(followerId: caller.userId, followeeId: followee))
                    }
                    return .json(inserted == 1 ? .created : .ok) { w in
                        w.beginObject()
                        w.member("followerId", Int(caller.userId))
                        w.member("followeeId", Int(followee))
                        w.member("following", true)
                        w.endObject()
                    }
                }
            }
        }
        service.route(.DELETE, "/social/follows/:userId") { request, responder in
            let caller = try service.auth.caller(request)
            let followee = try request.id("userId")
            service.database.respond(responder) { conn in
                try UserDirectory.requireActive(conn, caller.userId)
                let removed = try conn.execute("DELETE FROM follows WHERE follower_id = $1 AND followee_id = $2",
                                               [.int(caller.userId), .int(followee)])
                guard removed == 1 else { throw HTTPError.notFound("not following") }
                return .noContent
            }
        }
        service.route(.GET, "/social/followers/:userId") { request, responder in
            try list(service, request, responder, key: "followers", match: "followee_id", other: "follower_id")
        }
        service.route(.GET, "/social/following/:userId") { request, responder in
            try list(service, request, responder, key: "following", match: "follower_id", other: "followee_id")
        }
    }

    /// `{userId, count, <key>: [{id, username}]}`; `match`/`other` are fixed column names.
    private static func list(_ service: Service, _ request: HTTPRequest, _ responder: HTTPResponder,
                             key: String, match: String, other: String) throws {
        let userId = try request.id("userId")
        let page = try Page(request.query)
        service.database.respond(responder) { conn in
            let count = try conn.query("SELECT count(*) FROM follows WHERE \(match) = $1", [.int(userId)])[0].int64(0)
            let rows = try conn.query("""
                SELECT f.\(other), COALESCE(u.username, 'user' || f.\(other)) FROM follows f
                LEFT JOIN known_users u ON u.id = f.\(other)
                WHERE f.\(match) = $1 ORDER BY f.created_at DESC, f.\(other) LIMIT $2 OFFSET $3
                """, [.int(userId), .int(page.limit), .int(page.offset)])
            var w = JSONWriter()
            w.beginObject()
            w.member("userId", Int(userId))
            w.member("count", Int(count))
            w.key(key)
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
}
