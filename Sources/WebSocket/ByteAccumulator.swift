// A growable byte buffer with a stable address, used only while a message spans several
// reads or fragments. Owned by one parser (one connection, one loop thread).

/// Raw storage rather than [UInt8] so the parser can hand out an UnsafeRawBufferPointer to the
/// whole message that stays valid until the parser's next call (Array gives no such guarantee
/// outside a closure). Freed in deinit; idle connections hold none.
@usableFromInline
final class ByteAccumulator {
    @usableFromInline var base: UnsafeMutableRawPointer
    @usableFromInline var capacity: Int
    @usableFromInline var count: Int = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 8)
    }

    deinit { base.deallocate() }

    /// Appends bytes, doubling the storage when needed.
    func append(_ p: UnsafeRawPointer, _ n: Int) {
        if n == 0 { return }
        if count + n > capacity {
            var newCapacity = capacity * 2
            while newCapacity < count + n { newCapacity *= 2 }
            let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 8)
            grown.copyMemory(from: base, byteCount: count)
            base.deallocate()
            base = grown
            capacity = newCapacity
        }
        (base + count).copyMemory(from: p, byteCount: n)
        count += n
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }
}
