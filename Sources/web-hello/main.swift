// Benchmark target: one loop, `GET /` answers "Hello, World!" (scripts/bench-http.sh runs wrk
// against it and against nginx). Usage: web-hello [port], default 8080, on 127.0.0.1.
import ArgumentParser
import Daemon
import IOCore
import HTTP1
import Web

struct WebHelloCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web-hello",
        abstract: "Hello-world HTTP server on 127.0.0.1 for the HTTP benchmark (scripts/bench-http.sh).",
        version: InstaverseVersion.string)

    @Argument(help: "The port to listen on.")
    var port = 8080
}

let port = WebHelloCommand.parseOrExit().port
let loop = try EventLoop()
let server = HTTPServer(loop: loop)
let hello: [UInt8] = Array("Hello, World!".utf8)
server.route(.GET, "/") { _, res in
    res.respond(.ok, headers: ["Content-Type": "text/plain"], body: hello)
}
let bound = try server.listen(host: "127.0.0.1", port: port)
print("web-hello listening on 127.0.0.1:\(bound)")
loop.run()
