// Review of issue 12 in social: the per-pair notification cap, attempts on made-up posts
// charged before the lookup, the backfill of the copy of posts, and a NUL in a comment over
// HTTP.
import Foundation
import Testing
import Events
import PG
import ServiceKit
import TestSupport

extension ServicesTests {
    @Suite struct SocialFloods {
        /// One actor cannot fill one recipient's feed: past the pair cap the comments are
        /// stored but notify nobody; another actor still notifies the same recipient.
        @Test func thePairCapStopsNotificationsButNotComments() throws {
            let cap = 3
            let s = try RunningService(try socialService(limits: WriteLimits(pairLimit: cap)), name: "social")
            defer { s.stop() }
            let owner: Int64 = 9, flooder: Int64 = 5, other: Int64 = 6, post: Int64 = 1
            try s.knowPost(post, owner: owner)
            for n in 0...cap {
                #expect(try s.request("POST", "/social/comments/\(post)", token: token(flooder), json: #"{"text":"c\#(n)"}"#).status == 201)
            }
            #expect(try s.database.query("SELECT count(*) FROM comments WHERE user_id = $1", [.int(flooder)])[0].int64(0) == Int64(cap + 1))
            #expect(try s.outboxEvents().filter { $0.actor.id == flooder }.map(\.type) == Array(repeating: .postCommented, count: cap))
            // A like is another kind, but the same pair: capped too.
            #expect(try s.request("POST", "/social/likes/\(post)", token: token(flooder)).status == 201)
            #expect(try s.outboxEvents().filter { $0.actor.id == flooder }.count == cap)
            #expect(try s.request("POST", "/social/comments/\(post)", token: token(other), json: #"{"text":"hi"}"#).status == 201)
            #expect(try s.outboxEvents().filter { $0.actor.id == other }.map(\.recipientId) == [owner])
        }

        /// Caption mentions in story-service count toward the same kind of cap: the posts are
        /// stored, the mention past the cap notifies nobody.
        @Test func captionMentionsPastThePairCapAreStoredWithoutEvent() throws {
            let story = try RunningService(StoryService(limits: WriteLimits(pairLimit: 1)), name: "story")
            defer { story.stop() }
            _ = try story.database.query("INSERT INTO known_users (id, username) VALUES (10, 'ann')")
            #expect(try story.request("POST", "/stories", token: token(5), json: #"{"caption":"hi @ann"}"#).status == 201)
            #expect(try story.request("POST", "/stories", token: token(5), json: #"{"caption":"again @ann"}"#).status == 201)
            #expect(try story.database.query("SELECT count(*) FROM posts")[0].int64(0) == 2)
            #expect(try story.outboxEvents().filter { $0.type == .userMentioned }.map(\.recipientId) == [10])
        }

        /// Likes on post ids nobody created: each attempt counts against the likes limit even
        /// though it is a 404, so the loop ends in 429 (and no longer asks story-service); the
        /// 404s are not remembered (the ids may be created later).
        @Test func likesOnMadeUpPostsEndIn429() throws {
            let story = try RunningService(StoryService(), name: "story")
            defer { story.stop() }
            let limit = 3
            let s = try RunningService(try socialService(storyPort: story.port,
                                                         limits: WriteLimits(perWindow: [.likes: limit], windowSeconds: 3600)),
                                       name: "social")
            defer { s.stop() }
            for id in 0..<limit {
                #expect(try s.request("POST", "/social/likes/\(900_001 + id)", token: token(5)).status == 404)
            }
            let over = try s.request("POST", "/social/likes/\(900_001 + limit)", token: token(5))
            #expect(over.status == 429)
            #expect(Int(over.header("Retry-After") ?? "") ?? 0 >= 1)
            #expect(over.json["error"]?.stringValue == "too_many_requests")
            #expect(try s.database.query("SELECT count(*) FROM posts")[0].int64(0) == 0)
        }

        /// Rows on posts the copy does not know: story's 404 removes them, story's answer fills
        /// the copy (and a post of a user social knows is deleted is marked deleted, its rows
        /// removed). With story-service down the run fails and removes nothing.
        @Test func theBackfillFillsTheCopyOrRemovesRowsOfGonePosts() throws {
            let story = try RunningService(StoryService(), name: "story")
            defer { story.stop() }
            let definition = try socialService(storyPort: story.port)
            let s = try RunningService(definition, name: "social")
            defer { s.stop() }
            let kept = try story.newStory(by: 40), ofDeleted = try story.newStory(by: 42), gone: Int64 = 777_777
            _ = try s.database.query("INSERT INTO deleted_users (id) VALUES (42)")
            for post in [kept, ofDeleted, gone] {
                _ = try s.database.query("INSERT INTO likes (post_id, user_id) VALUES ($1, 41)", [.int(post)])
                _ = try s.database.query("INSERT INTO comments (post_id, user_id, text) VALUES ($1, 41, 'old')", [.int(post)])
                _ = try s.database.query("INSERT INTO shares (post_id, user_id, platform) VALUES ($1, 41, 'x')", [.int(post)])
            }
            let rowsOn = { (post: Int64) throws -> Int64 in
                try s.database.query("""
                    SELECT (SELECT count(*) FROM likes WHERE post_id = $1) + (SELECT count(*) FROM comments WHERE post_id = $1)
                         + (SELECT count(*) FROM shares WHERE post_id = $1)
                    """, [.int(post)])[0].int64(0)
            }

            let down = try socialService()
            let conn = try PGConnection(url: s.database.url)
            #expect(throws: (any Error).self) { try down.postBackfill.work(conn) }
            #expect(try rowsOn(gone) == 3)

            try definition.postBackfill.work(conn)
            #expect(try rowsOn(kept) == 3)
            #expect(try rowsOn(ofDeleted) == 0)
            #expect(try rowsOn(gone) == 0)
            let copy = try s.database.query("SELECT id, owner_id, deleted FROM posts ORDER BY id")
                .map { [try $0.int64(0), try $0.int64(1), try $0.bool(2) ? 1 : 0] }
            #expect(copy == [[kept, 40, 0], [ofDeleted, 42, 1]])
        }

        /// A NUL in a comment's text, sent to the route on a real post: 400 naming `text`,
        /// nothing stored, nothing published.
        @Test func aNulInACommentIs400NamingText() throws {
            let s = try RunningService(try socialService(), name: "social")
            defer { s.stop() }
            try s.knowPost(1, owner: 2)
            let r = try s.request("POST", "/social/comments/1", token: token(3), json: #"{"text":"a\u0000b"}"#)
            #expect(r.status == 400)
            #expect(r.json["error"]?.stringValue == "bad_request")
            #expect(r.json["message"]?.stringValue?.hasPrefix("text ") == true, "\(r.text)")
            #expect(try s.database.query("SELECT (SELECT count(*) FROM comments) + (SELECT count(*) FROM outbox)")[0].int64(0) == 0)
        }
    }
}
