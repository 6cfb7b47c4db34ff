// auth-service's schema (users_db) and the JSON form of a user.
import HTTP1
import PG

enum AuthSchema {
    static func migrations() throws -> [Migration] {
        [
            Migration(1, "users", """
                CREATE TABLE users (
                    id bigserial PRIMARY KEY,
                    username text NOT NULL,
                    email text NOT NULL,
                    password_hash text NOT NULL,
                    role text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
                    age integer CHECK (age BETWEEN 13 AND 120),
                    gender text,
                    bio text,
                    favorite_style text,
                    total_posts integer NOT NULL DEFAULT 0,
                    created_at timestamptz NOT NULL DEFAULT now()
                );
                CREATE UNIQUE INDEX users_username_key ON users (lower(username));
                CREATE UNIQUE INDEX users_email_key ON users (lower(email));
                CREATE TABLE login_failures (
                    email text NOT NULL,
                    at timestamptz NOT NULL DEFAULT now()
                );
                CREATE INDEX login_failures_email_at ON login_failures (email, at);
                """),
            try Outbox.migration(version: 2),
            // Failures are limited per (email, client IP) and, more loosely, per email; `id`
            // names the provisional row an attempt inserts before its password is checked.
            Migration(3, "login_failures_by_ip", """
                ALTER TABLE login_failures ADD COLUMN id bigserial PRIMARY KEY;
                ALTER TABLE login_failures ADD COLUMN ip text NOT NULL DEFAULT '';
                CREATE INDEX login_failures_email_ip_at ON login_failures (email, ip, at);
                CREATE INDEX login_failures_at ON login_failures (at);
                """),
        ]
    }

    /// The columns `writeUser` reads, in its order.
    static let userColumns = """
        id, username, email, role, age, gender, bio, favorite_style, total_posts,
        to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
        """

    /// Writes a user object from a row of `userColumns`; the email only for its owner or an admin.
    static func writeUser(_ row: PGRow, includeEmail: Bool, to w: inout JSONWriter) throws {
        w.beginObject()
        w.member("id", Int(try row.int64(0)))
        w.member("username", try row.string(1))
        if includeEmail { w.member("email", try row.string(2)) }
        w.member("role", try row.string(3))
        w.member("age", try row.get(4, as: Int?.self))
        w.optionalMember("gender", try row.get(5, as: String?.self))
        w.optionalMember("bio", try row.get(6, as: String?.self))
        w.optionalMember("favoriteStyle", try row.get(7, as: String?.self))
        w.member("totalPosts", Int(try row.int64(8)))
        w.member("createdAt", try row.string(9))
        w.endObject()
    }
}

extension JSONWriter {
    /// `"name": value` or `"name": null`.
    public mutating func optionalMember(_ name: String, _ value: String?) {
        key(name)
        if let value { string(value) } else { null() }
    }
}
