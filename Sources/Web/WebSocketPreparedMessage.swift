// Encode once, send to many: PreparedFrames whose bytes live in IOCore's SharedBytes, so a
// connection that cannot write a frame at once queues a reference, not a copy.
import IOCore
import WebSocket

extension PreparedFrame {
    /// Storage for `PreparedFrame` in a SharedBytes (the object `TCPConnection.send(_: SharedBytes)`
    /// queues by reference).
    public static func sharedBytesStorage(
        count: Int, fill: (UnsafeMutableRawBufferPointer) -> Void
    ) -> (owner: AnyObject & Sendable, bytes: UnsafeRawBufferPointer) {
        let shared = SharedBytes(count: count) { fill($0) }
        // SharedBytes never moves or frees its bytes while alive, and the frame keeps it alive
        // as `storageOwner`, so the pointer outlives the closure that handed it out.
        let bytes = shared.withUnsafeBytes { $0 }
        return (shared, bytes)
    }

    /// An uncompressed server frame in shared storage.
    public static func shared(opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer) -> PreparedFrame {
        PreparedFrame(opcode: opcode, payload: payload, storage: sharedBytesStorage)
    }

    /// The SharedBytes holding this frame, when it was made with `sharedBytesStorage`.
    public var sharedBytes: SharedBytes? { storageOwner as? SharedBytes }
}

/// One fan-out message in the variants connections may need: always the plain frame, plus a
/// compressed one (no context takeover, `windowBits`) when built with a DeflateContext.
/// Build it once on the loop, then `connection.send(message)` for every recipient.
public final class WebSocketPreparedMessage {
    public let plain: PreparedFrame
    public let compressed: PreparedFrame?

    /// `deflate`: the loop's DeflateContext (`WebSocketServer.context.deflate`) to also build the
    /// compressed variant; nil for plain only. `payload` must not point into that context's
    /// output buffer.
    public convenience init(opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer, deflate: DeflateContext? = nil,
                            windowBits: Int = 15) {
        let built = WebSocketPreparedMessage.build(opcode, payload, deflate, windowBits)
        self.init(plain: built.plain, compressed: built.compressed)
    }

    /// A text message.
    public convenience init(text: String, deflate: DeflateContext? = nil) {
        var text = text
        let built = text.withUTF8 { WebSocketPreparedMessage.build(.text, UnsafeRawBufferPointer($0), deflate, 15) }
        self.init(plain: built.plain, compressed: built.compressed)
    }

    public convenience init(opcode: WebSocketOpcode, bytes: [UInt8], deflate: DeflateContext? = nil) {
        let built = bytes.withUnsafeBytes { WebSocketPreparedMessage.build(opcode, $0, deflate, 15) }
        self.init(plain: built.plain, compressed: built.compressed)
    }

    private init(plain: PreparedFrame, compressed: PreparedFrame?) {
        self.plain = plain
        self.compressed = compressed
    }

    private static func build(_ opcode: WebSocketOpcode, _ payload: UnsafeRawBufferPointer, _ deflate: DeflateContext?,
                              _ windowBits: Int) -> (plain: PreparedFrame, compressed: PreparedFrame?) {
        let plain = PreparedFrame.shared(opcode: opcode, payload: payload)
        let compressed = deflate.flatMap {
            PreparedFrame(opcode: opcode, payload: payload, deflate: $0, windowBits: windowBits,
                          storage: PreparedFrame.sharedBytesStorage)
        }
        return (plain, compressed)
    }
}
