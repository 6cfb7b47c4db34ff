// A local copy of user ids and usernames for story- and social-service, fed by the events
// user.registered and user.profile.updated (auth owns users; other services never call it).
// Used to resolve @mentions to ids and to name the actor of an event. The copy is eventually
// consistent: a user registered a moment ago may not be known yet, and is then not mentioned.
// user.deleted leaves a tombstone (`deleted_users`): a deleted user's token stays valid until
// it expires, so every write checks `requireActive` and the services refuse it (401
// `user_deleted`) once they have consumed the deletion.
// (The @mention syntax itself is Mentions.swift.)
import Events
import PG
import Web

public enum UserDirectory {
    public static func migration(version: Int64) -> Migration {
        Migration(version, "known_users", """
            CREATE TABLE known_users (
                id bigint PRIMARY KEY,
                username text NOT NULL,
                updated_at timestamptz NOT NULL DEFAULT now()
            );
            CREATE UNIQUE INDEX known_users_username ON known_users (lower(username));
            """)
    }

    /// The tombstones of deleted users (ids are never reused, so a tombstone is forever).
    public static func tombstoneMigration(version: Int64) -> Migration {
        Migration(version, "deleted_users", """
            CREATE TABLE deleted_users (
                id bigint PRIMARY KEY,
                deleted_at timestamptz NOT NULL DEFAULT now()
            );
            """)
    }

    /// Throws 401 `user_deleted` when the service knows `userId` was deleted: its unexpired
    /// token must not write any more. On a pool worker, before the write.
    public static func requireActive(_ connection: PGConnection, _ userId: Int64) throws {
        if try !connection.query("SELECT 1 FROM deleted_users WHERE id = $1", [.int(userId)]).isEmpty {
            throw HTTPError(.unauthorized, "user_deleted")
        }
    }

    /// Applies user.registered / user.profile.updated (upsert of the current username) and
    /// user.deleted (removal, and a tombstone). Idempotent. Inside the consumer's transaction.
    public static func apply(_ connection: PGConnection, _ event: Event) throws {
        switch event.type {
        case .userRegistered, .userProfileUpdated:
            guard let id = event.data.userId, let username = event.data.username else { return }
            // A username freed by a rename may be taken by another id: drop the stale holder first.
            try connection.execute("DELETE FROM known_users WHERE lower(username) = lower($1) AND id <> $2",
                                   [.text(username), .int(id)])
            try connection.execute("""
                INSERT INTO known_users (id, username) VALUES ($1, $2)
                ON CONFLICT (id) DO UPDATE SET username = EXCLUDED.username, updated_at = now()
                """, [.int(id), .text(username)])
        case .userDeleted:
            guard let id = event.data.userId else { return }
            try connection.execute("DELETE FROM known_users WHERE id = $1", [.int(id)])
            try connection.execute("INSERT INTO deleted_users (id) VALUES ($1) ON CONFLICT DO NOTHING", [.int(id)])
        default:
            return
        }
    }

    /// The username of `id`, or "user<id>" when the copy does not know it yet (events need an
    /// actor name of 1-64 bytes).
    public static func actor(_ connection: PGConnection, id: Int64) throws -> EventActor {
        let rows = try connection.query("SELECT username FROM known_users WHERE id = $1", [.int(id)])
        let name = rows.isEmpty ? "user\(id)" : try rows[0].string(0)
        return EventActor(id: id, username: name)
    }

    /// The ids of the known users among `usernames` (case-insensitive), without `excluding`.
    public static func resolve(_ connection: PGConnection, usernames: [String], excluding: Int64) throws -> [Int64] {
        guard !usernames.isEmpty else { return [] }
        var ids: [Int64] = []
        for name in usernames {
            let rows = try connection.query("SELECT id FROM known_users WHERE lower(username) = lower($1)", [.text(name)])
            if let row = rows.first {
                let id = try row.int64(0)
                if id != excluding, !ids.contains(id) { ids.append(id) }
            }
        }
        return ids
    }
}
