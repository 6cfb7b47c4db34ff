// Signal handling through uv_signal_t, so a signal becomes a callback on the loop thread.
import CLibUV

/// Watches one signal number on an EventLoop. Loop-thread only.
///
/// The callback runs on the loop thread (never inside the async signal handler), once per
/// delivery libuv observed; deliveries close together may coalesce. Typical use: on SIGTERM
/// or SIGINT, start a graceful stop (stop accepting, drain, then `loop.stop()`).
public final class SignalWatcher: LoopHandleOwner {
    private let handle: UnsafeMutablePointer<uv_signal_t>
    private let loop: EventLoop
    private var callback: ((Int32) -> Void)?
    public let signal: Int32

    fileprivate init(loop: EventLoop, signal: Int32, callback: @escaping (Int32) -> Void) throws(IOError) {
        self.loop = loop
        self.signal = signal
        self.callback = callback
        handle = .allocate(capacity: 1)
        uv_signal_init(loop.uv, handle)  // cannot fail on Linux
        loop.handleOpened()
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
        let rc = uv_signal_start(handle, { handle, signum in
            guard let handle else { return }
            let watcher = Unmanaged<SignalWatcher>.fromOpaque(handle.pointee.data).takeUnretainedValue()
            watcher.callback?(signum)
        }, signal)
        if rc != 0 {
            cancel()
            throw IOError(code: rc, operation: "uv_signal_start")
        }
    }

    /// Stops watching; the callback never runs again. Idempotent. Loop thread only.
    public func cancel() {
        loop.assertOnLoopThread()
        guard callback != nil else { return }
        callback = nil
        uv_close(uvHandle(handle), { handle in
            guard let handle else { return }
            let watcher = Unmanaged<SignalWatcher>.fromOpaque(handle.pointee.data)
            watcher.takeUnretainedValue().loop.handleClosed()
            UnsafeMutableRawPointer(handle).deallocate()
            watcher.release()
        })
    }

    func closeForLoopShutdown() { cancel() }
}

extension EventLoop {
    /// Calls `body` on this loop's thread whenever `signal` (e.g. SIGTERM, SIGINT) arrives.
    /// libuv installs the process-wide handler; the watcher lives until `cancel()` or the
    /// loop's `close()`. Loop thread only.
    public func onSignal(_ signal: Int32, _ body: @escaping (Int32) -> Void) throws(IOError) -> SignalWatcher {
        assertOnLoopThread()
        return try SignalWatcher(loop: self, signal: signal, callback: body)
    }
}
