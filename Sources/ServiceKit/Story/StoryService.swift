// story-service: posts CRUD, by user, full-text search, tags, images (port 5002, stories_db).
// Publishes post.created/updated/deleted and user.mentioned (each known @username of a new
// post's caption) through the outbox. Caption mentions count against the author's mentions
// limit and notify a user once per post and dedupe window (WriteLimits); a deleted user's
// token writes nothing (UserDirectory.requireActive).
import Events
import HTTP1
import PG
import Web

public struct StoryService: ServiceDefinition {
    public let limits: WriteLimits

    public init(limits: WriteLimits = WriteLimits()) {
        self.limits = limits
    }

    public func maintenance(_ config: ServiceConfig) -> [MaintenanceJob] { [limits.maintenance] }

    public var migrations: [Migration] { (try? StorySchema.migrations()) ?? [] }

    public func subscription(_ config: ServiceConfig) -> EventSubscription? {
        let images = ImageStore(directory: config.dataDirectory)
        return EventSubscription(keys: [.userRegistered, .userProfileUpdated, .userDeleted], applyThen: { conn, event in
            try StorySchema.apply(conn, event, images: images)
        })
    }

    public func install(on service: Service) {
        let images = ImageStore(directory: service.config.dataDirectory)
        service.route(.GET, "/stories") { request, responder in
            let query = request.query
            let page = try Page(query)
            let category = query["category"].flatMap { $0.isEmpty ? nil : $0.lowercased() }
            let tag = query["tag"].flatMap { $0.isEmpty ? nil : $0.lowercased() }
            list(service, responder, page: page, filter: """
                WHERE ($1::text IS NULL OR p.category = $1)
                  AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM post_tags t WHERE t.post_id = p.id AND t.tag = $2))
                ORDER BY p.id DESC
                """, [category.map { .text($0) }, tag.map { .text($0) }])
        }
        service.route(.GET, "/stories/user/:userId") { request, responder in
            let userId = try request.id("userId")
            list(service, responder, page: try Page(request.query), filter: "WHERE p.user_id = $1 ORDER BY p.id DESC",
                 [.int(userId)])
        }
        service.route(.GET, "/stories/search") { request, responder in
            let query = request.query
            let page = try Page(query)
            let text = (query["query"] ?? query["q"] ?? "").trimmingCharacters(in: " ")
            let category = query["category"].flatMap { $0.isEmpty ? nil : $0.lowercased() }
            guard !text.isEmpty || category != nil else { throw HTTPError.badRequest("query or category is required") }
            guard text.count <= 200 else { throw HTTPError.badRequest("query is longer than 200 characters") }
            list(service, responder, page: page, filter: """
                WHERE ($1 = '' OR p.search @@ websearch_to_tsquery('simple', $1))
                  AND ($2::text IS NULL OR p.category = $2)
                ORDER BY ts_rank(p.search, websearch_to_tsquery('simple', $1)) DESC, p.id DESC
                """, [.text(text), category.map { .text($0) }])
        }
        service.route(.GET, "/stories/:id") { request, responder in
            let id = try request.id("id")
            service.database.respond(responder) { conn in
                let rows = try conn.query("SELECT \(StorySchema.postColumns) \(StorySchema.postFrom) WHERE p.id = $1", [.int(id)])
                guard let row = rows.first else { throw HTTPError.notFound("story not found") }
                var w = JSONWriter()
                try StorySchema.writePost(row, to: &w)
                return .json(.ok, w)
            }
        }
        service.route(.POST, "/stories", bodyLimit: 32 * 1024) { request, responder in
            try create(service, request, responder)
        }
        service.route(.PUT, "/stories/:id", bodyLimit: 32 * 1024) { request, responder in
            try update(service, request, responder)
        }
        service.route(.DELETE, "/stories/:id") { request, responder in
            let caller = try service.auth.caller(request)
            let id = try request.id("id")
            service.database.respond(responder) { conn in
                try UserDirectory.requireActive(conn, caller.userId)
                let file = try conn.transaction { tx -> String? in
                    let rows = try tx.query("SELECT user_id, \(StorySchema.imageFileColumn) FROM posts WHERE id = $1 FOR UPDATE", [.int(id)])
                    guard let row = rows.first else { throw HTTPError.notFound("story not found") }
                    let owner = try row.int64(0)
                    guard owner == caller.userId || caller.isAdmin else { throw HTTPError.forbidden("only the author can delete a story") }
                    try tx.execute("DELETE FROM posts WHERE id = $1", [.int(id)])
                    try EventOutbox.append(tx, .postDeleted, actor: try UserDirectory.actor(tx, id: caller.userId),
                                           data: EventData(userId: owner, postId: id))
                    return try row.get(1, as: String?.self)
                }
                // Only once the row is gone for good: a failed commit keeps post and image.
                if let file { images.remove(file: file) }
                return .noContent
            }
        }
        StoryImages.install(on: service, images: images)
        service.route(.GET, "/healthz") { _, responder in
            responder.respond(json: .ok, JSONWriter.object { $0.member("status", "ok") })
        }
    }

    /// `{stories: [...], limit, offset}` for `SELECT … <filter> LIMIT/OFFSET`. `filter` is a
    /// fixed SQL fragment with parameters $1…$n; limit and offset follow them.
    private func list(_ service: Service, _ responder: HTTPResponder, page: Page, filter: String, _ params: [PGValue?]) {
        let n = params.count
        service.database.respond(responder) { conn in
            let rows = try conn.query("SELECT \(StorySchema.postColumns) \(StorySchema.postFrom) \(filter) LIMIT $\(n + 1) OFFSET $\(n + 2)",
                                      params + [.int(page.limit), .int(page.offset)])
            var w = JSONWriter()
            w.beginObject()
            w.key("stories")
            w.beginArray()
            for row in rows { try StorySchema.writePost(row, to: &w) }
            w.endArray()
            w.member("limit", page.limit)
            w.member("offset", page.offset)
            w.endObject()
            return .json(.ok, w)
        }
    }

    private func create(_ service: Service, _ request: HTTPRequest, _ responder: HTTPResponder) throws {
        let caller = try service.auth.caller(request)
        let fields = try StoryFields(JSONBody(request))
        let caption = fields.caption ?? ""
        let mentioned = Mentions.usernames(in: caption)
        let limits = self.limits
        service.database.respond(responder) { conn in
            try UserDirectory.requireActive(conn, caller.userId)
            return try limits.transaction(conn) { tx in
                let id = try tx.query("""
                    INSERT INTO posts (user_id, caption, category, device, tags, tags_text)
                    VALUES ($1, $2, $3, $4, $5::text[], $6) RETURNING id
                    """, [.int(caller.userId), .text(caption), fields.category.map { .text($0) }, fields.device.map { .text($0) },
                          .text(StoryFields.arrayLiteral(fields.tags ?? [])), .text((fields.tags ?? []).joined(separator: " "))])[0].int64(0)
                for tag in fields.tags ?? [] {
                    try tx.execute("INSERT INTO post_tags (post_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING", [.int(id), .text(tag)])
                }
                let actor = try UserDirectory.actor(tx, id: caller.userId)
                try EventOutbox.append(tx, .postCreated, actor: actor,
                                       data: EventData(userId: caller.userId, postId: id, caption: eventCaption(caption)))
                let recipients = try UserDirectory.resolve(tx, usernames: mentioned, excluding: caller.userId)
                try limits.charge(tx, userId: caller.userId, .mentions, amount: recipients.count)
                for userId in recipients {
                    try limits.notifyOnce(tx, .userMentioned, actor: actor, recipientId: userId, objectId: id,
                                          data: EventData(postId: id, mentionedUserId: userId))
                }
                let rows = try tx.query("SELECT \(StorySchema.postColumns) \(StorySchema.postFrom) WHERE p.id = $1", [.int(id)])
                var w = JSONWriter()
                try StorySchema.writePost(rows[0], to: &w)
                return .json(.created, w)
            }
        }
    }

    private func update(_ service: Service, _ request: HTTPRequest, _ responder: HTTPResponder) throws {
        let caller = try service.auth.caller(request)
        let id = try request.id("id")
        let fields = try StoryFields(JSONBody(request))
        guard fields.caption != nil || fields.category != nil || fields.device != nil || fields.tags != nil else {
            throw HTTPError.badRequest("nothing to update: send caption, category, device or tags")
        }
        service.database.respond(responder) { conn in
            try UserDirectory.requireActive(conn, caller.userId)
            return try conn.transaction { tx in
                let owners = try tx.query("SELECT user_id FROM posts WHERE id = $1 FOR UPDATE", [.int(id)])
                guard let owner = owners.first else { throw HTTPError.notFound("story not found") }
                guard try owner.int64(0) == caller.userId else { throw HTTPError.forbidden("only the author can edit a story") }
                try tx.execute("""
                    UPDATE posts SET caption = COALESCE($2, caption), category = COALESCE($3, category),
                        device = COALESCE($4, device), tags = COALESCE($5::text[], tags),
                        tags_text = COALESCE($6, tags_text), updated_at = now()
                    WHERE id = $1
                    """, [.int(id), fields.caption.map { .text($0) }, fields.category.map { .text($0) }, fields.device.map { .text($0) },
                          fields.tags.map { .text(StoryFields.arrayLiteral($0)) }, fields.tags.map { .text($0.joined(separator: " ")) }])
                if let tags = fields.tags {
                    try tx.execute("DELETE FROM post_tags WHERE post_id = $1", [.int(id)])
                    for tag in tags {
                        try tx.execute("INSERT INTO post_tags (post_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING", [.int(id), .text(tag)])
                    }
                }
                let rows = try tx.query("SELECT \(StorySchema.postColumns) \(StorySchema.postFrom) WHERE p.id = $1", [.int(id)])
                try EventOutbox.append(tx, .postUpdated, actor: try UserDirectory.actor(tx, id: caller.userId),
                                       data: EventData(userId: caller.userId, postId: id, caption: eventCaption(try rows[0].string(3))))
                var w = JSONWriter()
                try StorySchema.writePost(rows[0], to: &w)
                return .json(.ok, w)
            }
        }
    }
}
