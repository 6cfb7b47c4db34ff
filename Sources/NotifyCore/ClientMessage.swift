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

/// The per-session rate limit of client messages: GCRA (a token bucket of `burst` messages
/// refilled at `perSecond`) kept in one UInt16 per session (`Session.rateTAT`), the
/// theoretical arrival time of the next message in 10 ms ticks. Pure, like the parser above;
/// the hub calls it on the loop thread with its clock (monotonic 10 ms ticks, wrapping).
///
/// The 16-bit clock wraps every 655.36 s. A stored time further ahead than a legitimate one
/// can be (tolerance + one interval) is a stale one from an earlier lap and counts as past.
/// A session idle for just under a multiple of 655 s may thus see its bucket partly empty
/// for a moment (at most the burst's refill time, 2 s by default): stricter, never looser.
public struct ClientRateLimit: Sendable, Equatable {
    /// Ticks between two messages at the sustained rate.
    public let interval: UInt16
    /// How far ahead of now the arrival time may run: (burst - 1) intervals.
    public let tolerance: UInt16

    /// `perSecond` is clamped to 1...100 (one tick is 10 ms), `burst` to at least 1 and to
    /// what the 16-bit clock can hold (about 300 s of messages at the rate).
    public init(perSecond: Int, burst: Int) {
        let interval = 100 / min(max(perSecond, 1), 100)
        self.interval = UInt16(interval)
        tolerance = UInt16(min((max(burst, 1) - 1) * interval, 30_000))
    }

    /// Whether a message arriving at `now` is within the limit; when it is, `tat` advances.
    public func admit(_ tat: inout UInt16, now: UInt16) -> Bool {
        let ahead = Int(Int16(bitPattern: tat &- now))
        // In the past (or stale from an earlier lap): the bucket is full.
        let start = ahead > 0 && ahead <= Int(tolerance) + Int(interval) ? ahead : 0
        guard start <= Int(tolerance) else { return false }
        tat = now &+ UInt16(start) &+ interval
        return true
    }
}
