// CPU-bound work of a request (scrypt) on the service's CPU pool: bounded, holding no
// database connection, so a burst of logins cannot occupy the PGPool and stall every query.
import HTTP1
import IOCore
import Web

extension Service {
    /// Runs `work` on a CPU thread, then `completion` with its value on the loop thread.
    /// Returns false, and runs neither, when the pool's queue is full (answer 503). Loop thread only.
    public func compute<T: Sendable>(_ work: @escaping @Sendable () -> T, completion: @escaping (T) -> Void) -> Bool {
        let bound = LoopBound(completion, loop: loop)
        let sender = loop.sender
        return cpu.submit {
            let value = work()
            _ = sender.execute { loop in bound.value(on: loop)(value) }
        }
    }

    /// The answer when the CPU pool is full: 503 `service_busy` with Retry-After.
    public static let busy = HTTPError.unavailable("service_busy", retryAfter: 1)
}
