// What the connections of one WebSocketServer (or WebSocketClient) share on their loop: the
// codec's WebSocketContext (configuration + the loop's one DeflateContext), a framing scratch
// buffer, the connection list walked by one sweep timer, and the counters.
import IOCore
import WebSocket

/// Counters of a WebSocketServer or WebSocketClient, read on the loop thread.
public struct WebSocketCounters: Sendable, Equatable {
    /// Connections open now (upgraded and not yet closed).
    public var openConnections = 0
    /// Connections closed with 1008 because their outbound queue passed the hard limit.
    public var slowConsumerCloses = 0
    /// Complete text and binary messages received and delivered to handlers.
    public var messagesIn = 0
    /// Text and binary messages accepted by a send (written or queued).
    public var messagesOut = 0

    public init() {}
}

/// Loop-bound shared state of a set of connections. Non-Sendable: loop thread only.
///
/// Timers: there is no libuv timer per connection. One repeating timer, running only while
/// the hub has connections, walks its connections (the loop's handle list) every `sweepInterval` and calls
/// `WebSocketConnectionState.tick` for each connection whose deadline passed, so a deadline
/// fires between its time and its time plus one interval.
final class WebSocketHub {
    let loop: EventLoop
    let context: WebSocketContext
    let sweepInterval: Duration
    var counters = WebSocketCounters()
    /// Messages shorter than this go out uncompressed even when deflate was negotiated.
    var compressionThreshold = 64
    /// Connections added and not yet removed. There is no list: the sweep walks the loop's
    /// own handle list (`EventLoop.forEachConnection`), so a connection costs no array slot.
    private(set) var count = 0
    private var sweepTimer: LoopTimer?
    /// The application's object shared by every connection (`WebSocketServer.applicationData`),
    /// so a per-connection handler need not hold it.
    var applicationData: AnyObject?
    /// Client connections whose opening handshake is in progress (client hubs only; emptied as
    /// handshakes end, so it costs nothing per open connection).
    var pendingClients: [ObjectIdentifier: WebSocketClientPending] = [:]
    /// Called when the last connection is gone (graceful shutdown waits on it).
    var onEmpty: (() -> Void)?

    /// Frames are built here before `TCPConnection.send`, which copies only what the kernel did
    /// not take: an echo or a send of a small message allocates nothing. Grows for large
    /// messages and shrinks back after them.
    private var scratch: UnsafeMutableRawPointer
    private var scratchCapacity: Int
    /// A copy of a payload about to be compressed: the payload may point into the
    /// DeflateContext's own output (a message it just inflated), which compress overwrites.
    private var compressInput: [UInt8] = []

    static let defaultScratch = 16 * 1024

    init(loop: EventLoop, context: WebSocketContext, sweepInterval: Duration) {
        self.loop = loop
        self.context = context
        self.sweepInterval = sweepInterval
        scratchCapacity = WebSocketHub.defaultScratch
        scratch = .allocate(byteCount: scratchCapacity, alignment: 16)
    }

    deinit { scratch.deallocate() }

    var configuration: WebSocketConfiguration { context.configuration }

    // MARK: connection list

    /// Every connection of this hub (an allocation and a walk of the loop's handles: for
    /// shutdown, tests and tools, not for hot paths). Order: creation.
    var connections: [WebSocketConnection] {
        var all: [WebSocketConnection] = []
        all.reserveCapacity(count)
        forEachConnection { all.append($0) }
        return all
    }

    /// Calls `body` for each connection of this hub (see `EventLoop.forEachConnection`).
    func forEachConnection(_ body: (WebSocketConnection) -> Void) {
        guard count > 0 else { return }
        loop.forEachConnection { tcp in
            if let connection = tcp.delegate as? WebSocketConnection, connection.inHub, connection.hub === self {
                body(connection)
            }
        }
    }

    func add(_ connection: WebSocketConnection) {
        connection.inHub = true
        count += 1
        counters.openConnections += 1
        if sweepTimer == nil {
            sweepTimer = loop.schedule(after: sweepInterval, repeating: sweepInterval) { [unowned self] in sweep() }
        }
    }

    func remove(_ connection: WebSocketConnection) {
        guard connection.inHub else { return }
        connection.inHub = false
        count -= 1
        counters.openConnections -= 1
        if count == 0 {
            sweepTimer?.cancel()
            sweepTimer = nil
            if let onEmpty {
                self.onEmpty = nil
                onEmpty()
            }
        }
    }

    /// Stops the sweep timer (the owner is going away with no connections).
    func stopTimer() {
        sweepTimer?.cancel()
        sweepTimer = nil
    }

    private func sweep() {
        let now = loop.nowMilliseconds
        // Connections close asynchronously (the close callback removes them), so the walk
        // sees a stable set.
        forEachConnection { $0.sweep(now: now) }
    }

    // MARK: framing

    /// Writes one frame (header, masked payload for a client) into the scratch buffer and
    /// returns it; valid until the next call. `payload` may point anywhere, including into the
    /// loop's read buffer or the DeflateContext output.
    func frame(opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer, compressed: Bool,
               role: WebSocketRole) -> UnsafeRawBufferPointer {
        let masked = role == .client
        let size = WebSocketFrameEncoder.headerSize(payloadCount: payload.count, masked: masked) + payload.count
        if size > scratchCapacity {
            scratch.deallocate()
            scratchCapacity = size
            scratch = .allocate(byteCount: size, alignment: 16)
        }
        let n = WebSocketFrameEncoder.writeFrame(scratch, opcode: opcode, payload: payload, compressed: compressed,
                                                 maskKey: masked ? WebSocketFrameEncoder.randomMaskKey() : nil)
        return UnsafeRawBufferPointer(start: scratch, count: n)
    }

    /// Gives back a scratch buffer grown for one large message (called after its send: the
    /// socket layer copied what it queued).
    func trimScratch() {
        guard scratchCapacity > 256 * 1024 else { return }
        scratch.deallocate()
        scratchCapacity = WebSocketHub.defaultScratch
        scratch = .allocate(byteCount: scratchCapacity, alignment: 16)
    }

    /// Compresses one message with the loop's deflater; the result is valid until the next
    /// call on the DeflateContext.
    func compress(_ payload: UnsafeRawBufferPointer, windowBits: Int) -> UnsafeRawBufferPointer? {
        compressInput.removeAll(keepingCapacity: true)
        compressInput.append(contentsOf: payload)
        let result = compressInput.withUnsafeBytes { context.deflate.compress($0, windowBits: windowBits) }
        if compressInput.capacity > 256 * 1024 { compressInput = [] }
        return result
    }
}
