// story-service's schema (stories_db): posts with a generated full-text vector over the
// caption and the tags (GIN index), post_tags for exact tag filters, the users copy with its
// tombstones, and the flood limits of caption mentions (WriteLimits.swift).
import Events
import HTTP1
import PG
#if canImport(Glibc)
import Glibc
#endif

enum StorySchema {
    static func migrations() throws -> [Migration] {
        [
            Migration(1, "posts", """
                CREATE TABLE posts (
                    id bigserial PRIMARY KEY,
                    user_id bigint NOT NULL,
                    caption text NOT NULL DEFAULT '',
                    category text,
                    device text,
                    tags text[] NOT NULL DEFAULT '{}',
                    -- space-joined tags, written by the service (array_to_string is not immutable,
                    -- so it cannot feed a generated column)
                    tags_text text NOT NULL DEFAULT '',
                    image_type text,
                    post_date timestamptz NOT NULL DEFAULT now(),
                    updated_at timestamptz NOT NULL DEFAULT now(),
                    search tsvector GENERATED ALWAYS AS (
                        setweight(to_tsvector('simple', caption), 'A') || setweight(to_tsvector('simple', tags_text), 'B')
                    ) STORED
                );
                CREATE INDEX posts_search ON posts USING gin (search);
                CREATE INDEX posts_user ON posts (user_id, id DESC);
                CREATE INDEX posts_category ON posts (category, id DESC);
                CREATE TABLE post_tags (
                    post_id bigint NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
                    tag text NOT NULL,
                    PRIMARY KEY (post_id, tag)
                );
                CREATE INDEX post_tags_tag ON post_tags (tag);
                """),
            try Outbox.migration(version: 2),
            UserDirectory.migration(version: 3),
            // The image's file name: a new name per upload, so the file a committed row names
            // is never overwritten; rows from before keep the legacy `<id>.img` (NULL here).
            Migration(4, "posts_image_file", "ALTER TABLE posts ADD COLUMN image_file text"),
            UserDirectory.tombstoneMigration(version: 5),
            WriteLimits.migration(version: 6),
            WriteLimits.pairMigration(version: 7),
        ]
    }

    /// The image file of a post row (`posts` unaliased), or NULL when it has no image.
    static let imageFileColumn = "CASE WHEN image_type IS NULL THEN NULL ELSE COALESCE(image_file, id || '.img') END"

    static let postColumns = """
        p.id, p.user_id, COALESCE(u.username, 'user' || p.user_id), p.caption, p.category, p.device,
        p.tags_text, p.image_type IS NOT NULL,
        to_char(p.post_date AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
        """
    static let postFrom = "FROM posts p LEFT JOIN known_users u ON u.id = p.user_id"

    static func writePost(_ row: PGRow, to w: inout JSONWriter) throws {
        let id = try row.int64(0)
        w.beginObject()
        w.member("id", Int(id))
        w.member("userId", Int(try row.int64(1)))
        w.member("username", try row.string(2))
        w.member("caption", try row.string(3))
        w.optionalMember("category", try row.get(4, as: String?.self))
        w.optionalMember("device", try row.get(5, as: String?.self))
        w.key("tags")
        w.beginArray()
        for tag in try row.string(6).split(separator: " ") { w.string(String(tag)) }
        w.endArray()
        w.optionalMember("image", try row.bool(7) ? "/stories/\(id)/image" : nil)
        w.member("postDate", try row.string(8))
        w.member("updatedAt", try row.string(9))
        w.endObject()
    }

    /// user.deleted: the user's posts (tags cascade) go, and their image files once that
    /// committed (the returned closure). Idempotent.
    static func apply(_ connection: PGConnection, _ event: Event, images: ImageStore) throws -> EventSubscription.AfterCommit? {
        var files: [String] = []
        if event.type == .userDeleted, let userId = event.data.userId {
            let rows = try connection.query("DELETE FROM posts WHERE user_id = $1 RETURNING \(imageFileColumn)", [.int(userId)])
            for row in rows {
                if let file = try row.get(0, as: String?.self) { files.append(file) }
            }
        }
        try UserDirectory.apply(connection, event)
        let removals = files
        if removals.isEmpty { return nil }
        return { @Sendable in for file in removals { images.remove(file: file) } }
    }
}
