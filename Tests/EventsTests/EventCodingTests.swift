// The event contract: every type round-trips through its JSON form, and bodies that break
// the contract are rejected with an error naming the problem.
import Testing
import Events

private let actor = EventActor(id: 42, username: "alice")

/// One valid event of each type, with every required field (and some optional ones) set.
func sampleEvent(_ type: EventType) -> Event {
    let data: EventData
    var recipient: Int64? = nil
    switch type {
    case .userRegistered: data = EventData(userId: 7, username: "bob"); recipient = 7
    case .userProfileUpdated: data = EventData(userId: 42, username: "alice2", changed: ["username"])
    case .userDeleted: data = EventData(userId: 42)
    case .postCreated, .postUpdated, .postDeleted:
        data = EventData(postId: 991, caption: "sunset \"at\" the\\beach\n\u{1}🌅")
        return Event.make(type, actor: actor, recipientId: nil, data: EventData(userId: 42, postId: 991, caption: data.caption))
    case .postLiked: data = EventData(postId: 991, postOwnerId: 7); recipient = 7
    case .postCommented: data = EventData(postId: 991, commentId: 5, postOwnerId: 7, excerpt: "nice!"); recipient = 7
    case .userFollowed: data = EventData(followerId: 42, followeeId: 7); recipient = 7
    case .userMentioned: data = EventData(postId: 991, commentId: 3, mentionedUserId: 7); recipient = 7
    }
    return Event.make(type, actor: actor, recipientId: recipient, data: data)
}

private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

@Suite struct EventCodingTests {
    @Test(arguments: EventType.allCases)
    func everyTypeRoundTrips(type: EventType) throws {
        let event = sampleEvent(type)
        let decoded = try Event.decode(event.encode())
        #expect(decoded == event)
        #expect(decoded.type.routingKey == type.rawValue)
    }

    @Test func theArchitectureExampleDecodes() throws {
        let body = #"{ "id": "3f1c2a9e-8b7d-4c3e-9f10-0123456789ab", "type": "post.liked", "occurredAt": "2026-11-25T04:00:00.123Z", "actor": { "id": 42, "username": "alice" }, "recipientId": 7, "data": { "postId": 991, "postOwnerId": 7, "futureField": true } }"#
        let e = try Event.decode(bytes(body))
        #expect(e.type == .postLiked)
        #expect(e.actor == EventActor(id: 42, username: "alice"))
        #expect(e.recipientId == 7)
        #expect(e.data.postId == 991)
        #expect(e.data.postOwnerId == 7)
        #expect(e.occurredAt == "2026-11-25T04:00:00.123Z")
    }

    @Test func idsAreRandomUUIDv4AndTimesAreISO() {
        let a = EventID.random(), b = EventID.random()
        #expect(a != b)
        #expect(EventID.isValid(a))
        let u = Array(a.utf8)
        #expect(u[14] == UInt8(ascii: "4"))
        #expect([UInt8(ascii: "8"), UInt8(ascii: "9"), UInt8(ascii: "a"), UInt8(ascii: "b")].contains(u[19]))
        let now = EventClock.now()
        #expect(now.count == 24)
        #expect(now.hasSuffix("Z"))
    }

    @Test(arguments: EventType.allCases)
    func eachRequiredDataFieldIsChecked(type: EventType) {
        let event = sampleEvent(type)
        for field in type.requiredDataFields {
            var broken = event
            switch field {
            case .userId: broken.data.userId = nil
            case .username: broken.data.username = nil
            case .changed: broken.data.changed = nil
            case .postId: broken.data.postId = nil
            case .commentId: broken.data.commentId = nil
            case .postOwnerId: broken.data.postOwnerId = nil
            case .followerId: broken.data.followerId = nil
            case .followeeId: broken.data.followeeId = nil
            case .mentionedUserId: broken.data.mentionedUserId = nil
            case .excerpt: broken.data.excerpt = nil
            case .caption: broken.data.caption = nil
            }
            #expect(throws: EventDecodeError.missingField("data.\(field.rawValue)")) {
                try Event.decode(broken.encode())
            }
        }
        if type.requiresRecipient {
            var broken = event
            broken.recipientId = nil
            #expect(throws: EventDecodeError.missingField("recipientId")) { try Event.decode(broken.encode()) }
        }
    }

    @Test func missingTopLevelFieldsAreNamed() {
        let good = #""type":"user.deleted","occurredAt":"2026-11-25T04:00:00Z","actor":{"id":1,"username":"a"},"data":{"userId":1}"#
        #expect(throws: EventDecodeError.missingField("id")) { try Event.decode(bytes("{" + good + "}")) }
        let noActorName = #"{"id":"3f1c2a9e-8b7d-4c3e-9f10-0123456789ab","type":"user.deleted","occurredAt":"2026-11-25T04:00:00Z","actor":{"id":1},"data":{"userId":1}}"#
        #expect(throws: EventDecodeError.missingField("actor.username")) { try Event.decode(bytes(noActorName)) }
        let noData = #"{"id":"3f1c2a9e-8b7d-4c3e-9f10-0123456789ab","type":"user.deleted","occurredAt":"2026-11-25T04:00:00Z","actor":{"id":1,"username":"a"}}"#
        #expect(throws: EventDecodeError.missingField("data")) { try Event.decode(bytes(noData)) }
    }

    @Test func badValuesAreRejectedWithReasons() throws {
        let unknown = #"{"id":"3f1c2a9e-8b7d-4c3e-9f10-0123456789ab","type":"post.shared","occurredAt":"2026-11-25T04:00:00Z","actor":{"id":1,"username":"a"},"data":{}}"#
        #expect(throws: EventDecodeError.unknownType("post.shared")) { try Event.decode(bytes(unknown)) }
        var e = sampleEvent(.postLiked)
        e.id = "not-a-uuid"
        #expect(throws: EventDecodeError.invalidField("id", reason: "not a canonical UUID")) { try Event.decode(e.encode()) }
        e = sampleEvent(.postLiked)
        e.occurredAt = "yesterday"
        #expect(throws: (any Error).self) { try Event.decode(e.encode()) }
        e = sampleEvent(.postLiked)
        e.actor.username = String(repeating: "x", count: 65)
        #expect(throws: EventDecodeError.invalidField("actor.username", reason: "longer than 64 bytes")) { try Event.decode(e.encode()) }
        let stringId = #"{"id":"3f1c2a9e-8b7d-4c3e-9f10-0123456789ab","type":"user.deleted","occurredAt":"2026-11-25T04:00:00Z","actor":{"id":"1","username":"a"},"data":{"userId":1}}"#
        do {
            _ = try Event.decode(bytes(stringId))
            Issue.record("a string actor.id was accepted")
        } catch {
            guard case let .invalidJSON(detail) = error else { Issue.record("wrong error \(error)"); return }
            #expect(detail.contains("actor.id"), "detail names the path: \(detail)")
        }
        #expect(throws: (any Error).self) { try Event.decode(bytes("not json")) }
        #expect(throws: (any Error).self) { try Event.decode([UInt8]()) }
        #expect(throws: (any Error).self) { try Event.decode(bytes("[1,2]")) }
    }

    @Test func oversizeBodiesAreRejectedBeforeParsing() throws {
        var e = sampleEvent(.postCommented)
        e.data.caption = String(repeating: "y", count: 70_000)
        let body = e.encode()
        #expect(throws: EventDecodeError.tooLarge(bytes: body.count, limit: 65536)) { try Event.decode(body) }
        let err = EventDecodeError.tooLarge(bytes: body.count, limit: 65536)
        #expect(err.description.contains("65536"))
        e.data.caption = String(repeating: "y", count: 5000)
        #expect(throws: EventDecodeError.invalidField("data.caption", reason: "longer than 4096 bytes")) { try Event.decode(e.encode()) }
    }
}
