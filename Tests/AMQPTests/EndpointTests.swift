// URL parsing and backoff: pure, no broker.
import Testing
@testable import AMQP

@Suite struct EndpointTests {
    @Test func parsesTheTestURLWithPercentEncodedVhost() throws {
        let e = try AMQPEndpoint(url: "amqp://guest:guest@127.0.0.1:5673/%2f")
        #expect(e == AMQPEndpoint(host: "127.0.0.1", port: 5673, user: "guest", password: "guest", vhost: "/"))
        let f = try AMQPEndpoint(url: "amqp://us%40er:p%3Ass@broker/prod%2Fevents")
        #expect(f.user == "us@er")
        #expect(f.password == "p:ss")
        #expect(f.port == 5672)
        #expect(f.vhost == "prod/events")
        #expect(try AMQPEndpoint(url: "amqp://h").vhost == "/")
        #expect(try AMQPEndpoint(url: "amqp://[::1]:5679/v").host == "::1")
    }

    @Test func rejectsBadURLsWithoutLeakingThePassword() {
        #expect(throws: AMQPError.self) { try AMQPEndpoint(url: "http://h/") }
        #expect(throws: AMQPError.self) { try AMQPEndpoint(url: "amqp://u:p@h:99999/") }
        #expect(throws: AMQPError.self) { try AMQPEndpoint(url: "amqp://u:p@h/%zz") }
        do {
            _ = try AMQPEndpoint(url: "amqp://u:secret@h:0/")
            Issue.record("port 0 accepted")
        } catch {
            #expect(!error.description.contains("secret"))
        }
    }

    @Test func backoffGrowsIsCappedAndJittered() {
        let min = Duration.milliseconds(100), max = Duration.seconds(2)
        for attempt in 1...12 {
            let d = backoffDelay(attempt: attempt, min: min, max: max)
            let cap = Swift.min(100 * (1 << (attempt - 1)), 2000)
            #expect(d >= .milliseconds(cap / 2) && d <= .milliseconds(cap), "attempt \(attempt): \(d)")
        }
    }
}

/// Found by Fuzz/Edges (mode 8): a combining mark right after '@' made one grapheme with it,
/// so the Character-wise parser read "user:password@..." as host and port and the "bad port"
/// error repeated the password.
@Suite struct EndpointDelimiterTests {
    @Test func aCombiningMarkAfterTheAtSignNeitherHidesItNorLeaksThePassword() {
        let url = "amqp://u:hunter2secret@\u{0747}host/"
        do {
            let e = try AMQPEndpoint(url: url)
            #expect(e.password == "hunter2secret")
            #expect(e.host == "\u{0747}host")
        } catch {
            #expect(!error.description.contains("hunter2secret"))
            Issue.record("refused: \(error)")
        }
        #expect(!redacted("amqp://u:hunter2secret@\u{0301}h:x/").contains("hunter2secret"))
    }

    @Test func aPortIsDigitsOnly() throws {
        #expect(throws: AMQPError.self) { try AMQPEndpoint(url: "amqp://h:+80/") }
        #expect(throws: AMQPError.self) { try AMQPEndpoint(url: "amqp://[::1]:+80/") }
        #expect(try AMQPEndpoint(url: "amqp://h:80/").port == 80)
    }
}
