// social-service's schema (social_db) and what its consumer applies.
//
// The owner of a post lives in stories_db, which social never reads: social keeps its own
// copy of posts (SocialPosts.swift) fed by post.created / post.deleted / user.deleted, and
// asks story-service for a post the copy has not seen yet. That copy alone decides who gets
// a like's or a comment's notification and who may delete a comment; whatever owner a client
// names is ignored. Tombstones of deleted users refuse their writes (UserDirectory), and
// write_counts / notified hold the flood limits (WriteLimits.swift).
import Events
import PG

enum SocialSchema {
    static func migrations() throws -> [Migration] {
        [
            Migration(1, "social", """
                CREATE TABLE likes (
                    post_id bigint NOT NULL,
                    user_id bigint NOT NULL,
                    post_owner_id bigint NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (post_id, user_id)
                );
                CREATE INDEX likes_user ON likes (user_id);
                CREATE TABLE comments (
                    id bigserial PRIMARY KEY,
                    post_id bigint NOT NULL,
                    user_id bigint NOT NULL,
                    post_owner_id bigint NOT NULL,
                    text text NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now()
                );
                CREATE INDEX comments_post ON comments (post_id, id);
                CREATE INDEX comments_user ON comments (user_id);
                CREATE TABLE shares (
                    id bigserial PRIMARY KEY,
                    post_id bigint NOT NULL,
                    user_id bigint NOT NULL,
                    platform text NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now()
                );
                CREATE INDEX shares_post ON shares (post_id);
                CREATE TABLE follows (
                    follower_id bigint NOT NULL,
                    followee_id bigint NOT NULL,
                    created_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (follower_id, followee_id),
                    CHECK (follower_id <> followee_id)
                );
                CREATE INDEX follows_followee ON follows (followee_id);
                """),
            try Outbox.migration(version: 2),
            UserDirectory.migration(version: 3),
            SocialPosts.migration,
            UserDirectory.tombstoneMigration(version: 5),
            WriteLimits.migration(version: 6),
            WriteLimits.pairMigration(version: 7),
        ]
    }

    /// user.deleted: everything the user did and everything on their posts goes, their posts
    /// are marked deleted in the copy, and they get a tombstone. (story deletes the user's
    /// posts without a post.deleted each: this is where social learns of them. Rows on a post
    /// the copy did not know go when `SocialPosts.backfill` gets story's 404 for it.)
    /// post.deleted: the post's likes, comments and shares go. post.created: the copy learns
    /// the post. All idempotent.
    static func apply(_ connection: PGConnection, _ event: Event) throws {
        try SocialPosts.apply(connection, event)
        switch event.type {
        case .userDeleted:
            guard let id = event.data.userId else { return }
            let theirs = "post_id IN (SELECT id FROM posts WHERE owner_id = $1)"
            try connection.execute("DELETE FROM likes WHERE user_id = $1 OR \(theirs)", [.int(id)])
            try connection.execute("DELETE FROM comments WHERE user_id = $1 OR \(theirs)", [.int(id)])
            try connection.execute("DELETE FROM shares WHERE user_id = $1 OR \(theirs)", [.int(id)])
            try connection.execute("DELETE FROM follows WHERE follower_id = $1 OR followee_id = $1", [.int(id)])
            try UserDirectory.apply(connection, event)
        case .postDeleted:
            guard let postId = event.data.postId else { return }
            try deleteRows(connection, onPost: postId)
        case .postCreated:
            return
        default:
            try UserDirectory.apply(connection, event)
        }
    }

    /// The likes, comments and shares of a post that is gone.
    static func deleteRows(_ connection: PGConnection, onPost postId: Int64) throws {
        try connection.execute("DELETE FROM likes WHERE post_id = $1", [.int(postId)])
        try connection.execute("DELETE FROM comments WHERE post_id = $1", [.int(postId)])
        try connection.execute("DELETE FROM shares WHERE post_id = $1", [.int(postId)])
    }

    static let commentColumns = """
        c.id, c.post_id, c.user_id, c.text, to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        COALESCE(u.username, 'user' || c.user_id)
        """
}
