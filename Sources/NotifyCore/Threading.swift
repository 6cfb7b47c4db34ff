// What the pipeline needs from the OS: a state guarded by a mutex with a condition variable
// (timed waits on the monotonic clock) and a joinable thread.
#if canImport(Glibc)
import Glibc
#endif

/// A value guarded by a pthread mutex, with a condition variable to wait for changes.
/// @unchecked Sendable: `value` is only touched with `mutex` held (inside `withLock`/`wait`),
/// and the pthread objects live at fixed heap addresses for the object's lifetime.
final class ConditionLock<Value>: @unchecked Sendable {
    private var value: Value
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init(_ initial: Value) {
        value = initial
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        cond.deallocate()
    }

    /// Runs `body` with the lock held; wakes every waiter afterwards when `notify` is set.
    func withLock<R>(notify: Bool = false, _ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer {
            if notify { pthread_cond_broadcast(cond) }
            pthread_mutex_unlock(mutex)
        }
        return try body(&value)
    }

    /// With the lock held: waits until `ready` holds or the monotonic clock passes
    /// `deadlineNanos` (0: no deadline), then runs `body`. Spurious wake-ups are absorbed.
    func wait<R>(until ready: (Value) -> Bool, deadlineNanos: UInt64, _ body: (inout Value) -> R) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !ready(value) {
            if deadlineNanos == 0 {
                pthread_cond_wait(cond, mutex)
            } else {
                if monotonicNanos() >= deadlineNanos { break }
                var ts = timespec(tv_sec: Int(deadlineNanos / 1_000_000_000), tv_nsec: Int(deadlineNanos % 1_000_000_000))
                pthread_cond_timedwait(cond, mutex, &ts)
            }
        }
        return body(&value)
    }
}

func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func wallClockMillis() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec / 1_000_000)
}

extension Duration {
    var nanos: UInt64 {
        let (s, a) = components
        return s <= 0 && a <= 0 ? 0 : UInt64(s) * 1_000_000_000 + UInt64(a / 1_000_000_000)
    }
}

