// The session protocol's JSON (ARCHITECTURE.md, notifyd): server messages written byte by byte
// (a live notification is encoded once per notification, whatever its number of sessions) and
// client messages parsed with the HTTP1 JSON parser under the client message limit.
//
// Server to client:
//   {"type":"backlog","notifications":[...],"unread":N,"more":bool}
//   {"type":"notification","notification":{...}}
//   {"type":"error","error":"<name>"}
// Client to server:
//   {"type":"ack","ids":[1,2]}   delivered (markDelivered)
//   {"type":"read","ids":[1,2]}  read (markRead), the session user's rows only
import HTTP1
import Web
import Store
import WebSocket

public enum ServerMessage {
    /// `{"type":"notification","notification":{...}}` as one text frame.
    public static func notificationFrame(_ n: Notification) -> PreparedFrame {
        var out: [UInt8] = []
        out.reserveCapacity(224 + n.text.utf8.count + n.actorUsername.utf8.count)
        JSONOut.raw(#"{"type":"notification","notification":"#, &out)
        n.writeJSON(into: &out)
        out.append(UInt8(ascii: "}"))
        return frame(out)
    }

    /// `{"type":"backlog","notifications":[...],"unread":N,"more":bool}`, notifications oldest first.
    public static func backlogFrame(_ notifications: [Notification], unread: Int, more: Bool) -> PreparedFrame {
        var out: [UInt8] = []
        out.reserveCapacity(64 + notifications.count * 256)
        JSONOut.raw(#"{"type":"backlog","notifications":["#, &out)
        for (i, n) in notifications.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            n.writeJSON(into: &out)
        }
        JSONOut.raw(#"],"unread":"#, &out)
        JSONOut.int(Int64(unread), &out)
        JSONOut.raw(more ? #","more":true}"# : #","more":false}"#, &out)
        return frame(out)
    }

    /// `{"type":"error","error":"<name>"}`.
    public static func errorFrame(_ name: String) -> PreparedFrame {
        var out: [UInt8] = []
        JSONOut.raw(#"{"type":"error","error":"#, &out)
        JSONOut.string(name, &out)
        out.append(UInt8(ascii: "}"))
        return frame(out)
    }

    static func frame(_ payload: [UInt8]) -> PreparedFrame {
        // SharedBytes storage: a connection that cannot write at once queues a reference.
        payload.withUnsafeBytes { PreparedFrame.shared(opcode: .text, payload: $0) }
    }
}

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
