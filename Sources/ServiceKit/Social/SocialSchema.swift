// social-service's schema (social_db) and what its consumer applies.
//
// The owner of a post lives in stories_db, which social never reads: the client sends
// `postOwnerId` with a like or a comment, and social stores it with the row. It decides who
// gets the notification and who may delete a comment; a client lying about it can only
// misdirect its own like's notification or let the named "owner" delete comments on that
// post id. (A copy of posts fed by post.created events would close this; not built yet.)
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
        ]
    }

    /// user.deleted: everything the user did and everything on their posts goes.
    /// post.deleted: the post's likes, comments and shares go. Both idempotent.
    static func apply(_ connection: PGConnection, _ event: Event) throws {
        switch event.type {
        case .userDeleted:
            guard let id = event.data.userId else { return }
            try connection.execute("DELETE FROM likes WHERE user_id = $1 OR post_owner_id = $1", [.int(id)])
            try connection.execute("DELETE FROM comments WHERE user_id = $1 OR post_owner_id = $1", [.int(id)])
            try connection.execute("DELETE FROM shares WHERE user_id = $1", [.int(id)])
            try connection.execute("DELETE FROM follows WHERE follower_id = $1 OR followee_id = $1", [.int(id)])
            try UserDirectory.apply(connection, event)
        case .postDeleted:
            guard let postId = event.data.postId else { return }
            try connection.execute("DELETE FROM likes WHERE post_id = $1", [.int(postId)])
            try connection.execute("DELETE FROM comments WHERE post_id = $1", [.int(postId)])
            try connection.execute("DELETE FROM shares WHERE post_id = $1", [.int(postId)])
        default:
            try UserDirectory.apply(connection, event)
        }
    }

    static let commentColumns = """
        c.id, c.post_id, c.user_id, c.text, to_char(c.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        COALESCE(u.username, 'user' || c.user_id)
        """
}
