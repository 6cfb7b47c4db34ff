// A TCP connection: one allocation holding our state and the uv_tcp_t, reading into the
// loop's shared buffer. The write path lives in TCPConnectionWrite.swift.
import CLibUV
#if canImport(Glibc)
import Glibc
#endif

/// Receives a connection's events, always on its loop's thread.
///
/// The connection holds its delegate strongly until the close callback, then drops it, so a
/// session object that holds its connection forms a cycle that closing breaks.
public protocol TCPConnectionDelegate: AnyObject {
    /// Bytes arrived. `bytes` points into the loop's one shared read buffer: it is valid only
    /// during this call and is overwritten by the next read of any connection on the loop.
    /// Copy what must outlive the call.
    func connection(_ connection: TCPConnection, didRead bytes: UnsafeRawBufferPointer)
    /// The peer half-closed its side (EOF); sending still works until the connection closes.
    /// The default implementation closes the connection.
    func connectionDidReadEOF(_ connection: TCPConnection)
    /// Queued bytes fell to the low watermark after a send returned `.backpressure` or
    /// `.refused`. Not called after `close()`. The default does nothing.
    func connectionDidBecomeWritable(_ connection: TCPConnection)
    /// Called exactly once, after libuv closed the handle: `error` is nil after a local
    /// `close()` (or the loop's close), the libuv error otherwise (ECONNRESET, EPIPE, ...).
    /// No other callback follows. The default does nothing.
    func connectionDidClose(_ connection: TCPConnection, error: IOError?)
}

extension TCPConnectionDelegate {
    public func connectionDidReadEOF(_ connection: TCPConnection) { connection.close() }
    public func connectionDidBecomeWritable(_ connection: TCPConnection) {}
    public func connectionDidClose(_ connection: TCPConnection, error: IOError?) {}
}

/// A TCP connection on an EventLoop: a cheap reference (one word) to loop-bound state.
/// Loop-thread only. Copies refer to the same connection; `==` compares identity.
///
/// Life: obtained from `TCPListener`'s accept callback or `TCPConnection.connect`; the owner
/// calls `start(delegate:)` to begin reading (or `close()`), then `send`, `shutdown`,
/// `close`. The loop keeps the connection alive while it is open: memory is freed in the
/// close callback, after `connectionDidClose`.
public struct TCPConnection: Hashable {
    let storage: ConnectionStorage

    init(_ storage: ConnectionStorage) { self.storage = storage }

    public static func == (a: TCPConnection, b: TCPConnection) -> Bool { a.storage === b.storage }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(storage)) }

    /// Per-connection settings given to listeners and to `connect`.
    public struct Options: Sendable {
        public var writeLimits: WriteLimits
        /// TCP_NODELAY: send small writes at once (the core already batches queued writes).
        public var noDelay: Bool
        public init(writeLimits: WriteLimits = WriteLimits(), noDelay: Bool = true) {
            self.writeLimits = writeLimits
            self.noDelay = noDelay
        }
    }

    /// The loop the connection belongs to.
    public var loop: EventLoop { storage.loop }

    /// The receiver of this connection's events. Replacing it (an HTTP session handing the
    /// connection to a WebSocket session) takes effect for the next event.
    public var delegate: (any TCPConnectionDelegate)? {
        get { storage.header.delegate }
        nonmutating set { storage.header.delegate = newValue }
    }

    /// Sets the delegate and starts reading. Reads stop by themselves at EOF.
    public func start(delegate: any TCPConnectionDelegate) {
        storage.header.delegate = delegate
        storage.startReading()
    }

    /// Stops delivering reads (the kernel buffers, then the peer's sends stall).
    public func pauseReading() { storage.stopReading() }

    /// Resumes delivering reads after `pauseReading()`.
    public func resumeReading() { storage.startReading() }

    /// Closes the connection: reads stop now, queued bytes are dropped, and
    /// `connectionDidClose(error: nil)` follows from the loop. Idempotent.
    public func close() { storage.close(error: nil) }

    /// Closes abruptly: the peer gets a TCP RST instead of FIN (uv_tcp_close_reset).
    /// Otherwise like `close()`. For load generators and tests of abrupt peers.
    public func reset() { storage.close(error: nil, reset: true) }

    /// True until `close()` was called or the connection failed.
    public var isOpen: Bool { !storage.header.flags.contains(.closing) }

    public var localAddress: SocketAddress? {
        let tcp = storage.tcp
        return SocketAddress.read { uv_tcp_getsockname(tcp, $0, $1) }
    }

    public var remoteAddress: SocketAddress? {
        let tcp = storage.tcp
        return SocketAddress.read { uv_tcp_getpeername(tcp, $0, $1) }
    }

    /// Connects to `remote`, optionally from the source IP of `source` (its port is ignored:
    /// the kernel picks one per destination, IP_BIND_ADDRESS_NO_PORT). `completion` runs once
    /// on the loop thread, never inside this call: `.success` with a connection that is not
    /// reading yet (call `start(delegate:)`), or `.failure` (ECONNREFUSED, ETIMEDOUT, ...,
    /// ECANCELED when the loop closes first). Loop thread only.
    public static func connect(on loop: EventLoop, to remote: SocketAddress, from source: SocketAddress? = nil,
                               options: Options = Options(),
                               completion: @escaping (Result<TCPConnection, IOError>) -> Void) {
        loop.assertOnLoopThread()
        let storage: ConnectionStorage
        do {
            storage = try ConnectionStorage.make(loop: loop, family: remote.family, limits: options.writeLimits)
        } catch {
            loop.schedule(after: .zero) { completion(.failure(error)) }
            return
        }
        if options.noDelay { uv_tcp_nodelay(storage.tcp, 1) }
        var rc: Int32 = 0
        if let source {
            _ = instaverse_uv_set_bind_address_no_port(uvHandle(storage.tcp))
            var local = source
            if local.port != 0, let portless = try? SocketAddress(ip: source.ip, port: 0) { local = portless }
            rc = local.withSockAddr { uv_tcp_bind(storage.tcp, $0, 0) }
        }
        let request = UnsafeMutablePointer<uv_connect_t>.allocate(capacity: 1)
        if rc == 0 {
            request.pointee.data = Unmanaged.passRetained(ConnectCompletion(completion)).toOpaque()
            rc = remote.withSockAddr { uv_tcp_connect(request, storage.tcp, $0, connectCallback) }
            if rc != 0 { Unmanaged<ConnectCompletion>.fromOpaque(request.pointee.data).release() }
        }
        if rc != 0 {
            request.deallocate()
            storage.close(error: nil)
            let error = IOError(code: rc, operation: source == nil ? "connect" : "bind")
            loop.schedule(after: .zero) { completion(.failure(error)) }
        }
    }

    /// Parses `host` (a numeric IPv4/IPv6 address; no DNS) and `sourceAddress`, then calls
    /// `connect(on:to:from:options:completion:)`. Throws only for an unparsable address.
    public static func connect(on loop: EventLoop, host: String, port: Int, sourceAddress: String? = nil,
                               options: Options = Options(),
                               completion: @escaping (Result<TCPConnection, IOError>) -> Void) throws(IOError) {
        let remote = try SocketAddress(ip: host, port: port)
        let source = try sourceAddress.map { ip throws(IOError) in try SocketAddress(ip: ip, port: 0) }
        connect(on: loop, to: remote, from: source, options: options, completion: completion)
    }
}

extension EventLoop {
    /// Calls `body` for every TCP connection of this loop that is open or closing (its close
    /// callback has not run yet), in the order they were created. The walk uses libuv's own
    /// handle list, so an owner that needs to visit its connections now and then (a sweep
    /// timer) keeps no list of its own: no array slot and no index per connection.
    /// Loop thread only. `body` may send, close connections or create handles; connections
    /// created during the walk may or may not be visited.
    public func forEachConnection(_ body: (TCPConnection) -> Void) {
        assertOnLoopThread()
        withoutActuallyEscaping(body) { body in
            var visit = body
            withUnsafeMutablePointer(to: &visit) { context in
                uv_walk(uv, { handle, arg in
                    guard let handle, handle.pointee.type == UV_TCP, let data = handle.pointee.data, let arg else { return }
                    // Listeners are TCP handles too: only connection storage is visited.
                    guard let storage = Unmanaged<AnyObject>.fromOpaque(data).takeUnretainedValue() as? ConnectionStorage
                    else { return }
                    arg.assumingMemoryBound(to: ((TCPConnection) -> Void).self).pointee(TCPConnection(storage))
                }, context)
            }
        }
    }
}

private final class ConnectCompletion {
    let body: (Result<TCPConnection, IOError>) -> Void
    init(_ body: @escaping (Result<TCPConnection, IOError>) -> Void) { self.body = body }
}

private func connectCallback(_ request: UnsafeMutablePointer<uv_connect_t>?, _ status: Int32) {
    guard let request, let stream = request.pointee.handle else { return }
    let completion = Unmanaged<ConnectCompletion>.fromOpaque(request.pointee.data).takeRetainedValue()
    request.deallocate()
    let storage = Unmanaged<ConnectionStorage>.fromOpaque(stream.pointee.data).takeUnretainedValue()
    if status == 0, !storage.header.flags.contains(.closing) {
        completion.body(.success(TCPConnection(storage)))
    } else {
        storage.close(error: nil)
        completion.body(.failure(IOError(code: status == 0 ? UV_ECANCELED.rawValue : status, operation: "connect")))
    }
}

/// State bits of a connection (kept in 2 bytes of the connection's one allocation).
struct ConnectionFlags: OptionSet {
    let rawValue: UInt16
    static let reading = ConnectionFlags(rawValue: 1 << 0)
    static let closing = ConnectionFlags(rawValue: 1 << 1)
    static let shutdownRequested = ConnectionFlags(rawValue: 1 << 2)
    static let shutdownSent = ConnectionFlags(rawValue: 1 << 3)
    /// A send reported backpressure or refusal: call the delegate when the queue drains.
    static let needsWritable = ConnectionFlags(rawValue: 1 << 4)
}

/// Our per-connection state. Kept to 32 bytes: an idle connection costs this plus the
/// uv_tcp_t plus the object header, in one allocation.
struct ConnectionState {
    var delegate: (any TCPConnectionDelegate)?
    /// Write queue and rare state; nil while nothing is queued (idle connections).
    var extras: ConnectionExtras?
    var limits: PackedWriteLimits
    var flags: ConnectionFlags
}

/// One allocation per connection: object header, `ConnectionState`, then the uv_tcp_t.
/// The handle's `data` holds a retained reference while the handle is open; the close
/// callback releases it, which frees handle and state together.
final class ConnectionStorage: ManagedBuffer<ConnectionState, uv_tcp_t>, LoopHandleOwner {
    /// Creates the storage and initialises its handle on `loop` (with a socket of `family`
    /// when given, so options can be set before bind/connect).
    static func make(loop: EventLoop, family: Int32?, limits: WriteLimits) throws(IOError) -> ConnectionStorage {
        let object = ConnectionStorage.create(minimumCapacity: 1) { _ in
            ConnectionState(delegate: nil, extras: nil, limits: PackedWriteLimits(limits), flags: [])
        }
        let storage = unsafeDowncast(object, to: ConnectionStorage.self)
        let tcp = storage.tcp
        let rc = family.map { uv_tcp_init_ex(loop.uv, tcp, UInt32($0)) } ?? uv_tcp_init(loop.uv, tcp)
        // On failure libuv has not registered the handle: the object is simply freed.
        if rc != 0 { throw IOError(code: rc, operation: "uv_tcp_init") }
        loop.handleOpened()
        tcp.pointee.data = Unmanaged.passRetained(storage).toOpaque()
        return storage
    }

    /// The uv_tcp_t inside this object; stable for the object's life (objects never move).
    @inline(__always)
    var tcp: UnsafeMutablePointer<uv_tcp_t> { withUnsafeMutablePointerToElements { $0 } }

    @inline(__always)
    var stream: UnsafeMutablePointer<uv_stream_t> { uvStream(tcp) }

    var loop: EventLoop { EventLoop.from(tcp.pointee.loop) }

    /// Heap bytes of this object as malloc reports them (tests and footprint reports).
    var mallocSize: Int { malloc_usable_size(Unmanaged.passUnretained(self).toOpaque()) }

    func startReading() {
        loop.assertOnLoopThread()
        let flags = header.flags
        guard !flags.contains(.closing), !flags.contains(.reading) else { return }
        if uv_read_start(stream, connectionAllocCallback, connectionReadCallback) == 0 {
            header.flags.insert(.reading)
        }
    }

    func stopReading() {
        guard header.flags.contains(.reading) else { return }
        header.flags.remove(.reading)
        uv_read_stop(stream)
    }

    func read(_ count: Int) {
        if count > 0 {
            let bytes = UnsafeRawBufferPointer(start: loop.readBuffer, count: count)
            header.delegate?.connection(TCPConnection(self), didRead: bytes)
        } else if count == Int(UV_EOF.rawValue) {
            header.flags.remove(.reading)  // libuv stopped reading at EOF
            header.delegate?.connectionDidReadEOF(TCPConnection(self))
        } else if count < 0 {
            close(error: IOError(code: Int32(truncatingIfNeeded: count), operation: "read"))
        }
        // count == 0: EAGAIN, nothing to do.
    }

    /// Starts closing once; `error` reaches the delegate in `connectionDidClose`.
    func close(error: IOError?, reset: Bool = false) {
        guard !header.flags.contains(.closing) else { return }
        header.flags.insert(.closing)
        header.flags.remove(.reading)
        if let error { extrasCreatingIfNeeded().closeError = error }
        // close_reset refuses (EINVAL) once a shutdown was requested; then close normally.
        if reset, uv_tcp_close_reset(tcp, connectionCloseCallback) == 0 { return }
        uv_close(uvHandle(tcp), connectionCloseCallback)
    }

    /// From the close callback: libuv already failed pending writes with ECANCELED.
    func finishClose() {
        let delegate = header.delegate
        header.delegate = nil
        let error = header.extras?.closeError
        header.extras = nil
        loop.handleClosed()
        delegate?.connectionDidClose(TCPConnection(self), error: error)
    }

    func closeForLoopShutdown() { close(error: nil) }
}

private func connectionAllocCallback(_ handle: UnsafeMutablePointer<uv_handle_t>?, _ suggested: Int,
                                     _ buffer: UnsafeMutablePointer<uv_buf_t>?) {
    guard let handle, let buffer else { return }
    let loop = EventLoop.from(handle.pointee.loop)
    buffer.pointee = uv_buf_init(loop.readBuffer.assumingMemoryBound(to: CChar.self), UInt32(EventLoop.readBufferSize))
}

private func connectionReadCallback(_ stream: UnsafeMutablePointer<uv_stream_t>?, _ count: Int,
                                    _ buffer: UnsafePointer<uv_buf_t>?) {
    guard let stream, let data = stream.pointee.data else { return }
    Unmanaged<ConnectionStorage>.fromOpaque(data).takeUnretainedValue().read(count)
}

private func connectionCloseCallback(_ handle: UnsafeMutablePointer<uv_handle_t>?) {
    guard let handle, let data = handle.pointee.data else { return }
    let storage = Unmanaged<ConnectionStorage>.fromOpaque(data)
    storage.takeUnretainedValue().finishClose()
    storage.release()  // frees the object, uv_tcp_t included, unless the user still holds it
}
