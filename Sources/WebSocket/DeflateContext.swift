// The zlib state for permessage-deflate, shared by every connection of one loop.
import CZlib

/// One per loop thread, owned by the binding; never shared between threads (not Sendable).
///
/// Every message is compressed and decompressed independently ("no context takeover" in both
/// directions, which the negotiation in PerMessageDeflate.swift guarantees), so a connection
/// holds no zlib state at all: this object holds at most one deflater per window size actually
/// used (created on first use; 9...15 bits) and one inflater, plus one output buffer. Results
/// point into that buffer and stay valid until the next call on this context.
public final class DeflateContext {
    /// zlib compression level (1 fastest ... 9 smallest).
    public let level: Int32
    /// zlib memLevel for deflaters (1...9); 8 is zlib's default.
    public let memLevel: Int32

    private var deflaters: [UnsafeMutablePointer<z_stream>?] = Array(repeating: nil, count: 16)
    private var inflater: UnsafeMutablePointer<z_stream>?
    private var output: UnsafeMutableRawPointer
    private var outputCapacity: Int

    public init(level: Int32 = 6, memLevel: Int32 = 8) {
        self.level = min(max(level, 1), 9)
        self.memLevel = min(max(memLevel, 1), 9)
        outputCapacity = 16 * 1024
        output = UnsafeMutableRawPointer.allocate(byteCount: outputCapacity, alignment: 8)
    }

    deinit {
        for case let s? in deflaters {
            deflateEnd(s)
            s.deinitialize(count: 1)
            s.deallocate()
        }
        if let s = inflater {
            inflateEnd(s)
            s.deinitialize(count: 1)
            s.deallocate()
        }
        output.deallocate()
    }

    /// The outcome of `decompress`.
    public enum InflateResult {
        /// The whole message; valid until the next call on this context.
        case ok(UnsafeRawBufferPointer)
        /// More than `maxSize` bytes would come out: close with 1009.
        case tooBig
        /// Not a raw deflate stream: close with 1007.
        case invalid
    }

    /// Compresses one whole message as a raw deflate stream flushed with Z_SYNC_FLUSH, with the
    /// trailing 00 00 FF FF removed (RFC 7692 section 7.2.1). `windowBits` is the negotiated
    /// server_max_window_bits (or client_max_window_bits for a client); 8 is served by zlib's
    /// 9, whose longest match distance (250 bytes) fits a 256-byte window. Returns nil only if
    /// zlib fails (out of memory). The result is valid until the next call on this context.
    public func compress(_ input: UnsafeRawBufferPointer, windowBits: Int = 15) -> UnsafeRawBufferPointer? {
        let bits = Int32(min(max(windowBits, 9), 15))
        guard let s = deflater(bits) else { return nil }
        guard deflateReset(s) == Z_OK else { return nil }
        let bound = Int(deflateBound(s, uLong(input.count))) + 16
        if outputCapacity < bound { grow(to: bound, keeping: 0) }
        s.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        s.pointee.avail_in = uInt(input.count)
        var produced = 0
        while true {
            s.pointee.next_out = (output + produced).assumingMemoryBound(to: Bytef.self)
            s.pointee.avail_out = uInt(outputCapacity - produced)
            let rc = deflate(s, Z_SYNC_FLUSH)
            produced = outputCapacity - Int(s.pointee.avail_out)
            if rc != Z_OK && rc != Z_BUF_ERROR { return nil }
            if s.pointee.avail_in == 0 && s.pointee.avail_out > 0 { break }
            grow(to: outputCapacity * 2, keeping: produced)
        }
        s.pointee.next_in = nil
        if produced >= 4 {
            let tail = (output + produced - 4).loadUnaligned(as: UInt32.self)
            if tail == UInt32(bigEndian: 0x0000_FFFF) { produced -= 4 }
        }
        return UnsafeRawBufferPointer(start: output, count: produced)
    }

    /// Decompresses one whole message (all its frames' payloads, concatenated) after appending
    /// the 00 00 FF FF tail, refusing to produce more than `maxSize` bytes (the zip-bomb guard:
    /// output is bounded while inflating, not checked afterwards).
    public func decompress(_ input: UnsafeRawBufferPointer, maxSize: Int) -> InflateResult {
        guard let s = inflaterStream() else { return .invalid }
        guard inflateReset(s) == Z_OK else { return .invalid }
        var produced = 0
        var tail = UInt32(bigEndian: 0x0000_FFFF)
        // feed: inflates one chunk into the output buffer. nil = over maxSize, false = bad data,
        // true = stream ended (BFINAL), and no value change while more input may follow.
        func feed(_ chunk: UnsafeRawBufferPointer) -> Bool? {
            s.pointee.next_in = UnsafeMutablePointer(mutating: chunk.baseAddress?.assumingMemoryBound(to: Bytef.self))
            s.pointee.avail_in = uInt(chunk.count)
            while true {
                if produced == outputCapacity {
                    if produced > maxSize { return nil }
                    grow(to: min(outputCapacity * 2, maxSize + 1), keeping: produced)
                    if produced == outputCapacity { return nil }
                }
                s.pointee.next_out = (output + produced).assumingMemoryBound(to: Bytef.self)
                s.pointee.avail_out = uInt(outputCapacity - produced)
                let rc = inflate(s, Z_SYNC_FLUSH)
                produced = outputCapacity - Int(s.pointee.avail_out)
                if produced > maxSize { return nil }
                if rc == Z_STREAM_END { return true }
                if rc != Z_OK && rc != Z_BUF_ERROR { return false }
                // inflate stops only when input or output runs out: room left means input is done.
                if s.pointee.avail_out > 0 { return true }
            }
        }
        var ok = feed(input)
        if ok == true && s.pointee.avail_in == 0 {
            ok = withUnsafeBytes(of: &tail) { feed($0) }
        }
        s.pointee.next_in = nil
        switch ok {
        case nil: return .tooBig
        case false?: return .invalid
        case true?: return .ok(UnsafeRawBufferPointer(start: output, count: produced))
        }
    }

    private func deflater(_ bits: Int32) -> UnsafeMutablePointer<z_stream>? {
        if let s = deflaters[Int(bits)] { return s }
        let s = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        s.initialize(to: z_stream())
        guard instaverse_deflate_init2(s, level, -bits, memLevel) == Z_OK else {
            s.deinitialize(count: 1)
            s.deallocate()
            return nil
        }
        deflaters[Int(bits)] = s
        return s
    }

    private func inflaterStream() -> UnsafeMutablePointer<z_stream>? {
        if let s = inflater { return s }
        let s = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        s.initialize(to: z_stream())
        guard instaverse_inflate_init2(s, -15) == Z_OK else {
            s.deinitialize(count: 1)
            s.deallocate()
            return nil
        }
        inflater = s
        return s
    }

    private func grow(to capacity: Int, keeping count: Int) {
        guard capacity > outputCapacity else { return }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        grown.copyMemory(from: output, byteCount: count)
        output.deallocate()
        output = grown
        outputCapacity = capacity
    }
}
