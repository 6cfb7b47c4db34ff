// The session protocol's JSON (ARCHITECTURE.md, notifyd): server messages written byte by byte
// (a live notification is encoded once per notification, whatever its number of sessions).
//
// (Client messages are parsed in ClientMessage.swift.)
//
// Server to client:
//   {"type":"backlog","notifications":[...],"unread":N,"more":bool}
//   {"type":"notification","notification":{...}}
//   {"type":"error","error":"<name>"}
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
