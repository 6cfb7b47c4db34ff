// CPU time and memory of a process from /proc: utime+stime (fields 14 and 15 of
// /proc/PID/stat, in clock ticks) and VmRSS (/proc/PID/status, KiB). Used for the servers
// under load (--server-pid) and for the generator's own workers (the bottleneck check).
import Foundation

struct ProcSample: Sendable, Equatable {
    var cpuSeconds: Double
    var rssKiB: Int
}

enum ProcSampler {
    static let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

    /// Nil when the process is gone or /proc is unreadable.
    static func sample(pid: Int32) -> ProcSample? {
        guard let cpu = cpuSeconds(pid: pid), let rss = rssKiB(pid: pid) else { return nil }
        return ProcSample(cpuSeconds: cpu, rssKiB: rss)
    }

    static func cpuSeconds(pid: Int32) -> Double? {
        guard let stat = read("/proc/\(pid)/stat") else { return nil }
        return cpuSeconds(statLine: stat)
    }

    /// Parses a /proc/PID/stat line (the command name may hold spaces and parentheses: the
    /// fields start after the last ')').
    static func cpuSeconds(statLine: String) -> Double? {
        guard let close = statLine.lastIndex(of: ")") else { return nil }
        let fields = statLine[statLine.index(after: close)...].split(separator: " ")
        // After ')': state is field 3, so utime (14) and stime (15) are at offsets 11 and 12.
        guard fields.count > 12, let u = Double(fields[11]), let s = Double(fields[12]) else { return nil }
        return (u + s) / ticksPerSecond
    }

    static func rssKiB(pid: Int32) -> Int? {
        guard let status = read("/proc/\(pid)/status") else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).first ?? "")
        }
        return nil
    }

    private static func read(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
