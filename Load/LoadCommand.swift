// instaverse-load's command line (swift-argument-parser). Every option keeps the name, short
// form and default of the hand-written parser it replaced; `arguments()` turns the parsed
// values into a checked `LoadArguments` (ranges, then the run's bounds).
import ArgumentParser
import Daemon

extension Scenario: ExpressibleByArgument {}

extension WSTarget: ExpressibleByArgument {
    init?(argument: String) { self.init(argument) }
}

extension UserSlice: ExpressibleByArgument {
    /// `first:count:index`, as `LoadArguments.workerArguments` writes it.
    init?(argument: String) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 3, let first = parts[0], let count = parts[1], let index = parts[2] else { return nil }
        self.init(first: first, count: count, index: index)
    }
}

struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "instaverse-load",
        abstract: "Connection storms, echo comparisons, delivery latency and soak against notifyd or any ws:// server.",
        discussion: """
        The parent process starts one worker process per --per-process connections and merges \
        their reports. Runs are bounded: at most 300 s and 100,000 connections, loopback \
        targets only unless --allow-remote.
        """,
        version: InstaverseVersion.string)

    @Argument(help: "What to run.")
    var scenario: Scenario

    @Option(name: [.short, .long], help: ArgumentHelp("Users 1..N, one connection each.", valueName: "N"))
    var connections = 1000

    @Option(name: [.customShort("t"), .long],
            help: ArgumentHelp("ws://host:port/path, repeatable; {user} in the path = user id.", valueName: "url"))
    var target: [WSTarget] = []

    @Option(help: ArgumentHelp("kid:secret,... sign a token per user (Authorization: Bearer).", valueName: "keys"))
    var jwtKeys: String?

    @Option(help: ArgumentHelp("storm: connections/s; deliver, soak: events/s (default: max).", valueName: "r"))
    var rate: Double?

    @Option(help: ArgumentHelp("soak: connections closed and reopened per second.", valueName: "r"))
    var churn = 100.0

    @Option(help: ArgumentHelp("storm: hold the connections S seconds.", valueName: "s"))
    var hold = 0.0

    @Option(name: [.short, .long], help: ArgumentHelp("echo, deliver, soak: measuring time in seconds.", valueName: "s"))
    var duration = 10.0

    @Option(help: ArgumentHelp("echo: message size.", valueName: "bytes"))
    var size = 512

    @Option(help: ArgumentHelp("deliver, soak: amqp://user:pass@host:port/vhost.", valueName: "url"))
    var amqp: String?

    @Option(help: ArgumentHelp("deliver: wait this long (seconds) for the last notifications.", valueName: "s"))
    var grace = 5.0

    @Option(help: ArgumentHelp("Connections per worker process.", valueName: "n"))
    var perProcess = 15_000

    @Option(help: ArgumentHelp("Connect from 127.0.0.2 .. 127.0.0.(K+1) (1: 127.0.0.2).", valueName: "k"))
    var sourceAddresses = 1

    @Option(help: ArgumentHelp("Sample this server's CPU and RSS (repeatable).", valueName: "pid"))
    var serverPid: [Int32] = []

    @Option(help: ArgumentHelp("Write the report (JSON) to this file.", valueName: "file"))
    var json: String?

    @Option(help: ArgumentHelp("Write a chart (SVG) to this file.", valueName: "file"))
    var svg: String?

    @Option(help: ArgumentHelp("Hard cap in seconds, at most 300.", valueName: "s"))
    var maxDuration = LoadArguments.durationCeiling

    @Option(help: ArgumentHelp("Hard cap, at most 100000.", valueName: "n"))
    var maxConnections = LoadArguments.connectionCeiling

    @Option(help: ArgumentHelp("Handshakes in flight per worker.", valueName: "n"))
    var concurrency = 2000

    @Option(help: ArgumentHelp("Per connection, in seconds.", valueName: "s"))
    var connectTimeout = 10.0

    @Flag(help: "Allow targets outside 127.0.0.0/8 and ::1.")
    var allowRemote = false

    @Option(help: ArgumentHelp("serve-echo: port on 127.0.0.1 (0: any).", valueName: "p"))
    var port = 0

    /// first:count:index, given by the parent process to its workers only.
    @Option(help: .hidden)
    var worker: UserSlice?

    /// Called by the parser after parsing: a value out of range or a run outside the bounds is
    /// a usage error (exit status 64 with the message and the usage).
    func validate() throws {
        do {
            _ = try arguments()
        } catch {
            throw ValidationError(error.message)
        }
    }

    /// The checked run: numbers in range, then `LoadArguments.checkBounds`.
    func arguments() throws(ArgumentError) -> LoadArguments {
        func seconds(_ name: String, _ value: Double) throws(ArgumentError) -> Double {
            guard value.isFinite, value >= 0 else { throw ArgumentError("--\(name): must be a finite number >= 0, not \(value)") }
            return value
        }
        func count(_ name: String, _ value: Int) throws(ArgumentError) -> Int {
            guard value >= 0 else { throw ArgumentError("--\(name): must be a count >= 0, not \(value)") }
            return value
        }
        var a = LoadArguments()
        a.scenario = scenario
        a.connections = try count("connections", connections)
        a.targets = target
        a.jwtKeys = jwtKeys
        if let rate { a.rate = try seconds("rate", rate) }
        a.churn = try seconds("churn", churn)
        a.hold = try seconds("hold", hold)
        a.duration = try seconds("duration", duration)
        a.size = try count("size", size)
        a.amqp = amqp
        a.grace = try seconds("grace", grace)
        a.perProcess = max(1, try count("per-process", perProcess))
        a.sourceAddresses = try count("source-addresses", sourceAddresses)
        if let pid = serverPid.first(where: { $0 <= 0 }) { throw ArgumentError("--server-pid: not a pid: \(pid)") }
        a.serverPids = serverPid
        a.json = json
        a.svg = svg
        a.maxDuration = try seconds("max-duration", maxDuration)
        a.maxConnections = try count("max-connections", maxConnections)
        a.concurrency = max(1, try count("concurrency", concurrency))
        a.connectTimeout = try seconds("connect-timeout", connectTimeout)
        a.allowRemote = allowRemote
        a.port = try count("port", port)
        a.worker = worker
        try a.checkBounds()
        return a
    }
}
