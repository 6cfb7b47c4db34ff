// social-service over real HTTP, with its events relayed to the real RabbitMQ.
import Testing
import Events
import ServiceKit
import TestSupport

extension ServicesTests {
    @Suite struct Social {
        @Test func likeIsIdempotentAndItsEventReachesTheBrokerWithTheOwnerAsRecipient() throws {
            let recorder = try EventRecorder(keys: [.postLiked])
            defer { recorder.stop() }
            #expect(eventually { recorder.isConnected })
            let story = try RunningService(StoryService(), name: "story")
            defer { story.stop() }
            let s = try RunningService(try socialService(storyPort: story.port), name: "social", amqp: true)
            defer { s.stop() }
            let liker: Int64 = 11, owner: Int64 = 22
            let post = try story.newStory(by: owner)
            // The seed's client: no body at all.
            let first = try s.request("POST", "/social/likes/\(post)", token: token(liker))
            #expect(first.status == 201)
            let again = try s.request("POST", "/social/likes/\(post)", token: token(liker), json: "{}")
            #expect(again.status == 200)
            #expect(again.json["likes"]?.intValue == 1)
            #expect(try s.request("GET", "/social/likes/\(post)").json["count"]?.intValue == 1)
            #expect(try s.request("POST", "/social/likes/\(post)").status == 401)

            let outbox = try s.database.query("SELECT routing_key FROM outbox").map { try $0.string(0) }
            #expect(outbox == ["post.liked"])
            #expect(eventually { recorder.received.contains { $0.data.postId == post } })
            let event = try #require(recorder.received.first { $0.data.postId == post })
            #expect(event.type == .postLiked)
            #expect(event.recipientId == owner)
            #expect(event.actor.id == liker)
            #expect(event.data.postOwnerId == owner)
            #expect(eventually { (try? s.database.query("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0].int64(0)) == 0 })

            // Unlike: only the liker (or an admin); then the like is gone.
            #expect(try s.request("DELETE", "/social/likes/\(post)/\(liker)", token: token(owner)).status == 403)
            #expect(try s.request("DELETE", "/social/likes/\(post)/\(liker)", token: token(liker)).status == 204)
            #expect(try s.request("DELETE", "/social/likes/\(post)/\(liker)", token: token(liker)).status == 404)
            // Liking one's own post records it but notifies nobody.
            let own = try story.newStory(by: owner)
            #expect(try s.request("POST", "/social/likes/\(own)", token: token(owner)).status == 201)
            #expect(try s.database.query("SELECT count(*) FROM outbox")[0].int64(0) == 1)
        }

        @Test func commentsAreDeletedOnlyByTheirAuthorOrThePostOwner() throws {
            let s = try RunningService(try socialService(), name: "social")
            defer { s.stop() }
            let author: Int64 = 1, owner: Int64 = 2, stranger: Int64 = 3, post: Int64 = 77
            try s.knowPost(post, owner: owner)
            let c1 = try s.request("POST", "/social/comments/\(post)", token: token(author), json: #"{"text":"nice one"}"#)
            #expect(c1.status == 201)
            let c2 = try s.request("POST", "/social/comments/\(post)", token: token(author), json: #"{"text":"again"}"#)
            let id1 = try #require(c1.json["id"]?.intValue), id2 = try #require(c2.json["id"]?.intValue)
            #expect(try s.request("POST", "/social/comments/\(post)", token: token(author), json: #"{"text":"  "}"#).status == 400)
            #expect(try s.request("GET", "/social/comments/\(post)").json["comments"]?.arrayValue?.count == 2)

            #expect(try s.request("DELETE", "/social/comments/\(id1)", token: token(stranger)).status == 403)
            #expect(try s.request("DELETE", "/social/comments/\(id1)", token: token(owner)).status == 204)
            #expect(try s.request("DELETE", "/social/comments/\(id2)", token: token(author)).status == 204)
            #expect(try s.request("DELETE", "/social/comments/\(id2)", token: token(author)).status == 404)
            #expect(try s.request("GET", "/social/comments/\(post)").json["comments"]?.arrayValue?.count == 0)
            let events = try s.database.query("SELECT routing_key FROM outbox").map { try $0.string(0) }
            #expect(events == ["post.commented", "post.commented"])
        }

        @Test func followUnfollowAndLists() throws {
            let s = try RunningService(try socialService(), name: "social")
            defer { s.stop() }
            #expect(try s.request("POST", "/social/follows/2", token: token(1)).status == 201)
            #expect(try s.request("POST", "/social/follows/2", token: token(1)).status == 200)
            #expect(try s.request("POST", "/social/follows/2", token: token(3)).status == 201)
            #expect(try s.request("POST", "/social/follows/1", token: token(1)).status == 400)
            let followers = try s.request("GET", "/social/followers/2")
            #expect(followers.json["count"]?.intValue == 2)
            #expect(Set(followers.json["followers"]?.arrayValue?.compactMap { $0["id"]?.intValue } ?? []) == [1, 3])
            #expect(try s.request("GET", "/social/following/1").json["following"]?[0]?["id"]?.intValue == 2)
            #expect(try s.request("DELETE", "/social/follows/2", token: token(1)).status == 204)
            #expect(try s.request("DELETE", "/social/follows/2", token: token(1)).status == 404)
            #expect(try s.request("GET", "/social/followers/2").json["count"]?.intValue == 1)
            #expect(try s.request("POST", "/social/share/5", token: token(1), json: #"{"platform":"myspace"}"#).status == 400)
            #expect(try s.request("POST", "/social/share/5", token: token(1), json: #"{"platform":"X"}"#).status == 201)
            let followed = try s.database.query("SELECT count(*) FROM outbox WHERE routing_key = 'user.followed'")[0].int64(0)
            #expect(followed == 2)
        }

        /// Business writes succeed while RabbitMQ is down; every event arrives once it is back.
        /// Runs against a broker of its own: it stops or freezes the broker, which must not
        /// disturb the suites that share the common node meanwhile.
        @Test func theOutboxDrainsAfterTheBrokerReturns() throws {
            let broker = try PrivateBroker()
            defer { broker.shutdown() }
            try broker.use { try theOutboxDrainsAfterTheBrokerReturnsBody(broker) }
        }

        private func theOutboxDrainsAfterTheBrokerReturnsBody(_ broker: PrivateBroker) throws {
            let recorder = try EventRecorder(keys: [.postLiked, .userFollowed])
            defer { recorder.stop() }
            #expect(eventually { recorder.isConnected })
            let s = try RunningService(try socialService(), name: "social", amqp: true)
            defer { s.stop() }
            let posts: [Int64] = [501, 502, 503]
            for post in posts { try s.knowPost(post, owner: 41) }
            #expect(broker.stop())
            var brokerUp = false
            defer { if !brokerUp { broker.start() } }
            for post in posts {
                #expect(try s.request("POST", "/social/likes/\(post)", token: token(40)).status == 201)
            }
            #expect(try s.request("POST", "/social/follows/41", token: token(40)).status == 201)
            let pending = try s.database.query("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0].int64(0)
            #expect(pending == 4)
            #expect(broker.start())
            brokerUp = true
            #expect(eventually(seconds: 60) {
                let got = recorder.received
                return Set(got.compactMap { $0.type == .postLiked ? $0.data.postId : nil }).isSuperset(of: posts)
                    && got.contains { $0.type == .userFollowed && $0.recipientId == 41 }
            }, "received \(recorder.received.map(\.type))")
            #expect(eventually { (try? s.database.query("SELECT count(*) FROM outbox WHERE published_at IS NULL")[0].int64(0)) == 0 })
        }
    }
}
