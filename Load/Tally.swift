// What one worker process counted, and the sum over workers. A worker sends its tally as the
// last JSON line on its pipe; the parent merges them (counts add, histograms merge, timelines
// add point by point: every worker samples on the same 250 ms cadence from its own start).

struct TimelinePoint: Codable, Sendable, Equatable {
    /// Seconds since the worker started.
    var t: Double
    /// Connections open at that moment.
    var open: Int
    /// Handshakes completed so far.
    var opened: Int
    /// Failures so far.
    var failed: Int
}

struct Tally: Codable, Sendable {
    var attempted = 0
    var opened = 0
    /// Connections open now (at the end: still open when the run stopped them).
    var open = 0
    /// Connections this side closed in an orderly way.
    var closed = 0
    /// Failures by cause: refused, timeout, reset, status 401, closed by server, protocol, ...
    var failures: [String: Int] = [:]
    /// From the start of the connect to the validated 101 (connect + handshake).
    var handshake = Latency()
    /// echo: send to echo; deliver: publish to receive.
    var message = Latency()
    var messagesSent = 0
    var messagesReceived = 0
    /// deliver: distinct event sequence numbers received, and repeats of one already seen.
    var delivered = 0
    var duplicates = 0
    /// Seconds from the first connect started to the last handshake completed.
    var connectSeconds = 0.0
    /// Seconds during which echo messages flowed (per worker; rates add across workers).
    var messageSeconds = 0.0
    var timeline: [TimelinePoint] = []

    var failed: Int { failures.values.reduce(0, +) }

    mutating func fail(_ cause: String) { failures[cause, default: 0] += 1 }

    mutating func merge(_ o: Tally) {
        attempted += o.attempted
        opened += o.opened
        open += o.open
        closed += o.closed
        for (k, v) in o.failures { failures[k, default: 0] += v }
        handshake.merge(o.handshake)
        message.merge(o.message)
        messagesSent += o.messagesSent
        messagesReceived += o.messagesReceived
        delivered += o.delivered
        duplicates += o.duplicates
        connectSeconds = max(connectSeconds, o.connectSeconds)
        messageSeconds = max(messageSeconds, o.messageSeconds)
        for (i, p) in o.timeline.enumerated() {
            if i < timeline.count {
                timeline[i].open += p.open
                timeline[i].opened += p.opened
                timeline[i].failed += p.failed
            } else {
                timeline.append(p)
            }
        }
    }

    /// Echo messages per second summed over workers (each had its own window).
    static func messageRate(_ tallies: [Tally]) -> Double {
        tallies.reduce(0) { $0 + ($1.messageSeconds > 0 ? Double($1.messagesReceived) / $1.messageSeconds : 0) }
    }
}
