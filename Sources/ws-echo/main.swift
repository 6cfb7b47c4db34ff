// WebSocket echo endpoint (Autobahn's fuzzingclient, benchmarks) and Autobahn client driver.
//
//   ws-echo [--host H] [--port P] [--reuse-port] [--max-message BYTES] [--no-deflate]
//       Serves ws://H:P/ (every path): echoes text and binary messages. Prints the bound port
//       alone on the first line of stdout once listening. SIGTERM/SIGINT: every connection
//       gets a 1001 close, then the process exits. Env: WS_ECHO_HOST, WS_ECHO_PORT.
//   ws-echo --autobahn-client ws://127.0.0.1:9001 [--agent NAME]
//       Runs every case of a `wstest -m fuzzingserver` with this project's client (echoing
//       back what it receives), then asks the fuzzingserver to write its report.
//   ws-echo --idle N / --echo-bench ...: load modes (Bench.swift).
// `ws-echo --help` lists every option (WSEchoCommand.swift); a bad one exits 64.
import Foundation
import HTTP1
import IOCore
import Web
import WebSocket

/// The server's and the Autobahn client's settings (WSEchoCommand.swift parses them).
struct Options {
    var host = "127.0.0.1"
    var port = 9001
    var reusePort = false
    var maxMessage = 32 * 1024 * 1024
    var deflate = true
    var autobahnURL: String?
    var agent = "instaverse"
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("ws-echo: \(message)\n".utf8))
    exit(2)
}

/// Echoes every message back on the connection it came from. One instance serves every
/// connection (no per-connection handler object).
final class Echo: WebSocketHandler {
    func webSocket(_ connection: WebSocketConnection, didReceiveText text: UnsafeRawBufferPointer) {
        connection.send(text: text)
    }
    func webSocket(_ connection: WebSocketConnection, didReceiveBinary data: UnsafeRawBufferPointer) {
        connection.send(binary: data)
    }
    func webSocketDidClose(_ connection: WebSocketConnection, code: WebSocketCloseCode?) {}
}

func configuration(_ options: Options) -> WebSocketConfiguration {
    var configuration = WebSocketConfiguration()
    configuration.maxMessageSize = options.maxMessage
    // Echoing 16 MiB messages (Autobahn 9.*) queues them whole: the slow-consumer limit must
    // hold two of them.
    configuration.outboundHardLimit = max(configuration.outboundHardLimit, 2 * options.maxMessage + 1024 * 1024)
    return configuration
}

func serve(_ options: Options) throws {
    let loop = try EventLoop()
    var httpConfiguration = HTTPServer.Configuration()
    httpConfiguration.backlog = 4096
    let http = HTTPServer(loop: loop, configuration: httpConfiguration)
    http.route(.GET, "/healthz") { _, res in res.respond(.ok, body: Array("ok\n".utf8)) }
    let echo = Echo()
    let ws = WebSocketServer(loop: loop, context: WebSocketContext(configuration: configuration(options)),
                             allowDeflate: options.deflate) { _ in .accept(handler: echo) }
    ws.attach(to: http)
    let port = try http.listen(host: options.host, port: options.port, reusePort: options.reusePort)
    print(port)
    fflush(nil)
    var watchers: [SignalWatcher] = []
    for signal in [SIGTERM, SIGINT] {
        watchers.append(try loop.onSignal(signal) { _ in
            http.close()
            ws.shutdown {
                http.shutdown(graceful: false) { loop.stop() }
            }
        })
    }
    loop.run()
    for watcher in watchers { watcher.cancel() }
    try loop.close()
}

// MARK: Autobahn client driver

/// Drives the fuzzingserver: getCaseCount, then runCase for each case (echoing), then
/// updateReports. One case at a time, as the fuzzingserver expects.
final class AutobahnDriver: WebSocketHandler {
    let loop: EventLoop
    let client: WebSocketClient
    let host: String
    let port: Int
    let agent: String
    var caseCount = 0
    var currentCase = 0
    var phase = 0  // 0 count, 1 cases, 2 report
    var failures = 0

    init(loop: EventLoop, url: String, agent: String, options: Options) {
        self.loop = loop
        self.agent = agent
        guard url.hasPrefix("ws://") else { fail("URL must start with ws://") }
        let rest = url.dropFirst(5).split(separator: "/", maxSplits: 1).first.map(String.init) ?? ""
        let parts = rest.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { fail("URL needs host:port") }
        host = String(parts[0])
        self.port = port
        client = WebSocketClient(loop: loop, context: WebSocketContext(configuration: configuration(options)))
    }

    func start() { open("/getCaseCount") }

    func open(_ path: String) {
        client.connect(host: host, port: port, path: path, offerDeflate: true, handler: self) { [self] result in
            if case .failure(let error) = result {
                FileHandle.standardError.write(Data("ws-echo: \(path): \(error)\n".utf8))
                failures += 1
                next()
            }
        }
    }

    func next() {
        switch phase {
        case 0:
            phase = 1
            currentCase = 1
            if caseCount == 0 { fail("fuzzingserver reported no cases") }
            open("/runCase?case=1&agent=\(agent)")
        case 1:
            if currentCase < caseCount {
                currentCase += 1
                open("/runCase?case=\(currentCase)&agent=\(agent)")
            } else {
                phase = 2
                open("/updateReports?agent=\(agent)")
            }
        default:
            loop.stop()
        }
    }

    func webSocket(_ connection: WebSocketConnection, didReceiveText text: UnsafeRawBufferPointer) {
        if phase == 0 {
            caseCount = Int(String(decoding: text, as: UTF8.self)) ?? 0
            return
        }
        connection.send(text: text)
    }

    func webSocket(_ connection: WebSocketConnection, didReceiveBinary data: UnsafeRawBufferPointer) {
        connection.send(binary: data)
    }

    func webSocketDidClose(_ connection: WebSocketConnection, code: WebSocketCloseCode?) {
        // Not from inside the close callback: open the next connection on the next iteration.
        loop.schedule(after: .zero) { [self] in next() }
    }
}

func runAutobahnClient(_ options: Options, url: String) throws {
    let loop = try EventLoop()
    let driver = AutobahnDriver(loop: loop, url: url, agent: options.agent, options: options)
    driver.start()
    loop.run()
    print("ran \(driver.caseCount) cases, \(driver.failures) connect failures")
    try loop.close()
    if driver.failures > 0 { exit(1) }
}

let command = WSEchoCommand.parseOrExit()
if let bench = command.benchOptions {
    do { try runBench(bench) } catch { fail("\(error)") }
    exit(0)
}
let options = command.options
do {
    if let url = options.autobahnURL {
        try runAutobahnClient(options, url: url)
    } else {
        try serve(options)
    }
} catch {
    fail("\(error)")
}
