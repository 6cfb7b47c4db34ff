// Memory per idle connection: the layout of one connection object while the loop holds
// thousands of idle accepted connections (the RSS figure is measured by the benchmarks).
import Testing
@testable import IOCore
import CLibUV
#if canImport(Glibc)
import Glibc
#endif

extension IOCoreTests {
    @Suite struct Footprint {
        /// Opens N loopback connections (N from IOCORE_FOOTPRINT_CONNECTIONS, default 5,000).
        /// The client ends are raw non-blocking sockets (kernel memory only), so the RSS growth
        /// is the server side: our connection objects, libuv's per-fd watcher slots, malloc.
        @Test func idleConnectionCostsAFewHundredBytes() throws {
            let count = getenv("IOCORE_FOOTPRINT_CONNECTIONS").flatMap { Int(String(cString: $0)) } ?? 5_000
            let warmUp = 100
            let limit = raiseOpenFilesLimit()
            try #require(limit >= 2 * (count + warmUp) + 64, "RLIMIT_NOFILE \(limit) is too low for \(count) connections")

            let loop = try EventLoop()
            var accepted: [TCPConnection] = []
            accepted.reserveCapacity(count + warmUp)
            var clients: [Int32] = []
            clients.reserveCapacity(count + warmUp)
            let idle = Delegate()
            let listener = try TCPListener(loop: loop, host: "127.0.0.1", port: 0, options: .init(backlog: 4096)) { connection in
                connection.start(delegate: idle)
                accepted.append(connection)
            }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(listener.localPort).bigEndian
            address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian

            // Opens `n` client sockets in batches and runs the loop until it accepted them all.
            func open(_ n: Int) -> Bool {
                var opened = 0
                while opened < n {
                    for _ in 0..<min(250, n - opened) {
                        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
                        guard fd >= 0 else { return false }
                        clients.append(fd)
                        let rc = withUnsafePointer(to: &address) {
                            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                            }
                        }
                        guard rc == 0 || errno == EINPROGRESS else { return false }
                        opened += 1
                    }
                    guard run(loop, until: { accepted.count == clients.count }) else { return false }
                }
                return true
            }

            #expect(open(warmUp))
            #expect(open(count))
            try #require(accepted.count == count + warmUp)

            let object = accepted[0].storage.mallocSize
            #expect(MemoryLayout<ConnectionState>.size <= 32, "ConnectionState \(MemoryLayout<ConnectionState>.size) B")
            #expect(object <= 312, "one connection takes \(object) B")  // one glibc chunk of 320 bytes
            // RSS per idle connection is a benchmark figure, not a test: other suites allocate
            // in the same process at the same time (scripts/bench/idle-memory.sh, BENCHMARKS.md).

            for fd in clients { _ = Glibc.close(fd) }
            accepted.removeAll()
            try loop.close()
            #expect(loop.openHandleCount == 0)
        }
    }
}
