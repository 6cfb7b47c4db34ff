// Limits against notification floods, for story- and social-service (issue 12):
//
// 1. Per-user write limits: at most `limit` likes, comments, follows or mentions per user
//    per window. The counters are rows of `write_counts` (user, kind, window start), so they
//    hold across restarts and across instances of a service. Bumped inside the write's own
//    transaction, a refused write rolls its bump back with everything else; bumped before it
//    (`charge` outside a transaction, see below), the attempt counts whatever its outcome.
//    An in-process token bucket would be cheaper but
//    would reset on restart and multiply with every instance. Windows are fixed (aligned on
//    the epoch), so a user may do up to twice the limit across a window boundary; that is
//    the price of one upsert per write.
// 2. One notification per (kind, actor, recipient, object) within `dedupeSeconds`: the
//    publisher records the key in `notified` in the same transaction as the outbox append
//    and skips the event when the key was recorded within the window, so follow / unfollow /
//    follow (or like / unlike / like) notifies once.
// 3. At most `pairLimit` notifications from one actor to one recipient per `pairWindowSeconds`,
//    all kinds together (`notify_pairs`, a fixed window like 1.). The dedupe of 2. does
//    nothing for comments (each comment is its own object, and comments never group), so
//    without this one account could fill a victim's feed with comments and mentions within
//    its own write limits. Past the cap the write still succeeds; only the event is skipped.
//    The cap is per service (story and social keep separate counters).
//
// Every attempt of a like or comment is charged before social looks the post up (a lookup of
// an unknown post may cost story-service a request), so attempts on made-up post ids end in
// 429 like any others.
import Daemon
import Events
import HTTP1
import PG
import Web

/// What a user writes that is limited per window.
public enum WriteKind: String, Sendable, CaseIterable {
    case likes, comments, follows, mentions
}

public struct WriteLimits: Sendable {
    /// Most writes of each kind per user per window.
    public var perWindow: [WriteKind: Int]
    public var windowSeconds: Int
    /// How long one (kind, actor, recipient, object) notifies only once.
    public var dedupeSeconds: Int
    /// Most notifications from one actor to one recipient per `pairWindowSeconds`.
    public var pairLimit: Int
    public var pairWindowSeconds: Int

    public static let defaults: [WriteKind: Int] = [.likes: 60, .comments: 30, .follows: 30, .mentions: 30]

    public init(perWindow: [WriteKind: Int] = WriteLimits.defaults, windowSeconds: Int = 60, dedupeSeconds: Int = 3600,
                pairLimit: Int = 20, pairWindowSeconds: Int = 3600) {
        self.perWindow = perWindow
        self.windowSeconds = windowSeconds
        self.dedupeSeconds = dedupeSeconds
        self.pairLimit = pairLimit
        self.pairWindowSeconds = pairWindowSeconds
    }

    /// Reads INSTAVERSE_WRITE_LIMITS (`likes=60,comments=30,follows=30,mentions=30`; kinds
    /// left out keep their default), INSTAVERSE_WRITE_LIMIT_WINDOW_SECONDS (60),
    /// INSTAVERSE_NOTIFY_DEDUPE_SECONDS (3600), INSTAVERSE_NOTIFY_PAIR_LIMIT (20) and
    /// INSTAVERSE_NOTIFY_PAIR_WINDOW_SECONDS (3600).
    public static func load(from config: Config = .fromProcess()) throws -> WriteLimits {
        var limits = WriteLimits()
        for item in config.list("INSTAVERSE_WRITE_LIMITS") {
            let parts = item.split(separator: "=", maxSplits: 1).map { String($0).trimmingCharacters(in: " ") }
            guard parts.count == 2, let kind = WriteKind(rawValue: parts[0]), let n = Int(parts[1]), n >= 1 else {
                throw ServiceConfigError(variable: "INSTAVERSE_WRITE_LIMITS",
                                         problem: "'\(item)' is not kind=count (kinds: likes, comments, follows, mentions; count ≥ 1)")
            }
            limits.perWindow[kind] = n
        }
        limits.windowSeconds = try config.int("INSTAVERSE_WRITE_LIMIT_WINDOW_SECONDS", default: 60, range: 1...86400)
        limits.dedupeSeconds = try config.int("INSTAVERSE_NOTIFY_DEDUPE_SECONDS", default: 3600, range: 0...(30 * 86400))
        limits.pairLimit = try config.int("INSTAVERSE_NOTIFY_PAIR_LIMIT", default: 20, range: 1...1_000_000)
        limits.pairWindowSeconds = try config.int("INSTAVERSE_NOTIFY_PAIR_WINDOW_SECONDS", default: 3600, range: 1...(30 * 86400))
        return limits
    }

    public static func migration(version: Int64) -> Migration {
        Migration(version, "write_limits", """
            CREATE TABLE write_counts (
                user_id bigint NOT NULL,
                kind text NOT NULL,
                window_start timestamptz NOT NULL,
                count integer NOT NULL,
                PRIMARY KEY (user_id, kind, window_start)
            );
            CREATE TABLE notified (
                kind text NOT NULL,
                actor_id bigint NOT NULL,
                recipient_id bigint NOT NULL,
                object_id bigint NOT NULL,
                at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (kind, actor_id, recipient_id, object_id)
            );
            CREATE INDEX notified_at ON notified (at);
            """)
    }

    /// The per-pair notification counters (3. above); after `migration`.
    public static func pairMigration(version: Int64) -> Migration {
        Migration(version, "notify_pairs", """
            CREATE TABLE notify_pairs (
                actor_id bigint NOT NULL,
                recipient_id bigint NOT NULL,
                window_start timestamptz NOT NULL,
                count integer NOT NULL,
                PRIMARY KEY (actor_id, recipient_id, window_start)
            );
            """)
    }

    /// A write over its limit; the transaction that charged it rolls back.
    public struct Exceeded: Error, CustomStringConvertible {
        public let kind: WriteKind
        public let retryAfter: Int
        public var description: String { "too many \(kind.rawValue), retry after \(retryAfter) s" }
    }

    /// Runs `body` in a transaction; when it throws `Exceeded` (from `charge`) everything rolls
    /// back and the answer is 429 with Retry-After. On a pool worker.
    public func transaction(_ connection: PGConnection, _ body: (PGConnection) throws -> Reply) throws -> Reply {
        try refusing { try connection.transaction(body) }
    }

    /// Runs `body`; `Exceeded` thrown from it is 429 with Retry-After. A `charge` made outside a
    /// transaction stays counted (an attempt that is charged first counts even when refused).
    public func refusing(_ body: () throws -> Reply) throws -> Reply {
        do {
            return try body()
        } catch let exceeded as Exceeded {
            return WriteLimits.tooMany(exceeded)
        }
    }

    /// Counts `amount` writes of `kind` by `userId` in the current window; throws `Exceeded`
    /// when that takes the window over the limit. Inside the write's transaction.
    public func charge(_ tx: PGConnection, userId: Int64, _ kind: WriteKind, amount: Int = 1) throws {
        guard amount > 0, let limit = perWindow[kind] else { return }
        let row = try tx.query("""
            INSERT INTO write_counts (user_id, kind, window_start, count)
            VALUES ($1, $2, to_timestamp(floor(extract(epoch FROM now()) / $3) * $3), $4)
            ON CONFLICT (user_id, kind, window_start) DO UPDATE SET count = write_counts.count + EXCLUDED.count
            RETURNING count, ceil(extract(epoch FROM window_start + make_interval(secs => $3) - now()))::bigint
            """, [.int(userId), .text(kind.rawValue), .int(Int64(windowSeconds)), .int(Int64(amount))])[0]
        if try row.int64(0) > Int64(limit) {
            throw Exceeded(kind: kind, retryAfter: max(1, Int(try row.int64(1))))
        }
    }

    /// Appends the event unless the same (type, actor, recipient, object) was notified within
    /// `dedupeSeconds`, or the actor already notified the recipient `pairLimit` times in this
    /// pair window (a duplicate does not count toward that cap). Returns whether it was
    /// appended. Inside the write's transaction.
    @discardableResult
    public func notifyOnce(_ tx: PGConnection, _ type: EventType, actor: EventActor, recipientId: Int64,
                           objectId: Int64, data: EventData) throws -> Bool {
        let fresh = try tx.query("""
            INSERT INTO notified (kind, actor_id, recipient_id, object_id) VALUES ($1, $2, $3, $4)
            ON CONFLICT (kind, actor_id, recipient_id, object_id) DO UPDATE SET at = now()
                WHERE notified.at <= now() - make_interval(secs => $5)
            RETURNING 1
            """, [.text(type.rawValue), .int(actor.id), .int(recipientId), .int(objectId), .int(Int64(dedupeSeconds))])
        guard !fresh.isEmpty else { return false }
        let pair = try tx.query("""
            INSERT INTO notify_pairs (actor_id, recipient_id, window_start, count)
            VALUES ($1, $2, to_timestamp(floor(extract(epoch FROM now()) / $3) * $3), 1)
            ON CONFLICT (actor_id, recipient_id, window_start) DO UPDATE SET count = notify_pairs.count + 1
            RETURNING count
            """, [.int(actor.id), .int(recipientId), .int(Int64(pairWindowSeconds))])[0].int64(0)
        guard pair <= Int64(pairLimit) else { return false }
        try EventOutbox.append(tx, type, actor: actor, recipientId: recipientId, data: data)
        return true
    }

    /// Deletes counters of past windows and dedupe keys past their window.
    public func prune(_ connection: PGConnection) throws {
        try connection.execute("DELETE FROM notify_pairs WHERE window_start < now() - make_interval(secs => $1)",
                               [.int(Int64(pairWindowSeconds))])
        try connection.execute("DELETE FROM write_counts WHERE window_start < now() - make_interval(secs => $1)",
                               [.int(Int64(windowSeconds))])
        try connection.execute("DELETE FROM notified WHERE at < now() - make_interval(secs => $1)",
                               [.int(Int64(dedupeSeconds))])
    }

    /// The maintenance job running `prune` every minute.
    public var maintenance: MaintenanceJob {
        let limits = self
        return MaintenanceJob(name: "prune write counters and notification keys", interval: .seconds(60)) { conn in
            try limits.prune(conn)
        }
    }

    static func tooMany(_ exceeded: Exceeded) -> Reply {
        .error(.tooManyRequests("too many \(exceeded.kind.rawValue) for now, retry later", retryAfter: exceeded.retryAfter))
    }
}
