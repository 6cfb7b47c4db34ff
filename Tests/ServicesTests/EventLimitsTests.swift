// Events written by the services must pass the contract's checks (Event.decode), whatever
// the user typed: long comments of multi-byte characters, long captions.
import Testing
import Events
import PG
import ServiceKit
import TestSupport

extension ServicesTests {
    @Suite struct EventLimits {
        @Test func aCommentOf300EmojiGivesAnEventThatDecodes() throws {
            let s = try RunningService(try socialService(), name: "social")
            defer { s.stop() }
            try s.knowPost(5, owner: 2)
            let text = String(repeating: "😀", count: 300)
            let reply = try s.request("POST", "/social/comments/5", token: token(1), json: #"{"text":"\#(text)"}"#)
            #expect(reply.status == 201)
            let rows = try s.database.query("SELECT payload FROM outbox WHERE routing_key = 'post.commented'")
            let payload = try #require(rows.first).bytes(0)
            let event = try Event.decode(payload)
            let excerpt = try #require(event.data.excerpt)
            #expect(excerpt.utf8.count <= Event.maxExcerptBytes / 2)
            #expect(excerpt.hasSuffix("…"))
            #expect(excerpt.dropLast().allSatisfy { $0 == "😀" })
        }

        @Test func aLongMultiByteCaptionGivesAnEventThatDecodes() throws {
            let s = try RunningService(StoryService(), name: "story")
            defer { s.stop() }
            // 2,000 four-byte characters: 8,000 bytes, within the 2,200-character limit.
            let caption = String(repeating: "🌅", count: 2000)
            #expect(try s.request("POST", "/stories", token: token(1), json: #"{"caption":"\#(caption)"}"#).status == 201)
            let rows = try s.database.query("SELECT payload FROM outbox WHERE routing_key = 'post.created'")
            let event = try Event.decode(try #require(rows.first).bytes(0))
            #expect((event.data.caption?.utf8.count ?? 0) <= Event.maxCaptionBytes)
        }

        @Test func clipCutsOnCharacterBoundaries() {
            #expect(Event.clip("abc", maxBytes: 10) == "abc")
            // "é" as e + combining acute is one Character of 3 bytes: never split.
            let combined = String(repeating: "e\u{301}", count: 10)
            #expect(Event.clip(combined, maxBytes: 7) == String(repeating: "e\u{301}", count: 2))
            #expect(Event.clip("abcdef", maxBytes: 100, maxCharacters: 4, ellipsis: true) == "abc…")
            #expect(Event.clip(String(repeating: "😀", count: 10), maxBytes: 11, ellipsis: true) == "😀😀…")
        }

        @Test func theOutboxRefusesAnEventThatBreaksTheContract() throws {
            let db = try TestDatabase()
            defer { db.drop() }
            let conn = try PGConnection(url: db.url)
            _ = try Migrations.apply([try Outbox.migration(version: 1)], on: conn)
            let bad = Event.make(.postCommented, actor: EventActor(id: 1, username: "alice"), recipientId: 2,
                                 data: EventData(postId: 1, commentId: 1, postOwnerId: 2,
                                                 excerpt: String(repeating: "😀", count: 280)))
            #expect(throws: InvalidEvent.self) { try EventOutbox.append(conn, bad) }
            let noName = Event.make(.userRegistered, actor: EventActor(id: 1, username: ""), recipientId: 1,
                                    data: EventData(userId: 1, username: "x"))
            #expect(throws: InvalidEvent.self) { try EventOutbox.append(conn, noName) }
            #expect(try conn.query("SELECT count(*) FROM outbox")[0].int64(0) == 0)
        }
    }
}
