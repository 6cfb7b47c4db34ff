// The connect backlog fits a byte budget: a user with hundreds of large unread notifications
// is not closed as a slow consumer by its own backlog.
import Testing
import Store
import NotifyCore

@Suite struct BacklogBudgetTests {
    func notes(_ count: Int, textBytes: Int) -> [Store.Notification] {
        (1...count).map { i in
            Store.Notification(id: Int64(i), eventId: "e\(i)", userId: 7, kind: .comment, actorId: 9, actorUsername: "alice",
                               postId: Int64(i), commentId: nil, text: String(repeating: "é", count: textBytes / 2),
                               createdAt: 1_700_000_000_000, deliveredAt: nil, readAt: nil)
        }
    }

    @Test func anUnreadBacklogKeepsTheNewestThatFit() {
        let all = notes(500, textBytes: 1200)
        let (frame, kept) = ServerMessage.backlogFrame(all, unread: 500, more: false, budget: 128 * 1024, keepNewest: true)
        #expect(frame.count <= 128 * 1024 + 16)
        #expect(kept.count > 50 && kept.count < 500)
        #expect(kept.last?.id == 500)            // the newest is there
        #expect(kept.first?.id == Int64(500 - kept.count + 1))
        let text = frame.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        #expect(text.hasSuffix(#""more":true}"#))
    }

    @Test func aSinceBacklogKeepsTheOldestSoTheCursorMovesOn() {
        let all = notes(300, textBytes: 1200)
        let (_, kept) = ServerMessage.backlogFrame(all, unread: 300, more: false, budget: 64 * 1024, keepNewest: false)
        #expect(kept.first?.id == 1)
        #expect(kept.count < 300)
    }

    @Test func aSmallBacklogIsUntouched() {
        let all = notes(10, textBytes: 100)
        let (frame, kept) = ServerMessage.backlogFrame(all, unread: 10, more: false, budget: 128 * 1024, keepNewest: true)
        #expect(kept.count == 10)
        let text = frame.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        #expect(text.hasSuffix(#""more":false}"#))
    }
}
