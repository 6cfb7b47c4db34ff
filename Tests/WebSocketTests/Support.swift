// Test helpers: drive the parser with byte arrays and compare copied events.
@testable import WebSocket

enum Ev: Equatable, CustomStringConvertible {
    case text([UInt8]), binary([UInt8]), ping([UInt8]), pong([UInt8]), close(UInt16?, [UInt8]), failure(UInt16)

    var description: String {
        switch self {
        case .text(let b): return "text(\(b.count))"
        case .binary(let b): return "binary(\(b.count))"
        case .ping(let b): return "ping(\(b.count))"
        case .pong(let b): return "pong(\(b.count))"
        case .close(let c, let r): return "close(\(String(describing: c)), \(r.count))"
        case .failure(let c): return "failure(\(c))"
        }
    }
}

/// Feeds one chunk (copied, since the parser unmasks in place) and returns every event until
/// `.needMore`.
func drain(_ parser: inout WebSocketFrameParser, _ chunk: ArraySlice<UInt8>, max: Int = 1 << 20,
           deflate: DeflateContext? = nil) -> [Ev] {
    var bytes = Array(chunk)
    var out: [Ev] = []
    bytes.withUnsafeMutableBytes { buf in
        var offset = 0
        while true {
            let event = parser.next(buf, offset: &offset, maxMessageSize: max, deflate: deflate)
            switch event {
            case .needMore:
                precondition(offset == buf.count)
                return
            case .text(let p): out.append(.text(Array(p)))
            case .binary(let p): out.append(.binary(Array(p)))
            case .ping(let p): out.append(.ping(Array(p)))
            case .pong(let p): out.append(.pong(Array(p)))
            case .close(let c, let r): out.append(.close(c?.rawValue, Array(r)))
            case .failure(let c): out.append(.failure(c.rawValue))
            }
        }
    }
    return out
}

/// Parses `bytes` fed in the given chunk sizes (the rest in one last chunk).
func parse(_ bytes: [UInt8], role: WebSocketRole, splits: [Int] = [], max: Int = 1 << 20,
           compression: Bool = false, deflate: DeflateContext? = nil) -> [Ev] {
    var parser = WebSocketFrameParser(role: role, compression: compression)
    var out: [Ev] = []
    var start = 0
    for s in splits where s > start && s < bytes.count {
        out += drain(&parser, bytes[start..<s], max: max, deflate: deflate)
        start = s
    }
    out += drain(&parser, bytes[start...], max: max, deflate: deflate)
    return out
}

/// A frame as `sender` would write it (masked with `key` for a client).
func frame(_ opcode: WebSocketOpcode, _ payload: [UInt8], fin: Bool = true, compressed: Bool = false,
           from sender: WebSocketRole, key: UInt32 = 0x1234_5678) -> [UInt8] {
    var out: [UInt8] = []
    payload.withUnsafeBytes {
        WebSocketFrameEncoder.append(opcode: opcode, payload: $0, fin: fin, compressed: compressed,
                                     maskKey: sender == .client ? key : nil, to: &out)
    }
    return out
}

/// Deterministic pseudo-random bytes.
func noise(_ n: Int, seed: UInt64 = 42) -> [UInt8] {
    var x = seed | 1
    return (0..<n).map { _ in
        x ^= x << 13; x ^= x >> 7; x ^= x << 17
        return UInt8(truncatingIfNeeded: x)
    }
}
