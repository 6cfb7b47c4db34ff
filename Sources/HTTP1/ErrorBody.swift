// The one error body of every Instaverse HTTP answer: `{"error": "<code>", "message": "<text>"}`.
// `error` is a stable snake_case code a client can switch on; `message` is for a person and
// says what to do (for a 400 it names the field). The parser's own errors, the services'
// HTTPError and notifyd's refusals all write it through `ErrorBody.json`.

public enum ErrorBody {
    /// `{"error": code, "message": message}`.
    public static func json(code: String, message: String) -> [UInt8] {
        var w = JSONWriter(capacity: code.utf8.count + message.utf8.count + 32)
        w.beginObject()
        w.member("error", code)
        w.member("message", message)
        w.endObject()
        return w.bytes
    }

    /// True when `text` is a machine code rather than a sentence: 1-64 characters of a-z,
    /// 0-9 and `_`, starting with a letter (`missing_token`, `user_deleted`).
    public static func isCode(_ text: String) -> Bool {
        let u = text.utf8
        guard let first = u.first, (0x61...0x7A).contains(first), u.count <= 64 else { return false }
        return u.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
    }

    /// The human text for a known code; nil for codes that have none (the caller then falls
    /// back to the status's default message).
    public static func standardMessage(for code: String) -> String? {
        switch code {
        case "missing_token": return "send a token in an Authorization: Bearer header or the bearer.<jwt> subprotocol"
        case "token_in_url": return "send the token in an Authorization header or the bearer.<jwt> subprotocol"
        case "malformed", "too_large", "bad_signature", "unknown_kid", "unsupported_alg", "missing_claim", "invalid_token":
            return "the token is not valid: log in again"
        case "expired": return "the token has expired: log in again"
        case "not_yet_valid": return "the token is not valid yet: check the clock"
        case "user_deleted": return "this account was deleted"
        case "forbidden": return "you may not access this resource"
        case "not_found": return "no such resource"
        case "busy", "service_busy": return "the service is busy: retry after Retry-After seconds"
        case "database_unavailable": return "the database is unavailable: retry after Retry-After seconds"
        case "store_unavailable": return "the notification store is unavailable: retry later"
        case "shutting_down": return "the server is shutting down: reconnect shortly"
        case "too_many_connections": return "too many connections: retry later"
        case "bad_subject": return "the token's subject is not a user id: log in again"
        case "origin_not_allowed": return "this Origin may not open a WebSocket"
        case "bad_user_id": return "userId must be a positive integer"
        case "bad_since": return "since must be a notification id (a positive integer)"
        case "bad_before": return "before must be a notification id (a positive integer)"
        case "bad_limit": return "limit must be an integer from 1 to 100"
        case "bad_unread": return "unread must be true or false"
        case "invalid_credentials": return "wrong email or password"
        default: return nil
        }
    }
}

extension HTTPStatus {
    /// The default snake_case code of an error status: its reason phrase in snake case
    /// (`not_found`, `too_many_requests`), except 500 `internal_error`.
    public var errorCode: String {
        if code == 500 { return "internal_error" }
        var out = ""
        for ch in reasonPhrase.lowercased() {
            if ch.isLetter || ch.isNumber { out.append(ch) } else if !out.hasSuffix("_") { out.append("_") }
        }
        return out
    }

    /// A default message for an error status when the caller gave only a code.
    public var defaultErrorMessage: String {
        switch code {
        case 400: return "the request is invalid"
        case 401: return "authentication required: send Authorization: Bearer <token>"
        case 403: return "you may not do this"
        case 404: return "no such resource"
        case 409: return "the request conflicts with the current state"
        case 429: return "too many requests: retry after Retry-After seconds"
        case 500: return "internal error"
        case 503: return "the service is unavailable: retry after Retry-After seconds"
        default: return reasonPhrase
        }
    }
}
