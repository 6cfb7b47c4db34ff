// The body of POST /social/comments/:postId, validated, and the excerpt post.commented
// carries: pure functions (no database), fuzzed by Fuzz/Edges.
import HTTP1
import Web

/// text (1-2000 characters, trimmed). Any other member is ignored: a `postOwnerId` some
/// clients still send decides nothing (the owner comes from social's copy of posts).
struct CommentFields: Sendable {
    var text: String

    init(_ body: JSONBody) throws(HTTPError) {
        text = try body.string("text", maxLength: 2000)
        guard !text.isEmpty else { throw HTTPError.badRequest("text must not be empty") }
    }
}

/// Most characters of an excerpt, the ellipsis included.
let excerptCharacters = 280
/// Most UTF-8 bytes of an excerpt: well under the event contract's limit
/// (Event.maxExcerptBytes, 1024), so a notification stays small.
let excerptBytes = 512

/// The start of a comment for the notification: at most 280 characters and at most 512
/// UTF-8 bytes (what Event.decode accepts; 280 emoji are 1120 bytes), cut on a character
/// boundary, with "…" when something was cut.
func excerpt(_ text: String) -> String {
    if text.count <= excerptCharacters, text.utf8.count <= excerptBytes { return text }
    let ellipsis = "…"
    var out = ""
    var characters = 0
    for character in text {
        if characters + 1 > excerptCharacters - 1 || out.utf8.count + character.utf8.count + ellipsis.utf8.count > excerptBytes { break }
        out.append(character)
        characters += 1
    }
    return out + ellipsis
}
