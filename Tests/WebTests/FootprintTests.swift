// What an idle keep-alive HTTP connection costs the server, beyond the TCPConnection's own
// allocation: one HTTPServerConnection object, its parser's head buffer given back by the sweep.
import Testing
import IOCore
@testable import HTTP1
@testable import Web
#if canImport(Glibc)
import Glibc
#endif

extension WebTests {
    @Suite struct Footprint {
        @Test func idleConnectionIsOneSmallObject() throws {
            var configuration = HTTPServer.Configuration()
            configuration.sweepInterval = .milliseconds(20)
            let server = try TestServer(configuration: configuration) { server in
                server.route(.GET, "/") { _, res in res.respond(.noContent) }
            }
            let client = try RawClient(port: server.port)
            client.send("GET / HTTP/1.1\r\nHost: t\r\nX-Padding: " + String(repeating: "p", count: 2000) + "\r\n\r\n")
            #expect(client.readResponse()?.status == 204)
            // After a sweep period idle, the parser's head buffer is released.
            #expect(try server.eventually { $0.connections.first?.state.parser.isHoldingBuffer == false })
            let bytes = try server.onLoop { server -> Int in
                guard let connection = server.connections.first else { return -1 }
                return mallocUsableSize(Unmanaged.passUnretained(connection).toOpaque())
            }
            #expect(MemoryLayout<HTTPConnectionState>.size <= 224, "the connection state grew: \(MemoryLayout<HTTPConnectionState>.size) bytes inline")
            #expect(bytes > 0 && bytes <= 320, "HTTPServerConnection takes \(bytes) bytes")
            #expect(server.stop())
        }
    }
}

extension HTTPRequestParser {
    /// Whether the head buffer still holds storage (it is released when the connection idles).
    var isHoldingBuffer: Bool { buffer.capacity > 0 }
}

/// glibc's malloc_usable_size (not exported by the Glibc module on this toolchain).
@_silgen_name("malloc_usable_size")
func mallocUsableSize(_ pointer: UnsafeMutableRawPointer?) -> Int
