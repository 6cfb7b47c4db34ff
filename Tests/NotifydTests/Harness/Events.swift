// Tokens and events for the black-box tests.
import Foundation
import Testing
import AMQP
import Events
import TestSupport
import Tokens

enum TestTokens {
    static func key() throws -> JWTKey { try JWTKey(kid: "test1", secret: Array(DaemonLane.secret.utf8)) }

    static func token(user: Int64, expiresIn: Int64 = 3600, notBefore: Int64? = nil) throws -> String {
        let now = Int64(Date().timeIntervalSince1970)
        return JWT.sign(claims: JWTClaims(sub: String(user), iat: now, exp: now + expiresIn, nbf: notBefore.map { now + $0 }),
                        key: try key())
    }

    /// Same kid, another secret: a wrong signature.
    static func forged(user: Int64) throws -> String {
        let now = Int64(Date().timeIntervalSince1970)
        let key = try JWTKey(kid: "test1", secret: Array("a-completely-different-secret-of-40-bytes".utf8))
        return JWT.sign(claims: JWTClaims(sub: String(user), iat: now, exp: now + 3600), key: key)
    }

    /// An unsigned token (alg none).
    static func algNone(user: Int64) -> String {
        func b64(_ s: String) -> String {
            Data(s.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        let exp = Int64(Date().timeIntervalSince1970) + 3600
        return b64(#"{"alg":"none","typ":"JWT","kid":"test1"}"#) + "." + b64(#"{"sub":"\#(user)","exp":\#(exp)}"#) + "."
    }
}

/// Publishes to one lane's exchange, retrying unconfirmed messages until every one is confirmed.
struct EventFeed {
    let publisher: AMQPPublisher

    init(lane: DaemonLane) throws {
        var c = AMQPPublisherConfig(endpoint: try AMQPEndpoint(url: try Servers.amqpURL()))
        c.exchange = lane.exchange
        publisher = AMQPPublisher(config: c)
    }

    func publish(_ messages: [OutgoingMessage], seconds: Double = 120) throws {
        let deadline = TestDeadline(seconds: seconds)
        for start in stride(from: 0, to: messages.count, by: 500) {
            var pending = Array(messages[start..<min(start + 500, messages.count)])
            while !pending.isEmpty {
                guard !deadline.hasPassed else { throw DaemonFailed(message: "\(pending.count) events never confirmed") }
                let outcomes = (try? publisher.publish(pending)) ?? Array(repeating: .unconfirmed, count: pending.count)
                #expect(!outcomes.contains(.unroutable), "an event was unroutable: is the daemon's queue bound?")
                pending = zip(pending, outcomes).filter { $0.1 != .confirmed && $0.1 != .unroutable }.map(\.0)
                if !pending.isEmpty { eventually(seconds: 0.2) { false } }
            }
        }
    }

    func publish(_ events: [Event]) throws { try publish(events.map(OutgoingMessage.init(event:))) }
}

func like(post: Int64, by actor: Int64, owner: Int64) -> Event {
    Event.make(.postLiked, actor: EventActor(id: actor, username: "user\(actor)"), recipientId: owner,
               data: EventData(postId: post, postOwnerId: owner))
}

func comment(post: Int64, by actor: Int64, owner: Int64, excerpt: String) -> Event {
    Event.make(.postCommented, actor: EventActor(id: actor, username: "user\(actor)"), recipientId: owner,
               data: EventData(postId: post, commentId: post * 10, postOwnerId: owner, excerpt: excerpt))
}
