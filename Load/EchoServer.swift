// `serve-echo`: the smallest WebSocket echo server the codec allows, on one loop: accept,
// read the GET head (at most 8 KiB), answer with WebSocketServerHandshake, then echo every
// text or binary message unmasked with the same opcode; pings get pongs, a close is answered
// and the transport closed. It exists so the echo scenario has a server in tests and in
// scripts without depending on the Web module's WebSocket server; no authentication, no
// deflate, no timeouts: not a product server.
import IOCore
import WebSocket
#if canImport(Glibc)
import Glibc
#endif

final class EchoServer {
    let loop: EventLoop
    private(set) var listener: TCPListener?
    private(set) var accepted = 0
    private let context = WebSocketContext()

    init(loop: EventLoop) { self.loop = loop }

    /// Listens on 127.0.0.1:`port` (0: ephemeral) and returns the bound port. Loop thread.
    func listen(port: Int, reusePort: Bool = false) throws(IOError) -> Int {
        let l = try TCPListener(loop: loop, host: "127.0.0.1", port: port,
                                options: TCPListener.Options(backlog: 4096, reusePort: reusePort)) { [unowned self] c in
            accepted += 1
            c.start(delegate: EchoSession(server: self))
        }
        listener = l
        return l.localPort
    }

    func close() { listener?.close() }

    fileprivate var configuration: WebSocketConfiguration { context.configuration }
}

private final class EchoSession: TCPConnectionDelegate {
    unowned let server: EchoServer
    var head: [UInt8] = []
    var open = false
    var parser = WebSocketFrameParser(role: .server)
    var out: [UInt8] = []

    init(server: EchoServer) { self.server = server }

    func connection(_ connection: TCPConnection, didRead bytes: UnsafeRawBufferPointer) {
        if open { frames(connection, UnsafeMutableRawBufferPointer(mutating: bytes)); return }
        head.append(contentsOf: bytes)
        guard let end = headEnd() else {
            if head.count > 8192 { connection.close() }
            return
        }
        guard let request = RequestHead(head[..<end]) else { connection.close(); return }
        switch WebSocketServerHandshake.respond(method: request.method, httpVersion: (1, 1), headers: request.headers,
                                                configuration: WebSocketServerConfiguration(allowDeflate: false)) {
        case .failure(let rejection):
            _ = connection.send(rejection.responseHead)
            connection.shutdown()
        case .success(let accept):
            _ = connection.send(accept.responseHead)
            open = true
            var rest = Array(head[end...])
            head = []
            if !rest.isEmpty { rest.withUnsafeMutableBytes { frames(connection, $0) } }
        }
    }

    private func headEnd() -> Int? {
        var i = 3
        while i < head.count {
            if head[i] == 10, head[i - 1] == 13, head[i - 2] == 10, head[i - 3] == 13 { return i + 1 }
            i += 1
        }
        return nil
    }

    private func frames(_ c: TCPConnection, _ buffer: UnsafeMutableRawBufferPointer) {
        var offset = 0
        while true {
            out.removeAll(keepingCapacity: true)
            switch parser.next(buffer, offset: &offset, maxMessageSize: 64 << 20) {
            case .needMore: return
            case .text(let p): WebSocketFrameEncoder.append(opcode: .text, payload: p, maskKey: nil, to: &out)
            case .binary(let p): WebSocketFrameEncoder.append(opcode: .binary, payload: p, maskKey: nil, to: &out)
            case .ping(let p): WebSocketFrameEncoder.append(opcode: .pong, payload: p, maskKey: nil, to: &out)
            case .pong: continue
            case .close(let code, _):
                WebSocketFrameEncoder.appendClose(code: code, role: .server, to: &out)
                _ = c.send(out)
                c.shutdown()
                return
            case .failure(let code):
                WebSocketFrameEncoder.appendClose(code: code, role: .server, to: &out)
                _ = c.send(out)
                c.shutdown()
                return
            }
            _ = c.send(out)
        }
    }
}

/// Method and header fields of a request head (serve-echo only).
private struct RequestHead {
    var method: String
    var headers: [(name: String, value: String)]

    init?(_ bytes: ArraySlice<UInt8>) {
        let text = String(decoding: bytes, as: UTF8.self)
        var lines = text.split(separator: "\r\n").makeIterator()
        guard let requestLine = lines.next(), let space = requestLine.firstIndex(of: " ") else { return nil }
        method = String(requestLine[..<space])
        headers = []
        while let line = lines.next() {
            guard let colon = line.firstIndex(of: ":") else { return nil }
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...].drop(while: { $0 == " " }))))
        }
    }
}

enum EchoServerMain {
    /// Serves until killed; prints "listening PORT" on stdout once bound.
    static func run(port: Int) -> Int32 {
        do {
            let loop = try EventLoop()
            let server = EchoServer(loop: loop)
            let bound = try server.listen(port: port, reusePort: true)
            print("listening \(bound)")
            fflush(nil)
            loop.run()
            return 0
        } catch {
            print("serve-echo: \(error)")
            return 1
        }
    }
}
