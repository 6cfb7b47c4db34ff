// Benchmark target: one loop, `GET /` answers "Hello, World!" (scripts/bench-http.sh runs wrk
// against it and against nginx). Usage: web-hello [port], default 8080, on 127.0.0.1.
import IOCore
import HTTP1
import Web

let port = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 8080 : 8080
let loop = try EventLoop()
let server = HTTPServer(loop: loop)
let hello: [UInt8] = Array("Hello, World!".utf8)
server.route(.GET, "/") { _, res in
    res.respond(.ok, headers: ["Content-Type": "text/plain"], body: hello)
}
let bound = try server.listen(host: "127.0.0.1", port: port)
print("web-hello listening on 127.0.0.1:\(bound)")
loop.run()
