// Issue 12, items 1 and 2: social knows its posts (owner from its copy or from story-service,
// never from the client), refuses deleted users, limits writes and notifies once.
import Foundation
import Testing
import AMQP
import Events
import PG
import ServiceKit
import TestSupport

extension ServicesTests {
    @Suite struct SocialPosts {
        /// A client using the seed's endpoints as listed (a like with no body, a comment with
        /// only its text) on a post story-service created a moment ago: social has not consumed
        /// post.created (no broker here), asks story-service, and notifies the real owner.
        @Test func seedStyleLikeAndCommentReachTheOwnerThroughTheSynchronousLookup() throws {
            let story = try RunningService(StoryService(), name: "story")
            defer { story.stop() }
            let s = try RunningService(try socialService(storyPort: story.port), name: "social")
            defer { s.stop() }
            let owner: Int64 = 7, fan: Int64 = 8
            let post = try story.newStory(by: owner)
            #expect(try s.request("POST", "/social/likes/\(post)", token: token(fan)).status == 201)
            #expect(try s.request("POST", "/social/comments/\(post)", token: token(fan), json: #"{"text":"lovely"}"#).status == 201)
            let events = try s.outboxEvents()
            #expect(events.map(\.type) == [.postLiked, .postCommented])
            #expect(events.allSatisfy { $0.recipientId == owner && $0.data.postOwnerId == owner && $0.actor.id == fan })
            // The answer is kept: the copy now knows the post.
            #expect(try s.database.query("SELECT owner_id FROM posts WHERE id = $1", [.int(post)])[0].int64(0) == owner)
        }

        /// A `postOwnerId` in a body decides nothing: the notification goes to the real owner,
        /// and a commenter naming itself the owner cannot delete others' comments.
        @Test func aSpoofedPostOwnerIsIgnored() throws {
            let s = try RunningService(try socialService(), name: "social")
            defer { s.stop() }
            let owner: Int64 = 20, spoofer: Int64 = 21, other: Int64 = 22, post: Int64 = 300
            try s.knowPost(post, owner: owner)
            #expect(try s.request("POST", "/social/likes/\(post)", token: token(spoofer), json: #"{"postOwnerId":\#(other)}"#).status == 201)
            let mine = try s.request("POST", "/social/comments/\(post)", token: token(spoofer),
                                     json: #"{"text":"your account is locked","postOwnerId":\#(spoofer)}"#)
            #expect(mine.status == 201)
            let theirs = try s.request("POST", "/social/comments/\(post)", token: token(other), json: #"{"text":"hi","postOwnerId":\#(spoofer)}"#)
            let theirsId = try #require(theirs.json["id"]?.intValue)
            let events = try s.outboxEvents()
            #expect(events.count == 3)
            #expect(events.allSatisfy { $0.recipientId == owner && $0.data.postOwnerId == owner })
            #expect(try s.request("DELETE", "/social/comments/\(theirsId)", token: token(spoofer)).status == 403)
            #expect(try s.request("DELETE", "/social/comments/\(theirsId)", token: token(owner)).status == 204)
        }

        /// Rows written before the copy of posts carried a client-chosen owner: after the
        /// migration that owner has no say, the copy's does.
        @Test func theMigrationTakesLegacyOwnersAway() throws {
            let legacy = try Array(socialService().migrations.prefix(3))
            let s = try RunningService(try socialService(), name: "social") { config in
                guard let conn = try? PGConnection(url: config.databaseURL),
                      (try? Migrations.apply(legacy, on: conn)) != nil else { return }
                _ = try? conn.execute("INSERT INTO comments (id, post_id, user_id, post_owner_id, text) VALUES (1, 900, 4, 3, 'old')")
            }
            defer { s.stop() }
            #expect(try s.database.query("SELECT count(*) FROM comments")[0].int64(0) == 1)
            try s.knowPost(900, owner: 2)
            #expect(try s.request("DELETE", "/social/comments/1", token: token(3)).status == 403)
            #expect(try s.request("DELETE", "/social/comments/1", token: token(2)).status == 204)
        }

        /// A post story-service does not know, or one the copy knows is deleted, is 404
        /// `post_not_found`, and nothing is written or published.
        @Test func aLikeOnAMissingPostIs404AndPublishesNothing() throws {
            let story = try RunningService(StoryService(), name: "story")
            defer { story.stop() }
            let s = try RunningService(try socialService(storyPort: story.port), name: "social")
            defer { s.stop() }
            let missing = try s.request("POST", "/social/likes/987654", token: token(1))
            #expect(missing.status == 404)
            #expect(missing.json["error"]?.stringValue == "post_not_found")
            #expect(try s.request("POST", "/social/comments/987654", token: token(1), json: #"{"text":"x"}"#).status == 404)
            _ = try s.database.query("INSERT INTO posts (id, owner_id, deleted) VALUES (55, 2, true)")
            #expect(try s.request("POST", "/social/likes/55", token: token(1)).status == 404)
            #expect(try s.database.query("SELECT (SELECT count(*) FROM likes) + (SELECT count(*) FROM comments) + (SELECT count(*) FROM outbox)")[0].int64(0) == 0)
        }

        /// story-service refusing connections, or never answering, is 503 with Retry-After
        /// (within the lookup's timeout), and nothing is written.
        @Test func storyDownOrSilentIs503WithRetryAfter() throws {
            let refused = try RunningService(try socialService(), name: "social")
            defer { refused.stop() }
            let down = try refused.request("POST", "/social/likes/12", token: token(1))
            #expect(down.status == 503)
            #expect(Int(down.header("Retry-After") ?? "") ?? 0 >= 1)
            #expect(down.json["error"]?.stringValue == "story_unavailable")

            let silent = try SilentListener()
            defer { silent.close() }
            let s = try RunningService(try socialService(storyPort: silent.port, timeout: .milliseconds(300)), name: "social")
            defer { s.stop() }
            let slow = try s.request("POST", "/social/comments/12", token: token(1), json: #"{"text":"hello"}"#)
            #expect(slow.status == 503)
            #expect(Int(slow.header("Retry-After") ?? "") ?? 0 >= 1)
            #expect(try s.database.query("SELECT count(*) FROM comments")[0].int64(0) == 0)
        }

        /// The copy is fed by post.created and post.deleted from the broker: with story-service
        /// stopped, a post it announced can be liked, and one it deleted is 404.
        @Test func theCopyIsFedByPostEvents() throws {
            let story = try RunningService(StoryService(), name: "story", amqp: true)
            var storyRunning = true
            defer { if storyRunning { story.stop() } }
            let s = try RunningService(try socialService(), name: "social", amqp: true)
            defer { s.stop() }
            #expect(try s.waitUntilConsuming())
            let kept = try story.newStory(by: 31), gone = try story.newStory(by: 31)
            #expect(try story.request("DELETE", "/stories/\(gone)", token: token(31)).status == 204)
            #expect(eventually {
                (try? s.database.query("SELECT count(*) FILTER (WHERE deleted) FROM posts WHERE id IN ($1, $2)",
                                       [.int(kept), .int(gone)])[0].int64(0)) == 1
            })
            story.stop()
            storyRunning = false
            #expect(try s.request("POST", "/social/likes/\(kept)", token: token(32)).status == 201)
            #expect(try s.request("POST", "/social/likes/\(gone)", token: token(32)).status == 404)
            #expect(try s.outboxEvents().map(\.recipientId) == [31])
        }

        /// follow / unfollow / follow and like / unlike / like notify once each.
        @Test func repeatedCyclesNotifyOnce() throws {
            let s = try RunningService(try socialService(), name: "social")
            defer { s.stop() }
            try s.knowPost(400, owner: 2)
            for _ in 0..<3 {
                #expect(try s.request("POST", "/social/follows/2", token: token(1)).status == 201)
                #expect(try s.request("DELETE", "/social/follows/2", token: token(1)).status == 204)
                #expect(try s.request("POST", "/social/likes/400", token: token(1)).status == 201)
                #expect(try s.request("DELETE", "/social/likes/400/1", token: token(1)).status == 204)
            }
            #expect(try s.outboxEvents().map(\.type) == [.userFollowed, .postLiked])
            // Another actor is another key.
            #expect(try s.request("POST", "/social/follows/2", token: token(3)).status == 201)
            #expect(try s.outboxEvents().filter { $0.type == .userFollowed }.map(\.actor.id) == [1, 3])
        }

        /// Over a per-user limit: 429 with Retry-After, nothing written; other users unaffected.
        @Test func writesOverTheLimitAre429AndWriteNothing() throws {
            let limits = WriteLimits(perWindow: [.likes: 2, .comments: 2, .follows: 1, .mentions: 1], windowSeconds: 3600)
            let s = try RunningService(try socialService(limits: limits), name: "social")
            defer { s.stop() }
            for post: Int64 in 1...3 { try s.knowPost(post, owner: 9) }
            _ = try s.database.query("INSERT INTO known_users (id, username) VALUES (10, 'ann'), (11, 'ben')")
            #expect(try s.request("POST", "/social/likes/1", token: token(5)).status == 201)
            #expect(try s.request("POST", "/social/likes/2", token: token(5)).status == 201)
            let over = try s.request("POST", "/social/likes/3", token: token(5))
            #expect(over.status == 429)
            #expect(Int(over.header("Retry-After") ?? "") ?? 0 >= 1)
            #expect(over.json["error"]?.stringValue == "too_many_requests")
            #expect(try s.request("POST", "/social/likes/3", token: token(6)).status == 201)
            #expect(try s.request("POST", "/social/follows/9", token: token(5)).status == 201)
            #expect(try s.request("POST", "/social/follows/8", token: token(5)).status == 429)
            // Two mentions in one comment are two against a limit of one: the comment is refused
            // whole (its attempt still counts against the comments limit).
            #expect(try s.request("POST", "/social/comments/1", token: token(5), json: #"{"text":"@ann @ben"}"#).status == 429)
            #expect(try s.request("POST", "/social/comments/1", token: token(5), json: #"{"text":"@ann"}"#).status == 201)
            #expect(try s.request("POST", "/social/comments/2", token: token(5), json: #"{"text":"plain"}"#).status == 429)
            #expect(try s.database.query("SELECT count(*) FROM likes WHERE user_id = 5")[0].int64(0) == 2)
            #expect(try s.database.query("SELECT count(*) FROM follows WHERE follower_id = 5")[0].int64(0) == 1)
            #expect(try s.database.query("SELECT count(*) FROM comments WHERE user_id = 5")[0].int64(0) == 1)
            #expect(try s.outboxEvents().filter { $0.actor.id == 5 }.map(\.type)
                    == [.postLiked, .postLiked, .userFollowed, .postCommented, .userMentioned])
        }

        /// Caption mentions in story-service count against the mentions limit too.
        @Test func captionMentionsAreLimited() throws {
            let story = try RunningService(StoryService(limits: WriteLimits(perWindow: [.mentions: 1], windowSeconds: 3600)), name: "story")
            defer { story.stop() }
            _ = try story.database.query("INSERT INTO known_users (id, username) VALUES (10, 'ann'), (11, 'ben')")
            #expect(try story.request("POST", "/stories", token: token(5), json: #"{"caption":"hi @ann @ben"}"#).status == 429)
            #expect(try story.request("POST", "/stories", token: token(5), json: #"{"caption":"hi @ann"}"#).status == 201)
            #expect(try story.database.query("SELECT count(*) FROM posts")[0].int64(0) == 1)
        }

        /// Once social and story consumed user.deleted, the user's unexpired token writes
        /// nothing on their own ports (401 user_deleted); another user still can.
        @Test func aDeletedUsersTokenIsRefusedForWrites() throws {
            let story = try RunningService(StoryService(), name: "story", amqp: true)
            defer { story.stop() }
            let s = try RunningService(try socialService(storyPort: story.port), name: "social", amqp: true)
            defer { s.stop() }
            let gone: Int64 = 70, alive: Int64 = 71
            let post = try story.newStory(by: alive)
            let publisher = AMQPPublisher(config: try AMQPPublisherConfig(url: try Servers.amqpURL()))
            defer { publisher.close() }
            let deleted = Event.make(.userDeleted, actor: EventActor(id: gone, username: "gone"), recipientId: nil, data: EventData(userId: gone))
            // The services' queues may still be binding: the deletion is published again (its
            // apply is idempotent) until both refuse a write that changes nothing otherwise.
            #expect(eventually(poll: 0.2) {
                _ = try? publisher.publish([OutgoingMessage(event: deleted)])
                return (try? s.request("DELETE", "/social/follows/\(alive)", token: token(gone)))?.status == 401
                    && (try? story.request("PUT", "/stories/999999", token: token(gone), json: #"{"caption":"x"}"#))?.status == 401
            })
            #expect(try s.request("POST", "/social/likes/\(post)", token: token(gone)).status == 401)
            let refused = try s.request("POST", "/social/follows/\(alive)", token: token(gone))
            #expect(refused.status == 401)
            #expect(refused.json["error"]?.stringValue == "user_deleted")
            #expect(try story.request("POST", "/stories", token: token(gone), json: #"{"caption":"late"}"#).status == 401)
            #expect(try story.request("DELETE", "/stories/\(post)", token: token(gone)).status == 401)
            #expect(try s.request("POST", "/social/likes/\(post)", token: token(alive)).status == 201)
            #expect(try s.database.query("SELECT count(*) FROM likes WHERE user_id = $1", [.int(gone)])[0].int64(0) == 0)
        }
    }
}

/// A TCP listener that never accepts or answers: a peer that connects and waits gets nothing.
final class SilentListener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0, listen(fd, 16) == 0 else { throw TestFailure("listen: errno \(errno)") }
        var size = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &size) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Foundation.close(fd) }
}
