// Helpers for the loop tests: run a loop with a deadline, closure-based delegates, threads,
// and /proc readings.
import Testing
@testable import IOCore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The root suite: loop tests run one at a time (they share the machine's ports and the
/// memory test reads the process RSS).
@Suite(.serialized) struct IOCoreTests {}

/// Creates a loop, lets `setup` open handles, runs until something calls `loop.stop()`, with
/// a watchdog that fails the test after `deadline`; then closes the loop and asserts that no
/// handle leaked (our counter is 0 and uv_loop_close succeeded).
func withLoop(deadline: Duration = .seconds(20), sourceLocation: SourceLocation = #_sourceLocation,
              _ setup: (EventLoop) throws -> Void) throws {
    let loop = try EventLoop()
    var timedOut = false
    let watchdog = loop.schedule(after: deadline) {
        timedOut = true
        loop.stop()
    }
    try setup(loop)
    loop.run()
    watchdog.cancel()
    #expect(!timedOut, "loop test hit its deadline", sourceLocation: sourceLocation)
    #expect(throws: Never.self, sourceLocation: sourceLocation) { try loop.close() }
    #expect(loop.openHandleCount == 0, "handles leaked", sourceLocation: sourceLocation)
}

/// A delegate made of closures, for tests.
final class Delegate: TCPConnectionDelegate {
    var onRead: (TCPConnection, UnsafeRawBufferPointer) -> Void = { _, _ in }
    var onEOF: ((TCPConnection) -> Void)?
    var onWritable: (TCPConnection) -> Void = { _ in }
    var onClose: (TCPConnection, IOError?) -> Void = { _, _ in }

    func connection(_ connection: TCPConnection, didRead bytes: UnsafeRawBufferPointer) { onRead(connection, bytes) }
    func connectionDidReadEOF(_ connection: TCPConnection) {
        if let onEOF { onEOF(connection) } else { connection.close() }
    }
    func connectionDidBecomeWritable(_ connection: TCPConnection) { onWritable(connection) }
    func connectionDidClose(_ connection: TCPConnection, error: IOError?) { onClose(connection, error) }
}

/// A plain pthread running `body`; `join` waits for it.
final class TestThread: Sendable {
    private let tid: pthread_t
    private final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }

    init(_ body: @escaping @Sendable () -> Void) {
        var tid = pthread_t()
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let rc = pthread_create(&tid, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Box>.fromOpaque(raw).takeRetainedValue().body()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create")
        self.tid = tid
    }

    func join() { pthread_join(tid, nil) }
}

/// Runs `loop` until `condition` holds, checking it on a 1 ms loop timer so that the loop
/// sleeps in the kernel between events (no busy spin); gives up after `checks` checks (about
/// 30 s at the default). Returns whether it held. Leaves a cancelled timer to be closed by
/// the loop's next iteration.
func run(_ loop: EventLoop, checks: Int = 30_000, until condition: @escaping () -> Bool) -> Bool {
    if condition() { return true }
    var left = checks
    var held = false
    let timer = loop.schedule(after: .milliseconds(1), repeating: .milliseconds(1)) {
        left -= 1
        if condition() {
            held = true
            loop.stop()
        } else if left <= 0 {
            loop.stop()
        }
    }
    loop.run()
    timer.cancel()
    return held
}

/// Runs `loop`'s iterations without blocking until `condition` holds, for work that is
/// already due (close callbacks); false when 1,000 iterations did not get there.
func runDue(_ loop: EventLoop, until condition: () -> Bool) -> Bool {
    for _ in 0..<1000 {
        if condition() { return true }
        _ = loop.runNoWait()
    }
    return condition()
}

/// A deterministic payload: byte i is i % 251.
func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8($0 % 251) } }
