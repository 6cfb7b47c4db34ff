// The write path: write at once with uv_try_write, queue only what the kernel did not take,
// report watermarks to the caller, and half-close after the queue drained.
import CLibUV

/// What `TCPConnection.send` did with the bytes.
public enum SendStatus: Equatable, Sendable {
    /// The kernel took every byte; nothing is queued for this send.
    case written
    /// Part or all of it is queued; the queue stays at or below the high watermark.
    case queued
    /// Queued, but the queue is now above the high watermark: slow down.
    /// `connectionDidBecomeWritable` follows when it falls to the low watermark.
    case backpressure
    /// Not sent and not queued: the queue already holds bytes and these would pass the hard
    /// limit. `connectionDidBecomeWritable` follows when it falls to the low watermark
    /// (a caller may instead close the connection as a slow consumer).
    case refused
    /// The connection is closing, closed, or half-closed by `shutdown()`: nothing sent.
    case closed
}

/// Per-connection output limits, in bytes. Stored with 1 KiB granularity (rounded up) and at
/// most 65,535 KiB each, so they fit in the connection's 32 bytes of state.
public struct WriteLimits: Sendable, Equatable {
    /// `connectionDidBecomeWritable` fires when queued bytes fall to this after backpressure.
    public var lowWatermark: Int
    /// Sends that leave more than this queued return `.backpressure`.
    public var highWatermark: Int
    /// A send that would queue past this (with bytes already queued) returns `.refused`.
    /// A send on an empty queue is never refused: what the kernel does not take is queued
    /// even when it alone exceeds the limit.
    public var hardLimit: Int

    public init(lowWatermark: Int = 16 * 1024, highWatermark: Int = 64 * 1024, hardLimit: Int = 256 * 1024) {
        self.lowWatermark = lowWatermark
        self.highWatermark = highWatermark
        self.hardLimit = hardLimit
    }
}

/// WriteLimits in KiB, 6 bytes.
struct PackedWriteLimits {
    var lowKiB: UInt16, highKiB: UInt16, hardKiB: UInt16

    init(_ limits: WriteLimits) {
        func kib(_ bytes: Int) -> UInt16 { UInt16(clamping: (max(bytes, 0) + 1023) / 1024) }
        lowKiB = kib(limits.lowWatermark)
        highKiB = kib(limits.highWatermark)
        hardKiB = kib(limits.hardLimit)
    }

    var low: Int { Int(lowKiB) * 1024 }
    var high: Int { Int(highKiB) * 1024 }
    var hard: Int { Int(hardKiB) * 1024 }
    var limits: WriteLimits { WriteLimits(lowWatermark: low, highWatermark: high, hardLimit: hard) }
}

/// Queued bytes of a connection: a private copy, or a reference to shared immutable bytes.
enum QueuedChunk {
    case owned(UnsafeMutableRawBufferPointer)
    case shared(SharedBytes, offset: Int)

    var bytes: UnsafeRawBufferPointer {
        switch self {
        case .owned(let buffer): return UnsafeRawBufferPointer(buffer)
        case .shared(let shared, let offset):
            return UnsafeRawBufferPointer(start: shared.baseAddress + offset, count: shared.count - offset)
        }
    }

    func free() {
        if case .owned(let buffer) = self { buffer.deallocate() }
    }
}

/// The write queue and rare per-connection state, allocated only while bytes are queued
/// (or the connection closes with an error), so idle connections do not pay for it.
final class ConnectionExtras {
    /// Not handed to libuv yet, in send order.
    var pending: [QueuedChunk] = []
    /// Handed to libuv in the one uv_write in flight; freed in its callback.
    var inFlight: [QueuedChunk] = []
    /// Unwritten bytes: pending plus in flight.
    var queuedBytes = 0
    var inFlightBytes = 0
    var writing = false
    private var request: UnsafeMutablePointer<uv_write_t>?
    var closeError: IOError?

    /// The reusable write request (one write in flight at a time).
    var writeRequest: UnsafeMutablePointer<uv_write_t> {
        if let request { return request }
        let created = UnsafeMutablePointer<uv_write_t>.allocate(capacity: 1)
        request = created
        return created
    }

    /// Dropped only when no write is in flight (idle) or after libuv cancelled it (close).
    deinit {
        for chunk in pending { chunk.free() }
        for chunk in inFlight { chunk.free() }
        request?.deallocate()
    }
}

extension TCPConnection {
    /// Sends `bytes`: writes at once what the kernel takes and copies only the rest into the
    /// connection's queue. The buffer may be reused as soon as this returns. Loop thread only.
    @discardableResult
    public func send(_ bytes: UnsafeRawBufferPointer) -> SendStatus {
        storage.send(bytes, shared: nil)
    }

    /// Sends shared immutable bytes (the same message to many connections): no copy at all;
    /// when the kernel does not take everything, the queue keeps a reference to `bytes`.
    @discardableResult
    public func send(_ bytes: SharedBytes) -> SendStatus {
        bytes.withUnsafeBytes { storage.send($0, shared: bytes) }
    }

    /// Sends the contents of an array (copied only if the kernel does not take it at once).
    @discardableResult
    public func send(_ bytes: [UInt8]) -> SendStatus {
        bytes.withUnsafeBytes { storage.send($0, shared: nil) }
    }

    /// Bytes accepted by `send` and not yet written to the kernel.
    public var queuedBytes: Int { storage.header.extras?.queuedBytes ?? 0 }

    /// This connection's output limits (see `WriteLimits` for the 1 KiB granularity).
    public var writeLimits: WriteLimits {
        get { storage.header.limits.limits }
        nonmutating set { storage.header.limits = PackedWriteLimits(newValue) }
    }

    /// Half-closes: once every queued byte is written, sends FIN (uv_shutdown). Reading
    /// continues until the peer's EOF; later sends return `.closed`. Idempotent.
    public func shutdown() { storage.shutdown() }
}

extension ConnectionStorage {
    func extrasCreatingIfNeeded() -> ConnectionExtras {
        if let extras = header.extras { return extras }
        let extras = ConnectionExtras()
        header.extras = extras
        return extras
    }

    func send(_ bytes: UnsafeRawBufferPointer, shared: SharedBytes?) -> SendStatus {
        loop.assertOnLoopThread()
        let flags = header.flags
        if flags.contains(.closing) || flags.contains(.shutdownRequested) { return .closed }
        guard let base = bytes.baseAddress, bytes.count > 0 else { return .written }
        var written = 0
        let queued = header.extras?.queuedBytes ?? 0
        if queued == 0 {
            var buffer = uv_buf_t(base: UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: CChar.self)), len: bytes.count)
            let rc = uv_try_write(stream, &buffer, 1)
            if rc >= 0 {
                written = Int(rc)
                if written == bytes.count { return .written }
            } else if rc != UV_EAGAIN.rawValue {
                close(error: IOError(code: rc, operation: "write"))
                return .closed
            }
        } else if queued + bytes.count > header.limits.hard {
            header.flags.insert(.needsWritable)
            return .refused
        }
        let extras = extrasCreatingIfNeeded()
        let rest = UnsafeRawBufferPointer(rebasing: bytes[written...])
        if let shared {
            extras.pending.append(.shared(shared, offset: written))
        } else {
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: rest.count, alignment: 1)
            copy.copyMemory(from: rest)
            extras.pending.append(.owned(copy))
        }
        extras.queuedBytes += rest.count
        flush(extras)
        if header.flags.contains(.closing) { return .closed }
        if extras.queuedBytes > header.limits.high {
            header.flags.insert(.needsWritable)
            return .backpressure
        }
        return .queued
    }

    /// Hands every pending chunk to libuv in one uv_write, unless a write is in flight.
    func flush(_ extras: ConnectionExtras) {
        guard !extras.writing, !extras.pending.isEmpty else { return }
        swap(&extras.inFlight, &extras.pending)
        let count = extras.inFlight.count
        var total = 0
        let request = extras.writeRequest
        let rc = withUnsafeTemporaryAllocation(of: uv_buf_t.self, capacity: count) { buffers -> Int32 in
            for (index, chunk) in extras.inFlight.enumerated() {
                let bytes = chunk.bytes
                total += bytes.count
                buffers[index] = uv_buf_t(base: UnsafeMutablePointer(mutating: bytes.baseAddress?.assumingMemoryBound(to: CChar.self)), len: bytes.count)
            }
            // libuv copies the uv_buf_t array; the bytes stay alive in `inFlight`.
            return uv_write(request, stream, buffers.baseAddress, UInt32(count), connectionWriteCallback)
        }
        if rc != 0 {
            close(error: IOError(code: rc, operation: "write"))
            return
        }
        extras.inFlightBytes = total
        extras.writing = true
    }

    func writeCompleted(status: Int32) {
        guard let extras = header.extras else { return }
        extras.writing = false
        extras.queuedBytes -= extras.inFlightBytes
        extras.inFlightBytes = 0
        for chunk in extras.inFlight { chunk.free() }
        extras.inFlight.removeAll(keepingCapacity: true)
        if status < 0 {
            // ECANCELED: the connection is closing and the close callback frees the rest.
            if status != UV_ECANCELED.rawValue { close(error: IOError(code: status, operation: "write")) }
            return
        }
        if header.flags.contains(.closing) { return }
        flush(extras)
        if extras.queuedBytes == 0, header.flags.contains(.shutdownRequested) { sendShutdown() }
        let fire = header.flags.contains(.needsWritable) && extras.queuedBytes <= header.limits.low
        if fire { header.flags.remove(.needsWritable) }
        if extras.queuedBytes == 0, !extras.writing, extras.closeError == nil, !header.flags.contains(.closing) {
            header.extras = nil  // idle again: give the queue's memory back
        }
        if fire, !header.flags.contains(.closing) {
            header.delegate?.connectionDidBecomeWritable(TCPConnection(self))
        }
    }

    func shutdown() {
        loop.assertOnLoopThread()
        let flags = header.flags
        guard !flags.contains(.closing), !flags.contains(.shutdownRequested) else { return }
        header.flags.insert(.shutdownRequested)
        if (header.extras?.queuedBytes ?? 0) == 0 { sendShutdown() }
    }

    private func sendShutdown() {
        guard !header.flags.contains(.shutdownSent) else { return }
        header.flags.insert(.shutdownSent)
        let request = UnsafeMutablePointer<uv_shutdown_t>.allocate(capacity: 1)
        let rc = uv_shutdown(request, stream) { request, status in
            guard let request else { return }
            let stream = request.pointee.handle
            request.deallocate()
            guard status < 0, status != UV_ECANCELED.rawValue, status != UV_ENOTCONN.rawValue,
                  let data = stream?.pointee.data else { return }
            Unmanaged<ConnectionStorage>.fromOpaque(data).takeUnretainedValue()
                .close(error: IOError(code: status, operation: "shutdown"))
        }
        if rc != 0 {
            request.deallocate()
            if rc != UV_ENOTCONN.rawValue { close(error: IOError(code: rc, operation: "shutdown")) }
        }
    }
}

private func connectionWriteCallback(_ request: UnsafeMutablePointer<uv_write_t>?, _ status: Int32) {
    guard let request, let stream = request.pointee.handle, let data = stream.pointee.data else { return }
    Unmanaged<ConnectionStorage>.fromOpaque(data).takeUnretainedValue().writeCompleted(status: status)
}
