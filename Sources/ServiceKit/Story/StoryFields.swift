// The body of POST/PUT /stories, validated, and the caption as events carry it: pure
// functions (no database), fuzzed by Fuzz/Edges.
import HTTP1
import Web

/// The caption as the event carries it: at most 4096 bytes, cut on a character boundary.
func eventCaption(_ caption: String) -> String {
    if caption.utf8.count <= 4096 { return caption }
    var out = ""
    for character in caption {
        if out.utf8.count + character.utf8.count > 4096 { break }
        out.append(character)
    }
    return out
}

/// The writable fields of a story, validated.
struct StoryFields: Sendable {
    var caption: String?
    var category: String?
    var device: String?
    /// Lower-cased, without a leading '#', deduplicated; 1-30 of [a-z0-9_] each, at most 20.
    var tags: [String]?

    init(_ body: JSONBody) throws(HTTPError) {
        caption = try body.optionalString("caption", maxLength: 2200)
        category = try body.optionalString("category", maxLength: 50).map { $0.lowercased() }
        device = try body.optionalString("device", maxLength: 100)
        if let raw = try body.optionalStringArray("tags", maxCount: 20, maxLength: 31) {
            var tags: [String] = []
            for entry in raw {
                let tag = String(entry.lowercased().drop { $0 == "#" })
                guard (1...30).contains(tag.utf8.count), tag.utf8.allSatisfy(Mentions.isWord) else {
                    throw HTTPError.badRequest("tags are 1-30 letters, digits or underscores")
                }
                if !tags.contains(tag) { tags.append(tag) }
            }
            self.tags = tags
        }
    }

    /// A PostgreSQL array literal of validated tags (word characters only, so no quoting).
    static func arrayLiteral(_ tags: [String]) -> String { "{" + tags.joined(separator: ",") + "}" }
}
