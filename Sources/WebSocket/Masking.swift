// Payload masking (RFC 6455 section 5.3): XOR with a 4-byte key, eight bytes at a time.

/// The mask key as it sits on the wire, read as a little-endian UInt32 so that byte 0 of the
/// key is the low byte. `phase` is the payload offset modulo 4 at which `p` starts, so a
/// payload unmasked in several pieces gives the same bytes as one pass.
@inlinable
func websocketApplyMask(_ p: UnsafeMutableRawPointer, _ count: Int, key: UInt32, phase: Int) {
    #if _endian(little)
    let shift = UInt32(truncatingIfNeeded: (phase & 3) * 8)
    let k = shift == 0 ? key : (key >> shift) | (key << (32 - shift))
    let wide = UInt64(k) | (UInt64(k) << 32)
    var i = 0
    while i + 8 <= count {
        let w = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        p.storeBytes(of: w ^ wide, toByteOffset: i, as: UInt64.self)
        i += 8
    }
    var rest = k
    while i < count {
        let b = p.load(fromByteOffset: i, as: UInt8.self)
        p.storeBytes(of: b ^ UInt8(truncatingIfNeeded: rest), toByteOffset: i, as: UInt8.self)
        rest = (rest >> 8) | (rest << 24)
        i += 1
    }
    #else
    for i in 0..<count {
        let kb = UInt8(truncatingIfNeeded: key >> UInt32(((phase + i) & 3) * 8))
        let b = p.load(fromByteOffset: i, as: UInt8.self)
        p.storeBytes(of: b ^ kb, toByteOffset: i, as: UInt8.self)
    }
    #endif
}
