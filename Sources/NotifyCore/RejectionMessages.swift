// The `message` of notifyd's JSON errors: one sentence telling the client what to do, keyed by
// the stable `error` name. The message is for people; clients branch on `error`.
import HTTP1

enum RejectionMessages {
    static let byName: [String: String] = [
        "missing_token": "send a token in an Authorization: Bearer header or the bearer.<jwt> subprotocol",
        "token_in_url": "send the token in an Authorization header or the bearer.<jwt> subprotocol",
        "expired": "the token has expired: log in again or refresh it",
        "not_yet_valid": "the token is not valid yet: check the client's clock",
        "bad_signature": "the token's signature does not verify: log in again",
        "unsupported_alg": "the token must be signed with HS256: log in again",
        "unknown_kid": "the token was signed with a key this server does not know: log in again",
        "malformed": "the token is not a JWT: log in again",
        "too_large": "the token is too large",
        "missing_claim": "the token lacks a required claim: log in again",
        "bad_subject": "the token's subject is not a user id: log in again",
        "user_deleted": "this account has been deleted",
        "forbidden": "a token may only be used for its own user's notifications",
        "origin_not_allowed": "this page's origin may not open a session",
        "bad_user_id": "userId must be a positive decimal user id",
        "bad_since": "since must be a non-negative notification id",
        "bad_limit": "limit must be between 1 and 100",
        "bad_before": "before must be a positive notification id",
        "bad_unread": "unread must be true, false, 1 or 0",
        "too_many_connections": "this user has too many open sessions: close one, or retry later",
        "shutting_down": "the server is restarting: reconnect after Retry-After seconds",
        "busy": "the server is busy: retry after Retry-After seconds",
        "store_unavailable": "the notification store is unavailable: retry after Retry-After seconds",
        "not_found": "no such resource",
    ]

    /// The message for `error`, or a generic one naming the status.
    static func message(for error: String, status: HTTPStatus) -> String {
        byName[error] ?? "request refused (\(status.code))"
    }
}
