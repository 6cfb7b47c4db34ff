// A listening TCP socket that hands accepted connections to a callback.
import CLibUV
#if canImport(Glibc)
import Glibc
#endif

/// A listening TCP socket on an EventLoop. Loop-thread only.
///
/// The loop keeps the listener alive while it is open; `close()` (or the loop's close)
/// stops accepting. Accepted connections do not depend on the listener.
public final class TCPListener: LoopHandleOwner {
    public struct Options: Sendable {
        /// listen(2) backlog (the kernel caps it at net.core.somaxconn).
        public var backlog: Int32
        /// SO_REUSEPORT, set before bind: several listeners (one per loop or per process) on
        /// one port, the kernel spreading new connections among them.
        public var reusePort: Bool
        /// For an IPv6 address: accept IPv6 only (no IPv4-mapped connections).
        public var ipv6Only: Bool
        /// Options given to every accepted connection.
        public var connection: TCPConnection.Options

        public init(backlog: Int32 = 1024, reusePort: Bool = false, ipv6Only: Bool = false,
                    connection: TCPConnection.Options = TCPConnection.Options()) {
            self.backlog = backlog
            self.reusePort = reusePort
            self.ipv6Only = ipv6Only
            self.connection = connection
        }
    }

    private let handle: UnsafeMutablePointer<uv_tcp_t>
    private let loop: EventLoop
    private let options: Options
    private var onAccept: ((TCPConnection) -> Void)?
    /// Accepts that failed (EMFILE, ENOBUFS, ...); the listener keeps listening.
    public private(set) var acceptErrors = 0
    /// The bound address, with the real port when 0 was asked for.
    public private(set) var localAddress: SocketAddress

    /// Binds and listens on `address` (port 0: an ephemeral port, see `localPort`).
    /// `onAccept` runs on the loop thread for each new connection, which is not reading yet:
    /// it must call `start(delegate:)` or `close()` on it.
    public init(loop: EventLoop, address: SocketAddress, options: Options = Options(),
                onAccept: @escaping (TCPConnection) -> Void) throws(IOError) {
        loop.assertOnLoopThread()
        self.loop = loop
        self.options = options
        self.onAccept = onAccept
        let handle = UnsafeMutablePointer<uv_tcp_t>.allocate(capacity: 1)
        self.handle = handle
        // init_ex creates the socket now so SO_REUSEPORT can be set before bind.
        let rc = uv_tcp_init_ex(loop.uv, handle, UInt32(address.family))
        if rc != 0 {
            handle.deallocate()
            throw IOError(code: rc, operation: "uv_tcp_init_ex")
        }
        loop.handleOpened()
        localAddress = address
        handle.pointee.data = Unmanaged.passRetained(self).toOpaque()
        do {
            if options.reusePort {
                try IOError.check(instaverse_uv_set_reuseport(uvHandle(handle)), "SO_REUSEPORT")
            }
            let flags: UInt32 = address.isIPv6 && options.ipv6Only ? UInt32(UV_TCP_IPV6ONLY.rawValue) : 0
            try IOError.check(address.withSockAddr { uv_tcp_bind(handle, $0, flags) }, "uv_tcp_bind \(address)")
            try IOError.check(uv_listen(uvStream(handle), options.backlog) { server, status in
                guard let server, let data = server.pointee.data else { return }
                Unmanaged<TCPListener>.fromOpaque(data).takeUnretainedValue().accept(status: status)
            }, "uv_listen \(address)")
        } catch {
            close()
            throw error
        }
        if let bound = SocketAddress.read({ uv_tcp_getsockname(handle, $0, $1) }) { localAddress = bound }
    }

    /// Convenience: `ip` is numeric ("127.0.0.1", "::1", "0.0.0.0", "::").
    public convenience init(loop: EventLoop, host: String, port: Int, options: Options = Options(),
                            onAccept: @escaping (TCPConnection) -> Void) throws(IOError) {
        try self.init(loop: loop, address: SocketAddress(ip: host, port: port), options: options, onAccept: onAccept)
    }

    /// The bound port (the ephemeral one when bound to port 0).
    public var localPort: Int { localAddress.port }

    public var isOpen: Bool { onAccept != nil }

    private func accept(status: Int32) {
        guard status == 0, let onAccept else {
            acceptErrors += 1
            return
        }
        let storage: ConnectionStorage
        do {
            storage = try ConnectionStorage.make(loop: loop, family: nil, limits: options.connection.writeLimits)
        } catch {
            acceptErrors += 1
            return
        }
        if uv_accept(uvStream(handle), storage.stream) != 0 {
            acceptErrors += 1
            storage.close(error: nil)
            return
        }
        if options.connection.noDelay { uv_tcp_nodelay(storage.tcp, 1) }
        onAccept(TCPConnection(storage))
    }

    /// Stops listening; the handle is freed in its close callback. Idempotent.
    public func close() {
        loop.assertOnLoopThread()
        guard onAccept != nil else { return }
        onAccept = nil
        uv_close(uvHandle(handle)) { handle in
            guard let handle, let data = handle.pointee.data else { return }
            let listener = Unmanaged<TCPListener>.fromOpaque(data)
            listener.takeUnretainedValue().loop.handleClosed()
            UnsafeMutableRawPointer(handle).deallocate()
            listener.release()
        }
    }

    func closeForLoopShutdown() { close() }
}
