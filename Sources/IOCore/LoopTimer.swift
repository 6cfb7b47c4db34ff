// Timers: one uv_timer_t per timer, heap-allocated and freed only in its close callback.
import CLibUV

/// A one-shot or repeating timer on an EventLoop. Loop-thread only.
///
/// The loop keeps the timer alive while it is scheduled: dropping the returned object does
/// not cancel it. A one-shot timer closes itself after its callback ran; a repeating timer
/// runs until `cancel()` (or `EventLoop.close()`).
public final class LoopTimer: LoopHandleOwner {
    private let handle: UnsafeMutablePointer<uv_timer_t>
    private let loop: EventLoop
    private var callback: (() -> Void)?
    private let repeats: Bool

    /// True until the timer was cancelled or a one-shot timer fired.
    public private(set) var isActive = true

    fileprivate init(loop: EventLoop, after: UInt64, interval: UInt64?, callback: @escaping () -> Void) {
        self.loop = loop
        self.callback = callback
        self.repeats = interval != nil
        handle = .allocate(capacity: 1)
        uv_timer_init(loop.uv, handle)  // cannot fail
        loop.handleOpened()
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
        uv_timer_start(handle, { handle in
            guard let handle else { return }
            let timer = Unmanaged<LoopTimer>.fromOpaque(handle.pointee.data).takeUnretainedValue()
            timer.fire()
        }, after, interval ?? 0)
    }

    private func fire() {
        guard isActive, let callback else { return }
        if !repeats { cancel() }  // before the call, so the callback sees isActive == false
        callback()
    }

    /// Stops the timer; its callback never runs again. Idempotent. Loop thread only.
    public func cancel() {
        loop.assertOnLoopThread()
        guard isActive else { return }
        isActive = false
        callback = nil  // closures captured by it may point back at this timer
        uv_timer_stop(handle)
        uv_close(uvHandle(handle), { handle in
            guard let handle else { return }
            let timer = Unmanaged<LoopTimer>.fromOpaque(handle.pointee.data)
            timer.takeUnretainedValue().loop.handleClosed()
            UnsafeMutableRawPointer(handle).deallocate()
            timer.release()
        })
    }

    func closeForLoopShutdown() { cancel() }
}

extension EventLoop {
    /// Runs `body` on this loop after `delay`, then every `interval` if given. Timers with the
    /// same due time fire in the order they were scheduled. Loop thread only.
    @discardableResult
    public func schedule(after delay: Duration, repeating interval: Duration? = nil, _ body: @escaping () -> Void) -> LoopTimer {
        assertOnLoopThread()
        let repeatMs = interval.map { max(1, milliseconds($0)) }
        return LoopTimer(loop: self, after: milliseconds(delay), interval: repeatMs, callback: body)
    }
}
