// Waiting on conditions with deadlines, never fixed sleeps: a value guarded by a pthread
// mutex whose every update is broadcast, and `eventually` for conditions that live elsewhere
// (another thread's counters, a child process, a server). Deadlines are on the monotonic
// clock (CLOCK_MONOTONIC, the condition variable's clock too): a wall-clock step cannot
// shorten or stretch a wait.
import Foundation

/// @unchecked Sendable: `state` is only read or written with `mutex` held.
public final class Watched<State>: @unchecked Sendable {
    private var state: State
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init(_ initial: State) {
        state = initial
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        cond.deallocate()
    }

    @discardableResult
    public func update<R>(_ body: (inout State) -> R) -> R {
        pthread_mutex_lock(mutex)
        defer {
            pthread_cond_broadcast(cond)
            pthread_mutex_unlock(mutex)
        }
        return body(&state)
    }

    public func read<R>(_ body: (State) -> R) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body(state)
    }

    /// Waits until `predicate` holds or `seconds` pass; re-checks at least every `poll`
    /// seconds so conditions outside `state` are seen too. Returns whether it held.
    @discardableResult
    public func wait(seconds: Double, poll: Double = 0.01, until predicate: (State) -> Bool) -> Bool {
        let deadline = TestDeadline(seconds: seconds)
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !predicate(state) {
            let left = deadline.secondsLeft
            if left <= 0 { return false }
            let until = TestDeadline.monotonicSeconds() + min(left, poll)
            var ts = timespec(tv_sec: Int(until), tv_nsec: Int((until - floor(until)) * 1e9))
            pthread_cond_timedwait(cond, mutex, &ts)
        }
        return true
    }
}

/// Checks `predicate` every `poll` seconds until it holds or `seconds` pass; returns whether
/// it held (checked once more at the deadline).
@discardableResult
public func eventually(seconds: Double = 15, poll: Double = 0.02, _ predicate: () throws -> Bool) rethrows -> Bool {
    let deadline = TestDeadline(seconds: seconds)
    let idle = Watched(0)
    while true {
        if try predicate() { return true }
        let left = deadline.secondsLeft
        if left <= 0 { return false }
        idle.wait(seconds: min(poll, left), poll: poll) { _ in false }
    }
}

/// A point `seconds` from now on the monotonic clock: the bound of a test's wait (a test
/// that fails to see its condition by then fails; one that sees it earlier never waits longer).
public struct TestDeadline: Sendable {
    private let end: Double

    public init(seconds: Double) { end = TestDeadline.monotonicSeconds() + seconds }

    /// Seconds until the deadline; zero or less once it has passed.
    public var secondsLeft: Double { end - TestDeadline.monotonicSeconds() }
    public var hasPassed: Bool { secondsLeft <= 0 }

    /// CLOCK_MONOTONIC in seconds: the clock `Watched`'s condition variable waits on.
    public static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
