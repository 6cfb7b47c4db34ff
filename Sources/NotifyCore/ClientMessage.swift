// What a session's client may send (ARCHITECTURE.md, notifyd), parsed with the HTTP1 JSON
// parser under the client message limit. Pure (HTTP1 only), fuzzed by Fuzz/Edges.
//   {"type":"ack","ids":[1,2]}   delivered (markDelivered)
//   {"type":"read","ids":[1,2]}  read (markRead), the session user's rows only
import HTTP1

/// A parsed client message.
public enum ClientMessage: Equatable, Sendable {
    case ack([Int64])
    case read([Int64])

    /// Most ids one message may carry (a 4 KiB message holds fewer anyway).
    public static let maxIds = 1000

    /// Why a message was refused: the `error` name sent back to the client.
    public struct Invalid: Error, Equatable, Sendable {
        public let name: String
        public init(name: String) { self.name = name }
    }

    /// Parses one text message. Errors: invalid_json, unknown_type, bad_ids.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxBytes: Int) -> Result<ClientMessage, Invalid> {
        guard bytes.count <= maxBytes else { return .failure(Invalid(name: "message_too_large")) }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes, limits: JSONParseLimits(maxDepth: 4, maxBytes: maxBytes))
        } catch {
            return .failure(Invalid(name: "invalid_json"))
        }
        guard case .object = value, let type = value["type"]?.stringValue else {
            return .failure(Invalid(name: "unknown_type"))
        }
        guard type == "ack" || type == "read" else { return .failure(Invalid(name: "unknown_type")) }
        guard let array = value["ids"]?.arrayValue, array.count <= maxIds else { return .failure(Invalid(name: "bad_ids")) }
        var ids: [Int64] = []
        ids.reserveCapacity(array.count)
        for item in array {
            guard let id = item.intValue, id > 0 else { return .failure(Invalid(name: "bad_ids")) }
            ids.append(Int64(id))
        }
        return .success(type == "ack" ? .ack(ids) : .read(ids))
    }
}
