// The connections of one worker process (or of a test): one event loop, users of one slice.
//
// Algorithm. A 1 ms pump starts connections: with --rate R, as many as keep the started
// count at R x elapsed; without, as many as keep --concurrency handshakes in flight (and
// every completion pumps again). Connection i goes to target i mod T and from source address
// (i / T) mod S, so every (source, target) pair gets its own 28k ephemeral ports. A 100 ms
// sweep times out handshakes older than --connect-timeout. Every 250 ms the engine appends a
// timeline point and emits a progress line. Scenario behaviour once a session is open:
//   storm   nothing (hold);
//   echo    send a --size text message, wait for the echo, record the round trip, repeat;
//   deliver parse notifications: commentId = event sequence, postId = publish time in µs
//           (CLOCK_MONOTONIC of the publishing process); dedupe sequences with a bitmap;
//   soak    every 100 ms close --churn/10 open sessions round-robin and reconnect their users.
// `stop()` closes every session with a close frame, waits up to 3 s for the server's answers,
// aborts the rest, then hands the tally to `onFinish`. Everything runs on the loop thread.
import IOCore
import WebSocket
#if canImport(Glibc)
import Glibc
#endif

/// What a worker reports between its start and its final tally.
struct WorkerProgress: Codable, Sendable, Equatable {
    var attempted = 0
    var opened = 0
    var open = 0
    var failed = 0
    var received = 0
    var delivered = 0
    /// False once every user of the slice was attempted and none is still handshaking.
    var connecting = true
}

final class WorkerEngine: LoadSessionOwner {
    let loop: EventLoop
    let args: LoadArguments
    let slice: UserSlice
    private let onProgress: (WorkerProgress) -> Void
    private let onFinish: (Tally) -> Void

    private(set) var tally = Tally()
    private var sessions: [LoadSession?]
    private var inflight: [ObjectIdentifier: LoadSession] = [:]
    private var nextIndex = 0
    private var remotes: [SocketAddress] = []
    private var sources: [SocketAddress?] = [nil]
    private let tokens: UserTokens?
    private var startedAt: UInt64 = 0
    private var firstOpenAt: UInt64 = 0
    private var lastOpenAt: UInt64 = 0
    private var timers: [LoopTimer] = []
    private var stopping = false
    private var finished = false
    private var stopAt: UInt64 = 0
    private var closing = 0
    private let scratch: UnsafeMutableRawBufferPointer
    private let payload: [UInt8]
    private var echoStartedAt: UInt64 = 0
    private var churnCarry = 0.0
    private var churnCursor = 0
    private var seen: [UInt64] = []

    init(loop: EventLoop, args: LoadArguments, slice: UserSlice,
         onProgress: @escaping (WorkerProgress) -> Void, onFinish: @escaping (Tally) -> Void) throws(ArgumentError) {
        self.loop = loop
        self.args = args
        self.slice = slice
        self.onProgress = onProgress
        self.onFinish = onFinish
        sessions = Array(repeating: nil, count: slice.count)
        tokens = try args.jwtKeys.map { k throws(ArgumentError) in try UserTokens(keys: k) }
        for t in args.targets {
            do { remotes.append(try SocketAddress(ip: t.host, port: t.port)) } catch {
                throw ArgumentError("target \(t): \(error)")
            }
        }
        if args.sourceAddresses > 0, args.targets.allSatisfy({ !$0.host.contains(":") }) {
            sources = (0..<args.sourceAddresses).map { try? SocketAddress(ip: "127.0.0.\(2 + $0)", port: 0) }
        }
        let frameRoom = args.size + WebSocketFrameEncoder.maxHeaderSize
        scratch = .allocate(byteCount: max(frameRoom, 256), alignment: 16)
        payload = Array(repeating: UInt8(ascii: "x"), count: max(args.size, 8))
    }

    deinit { scratch.deallocate() }

    /// Starts the pump, the sweep, the sampler and the --max-duration cap. Loop thread.
    func start() {
        startedAt = monotonicNanos()
        timers.append(loop.schedule(after: .milliseconds(1), repeating: .milliseconds(1)) { [unowned self] in pump() })
        timers.append(loop.schedule(after: .milliseconds(100), repeating: .milliseconds(100)) { [unowned self] in sweep() })
        timers.append(loop.schedule(after: .milliseconds(250), repeating: .milliseconds(250)) { [unowned self] in sample() })
        timers.append(loop.schedule(after: .milliseconds(Int64(args.maxDuration * 1000))) { [unowned self] in stop() })
        pump()
    }

    var progress: WorkerProgress {
        WorkerProgress(attempted: tally.attempted, opened: tally.opened, open: tally.open, failed: tally.failed,
                       received: tally.messagesReceived, delivered: tally.delivered,
                       connecting: nextIndex < slice.count || !inflight.isEmpty)
    }

    // MARK: connecting

    private func pump() {
        guard !stopping else { return }
        var budget = args.concurrency - inflight.count
        if let rate = args.rate, rate > 0 {
            let allowed = Int(rate * seconds(from: startedAt, to: monotonicNanos())) + 1
            budget = min(budget, allowed - nextIndex)
        }
        while budget > 0, nextIndex < slice.count {
            let index = nextIndex
            nextIndex += 1
            budget -= 1
            connect(index)
        }
    }

    private func connect(_ index: Int) {
        let user = slice.first + index
        let session = LoadSession(user: user, owner: self)
        sessions[index] = session
        let global = user - 1
        let t = args.targets[global % args.targets.count]
        let remote = remotes[global % remotes.count]
        let source = sources[(global / remotes.count) % sources.count]
        var headers: [(name: String, value: String)] = []
        if let tokens {
            headers.append(("Authorization", "Bearer " + tokens.token(user: user, now: unixSeconds())))
        }
        let handshake = WebSocketClientHandshake(host: t.hostHeader, path: t.path(for: user), extraHeaders: headers)
        tally.attempted += 1
        inflight[ObjectIdentifier(session)] = session
        session.start(loop: loop, remote: remote, source: source, handshake: handshake)
    }

    private func sweep() {
        let limit = UInt64(args.connectTimeout * 1e9)
        let now = monotonicNanos()
        for s in inflight.values where now - s.startedAt > limit { s.timeOut() }
        if args.scenario == .soak, !stopping, !progress.connecting { churn() }
        if stopping, closing <= 0 || now >= stopAt { finish() }
    }

    private func sample() {
        // After stop() the timeline ends with the point stop() took (connections held).
        if stopping { onProgress(progress); return }
        tally.timeline.append(TimelinePoint(t: seconds(from: startedAt, to: monotonicNanos()), open: tally.open,
                                            opened: tally.opened, failed: tally.failed))
        onProgress(progress)
    }

    private func churn() {
        churnCarry += args.churn / 10
        var n = Int(churnCarry)
        churnCarry -= Double(n)
        var scanned = 0
        while n > 0, scanned < sessions.count {
            let i = churnCursor % sessions.count
            churnCursor += 1
            scanned += 1
            if let s = sessions[i], s.phase == .open { s.close(); n -= 1 }
        }
    }

    // MARK: LoadSessionOwner

    func sessionDidOpen(_ session: LoadSession) {
        inflight[ObjectIdentifier(session)] = nil
        let now = session.openedAt
        if firstOpenAt == 0 { firstOpenAt = now }
        lastOpenAt = now
        tally.opened += 1
        tally.open += 1
        tally.handshake.record(nanos: now - session.startedAt)
        if args.scenario == .echo {
            if echoStartedAt == 0 { echoStartedAt = now }
            sendEcho(session)
        }
        if args.rate == nil { pump() }
    }

    func session(_ session: LoadSession, didReceive bytes: UnsafeRawBufferPointer) {
        let now = monotonicNanos()
        switch args.scenario {
        case .echo:
            guard session.pendingSince != 0 else { return }
            tally.message.record(nanos: now - session.pendingSince)
            tally.messagesReceived += 1
            session.pendingSince = 0
            if !stopping { sendEcho(session) }
        case .deliver, .soak:
            tally.messagesReceived += 1
            if NotificationScan.isBacklog(bytes) { return }
            guard let seq = NotificationScan.int(after: "\"commentId\":", in: bytes),
                  let sentMicros = NotificationScan.int(after: "\"postId\":", in: bytes), seq > 0 else { return }
            if markSeen(UInt64(seq)) {
                tally.delivered += 1
                let micros = now / 1000
                tally.message.record(nanos: micros > UInt64(sentMicros) ? (micros - UInt64(sentMicros)) * 1000 : 0)
            } else {
                tally.duplicates += 1
            }
        case .storm, .serveEcho:
            break
        }
    }

    func session(_ session: LoadSession, didFail cause: String, wasOpen: Bool) {
        inflight[ObjectIdentifier(session)] = nil
        if wasOpen { tally.open -= 1 }
        if stopping {
            closing -= 1
            if wasOpen { tally.closed += 1 }
            return
        }
        tally.fail(cause)
        if args.rate == nil { pump() }
    }

    func sessionDidClose(_ session: LoadSession) {
        inflight[ObjectIdentifier(session)] = nil
        if session.openedAt != 0 { tally.open -= 1; tally.closed += 1 }
        if stopping { closing -= 1; return }
        // Soak churn: the user comes straight back.
        if args.scenario == .soak, let index = sessions.firstIndex(where: { $0 === session }) { connect(index) }
    }

    // MARK: echo

    private func sendEcho(_ session: LoadSession) {
        session.pendingSince = monotonicNanos()
        let ok = payload.withUnsafeBytes { session.send(opcode: .text, payload: $0, scratch: scratch) }
        if ok { tally.messagesSent += 1 } else { session.pendingSince = 0 }
    }

    // MARK: deliver

    /// Marks `seq` seen; false when it was already.
    private func markSeen(_ seq: UInt64) -> Bool {
        let word = Int(seq >> 6), bit = UInt64(1) << (seq & 63)
        if word >= seen.count {
            guard word < 1 << 24 else { return true }
            seen.append(contentsOf: repeatElement(0, count: word + 1 - seen.count))
        }
        if seen[word] & bit != 0 { return false }
        seen[word] |= bit
        return true
    }

    // MARK: stopping

    /// Closes every session (close frame first) and finishes within 3 s. Idempotent.
    func stop() {
        guard !stopping else { return }
        stopping = true
        let now = monotonicNanos()
        if echoStartedAt != 0 { tally.messageSeconds = seconds(from: echoStartedAt, to: now) }
        if lastOpenAt != 0 { tally.connectSeconds = seconds(from: startedAt, to: lastOpenAt) }
        stopAt = now + 3_000_000_000
        let held = tally.open
        for s in sessions.compactMap({ $0 }) where s.phase != .done {
            closing += 1
            s.close()
        }
        tally.timeline.append(TimelinePoint(t: seconds(from: startedAt, to: now), open: held,
                                            opened: tally.opened, failed: tally.failed))
        if closing <= 0 { finish() }
    }

    private func finish() {
        guard !finished else { return }
        finished = true
        for s in sessions.compactMap({ $0 }) { s.abort() }
        for t in timers { t.cancel() }
        timers = []
        var result = tally
        result.open = tally.timeline.last?.open ?? 0
        onFinish(result)
    }
}

/// Seconds since the Unix epoch, for token iat/exp.
func unixSeconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec)
}

/// Finds integer fields in a notification without decoding the JSON (the receive path runs
/// for every delivered event; a full parse would make the generator the bottleneck).
enum NotificationScan {
    /// The {"type":"backlog",...} message sent on connect (notifications of earlier runs).
    static func isBacklog(_ bytes: UnsafeRawBufferPointer) -> Bool {
        contains("\"backlog\"", in: UnsafeRawBufferPointer(rebasing: bytes.prefix(40)))
    }

    static func contains(_ key: StaticString, in bytes: UnsafeRawBufferPointer) -> Bool {
        let k = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        guard bytes.count >= k.count, let base = bytes.baseAddress, let kb = k.baseAddress else { return false }
        for i in 0...(bytes.count - k.count) where memcmp(base + i, kb, k.count) == 0 { return true }
        return false
    }

    static func int(after key: StaticString, in bytes: UnsafeRawBufferPointer) -> Int64? {
        let k = UnsafeRawBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        guard bytes.count > k.count else { return nil }
        var i = 0
        let last = bytes.count - k.count
        while i <= last {
            if bytes[i] == k[0], memcmp(bytes.baseAddress.unsafelyUnwrapped + i, k.baseAddress.unsafelyUnwrapped, k.count) == 0 {
                var j = i + k.count
                var v: Int64 = 0
                var digits = 0
                while j < bytes.count, bytes[j] >= 48, bytes[j] <= 57, digits < 18 {
                    v = v * 10 + Int64(bytes[j] - 48)
                    j += 1
                    digits += 1
                }
                return digits > 0 ? v : nil
            }
            i += 1
        }
        return nil
    }
}
