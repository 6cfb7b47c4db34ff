// Modes 11-14: ServiceKit's pure request validation: the JSON bodies of register, login,
// profile, story and comment; @mentions; image magic bytes; query parameters.
import HTTP1

/// Mode 11: one JSON body through every validator. What a validator accepts holds its
/// documented bounds, and what goes on into events and SQL literals stays within theirs.
func fuzzBodies(_ input: [UInt8]) {
    let body: JSONBody
    do {
        body = try JSONBody(json: input)
    } catch {
        check(error.status.code == 400, "a body error that is not 400")
        return
    }
    if let r = try? RegistrationFields(body) {
        check((3...30).contains(r.username.utf8.count) && r.username.utf8.allSatisfy(Mentions.isWord), "username rule")
        check(Mentions.usernames(in: "@" + r.username) == [r.username], "a username is not a mention of itself")
        check(r.email == r.email.lowercased() && r.email.contains("@") && !r.email.contains(" "), "email rule")
        check((8...128).contains(r.password.count), "password length")
        if let age = r.profile.age { check((13...120).contains(age), "age range") }
        check((r.profile.bio?.count ?? 0) <= 500 && (r.profile.gender?.count ?? 0) <= 32, "profile lengths")
        check(noNul(r.username, r.email, r.password, r.profile.bio, r.profile.gender, r.profile.favoriteStyle),
              "a registration field holds NUL (PostgreSQL refuses it: a 500)")
    }
    if let l = try? LoginFields(body) {
        check(l.password.count <= 128 && l.email.count <= 254, "login lengths")
    }
    if let p = try? ProfileFields(body) {
        check(p.present.allSatisfy { body.object[$0] != nil }, "profile names a field the body lacks")
    }
    if let s = try? StoryFields(body) {
        check(noNul(s.caption, s.category, s.device) && (s.tags ?? []).allSatisfy { noNul($0) },
              "a story field holds NUL")
        if let tags = s.tags {
            check(tags.count <= 20 && Set(tags).count == tags.count, "tag count or duplicates")
            let literal = StoryFields.arrayLiteral(tags)
            check(literal.utf8.allSatisfy { Mentions.isWord($0) || $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "}") },
                  "a tag array literal holds a character that would need quoting")
        }
        if let caption = s.caption {
            check(caption.count <= 2200, "caption length")
            let cut = eventCaption(caption)
            check(cut.utf8.count <= 4096 && caption.utf8.starts(with: cut.utf8), "event caption over 4096 bytes or not a prefix")
            check(Mentions.usernames(in: caption).count <= 10, "more than 10 mentions")
        }
    }
    if let c = try? CommentFields(body) {
        check(!c.text.isEmpty && c.text.count <= 2000, "comment rule")
        check(noNul(c.text), "a comment holds NUL")
        let e = excerpt(c.text)
        check(e.utf8.count <= 1024, "a comment excerpt over the event's 1024-byte limit")
        check(e.count <= 280, "a comment excerpt over 280 characters")
        check(e == c.text || c.text.utf8.starts(with: e.utf8.dropLast(3)), "the excerpt is not the comment's start")
    }
}

/// Mode 12: mentions in any text.
func fuzzMentions(_ input: [UInt8]) {
    let caption = text(input)
    let names = Mentions.usernames(in: caption)
    check(names.count <= 10, "more than the limit")
    var seen: Set<String> = []
    for name in names {
        check((1...30).contains(name.utf8.count) && name.utf8.allSatisfy(Mentions.isWord), "a name outside the username rule")
        check(containsBytes(input, Array(("@" + name).utf8)), "a name not written as @name")
        check(seen.insert(name.lowercased()).inserted, "a name found twice")
    }
    check(Mentions.usernames(in: caption, limit: 1).count <= 1, "limit 1")
    check(excerpt(caption).utf8.count <= 1024 && eventCaption(caption).utf8.count <= 4096, "event text bounds on any text")
}

/// True when none of `texts` holds U+0000.
func noNul(_ texts: String?...) -> Bool {
    texts.allSatisfy { !($0?.utf8.contains(0) ?? false) }
}

/// Mode 14: the query-parameter check every service route runs. Accepted ⇒ every name and
/// value decodes to valid UTF-8 (the lenient decoder, which services read, loses nothing),
/// holds no NUL and is at most 1000 characters. Refused ⇒ a 400.
func fuzzQuery(_ input: [UInt8]) {
    let raw = text(input)
    do {
        try TextField.checkQuery(raw)
    } catch {
        check(error.status.code == 400, "a query refusal that is not 400")
        return
    }
    for part in raw.split(separator: "&", omittingEmptySubsequences: true) {
        let pieces = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        for piece in pieces {
            let strict = PercentDecoding.decodeQueryComponentStrictly(piece)
            check(strict != nil && strict == PercentDecoding.decodeQueryComponent(piece), "accepted text that decodes lossily")
            check(noNul(strict), "accepted a NUL")
        }
        if pieces.count == 2 { check(PercentDecoding.decodeQueryComponent(pieces[1]).count <= 1000, "accepted an over-long value") }
    }
}

/// Mode 13: magic bytes.
func fuzzSniff(_ input: [UInt8]) {
    switch ImageStore.sniff(input) {
    case nil: break
    case "image/jpeg": check(input.starts(with: [0xFF, 0xD8, 0xFF]), "jpeg without its magic")
    case "image/png": check(input.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]), "png without its magic")
    case "image/webp": check(input.count >= 12 && input.starts(with: Array("RIFF".utf8)) && input[8..<12].elementsEqual("WEBP".utf8), "webp")
    default: fatalError("invariant: an unknown media type")
    }
}

/// Byte-wise substring test (String.contains works on characters, and a combining mark after
/// a name makes "@name" no character-level substring although the bytes are there).
func containsBytes(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard needle.count <= haystack.count else { return needle.isEmpty }
    for start in 0...(haystack.count - needle.count) where haystack[start..<(start + needle.count)].elementsEqual(needle) {
        return true
    }
    return false
}
