// The deadlines of an HTTP connection: one value and its kind per connection, chosen after
// every state change and applied by the server's single sweep timer (no timer per connection).
import HTTP1
import IOCore

extension HTTPServerConnection {
    func setDeadline(_ kind: Deadline, _ milliseconds: UInt64) {
        deadlineKind = kind
        deadline = server.loop.nowMilliseconds &+ milliseconds
    }

    /// Picks the deadline that fits the state after input was handled. A deadline of the
    /// same kind is kept, so a trickle of bytes cannot extend the header timeout.
    func updateDeadline() {
        if !flags.isDisjoint(with: [.lingering, .finished]) { return }
        if flags.contains(.awaitingWritable) {
            if deadlineKind != .write { setDeadline(.write, server.sendTimeoutMs) }
            return
        }
        if flags.contains(.awaitingResponse) {
            deadlineKind = .none
            return
        }
        switch parser.phase {
        case .idle:
            if serial == 0 {
                if deadlineKind != .head { setDeadline(.head, server.headerTimeoutMs) }
            } else if deadlineKind != .idle {
                setDeadline(.idle, server.idleTimeoutMs)
            }
        case .receivingHead:
            if deadlineKind != .head { setDeadline(.head, server.headerTimeoutMs) }
        case .receivingBody:
            if deadlineKind != .body { setDeadline(.body, server.bodyTimeoutMs) }
        case .upgraded, .closed, .failed:
            break
        }
    }

    /// Called by the server's sweep timer.
    func sweep(now: UInt64) {
        if deadlineKind == .idle {
            // Idle for a sweep period: give back the head buffer and any pipelining buffer.
            parser.releaseBuffer()
            if inbound.isEmpty, inbound.capacity > 0 { inbound = [] }
        }
        guard deadlineKind != .none, now >= deadline else { return }
        let kind = deadlineKind
        deadlineKind = .none
        switch kind {
        case .none:
            return
        case .idle, .write, .linger:
            connection.close()
        case .head:
            if parser.phase == .receivingHead {
                fail(HTTPParseError(.requestTimeout, "request head not received in time"))
            } else {
                connection.close()
            }
        case .body:
            fail(HTTPParseError(.requestTimeout, "request body not received in time"))
        }
    }
}
