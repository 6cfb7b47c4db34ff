// GET /metrics on each service (route patterns, statuses, latency, outbox, consumer), and
// refusals logged once, without tokens.
import Foundation
import Testing
import AMQP
import Events
import TestSupport
import Tokens
@testable import ServiceKit

extension ServicesTests {
    @Suite struct Metrics {
        /// The value of the sample line that starts with `series` (name and labels), or nil.
        func sample(_ text: String, _ series: String) -> Double? {
            for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
                return Double(line.dropFirst(series.count + 1))
            }
            return nil
        }

        @Test func familiesExistAndCountersMove() throws {
            let s = try RunningService(try socialService(), name: "social", amqp: true)
            defer { s.stop() }
            let before = try s.request("GET", "/metrics")
            #expect(before.status == 200)
            #expect(before.header("Content-Type")?.hasPrefix("text/plain") == true)
            for family in ["instaverse_social_http_requests_total", "instaverse_social_http_request_seconds",
                           "instaverse_social_outbox_pending", "instaverse_social_outbox_oldest_pending_seconds",
                           "instaverse_social_outbox_published_total", "instaverse_social_consumer_lag_seconds",
                           "instaverse_social_consumer_pending_events", "instaverse_social_consumer_events_applied_total",
                           "instaverse_social_database_up"] {
                #expect(before.text.contains("# TYPE \(family) "), "missing \(family)")
            }
            let route = #"instaverse_social_http_requests_total{route="/social/followers/:userId",method="GET",status="200"}"#
            #expect(sample(before.text, route) == nil)
            let count = sample(before.text, "instaverse_social_http_request_seconds_count") ?? -1

            #expect(try s.request("GET", "/social/followers/41").status == 200)
            #expect(try s.request("GET", "/social/followers/42").status == 200)
            #expect(try s.request("POST", "/social/follows/9").status == 401)
            #expect(try s.request("GET", "/no/such/route").status == 404)
            // Made-up methods share one label: a client cannot grow the registry.
            for made in ["FOO1", "FOO2", "BAR"] { _ = try s.request(made, "/social/followers/41") }

            let after = try s.request("GET", "/metrics").text
            #expect(sample(after, route) == 2, "the pattern, not the raw path, labels the requests")
            #expect(!after.contains("/social/followers/41"))
            #expect(sample(after, #"instaverse_social_http_requests_total{route="/social/follows/:userId",method="POST",status="401"}"#) == 1)
            #expect(sample(after, #"instaverse_social_http_requests_total{route="unmatched",method="GET",status="404"}"#) == 1)
            #expect(!after.contains("FOO1") && !after.contains("BAR"), "a made-up method became a label")
            #expect(after.contains(#"method="other""#))
            #expect((sample(after, "instaverse_social_http_request_seconds_count") ?? 0) >= count + 3)
            #expect(sample(after, "instaverse_social_database_up") == 1)
            #expect(sample(after, "instaverse_social_outbox_pending") != nil)
        }

        @Test func consumerCountersMoveWithAppliedEvents() throws {
            let s = try RunningService(StoryService(), name: "story", amqp: true)
            defer { s.stop() }
            let publisher = AMQPPublisher(config: try AMQPPublisherConfig(url: try Servers.amqpURL()))
            defer { publisher.close() }
            let name = "m" + String(EventID.random().prefix(8)).replacingOccurrences(of: "-", with: "")
            let applied = "instaverse_story_consumer_events_applied_total"
            #expect(sample(try s.request("GET", "/metrics").text, applied) == 0)
            // Publish until one is applied (the queue may not be bound at the first publish).
            #expect(try eventually(seconds: 30) {
                _ = try publisher.publish([OutgoingMessage(event: Event.make(
                    .userRegistered, actor: EventActor(id: 901, username: name), recipientId: 901,
                    data: EventData(userId: 901, username: name)))])
                return (sample(try s.request("GET", "/metrics").text, applied) ?? 0) >= 1
            })
            // Once everything delivered is applied, nothing is pending and the lag is zero.
            #expect(try eventually {
                let text = try s.request("GET", "/metrics").text
                return sample(text, "instaverse_story_consumer_pending_events") == 0
                    && sample(text, "instaverse_story_consumer_lag_seconds") == 0
            })
        }

        @Test func everyServiceServesMetrics() throws {
            for (definition, name) in [(AuthService() as any ServiceDefinition, "auth"), (StoryService(), "story")] {
                let s = try RunningService(definition, name: name)
                defer { s.stop() }
                _ = try s.request("GET", "/healthz")
                let text = try s.request("GET", "/metrics").text
                #expect(text.contains(#"instaverse_\#(name)_http_requests_total{route="/healthz",method="GET",status="200"} 1"#),
                        "\(name): \(text)")
            }
        }

        @Test func aRefusalIsLoggedOnceWithoutItsToken() throws {
            let log = LogCapture()
            defer { log.remove() }
            let s = try RunningService(StoryService(), name: "story", configure: log.configure)
            defer { s.stop() }
            // A token signed with another key: refused, and the token must not reach the log.
            let foreignKey = try JWTKey(kid: "test1", secret: Array("another-secret-0123456789abcdefghij".utf8))
            let foreign = Authenticator(keys: try JWTKeySet(current: foreignKey)).issue(userId: 5, role: "user", ttl: 600)
            let refused = try s.request("POST", "/stories?access_token=\(foreign)", token: foreign, json: #"{"caption":"x"}"#)
            #expect(refused.status == 401)
            let forbidden = try s.request("DELETE", "/stories/77", token: token(5))
            #expect(forbidden.status == 404)
            // A refusal by the HTTP layer itself (the body is over the route's 32 KiB).
            let big = try s.request("PUT", "/stories/78", token: token(5), body: [UInt8](repeating: 0x20, count: 40_000))
            #expect(big.status == 413)
            #expect(big.json["error"]?.stringValue == "content_too_large")

            let lines = log.lines
            let refusals = lines.filter { $0.contains("refused POST /stories") }
            #expect(refusals.count == 1, "\(lines)")
            #expect(refusals.first?.contains(" info ") == true)
            #expect(refusals.first?.contains("401 bad_signature") == true, "\(refusals)")
            #expect(lines.filter { $0.contains("refused DELETE /stories/:id: 404") }.count == 1, "\(lines)")
            #expect(lines.filter { $0.contains("refused PUT /stories/78: 413 content_too_large") }.count == 1, "\(lines)")
            let signature = String(foreign.split(separator: ".").last ?? "")
            #expect(!lines.contains { $0.contains(foreign) || $0.contains(signature) || $0.contains("eyJ") }, "\(lines)")
        }
    }
}
