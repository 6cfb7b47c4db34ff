// Running blocking work off the loop (libuv's thread pool) and getting the result back on it.
import CLibUV

/// A non-generic box travelling through uv_work_t.data (C callbacks cannot capture generics).
///
/// Thread handover: `work` runs on a libuv pool thread, then `done` runs on the loop thread.
/// libuv orders the two through its pool mutex, so the result slot written by `work` is
/// visible to `done`; nothing else touches the box in between.
private final class WorkBox {
    let work: () -> Void
    let done: () -> Void
    init(work: @escaping () -> Void, done: @escaping () -> Void) {
        self.work = work
        self.done = done
    }
}

private final class ResultSlot<T> {
    var value: T?
}

extension EventLoop {
    /// Runs `work` on libuv's thread pool (shared by the process, 4 threads unless
    /// UV_THREADPOOL_SIZE says otherwise), then `completion` with its result on this loop's
    /// thread. `EventLoop.close()` waits for queued work to finish and still delivers the
    /// completion. Loop thread only. Long-lived blocking jobs (a database connection's whole
    /// life) belong on their own thread, not here: they would starve the pool.
    public func runBlocking<T: Sendable>(_ work: @escaping @Sendable () -> T, then completion: @escaping (T) -> Void) {
        assertOnLoopThread()
        let slot = ResultSlot<T>()
        let box = WorkBox(work: { slot.value = work() }, done: {
            if let value = slot.value { completion(value) }
        })
        let request = UnsafeMutablePointer<uv_work_t>.allocate(capacity: 1)
        request.pointee.data = Unmanaged.passRetained(box).toOpaque()
        let rc = uv_queue_work(uv, request, { request in
            guard let request else { return }
            Unmanaged<WorkBox>.fromOpaque(request.pointee.data).takeUnretainedValue().work()
        }, { request, _ in
            // Status is UV_ECANCELED only after uv_cancel, which the core never calls.
            guard let request else { return }
            let box = Unmanaged<WorkBox>.fromOpaque(request.pointee.data).takeRetainedValue()
            request.deallocate()
            box.done()
        })
        precondition(rc == 0, "uv_queue_work fails only without a work callback")
    }
}
