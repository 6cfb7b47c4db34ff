// The answer to a request refused for now, that the client should retry later: 429 (a limit)
// or 503 (a dependency down), in the errors' JSON shape, with Retry-After.
import HTTP1
import Web

extension Reply {
    /// `{"error": code, "message": text}` with Retry-After when given: the shape of a refusal
    /// the client should retry (429, 503).
    public static func refusal(_ status: HTTPStatus, error code: String, message: String, retryAfter: Int? = nil) -> Reply {
        var w = JSONWriter()
        w.beginObject()
        w.member("error", code)
        w.member("message", message)
        w.endObject()
        return .json(status, w, headers: retryAfter.map { ["Retry-After": String($0)] } ?? [:])
    }
}
