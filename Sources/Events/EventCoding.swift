// The JSON form of an event (docs/events.md): `encode()` writes it by hand (no failure path,
// one allocation), `Event.decode(_:)` reads it with JSONDecoder and then checks the contract.
//
// Decoding is at the edge (one call per consumed message, on the consumer's thread or a
// worker), so Foundation is acceptable there; encoding stays Foundation-free.
import Foundation

extension Event {
    /// Largest accepted body. A larger message is rejected before parsing.
    public static let maxBodyBytes = 64 * 1024
    /// Limits on string fields, in UTF-8 bytes.
    public static let maxUsernameBytes = 64
    public static let maxExcerptBytes = 1024
    public static let maxCaptionBytes = 4096
    public static let maxChangedFields = 32

    /// The UTF-8 JSON body. Nil data fields are omitted.
    public func encode() -> [UInt8] {
        var w = JSONWriter()
        w.raw("{\"id\":"); w.string(id)
        w.raw(",\"type\":"); w.string(type.rawValue)
        w.raw(",\"occurredAt\":"); w.string(occurredAt)
        w.raw(",\"actor\":{\"id\":"); w.int(actor.id)
        w.raw(",\"username\":"); w.string(actor.username)
        w.raw("}")
        if let recipientId { w.raw(",\"recipientId\":"); w.int(recipientId) }
        w.raw(",\"data\":{")
        var first = true
        func key(_ k: EventData.Field) {
            if !first { w.raw(",") }
            first = false
            w.string(k.rawValue)
            w.raw(":")
        }
        if let v = data.userId { key(.userId); w.int(v) }
        if let v = data.username { key(.username); w.string(v) }
        if let v = data.changed {
            key(.changed)
            w.raw("[")
            for (i, s) in v.enumerated() {
                if i > 0 { w.raw(",") }
                w.string(s)
            }
            w.raw("]")
        }
        if let v = data.postId { key(.postId); w.int(v) }
        if let v = data.commentId { key(.commentId); w.int(v) }
        if let v = data.postOwnerId { key(.postOwnerId); w.int(v) }
        if let v = data.followerId { key(.followerId); w.int(v) }
        if let v = data.followeeId { key(.followeeId); w.int(v) }
        if let v = data.mentionedUserId { key(.mentionedUserId); w.int(v) }
        if let v = data.excerpt { key(.excerpt); w.string(v) }
        if let v = data.caption { key(.caption); w.string(v) }
        w.raw("}}")
        return w.bytes
    }

    /// Parses and checks a body: size, JSON shape, a canonical UUID id, a known type, an
    /// ISO-8601 `occurredAt`, the actor, the type's required data fields and recipient, and
    /// the string limits. Unknown extra fields are ignored (publishers may add fields first).
    public static func decode(_ bytes: some Collection<UInt8>) throws(EventDecodeError) -> Event {
        guard bytes.count <= maxBodyBytes else { throw .tooLarge(bytes: bytes.count, limit: maxBodyBytes) }
        let wire: WireEvent
        do {
            wire = try JSONDecoder().decode(WireEvent.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw .invalidJSON(describe(error))
        } catch {
            throw .invalidJSON("\(error)")
        }
        return try wire.validated()
    }
}

private func describe(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        let p = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return p.isEmpty ? "" : "at \(p): "
    }
    switch error {
    case let .typeMismatch(_, c): return path(c) + c.debugDescription
    case let .valueNotFound(_, c): return path(c) + c.debugDescription
    case let .keyNotFound(k, c): return path(c) + "no key \(k.stringValue)"
    case let .dataCorrupted(c): return path(c) + c.debugDescription
    @unknown default: return "\(error)"
    }
}

// Every field optional so that absence is reported by `validated()` with the contract's
// words rather than by JSONDecoder's.
private struct WireEvent: Decodable {
    struct Actor: Decodable { var id: Int64?; var username: String? }
    struct Data: Decodable {
        var userId: Int64?, username: String?, changed: [String]?, postId: Int64?, commentId: Int64?
        var postOwnerId: Int64?, followerId: Int64?, followeeId: Int64?, mentionedUserId: Int64?
        var excerpt: String?, caption: String?
    }
    var id: String?
    var type: String?
    var occurredAt: String?
    var actor: Actor?
    var recipientId: Int64?
    var data: Data?

    /// Checks that the required members are present and builds the Event; the contract's
    /// value checks are `Event.validate()`, shared with publishers.
    func validated() throws(EventDecodeError) -> Event {
        guard let id else { throw .missingField("id") }
        guard EventID.isValid(id) else { throw .invalidField("id", reason: "not a canonical UUID") }
        guard let rawType = type else { throw .missingField("type") }
        guard let type = EventType(rawValue: rawType) else { throw .unknownType(rawType) }
        guard let occurredAt else { throw .missingField("occurredAt") }
        guard let actor else { throw .missingField("actor") }
        guard let actorId = actor.id else { throw .missingField("actor.id") }
        guard let username = actor.username else { throw .missingField("actor.username") }
        guard let d = data else { throw .missingField("data") }
        let eventData = EventData(userId: d.userId, username: d.username, changed: d.changed, postId: d.postId,
                                  commentId: d.commentId, postOwnerId: d.postOwnerId, followerId: d.followerId,
                                  followeeId: d.followeeId, mentionedUserId: d.mentionedUserId,
                                  excerpt: d.excerpt, caption: d.caption)
        let event = Event(id: id, type: type, occurredAt: occurredAt, actor: EventActor(id: actorId, username: username),
                          recipientId: recipientId, data: eventData)
        try event.validate()
        return event
    }
}

extension Event {
    /// The contract's checks on values, the same ones `decode` applies after parsing: a
    /// canonical UUID id, an ISO-8601 `occurredAt`, usernames of 1-64 bytes, the type's
    /// required data fields and recipient, and the byte limits of excerpt, caption and
    /// changed. Publishers call it before writing an event to their outbox, so an event
    /// notifyd would dead-letter fails when it is written instead.
    public func validate() throws(EventDecodeError) {
        guard EventID.isValid(id) else { throw .invalidField("id", reason: "not a canonical UUID") }
        guard isTimestamp(occurredAt) else {
            throw .invalidField("occurredAt", reason: "not an ISO-8601 UTC time like 2026-11-25T04:00:00.123Z")
        }
        try checkUsername(actor.username, path: "actor.username")
        for field in type.requiredDataFields where !data.has(field) {
            throw .missingField("data.\(field.rawValue)")
        }
        if type.requiresRecipient && recipientId == nil { throw .missingField("recipientId") }
        if let u = data.username { try checkUsername(u, path: "data.username") }
        if let e = data.excerpt, e.utf8.count > Event.maxExcerptBytes {
            throw .invalidField("data.excerpt", reason: "longer than \(Event.maxExcerptBytes) bytes")
        }
        if let c = data.caption, c.utf8.count > Event.maxCaptionBytes {
            throw .invalidField("data.caption", reason: "longer than \(Event.maxCaptionBytes) bytes")
        }
        if let c = data.changed, c.count > Event.maxChangedFields {
            throw .invalidField("data.changed", reason: "more than \(Event.maxChangedFields) entries")
        }
    }

    /// The longest prefix of `text` that has at most `maxCharacters` characters and
    /// `maxBytes` UTF-8 bytes, cut on a Character boundary (never inside an emoji or a
    /// combining sequence). When `text` had to be cut and `ellipsis` is set, the prefix ends
    /// with "…" (counted in both limits).
    public static func clip(_ text: String, maxBytes: Int, maxCharacters: Int = .max, ellipsis: Bool = false) -> String {
        var characters = 0
        for _ in text {
            characters += 1
            if characters > maxCharacters { break }
        }
        if characters <= maxCharacters && text.utf8.count <= maxBytes { return text }
        let mark = ellipsis ? "…" : ""
        let byteBudget = maxBytes - mark.utf8.count
        let characterBudget = maxCharacters == .max ? .max : maxCharacters - mark.count
        var out = ""
        var bytes = 0, count = 0
        for character in text {
            let size = character.utf8.count
            if bytes + size > byteBudget || count + 1 > characterBudget { break }
            out.append(character)
            bytes += size
            count += 1
        }
        return out + mark
    }
}

private func checkUsername(_ u: String, path: String) throws(EventDecodeError) {
    guard !u.isEmpty else { throw .invalidField(path, reason: "empty") }
    guard u.utf8.count <= Event.maxUsernameBytes else {
        throw .invalidField(path, reason: "longer than \(Event.maxUsernameBytes) bytes")
    }
}

/// YYYY-MM-DDTHH:MM:SS, optional fraction, then Z: the shape EventClock writes.
private func isTimestamp(_ s: String) -> Bool {
    let u = Array(s.utf8)
    guard u.count >= 20, u.count <= 35, u.last == UInt8(ascii: "Z") else { return false }
    let shape = Array("dddd-dd-ddTdd:dd:dd".utf8)
    for (i, c) in shape.enumerated() {
        if c == UInt8(ascii: "d") {
            guard u[i] >= 48 && u[i] <= 57 else { return false }
        } else if u[i] != c {
            return false
        }
    }
    let rest = u[19..<(u.count - 1)]
    if rest.isEmpty { return true }
    guard rest.first == UInt8(ascii: "."), rest.count >= 2 else { return false }
    return rest.dropFirst().allSatisfy { $0 >= 48 && $0 <= 57 }
}

/// Appends JSON tokens to one byte buffer.
private struct JSONWriter {
    var bytes: [UInt8] = []

    init() { bytes.reserveCapacity(256) }

    mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func int(_ v: Int64) { bytes.append(contentsOf: String(v).utf8) }

    mutating func string(_ s: String) {
        let hex: StaticString = "0123456789abcdef"
        bytes.append(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\\")); bytes.append(c)
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(c)
            case 0x0A: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
            case 0..<0x20:
                bytes.append(contentsOf: "\\u00".utf8)
                hex.withUTF8Buffer { h in
                    bytes.append(h[Int(c >> 4)])
                    bytes.append(h[Int(c & 0x0F)])
                }
            default: bytes.append(c)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
