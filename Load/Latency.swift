// Latencies in microseconds, in an HdrHistogram (3 significant digits, 1 µs to 10 minutes).
// Across processes a histogram travels as its non-empty buckets, [[value, count], ...]: a
// worker's 15,000 handshakes take a few hundred pairs on its report line, and the parent
// merges by recording every pair into its own histogram (lossless: a bucket's value maps back
// to the same bucket because every histogram here has the same layout).
import Histogram
#if canImport(Glibc)
import Glibc
#endif

struct Latency: Codable, Sendable {
    static let highest: UInt64 = 600_000_000
    private(set) var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: Latency.highest,
                                                   numberOfSignificantValueDigits: .three)

    init() {}

    var count: UInt64 { histogram.totalCount }

    /// Records a duration in nanoseconds (clamped to 1 µs ... 10 min).
    mutating func record(nanos: UInt64) {
        _ = histogram.record(min(max(nanos / 1000, 1), Self.highest))
    }

    mutating func merge(_ other: Latency) { histogram.add(other.histogram) }

    /// The value at `percentile` (0...100), in microseconds; 0 when empty.
    func micros(at percentile: Double) -> UInt64 { count == 0 ? 0 : histogram.valueAtPercentile(percentile) }

    var summary: LatencySummary {
        LatencySummary(count: count, p50: micros(at: 50), p90: micros(at: 90), p99: micros(at: 99),
                       p999: micros(at: 99.9), max: count == 0 ? 0 : histogram.max,
                       mean: count == 0 ? 0 : histogram.mean)
    }

    /// The percentile curve for charts: (percentile, µs) at log-spaced percentiles up to 99.999.
    var curve: [[Double]] {
        guard count > 0 else { return [] }
        var out: [[Double]] = []
        for k in 0...50 {
            // 1 - 10^(-k/10): 0, 20.6, 36.9, ... 90 (k=10), 99 (k=20), 99.9, 99.99, 99.999
            let p = (1 - pow10(-Double(k) / 10)) * 100
            out.append([p, Double(histogram.valueAtPercentile(p))])
        }
        return out
    }

    private enum CodingKeys: String, CodingKey { case unit, buckets }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        for pair in try c.decode([[UInt64]].self, forKey: .buckets) where pair.count == 2 {
            _ = histogram.record(min(max(pair[0], 1), Self.highest), count: pair[1])
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode("us", forKey: .unit)
        var pairs: [[UInt64]] = []
        for v in histogram.recordedValues() { pairs.append([v.value, UInt64(v.count)]) }
        try c.encode(pairs, forKey: .buckets)
    }
}

/// The figures of one latency distribution, in microseconds.
struct LatencySummary: Codable, Sendable, Equatable {
    var count: UInt64
    var p50: UInt64
    var p90: UInt64
    var p99: UInt64
    var p999: UInt64
    var max: UInt64
    var mean: Double
}

private func pow10(_ x: Double) -> Double { pow(10, x) }
