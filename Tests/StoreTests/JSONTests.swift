// The wire JSON of a notification: exact bytes, escaping, dates.
import Testing
import Store

@Suite struct NotificationJSONTests {
    @Test func matchesTheArchitectureExample() {
        let n = Notification(id: 123, eventId: "x", userId: 7, kind: .like, actorId: 42, actorUsername: "alice", postId: 991,
                             commentId: nil, text: "alice liked your post", createdAt: 1_795_579_200_123)
        #expect(String(decoding: n.json, as: UTF8.self) ==
            #"{"id":123,"kind":"LIKE_NOTIFICATION","actor":{"id":42,"username":"alice"},"postId":991,"commentId":null,"text":"alice liked your post","createdAt":"2026-11-25T04:00:00.123Z","read":false}"#)
        var read = n
        read.readAt = 1
        read.postId = nil
        read.commentId = -5
        #expect(String(decoding: read.json, as: UTF8.self).hasSuffix(#""postId":null,"commentId":-5,"text":"alice liked your post","createdAt":"2026-11-25T04:00:00.123Z","read":true}"#))
    }

    @Test func escapesStrings() {
        var out: [UInt8] = []
        JSONOut.string("a\"b\\c\nd\re\tf\u{1}\u{1F}é😀</", &out)
        #expect(String(decoding: out, as: UTF8.self) == #""a\"b\\c\nd\re\tf\u0001\u001fé😀</""#)
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (Int64(-1), "1969-12-31T23:59:59.999Z"),
        (Int64(951_782_400_000), "2000-02-29T00:00:00.000Z"),
        (Int64(1_709_251_199_999), "2024-02-29T23:59:59.999Z"),
        (Int64(4_102_444_800_000), "2100-01-01T00:00:00.000Z"),
        (Int64(253_402_300_799_999), "9999-12-31T23:59:59.999Z"),
        (Int64.max, "9999-12-31T23:59:59.999Z"),
    ])
    func formatsISO8601(milliseconds: Int64, expected: String) {
        var out: [UInt8] = []
        JSONOut.iso8601(milliseconds: milliseconds, &out)
        #expect(String(decoding: out, as: UTF8.self) == expected)
    }

    @Test func writesIntegers() {
        for value: Int64 in [0, 7, -7, 1_234_567_890, .max, .min] {
            var out: [UInt8] = []
            JSONOut.int(value, &out)
            #expect(String(decoding: out, as: UTF8.self) == String(value))
        }
    }
}
