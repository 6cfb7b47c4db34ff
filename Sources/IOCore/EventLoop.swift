// The event loop: one heap-allocated uv_loop_t confined to one thread.
import CLibUV
#if canImport(Glibc)
import Glibc
#endif

/// One libuv loop, confined to the thread that runs it.
///
/// Not Sendable: every method, and every object created from the loop (timers, listeners,
/// connections), is used on the loop's thread only. Other threads reach the loop through
/// `sender` (an `EventLoop.Sender`, which is Sendable).
///
/// Lifecycle: `init` → create handles → `run()` (blocks until `stop()`) → `close()`, which
/// closes every handle, waits for all close callbacks and pending blocking work, and frees
/// the loop. A loop that is dropped without `close()` is closed by its deinit.
public final class EventLoop {
    /// Size of the loop's one shared read buffer: every connection on this loop reads into it.
    public static let readBufferSize = 64 * 1024

    let uv: UnsafeMutablePointer<uv_loop_t>
    /// The shared read buffer handed out by every connection's alloc callback. libuv calls
    /// alloc, read(2), read callback in sequence for one stream at a time, so one buffer
    /// serves all connections; its contents are valid only during a read callback.
    let readBuffer: UnsafeMutableRawPointer
    /// The cross-thread entry of this loop.
    public let sender: Sender
    /// Handles opened on this loop and not yet through their close callback (debug counter:
    /// tests assert it is 0 after `close()`).
    public internal(set) var openHandleCount = 0
    private var ownerThread: pthread_t
    private var closing = false
    public private(set) var isClosed = false

    /// Creates a loop owned by the calling thread (`run()` re-homes it to the thread that runs it).
    public init() throws(IOError) {
        let uv = UnsafeMutablePointer<uv_loop_t>.allocate(capacity: 1)
        let rc = uv_loop_init(uv)
        if rc != 0 {
            uv.deallocate()
            throw IOError(code: rc, operation: "uv_loop_init")
        }
        self.uv = uv
        readBuffer = .allocate(byteCount: EventLoop.readBufferSize, alignment: 16)
        ownerThread = pthread_self()
        let sender = Sender()
        self.sender = sender
        uv.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        sender.open(on: self)
    }

    deinit {
        // Only reachable when no handle owner is left that could call back into this loop
        // except the sender's async handle; close it and free the loop.
        if !isClosed { try? closeAll() }
    }

    /// Runs the loop on the calling thread until `stop()` is called (from a callback on this
    /// loop, or via `sender.stop()` from any thread). The sender's async handle keeps the
    /// loop alive, so `run()` does not return just because nothing else is active.
    public func run() {
        precondition(!isClosed, "EventLoop.run() after close()")
        ownerThread = pthread_self()
        uv_run(uv, UV_RUN_DEFAULT)
    }

    /// Runs one iteration without blocking; returns whether the loop still has work.
    /// For tests and for embedding the loop in another loop.
    @discardableResult
    public func runNoWait() -> Bool {
        precondition(!isClosed, "EventLoop.runNoWait() after close()")
        ownerThread = pthread_self()
        return uv_run(uv, UV_RUN_NOWAIT) != 0
    }

    /// Makes `run()` return after the current iteration. Call on the loop thread.
    public func stop() {
        assertOnLoopThread()
        uv_stop(uv)
    }

    /// The loop's cached time in milliseconds (updated at the start of each iteration).
    public var nowMilliseconds: UInt64 { uv_now(uv) }

    /// Closes every handle on the loop (connections get `connectionDidClose`, listeners,
    /// timers and signal watchers stop), runs the loop until every close callback ran and
    /// every queued blocking job returned, then frees the loop. Call on the loop thread,
    /// after `run()` returned (or instead of running it). Throws only if libuv still reports
    /// a busy loop, which means a handle leaked; the loop memory is then kept.
    public func close() throws(IOError) {
        assertOnLoopThread()
        precondition(!isClosed, "EventLoop.close() called twice")
        try closeAll()
    }

    private func closeAll() throws(IOError) {
        closing = true
        sender.close()
        // Close callbacks may open new handles (a delegate scheduling a timer): walk again
        // until nothing is alive.
        repeat {
            uv_walk(uv, { handle, _ in
                guard let handle, uv_is_closing(handle) == 0, let data = handle.pointee.data else { return }
                let object = Unmanaged<AnyObject>.fromOpaque(data).takeUnretainedValue()
                (object as? LoopHandleOwner)?.closeForLoopShutdown()
            }, nil)
            uv_run(uv, UV_RUN_ONCE)
        } while uv_loop_alive(uv) != 0
        let rc = uv_loop_close(uv)
        if rc != 0 { throw IOError(code: rc, operation: "uv_loop_close") }
        isClosed = true
        readBuffer.deallocate()
        uv.deallocate()
    }

    /// Whether the caller runs on the thread that owns this loop.
    public var isOnLoopThread: Bool { pthread_equal(ownerThread, pthread_self()) != 0 }

    @inline(__always)
    func assertOnLoopThread() {
        assert(isOnLoopThread, "EventLoop used off its thread")
    }

    /// Re-homes the loop to the calling thread (EventLoopThread calls it before setup).
    func adoptCurrentThread() { ownerThread = pthread_self() }

    /// Called by every handle owner right after its uv_*_init succeeded.
    @inline(__always)
    func handleOpened() {
        precondition(!isClosed, "handle created on a closed EventLoop")
        openHandleCount += 1
    }

    /// Called by every handle owner in its close callback.
    @inline(__always)
    func handleClosed() { openHandleCount -= 1 }

    /// The EventLoop of a libuv loop pointer (callbacks recover their loop this way).
    @inline(__always)
    static func from(_ uvLoop: UnsafeMutablePointer<uv_loop_t>) -> EventLoop {
        Unmanaged<EventLoop>.fromOpaque(uvLoop.pointee.data).takeUnretainedValue()
    }
}
