// Limits and timers, and the per-loop object that carries them with the zlib state.

/// Limits and timers of WebSocket connections. Times are milliseconds on the loop's monotonic
/// clock (libuv's uv_now), the same clock the binding passes as `now`.
public struct WebSocketConfiguration: Sendable {
    /// Largest message accepted, after reassembly and after decompression (notifyd: 4096 for
    /// client messages). Larger: close 1009.
    public var maxMessageSize: Int = 1 << 20
    /// From accept (or connect) to a completed upgrade; past it the transport is closed.
    public var handshakeTimeout: UInt64 = 10_000
    /// A ping is sent after this long without any frame from the peer.
    public var pingInterval: UInt64 = 25_000
    /// After a ping, the peer must send something (a pong or any frame) within this, or the
    /// transport is closed.
    public var pongTimeout: UInt64 = 10_000
    /// After a close frame is sent (or, for a client, answered), the peer has this long to
    /// finish the close handshake before the transport is closed anyway.
    public var closeTimeout: UInt64 = 5_000
    /// Outbound bytes a connection may have queued in the binding; a send past it closes the
    /// connection as a slow consumer with 1008 (docs/websocket.md).
    public var outboundHardLimit: Int = 256 * 1024

    public init() {}
}

/// Everything a loop's connections share: the configuration and the zlib state. One per loop
/// thread, owned by the binding; not Sendable (the DeflateContext is loop-bound).
public final class WebSocketContext {
    public let configuration: WebSocketConfiguration
    public let deflate: DeflateContext

    public init(configuration: WebSocketConfiguration = WebSocketConfiguration(), deflate: DeflateContext = DeflateContext()) {
        self.configuration = configuration
        self.deflate = deflate
    }
}
