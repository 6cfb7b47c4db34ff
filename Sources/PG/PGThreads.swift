// The two threading primitives the pool and the relay need: a mutex-protected state with a
// condition variable (pthreads directly, no Foundation), and a joinable thread (IOCore's).
import IOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `State` guarded by a pthread mutex, with one condition variable for waiting on it.
///
/// `@unchecked Sendable`: `state` is only read or written between pthread_mutex_lock and
/// pthread_mutex_unlock (in `withLock` and `wait`), and the mutex and condition live in
/// heap memory that stays put for the object's lifetime.
final class PGLocked<State>: @unchecked Sendable {
    private var state: State
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    init(_ state: State) {
        self.state = state
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<R>(_ body: (inout State) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }

    /// Blocks until `ready(state)` returns non-nil, then returns that value, all under the lock.
    func wait<R>(until ready: (inout State) -> R?) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while true {
            if let value = ready(&state) { return value }
            pthread_cond_wait(condition, mutex)
        }
    }

    /// Wakes one waiter (call after changing the state).
    func signal() { pthread_cond_signal(condition) }
    /// Wakes every waiter.
    func broadcast() { pthread_cond_broadcast(condition) }
}

/// A started pthread that can be joined once.
struct PGThread: Sendable {
    private let thread: JoinableThread

    /// Starts `body` on a new thread. Traps if the system cannot create a thread (out of
    /// resources at start-up is not recoverable for a service).
    init(_ body: @escaping @Sendable () -> Void) {
        guard let thread = JoinableThread.start(body) else { preconditionFailure("pthread_create failed") }
        self.thread = thread
    }

    /// True when called on this thread (joining it from itself would deadlock).
    var isCurrent: Bool { thread.isCurrent }

    func join() { thread.join() }
}
