// social-service in tests: its story-service (a real one in-process, or a port nobody
// answers on) and its copy of posts.
import Foundation
import Testing
import AMQP
import Events
import PG
import ServiceKit
import TestSupport

/// A loopback port with no listener: lookups there are refused at once.
let noStoryPort = 1

/// social-service asking story-service on `storyPort`.
func socialService(storyPort: Int = noStoryPort, timeout: Duration = .seconds(2),
                   limits: WriteLimits = WriteLimits()) throws -> SocialService {
    SocialService(options: SocialOptions(story: try StoryClient(url: "http://127.0.0.1:\(storyPort)", timeout: timeout),
                                         limits: limits))
}

extension RunningService {
    /// Puts a post into social's copy, as consuming its post.created would.
    func knowPost(_ id: Int64, owner: Int64) throws {
        _ = try database.query("INSERT INTO posts (id, owner_id) VALUES ($1, $2)", [.int(id), .int(owner)])
    }

    /// A new story by `owner` (on a story-service), its id.
    func newStory(by owner: Int64, caption: String = "a story") throws -> Int64 {
        let reply = try request("POST", "/stories", token: token(owner), json: #"{"caption":"\#(caption)"}"#)
        guard reply.status == 201, let id = reply.json["id"]?.intValue else { throw TestFailure("story: \(reply.status) \(reply.text)") }
        return Int64(id)
    }

    /// The events in the outbox, decoded, oldest first.
    func outboxEvents() throws -> [Event] {
        try database.query("SELECT payload FROM outbox ORDER BY id").map { try Event.decode(try $0.bytes(0)) }
    }
}

extension RunningService {
    /// Waits until the service's queue is bound and consumed: a user.registered probe is
    /// published (again every 0.2 s; applying it is idempotent) until the users copy has it.
    /// Events published before that could find no queue and be dropped.
    func waitUntilConsuming() throws -> Bool {
        let publisher = AMQPPublisher(config: try AMQPPublisherConfig(url: try Servers.amqpURL()))
        defer { publisher.close() }
        let id = Int64.random(in: 1_000_000...9_000_000)
        let name = "probe\(id)"
        let probe = Event.make(.userRegistered, actor: EventActor(id: id, username: name), recipientId: id,
                               data: EventData(userId: id, username: name))
        return eventually(poll: 0.2) {
            _ = try? publisher.publish([OutgoingMessage(event: probe)])
            return (try? database.query("SELECT 1 FROM known_users WHERE id = $1", [.int(id)]).isEmpty) == false
        }
    }
}
