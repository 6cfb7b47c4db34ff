// Immutable bytes shared by many connections: encode a message once, send it to every session.

/// An immutable byte buffer that many connections can send without copying.
///
/// `TCPConnection.send(_: SharedBytes)` writes it at once when the kernel takes it and, when
/// it cannot, keeps a reference to this buffer (not a copy) until the rest is written.
public final class SharedBytes: @unchecked Sendable {
    // Safe to share across threads: the bytes are written only inside an initializer, before
    // the object is visible to anyone, and never change afterwards; deinit frees them once
    // no reference is left.
    private let base: UnsafeMutableRawPointer
    public let count: Int

    /// Allocates `count` bytes and lets `initializer` fill them (encoders write frames directly).
    public init(count: Int, initializingWith initializer: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        precondition(count >= 0, "negative count")
        base = .allocate(byteCount: max(count, 1), alignment: 16)
        self.count = count
        do {
            try initializer(UnsafeMutableRawBufferPointer(start: base, count: count))
        } catch {
            base.deallocate()
            throw error
        }
    }

    /// Copies `bytes`.
    public convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(count: bytes.count) { $0.copyMemory(from: bytes) }
    }

    /// Copies `bytes`.
    public convenience init(_ bytes: [UInt8]) {
        self.init(count: bytes.count) { target in bytes.withUnsafeBytes { target.copyMemory(from: $0) } }
    }

    /// Copies the UTF-8 of `text`.
    public convenience init(_ text: String) {
        self.init(Array(text.utf8))
    }

    /// The bytes, valid for the duration of `body`.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// The first byte; valid while this object is alive (queued writes keep a reference).
    var baseAddress: UnsafeRawPointer { UnsafeRawPointer(base) }

    deinit { base.deallocate() }
}
