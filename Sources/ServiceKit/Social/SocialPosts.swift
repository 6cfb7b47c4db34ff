// social-service's copy of posts (id, owner, deleted), the only source of a post's owner in
// social: the recipient of post.liked / post.commented and who may delete a comment come
// from here, never from the client. It is fed by post.created, post.deleted and user.deleted
// (SocialSchema.apply). A post the copy has not seen yet (its post.created is still in
// flight) is asked of story-service synchronously (StoryClient) and the answer is stored.
// Posts that rows name but the copy never learnt are filled (or their rows removed) by a
// maintenance job (`backfill`).
//
// Rows are only inserted with ON CONFLICT DO NOTHING, and deletion is a flag that stays: a
// lookup answered before a post.deleted was applied can never bring the post back.
import Daemon
import Events
import PG
import Web

struct SocialPosts: Sendable {
    let story: StoryClient
    let log: ServiceLog

    enum Lookup {
        case owner(Int64)
        /// No such post, or a deleted one.
        case missing
        /// story-service could not say: the 503 to answer.
        case unavailable(Reply)
    }

    static let migration = Migration(4, "posts_copy", """
        CREATE TABLE posts (
            id bigint PRIMARY KEY,
            owner_id bigint NOT NULL,
            deleted boolean NOT NULL DEFAULT false,
            seen_at timestamptz NOT NULL DEFAULT now()
        );
        CREATE INDEX posts_owner ON posts (owner_id);
        -- Until now the client named the post's owner with each like and comment: none of those
        -- values can be trusted, so they go, and the owner always comes from the copy.
        ALTER TABLE likes DROP COLUMN post_owner_id;
        ALTER TABLE comments DROP COLUMN post_owner_id;
        """)

    /// The owner of `postId`: from the copy, else from story-service (stored). On a pool worker.
    func owner(_ connection: PGConnection, _ postId: Int64) throws -> Lookup {
        if let known = try SocialPosts.known(connection, postId) { return known }
        let answer: StoryClient.Answer
        do {
            answer = try story.owner(of: postId)
        } catch {
            log.warning("post \(postId) unknown and \(error)")
            return .unavailable(.error(.unavailable("story_unavailable", retryAfter: 2,
                                                    message: "cannot check the post now, retry later")))
        }
        guard case .owner(let owner) = answer else { return .missing }
        return try SocialPosts.store(connection, postId, owner: owner)
    }

    /// Stores story-service's answer: `postId` is `owner`'s. Marked deleted at once when the
    /// owner is a deleted user (story answered before it consumed that user.deleted, social
    /// after: the flag the user.deleted set would otherwise be missed). What the copy now says.
    private static func store(_ connection: PGConnection, _ postId: Int64, owner: Int64) throws -> Lookup {
        try connection.execute("""
            INSERT INTO posts (id, owner_id, deleted) VALUES ($1, $2, EXISTS (SELECT 1 FROM deleted_users WHERE id = $2))
            ON CONFLICT (id) DO NOTHING
            """, [.int(postId), .int(owner)])
        return try SocialPosts.known(connection, postId) ?? .missing
    }

    /// Ids per run of `backfill`: each may cost a story-service request of up to its timeout.
    static let backfillBatch = 50

    /// The copy was born empty (migration 4), and shares are written without a lookup, so
    /// likes, comments and shares may name posts the copy does not know; user.deleted and
    /// post.deleted could then not find their rows. For up to `batch` such post ids, asks
    /// story-service: a post it knows is stored (and its rows go if it is deleted); a 404
    /// means the post is gone, and its rows go (nothing is stored: the id may not exist yet,
    /// and ids are sequential). Each id in its own transaction; story-service unavailable
    /// stops the run with an error (the job logs it and runs again later). Returns how many
    /// ids were filled and how many were removed.
    @discardableResult
    static func backfill(_ connection: PGConnection, story: StoryClient, batch: Int) throws -> (filled: Int, removed: Int) {
        let ids = try connection.query("""
            SELECT r.post_id FROM (SELECT post_id FROM likes UNION SELECT post_id FROM comments
                                   UNION SELECT post_id FROM shares) r
            WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.id = r.post_id) ORDER BY r.post_id LIMIT $1
            """, [.int(Int64(batch))]).map { try $0.int64(0) }
        var filled = 0, removed = 0
        for postId in ids {
            let answer = try story.owner(of: postId)
            try connection.transaction { tx in
                if case .owner(let owner) = answer, case .owner = try store(tx, postId, owner: owner) {
                    filled += 1
                } else {
                    try SocialSchema.deleteRows(tx, onPost: postId)
                    removed += 1
                }
            }
        }
        return (filled, removed)
    }

    /// Runs `body` with the owner of `postId`; a missing post is 404 `post_not_found`, an
    /// unknown one that story-service cannot confirm is 503 with Retry-After.
    func withOwner(_ connection: PGConnection, _ postId: Int64, _ body: (Int64) throws -> Reply) throws -> Reply {
        switch try owner(connection, postId) {
        case .owner(let owner): return try body(owner)
        case .missing: throw HTTPError(.notFound, "post_not_found")
        case .unavailable(let reply): return reply
        }
    }

    private static func known(_ connection: PGConnection, _ postId: Int64) throws -> Lookup? {
        let rows = try connection.query("SELECT owner_id, deleted FROM posts WHERE id = $1", [.int(postId)])
        guard let row = rows.first else { return nil }
        return try row.bool(1) ? .missing : .owner(try row.int64(0))
    }

    /// post.created: the post and its owner. post.deleted: the flag (the row is created when
    /// the copy never saw the post). user.deleted: every post of the user (story deletes them
    /// without a post.deleted each). Idempotent. Inside the consumer's transaction.
    static func apply(_ connection: PGConnection, _ event: Event) throws {
        switch event.type {
        case .postCreated:
            guard let postId = event.data.postId, let owner = event.data.userId else { return }
            try connection.execute("INSERT INTO posts (id, owner_id) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING",
                                   [.int(postId), .int(owner)])
        case .postDeleted:
            guard let postId = event.data.postId, let owner = event.data.userId else { return }
            try connection.execute("""
                INSERT INTO posts (id, owner_id, deleted) VALUES ($1, $2, true)
                ON CONFLICT (id) DO UPDATE SET deleted = true
                """, [.int(postId), .int(owner)])
        case .userDeleted:
            guard let userId = event.data.userId else { return }
            try connection.execute("UPDATE posts SET deleted = true WHERE owner_id = $1", [.int(userId)])
        default:
            return
        }
    }
}

/// How social reaches story-service and limits writes; main reads it from the environment.
public struct SocialOptions: Sendable {
    public var story: StoryClient
    public var limits: WriteLimits

    public init(story: StoryClient, limits: WriteLimits = WriteLimits()) {
        self.story = story
        self.limits = limits
    }

    /// INSTAVERSE_STORY_URL (else `http://127.0.0.1:$INSTAVERSE_STORY_PORT`, else port 5002),
    /// INSTAVERSE_STORY_TIMEOUT_MS (2000), and the write limits (`WriteLimits.load`).
    public static func load(from config: Config = .fromProcess()) throws -> SocialOptions {
        let port = config.string("INSTAVERSE_STORY_PORT", default: "5002")
        let url = config.string("INSTAVERSE_STORY_URL", default: "http://127.0.0.1:\(port)")
        let millis = try config.int("INSTAVERSE_STORY_TIMEOUT_MS", default: 2000, range: 50...60_000)
        return SocialOptions(story: try StoryClient(url: url, timeout: .milliseconds(millis)),
                             limits: try WriteLimits.load(from: config))
    }
}
