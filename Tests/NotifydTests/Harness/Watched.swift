// Waiting on conditions with deadlines (no fixed sleeps in tests): a value guarded by a
// pthread mutex and broadcast on every change.
import Foundation

/// @unchecked Sendable: `state` is only touched with `mutex` held.
final class Watched<State>: @unchecked Sendable {
    private var state: State
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init(_ initial: State) {
        state = initial
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        cond.deallocate()
    }

    @discardableResult
    func update<R>(_ body: (inout State) -> R) -> R {
        pthread_mutex_lock(mutex)
        defer {
            pthread_cond_broadcast(cond)
            pthread_mutex_unlock(mutex)
        }
        return body(&state)
    }

    func read<R>(_ body: (State) -> R) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body(state)
    }

    /// Waits until `predicate` holds or `seconds` pass; re-checks every `poll` seconds so
    /// conditions on other things (a process, a socket) are seen too.
    @discardableResult
    func wait(seconds: Double, poll: Double = 0.02, until predicate: (State) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !predicate(state) {
            let now = Date()
            if now >= deadline { return false }
            let until = min(deadline, now.addingTimeInterval(poll)).timeIntervalSince1970
            var ts = timespec(tv_sec: Int(until), tv_nsec: Int((until - floor(until)) * 1e9))
            pthread_cond_timedwait(cond, mutex, &ts)
        }
        return true
    }
}

/// Polls `predicate` until it holds or `seconds` pass (for conditions outside a Watched).
@discardableResult
func eventually(seconds: Double, poll: Double = 0.02, _ predicate: () -> Bool) -> Bool {
    Watched(0).wait(seconds: seconds, poll: poll) { _ in predicate() }
}
