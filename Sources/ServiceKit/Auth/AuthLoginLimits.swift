// Failed-login limits of auth-service, in the login_failures table (so they hold across
// restarts and instances).
//
// Every attempt first inserts a row, as if it failed, then checks the password; a success
// deletes the rows of its (email, client IP). The check and the insert run in one
// transaction under a per-email advisory lock, so concurrent attempts cannot all pass the
// check before any of them counted. A refused attempt (429) inserts nothing, so hammering a
// locked pair does not extend its lock or push the email toward the per-email limit.
//
// Two limits: `perClient` failures of one email from one client IP (the real owner, on
// another address, is not locked out by a guesser), and a larger `perEmail` from all
// addresses together, against guessing spread over many addresses.
import HTTP1
import PG
import Web

struct LoginLimits: Sendable {
    var perClient: Int
    var perEmail: Int
    var windowSeconds: Int

    enum Attempt: Sendable {
        /// Counted (as a failure until `succeeded`) as row `attemptId`; check the password.
        case admitted(attemptId: Int64)
        /// Over a limit; retry after that many seconds (≥ 1).
        case limited(retryAfter: Int)
    }

    /// Checks both limits and, when under them, records this attempt as a failure.
    /// On a pool worker.
    func begin(_ conn: PGConnection, email: String, client: String) throws -> Attempt {
        try conn.transaction { tx in
            _ = try tx.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 7243))", [.text(email)])
            // Per scope: the failures in the window, and the seconds until its oldest one
            // leaves the window (then one more attempt is admitted).
            let row = try tx.query("""
                SELECT count(*) FILTER (WHERE ip = $2), count(*),
                       COALESCE(ceil(extract(epoch FROM min(at) FILTER (WHERE ip = $2)
                                             + make_interval(secs => $3) - now()))::bigint, 0),
                       COALESCE(ceil(extract(epoch FROM min(at) + make_interval(secs => $3) - now()))::bigint, 0)
                FROM login_failures WHERE email = $1 AND at > now() - make_interval(secs => $3)
                """, [.text(email), .text(client), .int(Int64(windowSeconds))])[0]
            let fromClient = try row.int64(0), fromAll = try row.int64(1)
            if fromClient >= perClient { return .limited(retryAfter: max(1, Int(try row.int64(2)))) }
            if fromAll >= perEmail { return .limited(retryAfter: max(1, Int(try row.int64(3)))) }
            let id = try tx.query("INSERT INTO login_failures (email, ip) VALUES ($1, $2) RETURNING id",
                                  [.text(email), .text(client)])[0].int64(0)
            return .admitted(attemptId: id)
        }
    }

    /// The password matched: forget this pair's failures (the per-email count of other
    /// addresses stays).
    func succeeded(_ conn: PGConnection, email: String, client: String) throws {
        try conn.execute("DELETE FROM login_failures WHERE email = $1 AND ip = $2", [.text(email), .text(client)])
    }

    /// The attempt was never checked (the CPU pool was full): it does not count.
    func cancel(_ conn: PGConnection, attemptId: Int64) throws {
        try conn.execute("DELETE FROM login_failures WHERE id = $1", [.int(attemptId)])
    }

    /// What the database step of a login decided.
    enum Step: Sendable {
        case refused(Reply)
        case verify(Candidate)
    }

    /// An admitted attempt: its failure row and the user (nil for an unknown email).
    struct Candidate: Sendable {
        struct User: Sendable {
            var id: Int64
            var role: String
            /// The user object as JSON (written from the row on the worker).
            var json: [UInt8]
            var passwordHash: String
        }
        var attemptId: Int64
        var user: User?
    }

    /// Deletes rows older than the window (the maintenance timer).
    static func prune(_ conn: PGConnection, windowSeconds: Int) throws {
        try conn.execute("DELETE FROM login_failures WHERE at < now() - make_interval(secs => $1)",
                         [.int(Int64(windowSeconds))])
    }

    static func tooMany(retryAfter: Int) -> Reply {
        .error(.tooManyRequests("too many failed logins, try again later", retryAfter: retryAfter))
    }
}
