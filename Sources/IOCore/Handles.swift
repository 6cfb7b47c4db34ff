// Small internal helpers shared by every handle owner: pointer casts and the contract that
// lets EventLoop.close() find and close every open handle with uv_walk.
import CLibUV

/// Implemented by every Swift object that owns a libuv handle. The handle's `data` field
/// holds `Unmanaged.passRetained(owner)`; the owner releases that reference in its close
/// callback, so the object (and the handle memory it frees) outlives every libuv callback.
protocol LoopHandleOwner: AnyObject {
    /// Called on the loop thread by `EventLoop.close()` for a handle that is not closing yet.
    /// The owner starts its normal close (uv_close); its close callback runs later.
    func closeForLoopShutdown()
}

@inline(__always)
func uvHandle<T>(_ pointer: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<uv_handle_t> {
    UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: uv_handle_t.self)
}

@inline(__always)
func uvStream<T>(_ pointer: UnsafeMutablePointer<T>) -> UnsafeMutablePointer<uv_stream_t> {
    UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: uv_stream_t.self)
}

/// Milliseconds for libuv timers, rounded up so a positive Duration never becomes 0;
/// negative durations become 0.
func milliseconds(_ duration: Duration) -> UInt64 {
    let (seconds, attoseconds) = duration.components
    if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
    let perMillisecond: Int64 = 1_000_000_000_000_000
    let fraction = UInt64((attoseconds + perMillisecond - 1) / perMillisecond)
    let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1000)
    return overflow ? UInt64.max : whole &+ fraction
}
