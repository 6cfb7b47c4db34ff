// Load modes of ws-echo, built on the same I/O core and WebSocket client as the server.
//
// --idle N --target-port P [--sources 127.0.0.2,127.0.0.3] [--paths FILE] [--await-message]:
//   opens N WebSocket connections to 127.0.0.1:P (spread over the source addresses, at most
//   512 handshakes in flight), prints "idle N open, F failed" once all are open (with
//   --await-message: once each open connection also received its first message, e.g.
//   notifyd's backlog), then holds them until SIGTERM/SIGINT. --paths: connection i requests
//   line i of FILE, cycling; default "/". A line is a path, optionally followed by a tab and
//   a token sent as `Authorization: Bearer <token>` ("/ws?userId=7<TAB>eyJ..."): tokens
//   never go in the URL, notifyd refuses that with 400 token_in_url.
// --echo-bench --target-port P [--connections 100] [--size 512] [--seconds 5]: every
//   connection keeps one binary message of SIZE in flight (send, wait for the echo, send
//   again); prints the echoes per second over the measured interval. One loop, one core: check
//   that the server, not this client, is the bottleneck (server CPU ~100%).
import Foundation
import IOCore
import Web
import WebSocket

/// The load modes' settings (WSEchoCommand.swift parses them).
struct BenchOptions {
    var idle = 0
    var echo = false
    var port = 9001
    var sources: [String] = []
    var connections = 100
    var size = 512
    var seconds = 5
    var pathsFile: String?
    var awaitMessage = false
}

/// Counts echoes and sends the next message at once.
final class BenchHandler: WebSocketHandler {
    var payload: [UInt8]
    var echoes = 0
    var counting = false
    /// Text messages received (the idle mode's --await-message counts first messages with it:
    /// notifyd sends exactly one, the backlog, to an idle session).
    var texts = 0
    var onText: (() -> Void)?
    init(size: Int) { payload = [UInt8](repeating: 0x61, count: size) }
    func webSocketDidOpen(_ connection: WebSocketConnection) {}
    func webSocket(_ connection: WebSocketConnection, didReceiveText text: UnsafeRawBufferPointer) {
        texts += 1
        onText?()
    }
    func webSocket(_ connection: WebSocketConnection, didReceiveBinary data: UnsafeRawBufferPointer) {
        if counting { echoes += 1 }
        connection.send(binary: payload)
    }
    func webSocketDidClose(_ connection: WebSocketConnection, code: WebSocketCloseCode?) {}
}

func runBench(_ options: BenchOptions) throws {
    let loop = try EventLoop()
    let client = WebSocketClient(loop: loop)
    let sources = options.sources.isEmpty ? ["127.0.0.1"] : options.sources
    if options.echo {
        let handler = BenchHandler(size: options.size)
        var open = 0
        for i in 0..<options.connections {
            client.connect(host: "127.0.0.1", port: options.port, path: "/", sourceAddress: sources[i % sources.count],
                           handler: handler) { result in
                let connection: WebSocketConnection
                switch result {
                case .success(let c): connection = c
                case .failure(let error): fail("connect failed: \(error)")
                }
                open += 1
                connection.send(binary: handler.payload)
                if open == options.connections {
                    // One second of warm-up, then measure.
                    loop.schedule(after: .seconds(1)) {
                        handler.counting = true
                        let start = ContinuousClock.now
                        loop.schedule(after: .seconds(options.seconds)) {
                            let elapsed = ContinuousClock.now - start
                            let s = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                            print("echo \(options.size) B x \(options.connections) connections: \(Int(Double(handler.echoes) / s)) msgs/s")
                            fflush(nil)
                            client.closeAll()
                            loop.schedule(after: .milliseconds(200)) { loop.stop() }
                        }
                    }
                }
            }
        }
    } else {
        let handler = BenchHandler(size: 0)
        var paths: [IdleTarget] = [IdleTarget(line: "/")]
        if let file = options.pathsFile {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { fail("cannot read \(file)") }
            paths = text.split(separator: "\n").map(IdleTarget.init(line:))
            if paths.isEmpty { fail("\(file) has no paths") }
        }
        var started = 0
        var open = 0
        var failed = 0
        var reported = false
        func report() {
            guard !reported, open + failed == options.idle, !options.awaitMessage || handler.texts >= open else { return }
            reported = true
            print("idle \(open) open, \(failed) failed")
            fflush(nil)
        }
        handler.onText = report
        func more() {
            while started < options.idle, started - open - failed < 512 {
                let source = sources[started % sources.count]
                let target = paths[started % paths.count]
                started += 1
                client.connect(host: "127.0.0.1", port: options.port, path: target.path, sourceAddress: source,
                               headers: target.headers, handler: handler) { result in
                    if case .success = result { open += 1 } else { failed += 1 }
                    report()
                    more()
                }
            }
        }
        more()
        _ = try loop.onSignal(SIGTERM) { _ in loop.stop() }
        _ = try loop.onSignal(SIGINT) { _ in loop.stop() }
    }
    loop.run()
    try loop.close()
}

/// One line of a --paths file: the request path and, after a tab, an optional bearer token.
struct IdleTarget {
    let path: String
    let headers: [(name: String, value: String)]

    init<S: StringProtocol>(line: S) {
        let parts = line.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
        path = String(parts[0])
        if parts.count == 2, !parts[1].isEmpty {
            headers = [(name: "Authorization", value: "Bearer " + String(parts[1]))]
        } else {
            headers = []
        }
    }
}
