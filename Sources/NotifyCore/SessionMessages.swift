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

    /// `{"type":"backlog","notifications":[...],"unread":N,"more":bool}`, notifications oldest
    /// first, within `budget` bytes, so that a large backlog never trips the
    /// slow-consumer limit on its own (it would close the session on every connect).
    /// Notifications that do not fit are left out and `more` is set: with `keepNewest`
    /// (the unread backlog, oldest first) the oldest are dropped, otherwise (`since=`, in
    /// cursor order) the newest are, so the client continues from the last id it got.
    /// Returns the frame and the notifications it carries. At least one notification is
    /// always kept, whatever its size (one notification is far below any sane limit).
    public static func backlogFrame(_ notifications: [Notification], unread: Int, more: Bool,
                                    budget: Int, keepNewest: Bool) -> (PreparedFrame, ArraySlice<Notification>) {
        var encoded: [[UInt8]] = []
        var total = 64
        let order = keepNewest ? Array(notifications.indices.reversed()) : Array(notifications.indices)
        for i in order {
            var one: [UInt8] = []
            notifications[i].writeJSON(into: &one)
            if !encoded.isEmpty && total + one.count + 1 > budget { break }
            total += one.count + 1
            encoded.append(one)
        }
        let kept = keepNewest ? notifications[(notifications.count - encoded.count)...]
                              : notifications[..<encoded.count]
        if keepNewest { encoded.reverse() }
        var out: [UInt8] = []
        out.reserveCapacity(total)
        JSONOut.raw(#"{"type":"backlog","notifications":["#, &out)
        for (i, one) in encoded.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: one)
        }
        appendBacklogTail(unread: unread, more: more || encoded.count < notifications.count, &out)
        return (frame(out), kept)
    }

    static func backlogPayload(_ notifications: ArraySlice<Notification>, unread: Int, more: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + notifications.count * 256)
        JSONOut.raw(#"{"type":"backlog","notifications":["#, &out)
        for (i, n) in notifications.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            n.writeJSON(into: &out)
        }
        appendBacklogTail(unread: unread, more: more, &out)
        return out
    }

    static func appendBacklogTail(unread: Int, more: Bool, _ out: inout [UInt8]) {
        JSONOut.raw(#"],"unread":"#, &out)
        JSONOut.int(Int64(unread), &out)
        JSONOut.raw(more ? #","more":true}"# : #","more":false}"#, &out)
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
