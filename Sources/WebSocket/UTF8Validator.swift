// Incremental UTF-8 validation (RFC 3629 well-formedness, Unicode table 3-7) for text messages
// that arrive in pieces: the state survives across reads and fragments, and the first bad byte
// is reported at once, without waiting for the end of the message.

/// One byte of state. `accept` means "between code points"; every other value names which
/// continuation bytes may come next. Callers: the frame parser, per connection.
@usableFromInline
struct UTF8Validator {
    @usableFromInline var state: UInt8 = 0

    // States: 0 accept; 1/2/3 need that many continuation bytes in 80...BF;
    // 4 after E0 (next A0...BF, then 1); 5 after ED (next 80...9F, then 1);
    // 6 after F0 (next 90...BF, then 2); 7 after F4 (next 80...8F, then 2).
    @usableFromInline static let reject: UInt8 = 0xFF

    @inlinable init() {}

    /// True when the bytes seen so far end on a code point boundary.
    @inlinable var isComplete: Bool { state == 0 }

    /// Feeds `count` bytes at `p`. Returns false at the first byte that cannot belong to
    /// well-formed UTF-8; the validator then stays failed.
    @inlinable
    mutating func consume(_ p: UnsafeRawPointer, _ count: Int) -> Bool {
        var i = 0
        var s = state
        while i < count {
            if s == 0 {
                // ASCII runs dominate JSON: skip eight bytes at a time while no high bit is set.
                while i + 8 <= count {
                    let word = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                    if word & 0x8080_8080_8080_8080 != 0 { break }
                    i += 8
                }
                if i >= count { break }
            }
            let b = p.load(fromByteOffset: i, as: UInt8.self)
            i += 1
            s = UTF8Validator.step(s, b)
            if s == UTF8Validator.reject {
                state = s
                return false
            }
        }
        state = s
        return true
    }

    @inlinable
    static func step(_ s: UInt8, _ b: UInt8) -> UInt8 {
        switch s {
        case 0:
            switch b {
            case 0x00...0x7F: return 0
            case 0xC2...0xDF: return 1
            case 0xE0: return 4
            case 0xE1...0xEC, 0xEE...0xEF: return 2
            case 0xED: return 5
            case 0xF0: return 6
            case 0xF1...0xF3: return 3
            case 0xF4: return 7
            default: return reject
            }
        case 1, 2, 3:
            return b & 0xC0 == 0x80 ? s - 1 : reject
        case 4:
            return (0xA0...0xBF).contains(b) ? 1 : reject
        case 5:
            return (0x80...0x9F).contains(b) ? 1 : reject
        case 6:
            return (0x90...0xBF).contains(b) ? 2 : reject
        case 7:
            return (0x80...0x8F).contains(b) ? 2 : reject
        default:
            return reject
        }
    }

    /// Validates a whole buffer in one go (close reasons, single-frame messages).
    @inlinable
    static func isValid(_ buffer: UnsafeRawBufferPointer) -> Bool {
        guard let base = buffer.baseAddress else { return true }
        var v = UTF8Validator()
        return v.consume(base, buffer.count) && v.isComplete
    }
}
