// ws-echo's command line (swift-argument-parser): the server's options, the Autobahn client's
// and the load modes' (Bench.swift) in one command. The option names are those of the
// hand-written parsers it replaced.
import ArgumentParser
import Daemon
import Foundation

struct WSEchoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ws-echo",
        abstract: "WebSocket echo endpoint (Autobahn, benchmarks), Autobahn client driver and load modes.",
        discussion: """
        Serving: echoes text and binary messages on ws://HOST:PORT/ (every path), prints the \
        bound port alone on the first line of stdout once listening; SIGTERM or SIGINT gives \
        every connection a 1001 close, then exits. Environment: WS_ECHO_HOST, WS_ECHO_PORT \
        (overridden by --host, --port). --autobahn-client runs every case of a `wstest -m \
        fuzzingserver`. --idle and --echo-bench are load modes against --target-port.
        """,
        version: InstaverseVersion.string)

    @Option(help: "Address to listen on (default: $WS_ECHO_HOST, else 127.0.0.1).")
    var host: String?
    @Option(help: "Port to listen on, 0 for any (default: $WS_ECHO_PORT, else 9001).")
    var port: Int?
    @Flag(help: "Set SO_REUSEPORT on the listener.")
    var reusePort = false
    @Option(help: ArgumentHelp("Largest message accepted.", valueName: "bytes"))
    var maxMessage = 32 * 1024 * 1024
    @Flag(help: "Refuse permessage-deflate.")
    var noDeflate = false

    @Option(help: ArgumentHelp("Run the fuzzingserver's cases with this project's client.", valueName: "ws://host:port"))
    var autobahnClient: String?
    @Option(help: "The agent name reported to the fuzzingserver.")
    var agent = "instaverse"

    @Option(help: ArgumentHelp("Load mode: open N idle connections and hold them until SIGTERM.", valueName: "n"))
    var idle: Int?
    @Flag(help: "Load mode: every connection keeps one message in flight; prints echoes per second.")
    var echoBench = false
    @Option(help: "The port the load modes connect to on 127.0.0.1.")
    var targetPort = 9001
    @Option(help: ArgumentHelp("Load modes: source addresses, comma-separated.", valueName: "a,b,..."))
    var sources: String?
    @Option(help: "--echo-bench: connections.")
    var connections = 100
    @Option(help: ArgumentHelp("--echo-bench: message size.", valueName: "bytes"))
    var size = 512
    @Option(help: "--echo-bench: measuring time in seconds.")
    var seconds = 5
    @Option(help: ArgumentHelp("--idle: connection i requests line i of FILE (a path, optionally a tab and a token).", valueName: "file"))
    var paths: String?
    @Flag(help: "--idle: report once every connection also received its first message.")
    var awaitMessage = false

    /// The server's and the Autobahn client's settings; the environment fills what the
    /// command line leaves out.
    var options: Options {
        let environment = ProcessInfo.processInfo.environment
        var o = Options()
        o.host = host ?? environment["WS_ECHO_HOST"] ?? o.host
        o.port = port ?? Int(environment["WS_ECHO_PORT"] ?? "") ?? o.port
        o.reusePort = reusePort
        o.maxMessage = maxMessage
        o.deflate = !noDeflate
        o.autobahnURL = autobahnClient
        o.agent = agent
        return o
    }

    /// The load mode's settings, or nil when neither --idle nor --echo-bench was given.
    var benchOptions: BenchOptions? {
        guard idle != nil || echoBench else { return nil }
        var b = BenchOptions()
        b.idle = idle ?? 0
        b.echo = echoBench
        b.port = targetPort
        b.sources = sources.map { $0.split(separator: ",").map(String.init) } ?? []
        b.connections = connections
        b.size = size
        b.seconds = seconds
        b.pathsFile = paths
        b.awaitMessage = awaitMessage
        return b
    }
}
