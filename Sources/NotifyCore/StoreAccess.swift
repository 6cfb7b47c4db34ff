// How the front reaches the store without ever blocking a loop thread: the operation runs on
// the store thread (NotificationPipeline.perform) and its result hops back to the loop
// through the loop's sender. The loop-side continuation is never Sendable (it touches
// sessions and responders), so it crosses threads inside a LoopBound.
import IOCore
import Store

/// Runs store operations off the loop. NotificationPipeline is the production one; tests may
/// supply their own (any thread, completion on any thread).
public protocol NotificationStoreAccess: Sendable {
    func perform<T: Sendable>(_ op: @escaping @Sendable (any NotificationStore) throws -> T,
                              completion: @escaping @Sendable (Result<T, any Error>) -> Void)
}

extension NotificationPipeline: NotificationStoreAccess {}

/// The loop's door to the store. Loop-confined.
final class LoopStore {
    let loop: EventLoop
    let access: any NotificationStoreAccess

    init(loop: EventLoop, access: any NotificationStoreAccess) {
        self.loop = loop
        self.access = access
    }

    /// Runs `op` on the store thread, then `then` on this loop's thread with its result. Call
    /// on the loop thread. When the loop has closed meanwhile, `then` never runs.
    func run<T: Sendable>(_ op: @escaping @Sendable (any NotificationStore) throws -> T,
                          then: @escaping (Result<T, any Error>) -> Void) {
        let continuation = LoopBound(then, loop: loop)
        let sender = loop.sender
        access.perform(op) { result in
            sender.execute { loop in continuation.value(on: loop)(result) }
        }
    }
}

/// Wall-clock milliseconds since the epoch (store timestamps).
func nowMillis() -> Int64 { wallClockMillis() }

/// Wall-clock seconds since the epoch (JWT times).
func nowSeconds() -> Int64 { wallClockMillis() / 1000 }
