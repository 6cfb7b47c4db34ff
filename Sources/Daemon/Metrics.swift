// Prometheus text exposition (version 0.0.4) shared by notifyd and the light services: one
// writer for HELP/TYPE lines and samples, a labelled counter, and a fixed-bucket latency
// histogram. Every type here is Sendable: loop threads observe, a scrape renders.
import Synchronization

/// Appends families in the text format. Names and label values are the caller's constants
/// or route patterns; label values are escaped all the same (`\`, `"`, newline).
public struct PrometheusText {
    public private(set) var text = ""

    public init(capacity: Int = 2048) { text.reserveCapacity(capacity) }

    /// HELP and TYPE lines of a family.
    public mutating func header(_ name: String, _ type: String, _ help: String) {
        text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
    }

    /// One sample: `name{labels} value`.
    public mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: String) {
        text += name
        if !labels.isEmpty {
            text += "{"
            for (i, (key, raw)) in labels.enumerated() {
                if i > 0 { text += "," }
                text += key + "=\"" + PrometheusText.escape(raw) + "\""
            }
            text += "}"
        }
        text += " " + value + "\n"
    }

    /// A family with one unlabelled sample.
    public mutating func family(_ name: String, _ type: String, _ help: String, _ value: Int) {
        header(name, type, help)
        sample(name, [], String(value))
    }

    public mutating func append(_ raw: String) { text += raw }

    static func escape(_ value: String) -> String {
        var out = ""
        for ch in value {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(ch)
            }
        }
        return out
    }
}

/// Counters keyed by a fixed tuple of label values (route, method, status). The key set is
/// bounded by the caller (route patterns, never raw paths), so it cannot grow without limit.
public final class LabeledCounter: Sendable {
    public let labelNames: [String]
    private let counts = Mutex<[[String]: Int]>([:])

    public init(labelNames: [String]) { self.labelNames = labelNames }

    public func increment(_ values: [String], by amount: Int = 1) {
        precondition(values.count == labelNames.count, "one value per label")
        counts.withLock { $0[values, default: 0] += amount }
    }

    public func value(_ values: [String]) -> Int { counts.withLock { $0[values] ?? 0 } }

    /// The family with one sample per key, in a stable (sorted) order.
    public func render(into out: inout PrometheusText, name: String, help: String) {
        let snapshot = counts.withLock { $0 }
        out.header(name, "counter", help)
        for key in snapshot.keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            out.sample(name, Array(zip(labelNames, key)), String(snapshot[key] ?? 0))
        }
    }
}

/// A fixed-bucket latency histogram in the Prometheus shape: cumulative buckets, sum, count.
/// One small lock per observation; a scrape sees buckets, sum and count of the same instant.
public final class LatencyHistogram: Sendable {
    /// Upper bounds in microseconds: 1, 2.5, 5, 10, 25, 50, 100, 250 ms, 1 s, 2.5 s, +Inf.
    public static let boundsMicros: [Int] = [1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000, 250_000,
                                             1_000_000, 2_500_000]
    private struct State: Sendable {
        /// Non-cumulative; the last one is +Inf.
        var buckets = [Int](repeating: 0, count: LatencyHistogram.boundsMicros.count + 1)
        var sumMicros = 0
        var count = 0
    }
    private let state = Mutex(State())

    public init() {}

    public func observe(micros: Int) {
        let i = Self.boundsMicros.firstIndex { micros <= $0 } ?? Self.boundsMicros.count
        state.withLock { s in
            s.buckets[i] += 1
            s.sumMicros += micros
            s.count += 1
        }
    }

    public var observations: Int { state.withLock { $0.count } }
    public var totalMicros: Int { state.withLock { $0.sumMicros } }

    public func render(into out: inout String, name: String, help: String) {
        var text = PrometheusText()
        render(into: &text, name: name, help: help)
        out += text.text
    }

    public func render(into out: inout PrometheusText, name: String, help: String) {
        let s = state.withLock { $0 }
        out.header(name, "histogram", help)
        var cumulative = 0
        for (i, bound) in Self.boundsMicros.enumerated() {
            cumulative += s.buckets[i]
            out.sample(name + "_bucket", [("le", Self.seconds(bound))], String(cumulative))
        }
        out.sample(name + "_bucket", [("le", "+Inf")], String(s.count))
        out.sample(name + "_sum", [], Self.seconds(s.sumMicros))
        out.sample(name + "_count", [], String(s.count))
    }

    /// Microseconds as decimal seconds without Foundation: 2500 -> "0.0025".
    public static func seconds(_ micros: Int) -> String {
        let whole = micros / 1_000_000, frac = micros % 1_000_000
        if frac == 0 { return String(whole) }
        var f = String(frac)
        f = String(repeating: "0", count: 6 - f.count) + f
        while f.hasSuffix("0") { f.removeLast() }
        return "\(whole).\(f)"
    }
}
