// The one cross-thread entry of a loop: uv_async_send plus a Mutex-protected queue of jobs.
import CLibUV
import Synchronization

extension EventLoop {
    /// Hands work to an `EventLoop` from any thread.
    ///
    /// `execute` appends the job under a mutex and wakes the loop with `uv_async_send`; wake-ups
    /// coalesce, and the loop runs every queued job, in order, on its own thread. After the
    /// loop closed, `execute` returns false and drops the job (it never runs, and nothing is
    /// touched that could be freed).
    public final class Sender: Sendable {
        private struct State {
            var jobs: [@Sendable (EventLoop) -> Void] = []
            var stopRequested = false
            var open = false
        }

        private let state = Mutex(State())
        // Safe to share: the pointer value is written once in `open(on:)` before the Sender is
        // visible to any other thread (the loop's init returns after it), the handle is only
        // dereferenced while `state.open` is true and under the lock, and the loop clears
        // `open` under that same lock before it closes the handle.
        nonisolated(unsafe) private var handle: UnsafeMutablePointer<uv_async_t>?

        // Loop-thread only: how many times the async callback drained the queue (tests use
        // it to see that wake-ups coalesce).
        nonisolated(unsafe) private(set) var drainCount = 0

        init() {}

        /// Runs `job` on the loop's thread, with the loop as argument. Returns false, dropping
        /// the job, when the loop has closed. Safe to call from any thread, including the
        /// loop's own (the job then runs on a later iteration, never re-entrantly).
        @discardableResult
        public func execute(_ job: @escaping @Sendable (EventLoop) -> Void) -> Bool {
            state.withLock { state in
                guard state.open, let handle else { return false }
                state.jobs.append(job)
                // Inside the lock so the loop cannot close the handle between the check and
                // the send. uv_async_send is a cheap eventfd write that coalesces.
                uv_async_send(handle)
                return true
            }
        }

        /// Asks the loop to stop: its `run()` returns after the current iteration. Jobs queued
        /// before this call run first. Returns false when the loop has closed already.
        @discardableResult
        public func stop() -> Bool {
            state.withLock { state in
                guard state.open, let handle else { return false }
                state.stopRequested = true
                uv_async_send(handle)
                return true
            }
        }

        /// Whether the loop still accepts jobs (racy by nature: a hint for logs and tests).
        public var isOpen: Bool { state.withLock { $0.open } }

        /// Called once by EventLoop.init on the creating thread.
        func open(on loop: EventLoop) {
            let handle = UnsafeMutablePointer<uv_async_t>.allocate(capacity: 1)
            let rc = uv_async_init(loop.uv, handle, { handle in
                guard let handle else { return }
                let loop = EventLoop.from(handle.pointee.loop)
                loop.sender.drain(on: loop)
            })
            precondition(rc == 0, "uv_async_init cannot fail on a fresh loop")
            // The async handle's owner is the loop, which outlives it; no retain is needed.
            handle.pointee.data = nil
            self.handle = handle
            loop.handleOpened()
            state.withLock { $0.open = true }
        }

        /// Runs the queued jobs on the loop thread (from the async callback).
        private func drain(on loop: EventLoop) {
            drainCount += 1
            let (jobs, stop) = state.withLock { state in
                let jobs = state.jobs
                state.jobs = []
                let stop = state.stopRequested
                state.stopRequested = false
                return (jobs, stop)
            }
            for job in jobs { job(loop) }
            if stop { uv_stop(loop.uv) }
        }

        /// Called by EventLoop.close() on the loop thread: refuses further jobs, drops queued
        /// ones, and closes the async handle (freed in its close callback).
        func close() {
            let dropped: [@Sendable (EventLoop) -> Void]? = state.withLock { state in
                guard state.open else { return nil }
                state.open = false
                let jobs = state.jobs
                state.jobs = []
                return jobs
            }
            guard dropped != nil, let handle else { return }
            uv_close(uvHandle(handle), { handle in
                guard let handle else { return }
                EventLoop.from(handle.pointee.loop).handleClosed()
                UnsafeMutableRawPointer(handle).deallocate()
            })
        }
    }
}

/// A value bound to one EventLoop, carried across threads inside Sendable jobs.
///
/// Loop-bound objects (a hub, a session map) are not Sendable. A job sent with
/// `EventLoop.Sender.execute` receives the loop as argument; `value(on:)` hands the value out
/// only for that same loop, so it is only ever touched on the loop's thread.
public struct LoopBound<Value>: @unchecked Sendable {
    // Safe because the value is reachable only through `value(on:)`, which requires the
    // owning EventLoop (a non-Sendable object available only on its own thread) and checks
    // both its identity and the calling thread.
    private let value: Value
    private let loopID: ObjectIdentifier

    /// Binds `value` to `loop`. Call on the loop's thread.
    public init(_ value: Value, loop: EventLoop) {
        loop.assertOnLoopThread()
        self.value = value
        self.loopID = ObjectIdentifier(loop)
    }

    /// The value; traps when `loop` is not the loop it is bound to or when called off its thread.
    public func value(on loop: EventLoop) -> Value {
        precondition(ObjectIdentifier(loop) == loopID && loop.isOnLoopThread, "LoopBound used on the wrong loop")
        return value
    }
}
