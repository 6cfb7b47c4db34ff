// Starting an EventLoop on its own pthread, so several loops run in one process.
import CLibUV
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An EventLoop running on a dedicated thread.
///
/// The thread creates nothing itself: `setup` runs first on the new thread with the loop
/// (open listeners, timers there), then the loop runs until `stop()`, then the thread closes
/// the loop (every handle closed, every close callback run) and ends. Talk to the loop from
/// other threads with `sender`.
public final class EventLoopThread: Sendable {
    /// The cross-thread entry of the loop running on this thread.
    public let sender: EventLoop.Sender
    private let thread: Mutex<pthread_t?>
    private let outcome: ThreadOutcome

    /// Starts the thread. `name` (at most 15 bytes are kept) shows in `top -H` and debuggers.
    public init(name: String = "event-loop", setup: @escaping @Sendable (EventLoop) -> Void = { _ in }) throws(IOError) {
        let loop = try EventLoop()
        sender = loop.sender
        let outcome = ThreadOutcome()
        self.outcome = outcome
        let start = ThreadStart(loop: loop, name: name, setup: setup, outcome: outcome)
        let context = Unmanaged.passRetained(start).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { context in
            guard let context else { return nil }
            let start = Unmanaged<ThreadStart>.fromOpaque(context).takeRetainedValue()
            start.main()
            return nil
        }, context)
        if rc != 0 {
            Unmanaged<ThreadStart>.fromOpaque(context).release()
            throw IOError(code: -rc, operation: "pthread_create")
        }
        thread = Mutex(tid)
    }

    /// Asks the loop to stop; the thread then closes the loop and ends. Any thread.
    public func stop() { sender.stop() }

    /// Waits until the thread ended, then returns whether its loop closed cleanly (every
    /// handle closed, none leaked). Call from any thread but the loop's own; later calls
    /// return the same answer at once.
    @discardableResult
    public func join() -> Bool {
        if let tid = thread.withLock({ tid -> pthread_t? in
            let current = tid
            tid = nil
            return current
        }) {
            pthread_join(tid, nil)
        }
        return outcome.closedCleanly.withLock { $0 }
    }
}

/// Carries the loop into the new thread. The creating thread gives up every reference to the
/// loop before the thread starts (only the Sendable sender stays behind), so the loop is used
/// by exactly one thread at a time.
private final class ThreadStart {
    let loop: EventLoop
    let name: String
    let setup: @Sendable (EventLoop) -> Void
    let outcome: ThreadOutcome

    init(loop: EventLoop, name: String, setup: @escaping @Sendable (EventLoop) -> Void, outcome: ThreadOutcome) {
        self.loop = loop
        self.name = name
        self.setup = setup
        self.outcome = outcome
    }

    func main() {
        _ = instaverse_set_thread_name(name)
        loop.adoptCurrentThread()
        setup(loop)
        loop.run()
        let clean = (try? loop.close()) != nil && loop.openHandleCount == 0
        outcome.closedCleanly.withLock { $0 = clean }
    }
}

/// How the loop thread ended, read by `join()` after pthread_join.
private final class ThreadOutcome: Sendable {
    let closedCleanly = Mutex(false)
}
