// The bounds every load run obeys: a hard cap on duration and on connections, and loopback
// targets only unless --allow-remote. `LoadArguments` is the checked run; the command line that
// produces it is LoadCommand.swift. Checking is pure so tests check the bounds without
// running anything.

enum Scenario: String, Sendable, CaseIterable {
    case storm, echo, deliver, soak
    /// A minimal WebSocket echo server on the codec (tests and comparisons without ws-echo).
    case serveEcho = "serve-echo"
}

/// A worker process's share of the users: ids first..<first+count, its index among workers.
struct UserSlice: Equatable, Sendable {
    var first: Int
    var count: Int
    var index: Int
    var users: Range<Int> { first..<(first + count) }
}

struct ArgumentError: Error, Equatable, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

struct LoadArguments: Sendable, Equatable {
    /// The absolute ceilings: --max-duration and --max-connections can lower them, never raise.
    static let durationCeiling = 300.0
    static let connectionCeiling = 100_000

    var scenario: Scenario = .storm
    var connections = 1000
    /// Storm: connections started per second; deliver/soak: events per second. nil = max.
    var rate: Double?
    /// Soak: connections closed and reopened per second.
    var churn = 100.0
    var targets: [WSTarget] = []
    /// `kid:secret,...`, the format of INSTAVERSE_JWT_KEYS (the first key signs).
    var jwtKeys: String?
    var hold = 0.0
    var duration = 10.0
    var size = 512
    var amqp: String?
    var grace = 5.0
    var perProcess = 15_000
    var sourceAddresses = 1
    var serverPids: [Int32] = []
    var json: String?
    var svg: String?
    var maxDuration = LoadArguments.durationCeiling
    var maxConnections = LoadArguments.connectionCeiling
    var allowRemote = false
    /// Handshakes in flight at once per worker.
    var concurrency = 2000
    var connectTimeout = 10.0
    var worker: UserSlice?
    var port = 0

    /// Parses a command line (without the program name) the way `instaverse-load` does, for
    /// callers that want the run rather than an exit: tests, and a worker's own arguments.
    static func parse(_ argv: [String]) throws(ArgumentError) -> LoadArguments {
        do {
            return try LoadCommand.parse(argv).arguments()
        } catch let error as ArgumentError {
            throw error
        } catch {
            throw ArgumentError(LoadCommand.fullMessage(for: error))
        }
    }

    /// Refuses runs outside the bounds. Called by `parse`; tests call it on edited values.
    func checkBounds() throws(ArgumentError) {
        guard maxDuration > 0, maxDuration <= Self.durationCeiling else {
            throw ArgumentError("--max-duration must be in (0, \(Int(Self.durationCeiling))] seconds")
        }
        guard maxConnections > 0, maxConnections <= Self.connectionCeiling else {
            throw ArgumentError("--max-connections must be in [1, \(Self.connectionCeiling)]")
        }
        if scenario == .serveEcho { return }
        guard !targets.isEmpty else { throw ArgumentError("--target ws://host:port/path is required") }
        if !allowRemote, let t = targets.first(where: { !$0.isLoopback }) {
            throw ArgumentError("target \(t) is not loopback (127.0.0.0/8 or ::1); pass --allow-remote to load it")
        }
        guard connections > 0 else { throw ArgumentError("--connections must be at least 1") }
        guard connections <= maxConnections else {
            throw ArgumentError("--connections \(connections) exceeds the cap \(maxConnections)")
        }
        let planned = plannedSeconds
        guard planned <= maxDuration else {
            throw ArgumentError("the run needs \(Int(planned)) s (duration/hold + grace), over --max-duration \(Int(maxDuration))")
        }
        guard sourceAddresses >= 0, sourceAddresses <= 250 else { throw ArgumentError("--source-addresses must be in [0, 250]") }
        if scenario == .deliver, amqp == nil { throw ArgumentError("deliver needs --amqp amqp://...") }
        if scenario == .echo, size > 16 * 1024 * 1024 { throw ArgumentError("--size at most 16 MiB") }
        if scenario == .echo, size < 8 { throw ArgumentError("--size at least 8 (the send timestamp)") }
        if let jwtKeys, (try? UserTokens(keys: jwtKeys)) == nil {
            throw ArgumentError("--jwt-keys: expected kid:secret[,kid:secret...] with secrets of 32+ bytes")
        }
    }

    /// The time the scenario itself asks for (the connect phase comes on top, bounded by
    /// --max-duration at run time).
    var plannedSeconds: Double {
        switch scenario {
        case .storm: return hold
        case .echo: return duration
        case .deliver: return duration + grace
        case .soak: return duration
        case .serveEcho: return 0
        }
    }

    /// The number of worker processes for this run.
    var workerCount: Int { (connections + perProcess - 1) / perProcess }

    /// The slices of users handed to the workers: users 1...connections split evenly.
    var slices: [UserSlice] {
        let n = workerCount
        var out: [UserSlice] = []
        var next = 1
        for k in 0..<n {
            let count = connections / n + (k < connections % n ? 1 : 0)
            out.append(UserSlice(first: next, count: count, index: k))
            next += count
        }
        return out
    }

    /// The arguments a worker gets: the same options plus its slice.
    func workerArguments(_ slice: UserSlice) -> [String] {
        var v = [scenario.rawValue, "--connections", String(slice.count), "--worker", "\(slice.first):\(slice.count):\(slice.index)"]
        for t in targets { v += ["--target", t.description] }
        if let jwtKeys { v += ["--jwt-keys", jwtKeys] }
        if let rate, scenario == .storm { v += ["--rate", String(rate / Double(workerCount))] }
        v += ["--churn", String(churn / Double(workerCount)), "--size", String(size),
              "--source-addresses", String(sourceAddresses), "--max-duration", String(maxDuration),
              "--concurrency", String(concurrency), "--connect-timeout", String(connectTimeout),
              "--duration", String(duration), "--hold", String(hold), "--grace", String(grace)]
        if let amqp { v += ["--amqp", amqp] }
        if allowRemote { v.append("--allow-remote") }
        return v
    }
}
