// A small JSON writer appending UTF-8 straight into [UInt8]: no Foundation, no intermediate
// strings, one growing buffer per document.

/// Writes one JSON document. Calls must nest correctly (key before each object member,
/// begin/end balanced); commas are placed automatically.
public struct JSONWriter: Sendable {
    public private(set) var bytes: [UInt8]
    /// True after a value (or a closed container) at the current level: the next member
    /// or element needs a comma first.
    var needsComma = false

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func beginObject() { separator(); bytes.append(0x7B); needsComma = false }
    public mutating func endObject() { bytes.append(0x7D); needsComma = true }
    public mutating func beginArray() { separator(); bytes.append(0x5B); needsComma = false }
    public mutating func endArray() { bytes.append(0x5D); needsComma = true }

    /// An object member's name; the next call writes its value.
    public mutating func key(_ name: String) {
        separator()
        writeString(name)
        bytes.append(ASCII.colon)
        needsComma = false
    }

    public mutating func string(_ s: String) { separator(); writeString(s); needsComma = true }
    public mutating func int(_ v: Int) { separator(); appendDecimal(v, to: &bytes); needsComma = true }
    public mutating func bool(_ v: Bool) { separator(); bytes.append(contentsOf: (v ? "true" : "false").utf8); needsComma = true }
    public mutating func null() { separator(); bytes.append(contentsOf: "null".utf8); needsComma = true }

    /// A finite double in Swift's shortest round-trip form; NaN and infinities (which JSON
    /// cannot express) are written as null.
    public mutating func double(_ v: Double) {
        separator()
        if v.isFinite {
            if v == v.rounded(), abs(v) < 1e15 {
                appendDecimal(Int(v), to: &bytes)
            } else {
                bytes.append(contentsOf: v.description.utf8)
            }
        } else {
            bytes.append(contentsOf: "null".utf8)
        }
        needsComma = true
    }

    /// Already-encoded JSON (e.g. a notification encoded once for many recipients).
    public mutating func raw(_ json: [UInt8]) { separator(); bytes.append(contentsOf: json); needsComma = true }

    /// Convenience members.
    public mutating func member(_ name: String, _ value: String) { key(name); string(value) }
    public mutating func member(_ name: String, _ value: Int) { key(name); int(value) }
    public mutating func member(_ name: String, _ value: Bool) { key(name); bool(value) }
    public mutating func member(_ name: String, _ value: Int?) {
        key(name)
        if let value { int(value) } else { null() }
    }

    @inline(__always) mutating func separator() { if needsComma { bytes.append(ASCII.comma) } }

    /// Escapes per RFC 8259: quote, backslash and C0 controls; also U+2028/U+2029 so the
    /// output is safe inside JavaScript. Everything else is copied as UTF-8.
    mutating func writeString(_ s: String) {
        bytes.append(ASCII.quote)
        var it = s.utf8.makeIterator()
        while let b = it.next() {
            switch b {
            case ASCII.quote: bytes.append(ASCII.backslash); bytes.append(ASCII.quote)
            case ASCII.backslash: bytes.append(ASCII.backslash); bytes.append(ASCII.backslash)
            case 0x0A: bytes.append(ASCII.backslash); bytes.append(0x6E)
            case 0x0D: bytes.append(ASCII.backslash); bytes.append(0x72)
            case 0x09: bytes.append(ASCII.backslash); bytes.append(0x74)
            case 0x08: bytes.append(ASCII.backslash); bytes.append(0x62)
            case 0x0C: bytes.append(ASCII.backslash); bytes.append(0x66)
            case 0x00..<0x20:
                bytes.append(ASCII.backslash); bytes.append(0x75); bytes.append(0x30); bytes.append(0x30)
                bytes.append(0x30 + (b >> 4))
                let low = b & 0xF
                bytes.append(low < 10 ? 0x30 + low : 0x61 + low - 10)
            case 0xE2:
                // U+2028 / U+2029 are E2 80 A8 / E2 80 A9; a String's UTF-8 is valid, so
                // a lead byte E2 is always followed by two continuation bytes.
                guard let b1 = it.next(), let b2 = it.next() else { bytes.append(b); continue }
                if b1 == 0x80, b2 == 0xA8 || b2 == 0xA9 {
                    bytes.append(contentsOf: "\\u202".utf8)
                    bytes.append(b2 == 0xA8 ? 0x38 : 0x39)
                } else {
                    bytes.append(b); bytes.append(b1); bytes.append(b2)
                }
            default:
                bytes.append(b)
            }
        }
        bytes.append(ASCII.quote)
    }
}
