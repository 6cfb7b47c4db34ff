// One clock for every latency the generator measures: CLOCK_MONOTONIC in nanoseconds. It is
// shared by all processes of the machine, so a timestamp taken by the parent (publish time)
// can be subtracted from one taken by a worker (receive time).
#if canImport(Glibc)
import Glibc
#endif

@inline(__always)
func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// Seconds between two monotonic readings.
@inline(__always)
func seconds(from start: UInt64, to end: UInt64) -> Double {
    end > start ? Double(end - start) / 1e9 : 0
}
