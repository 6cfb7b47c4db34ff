// NotificationMapper: pure, no servers.
import Testing
import Events
import NotifyCore
import Store

struct MapperTests {
    let alice = EventActor(id: 42, username: "alice")
    let at = "2026-11-25T04:00:00.123Z"
    let atMs: Int64 = 1_795_579_200_123

    func event(_ type: EventType, recipient: Int64?, data: EventData, actor: EventActor? = nil) -> Event {
        Event(id: EventID.random(), type: type, occurredAt: at, actor: actor ?? alice, recipientId: recipient, data: data)
    }

    func notification(_ m: NotificationMapping) -> NewNotification? {
        if case let .notify(n) = m { n } else { nil }
    }

    @Test func likeCommentFollowMention() throws {
        let like = event(.postLiked, recipient: 7, data: EventData(postId: 991, postOwnerId: 7))
        let l = try #require(notification(NotificationMapper.map(like, receivedAtMs: 0)))
        #expect(l == NewNotification(eventId: like.id, userId: 7, kind: .like, actorId: 42, actorUsername: "alice",
                                     postId: 991, commentId: nil, text: "alice liked your post", createdAt: atMs))

        let comment = event(.postCommented, recipient: 7, data: EventData(postId: 991, commentId: 5, postOwnerId: 7, excerpt: "nice shot"))
        let c = try #require(notification(NotificationMapper.map(comment, receivedAtMs: 0)))
        #expect(c.kind == .comment && c.userId == 7 && c.postId == 991 && c.commentId == 5)
        #expect(c.text == "alice commented: nice shot")

        let follow = event(.userFollowed, recipient: 9, data: EventData(followerId: 42, followeeId: 9))
        let f = try #require(notification(NotificationMapper.map(follow, receivedAtMs: 0)))
        #expect(f.kind == .newFollower && f.userId == 9 && f.postId == nil && f.text == "alice started following you")

        let mention = event(.userMentioned, recipient: 11, data: EventData(postId: 3, commentId: 4, mentionedUserId: 11))
        let m = try #require(notification(NotificationMapper.map(mention, receivedAtMs: 0)))
        #expect(m.kind == .mention && m.userId == 11 && m.postId == 3 && m.commentId == 4 && m.text == "alice mentioned you")
        let inPost = event(.userMentioned, recipient: 11, data: EventData(postId: 3, mentionedUserId: 11))
        #expect(notification(NotificationMapper.map(inPost, receivedAtMs: 0))?.commentId == nil)
    }

    @Test func recipientFallsBackToTheTypesField() throws {
        let like = event(.postLiked, recipient: nil, data: EventData(postId: 1, postOwnerId: 8))
        #expect(notification(NotificationMapper.map(like, receivedAtMs: 0))?.userId == 8)
        let follow = event(.userFollowed, recipient: nil, data: EventData(followerId: 42, followeeId: 12))
        #expect(notification(NotificationMapper.map(follow, receivedAtMs: 0))?.userId == 12)
    }

    @Test func noNotificationToTheActorExceptWelcome() throws {
        let selfLike = event(.postLiked, recipient: 42, data: EventData(postId: 1, postOwnerId: 42))
        #expect(NotificationMapper.map(selfLike, receivedAtMs: 0) == .ignore)
        let selfMention = event(.userMentioned, recipient: 42, data: EventData(postId: 1, mentionedUserId: 42))
        #expect(NotificationMapper.map(selfMention, receivedAtMs: 0) == .ignore)
        let selfComment = event(.postCommented, recipient: 42, data: EventData(postId: 1, commentId: 2, postOwnerId: 42, excerpt: "x"))
        #expect(NotificationMapper.map(selfComment, receivedAtMs: 0) == .ignore)

        let bob = EventActor(id: 77, username: "bob")
        let welcome = event(.userRegistered, recipient: 77, data: EventData(userId: 77, username: "bob"), actor: bob)
        let w = try #require(notification(NotificationMapper.map(welcome, receivedAtMs: 0)))
        #expect(w.kind == .welcome && w.userId == 77 && w.actorId == 77 && w.text == "Welcome to Instaverse, bob!")
    }

    @Test func deletionAndIgnoredTypes() {
        let deleted = event(.userDeleted, recipient: nil, data: EventData(userId: 5))
        #expect(NotificationMapper.map(deleted, receivedAtMs: 0) == .deleteUser(5))
        for type in [EventType.userProfileUpdated, .postCreated, .postUpdated, .postDeleted] {
            let e = event(type, recipient: nil, data: EventData(userId: 42, changed: ["bio"], postId: 1))
            #expect(NotificationMapper.map(e, receivedAtMs: 0) == .ignore)
        }
        #expect(Set(NotificationMapper.handledTypes.map(\.routingKey)) == Set(NotificationPipelineConfig.bindingKeys))
        #expect(NotificationPipelineConfig.bindingKeys.count == 6)
    }

    @Test func timestamps() {
        #expect(NotificationMapper.timestampMillis("1970-01-01T00:00:00Z") == 0)
        #expect(NotificationMapper.timestampMillis("1970-01-01T00:00:01.5Z") == 1500)
        #expect(NotificationMapper.timestampMillis("2000-03-01T00:00:00.000Z") == 951_868_800_000)
        #expect(NotificationMapper.timestampMillis("2024-02-29T23:59:59.999Z") == 1_709_251_199_999)
        #expect(NotificationMapper.timestampMillis(at) == atMs)
        #expect(NotificationMapper.timestampMillis("2026-11-25T04:00:00.123456Z") == atMs)
        for bad in ["2026-13-25T04:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25 04:00:00Z", "2026-11-25T04:00:00.Z",
                    "2026-11-25T04:00:00", "", "x"] {
            #expect(NotificationMapper.timestampMillis(bad) == nil, "\(bad)")
        }
        // A shape-valid but impossible time falls back to the receive time.
        let odd = Event(id: EventID.random(), type: .postLiked, occurredAt: "2026-13-45T04:00:00Z", actor: alice,
                        recipientId: 7, data: EventData(postId: 1, postOwnerId: 7))
        #expect(notification(NotificationMapper.map(odd, receivedAtMs: 1234))?.createdAt == 1234)
    }
}

struct MetricsTests {
    @Test func prometheusText() {
        let m = NotifyMetrics()
        m.eventsConsumed.add(3, ordering: .relaxed)
        m.notificationsDelivered.add(2, ordering: .relaxed)
        m.sessions.store(5, ordering: .relaxed)
        m.storeBatchLatency.observe(micros: 800)
        m.storeBatchLatency.observe(micros: 4000)
        m.storeBatchLatency.observe(micros: 3_000_000)
        let text = m.renderPrometheus()
        #expect(text.contains("# TYPE notifyd_events_consumed_total counter\nnotifyd_events_consumed_total 3\n"))
        #expect(text.contains("notifyd_notifications_delivered_total 2\n"))
        #expect(text.contains("# TYPE notifyd_sessions gauge\nnotifyd_sessions 5\n"))
        #expect(text.contains("# TYPE notifyd_store_batch_seconds histogram\n"))
        #expect(text.contains("notifyd_store_batch_seconds_bucket{le=\"0.001\"} 1\n"))
        #expect(text.contains("notifyd_store_batch_seconds_bucket{le=\"0.0025\"} 1\n"))
        #expect(text.contains("notifyd_store_batch_seconds_bucket{le=\"0.005\"} 2\n"))
        #expect(text.contains("notifyd_store_batch_seconds_bucket{le=\"2.5\"} 2\n"))
        #expect(text.contains("notifyd_store_batch_seconds_bucket{le=\"+Inf\"} 3\n"))
        #expect(text.contains("notifyd_store_batch_seconds_sum 3.0048\n"))
        #expect(text.contains("notifyd_store_batch_seconds_count 3\n"))
        // Every sample line belongs to a family announced by HELP and TYPE.
        let lines = text.split(separator: "\n")
        let types = Set(lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] })
        let helps = Set(lines.filter { $0.hasPrefix("# HELP ") }.map { $0.split(separator: " ")[2] })
        #expect(types == helps)
        for sample in lines where !sample.hasPrefix("#") {
            let name = sample.split(separator: " ")[0].split(separator: "{")[0]
            let family = types.contains(name) ? name : Substring(name.replacing(/_(bucket|sum|count)$/, with: ""))
            #expect(types.contains(family), "\(sample)")
        }
    }
}
