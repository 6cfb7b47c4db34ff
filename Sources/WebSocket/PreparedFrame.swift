// Encode once, send to many: a server message framed (and optionally compressed) one time.

/// One complete unmasked (server-to-client) frame in one immutable heap buffer whose address
/// never changes. The fan-out path builds it once per notification and hands the same
/// `unsafeBytes` to every connection's write (libuv keeps the pointer until the write callback):
/// the binding retains the frame (e.g. `Unmanaged.passRetained`) until that callback runs.
///
/// The buffer is either the frame's own allocation or, when the binding passes a
/// `StorageProvider`, an immutable object of the binding's (the socket layer's shared-bytes
/// type), exposed as `storageOwner` so the binding can queue that object instead of a copy.
///
/// A compressed frame was made with no context takeover and a window of `windowBits`, so it is
/// valid for every connection that negotiated permessage-deflate with server_max_window_bits
/// >= `windowBits`; connections without deflate take the uncompressed variant.
public final class PreparedFrame: @unchecked Sendable {
    // @unchecked Sendable: the bytes (own `storage` or `storageOwner`'s) are written only in
    // init, before the frame is visible, and freed only in deinit; between the two they are
    // read-only, so any thread may read them (e.g. loops of one process).

    /// The frame bytes (header then payload), valid exactly as long as this object lives: the
    /// binding keeps the frame retained from the write request until its callback. Swift may
    /// release an object right after its last use, so code that does not hold a reference
    /// elsewhere must use `withUnsafeBytes` instead.
    public let unsafeBytes: UnsafeRawBufferPointer
    /// Frame size in bytes.
    public var count: Int { unsafeBytes.count }
    /// Whether the payload is permessage-deflate compressed (RSV1 set).
    public let isCompressed: Bool
    /// The deflate window used; 15 when not compressed.
    public let windowBits: Int
    /// The object owning the bytes when a `StorageProvider` made them; nil when the frame owns
    /// them. Immutable and Sendable, so sharing the frame shares it.
    public let storageOwner: (AnyObject & Sendable)?
    private let storage: UnsafeMutableRawPointer?

    /// Allocates `count` bytes owned by an immutable object, lets `fill` write the frame into
    /// them (before the object is shared), and returns that object with the bytes. The bytes
    /// must stay at the same address for the owner's whole life.
    public typealias StorageProvider = (
        _ count: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Void
    ) -> (owner: AnyObject & Sendable, bytes: UnsafeRawBufferPointer)

    /// Frames `payload` uncompressed, into `storage`'s object when given.
    public init(opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer, storage provider: StorageProvider? = nil) {
        (storage, storageOwner, unsafeBytes) = PreparedFrame.frame(opcode: opcode, payload: payload, compressed: false, provider)
        isCompressed = false
        windowBits = 15
    }

    /// Frames `payload` compressed with the loop's deflater. Returns nil if zlib fails. Must be
    /// called on the thread that owns `deflate`; `payload` must not point into `deflate`'s
    /// own output (a message it just decompressed): copy such a payload first.
    public init?(opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer, deflate: DeflateContext, windowBits: Int = 15,
                 storage provider: StorageProvider? = nil) {
        guard let compressed = deflate.compress(payload, windowBits: windowBits) else { return nil }
        (storage, storageOwner, unsafeBytes) = PreparedFrame.frame(opcode: opcode, payload: compressed, compressed: true, provider)
        isCompressed = true
        self.windowBits = windowBits
    }

    /// A text frame for `text` (uncompressed).
    public static func text(_ text: String) -> PreparedFrame {
        var text = text
        return text.withUTF8 { PreparedFrame(opcode: .text, payload: UnsafeRawBufferPointer($0)) }
    }

    deinit { storage?.deallocate() }

    /// Calls `body` with the frame bytes, keeping the frame alive for the call.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(unsafeBytes) }
    }

    private static func frame(
        opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer, compressed: Bool, _ provider: StorageProvider?
    ) -> (UnsafeMutableRawPointer?, (AnyObject & Sendable)?, UnsafeRawBufferPointer) {
        let size = WebSocketFrameEncoder.headerSize(payloadCount: payload.count, masked: false) + payload.count
        if let provider {
            let made = provider(size) { target in
                if let p = target.baseAddress, target.count >= size {
                    WebSocketFrameEncoder.writeFrame(p, opcode: opcode, payload: payload, compressed: compressed)
                }
            }
            return (nil, made.owner, made.bytes)
        }
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(size, 1), alignment: 8)
        let n = WebSocketFrameEncoder.writeFrame(p, opcode: opcode, payload: payload, compressed: compressed)
        return (p, nil, UnsafeRawBufferPointer(start: p, count: n))
    }
}
