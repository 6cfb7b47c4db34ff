// Turns the merged tally and the server samples into the report: derived figures (connect
// rate, CPU per connection, KiB per idle connection), the generator-bound warning, then the
// final table on stdout, --json and --svg.
import Foundation

struct Reporter {
    let args: LoadArguments
    let total: Tally
    let tallies: [Tally]
    let servers: [ServerUsage]
    let elapsed: Double
    let generatorCPU: Double
    let peakWorkerCore: Double
    let published: Int
    let confirmed: Int
    var warnings: [String]

    func makeReport() -> LoadReport {
        var warnings = self.warnings
        let opened = total.opened
        let connectRate = total.connectSeconds > 0 ? Double(opened) / total.connectSeconds : 0
        let connectCPU = servers.reduce(0) { $0 + $1.connectCPUSeconds }
        // Echo traffic starts as each connection opens, so its connect-phase CPU is not per connection.
        let cpuPer: Double? = servers.isEmpty || opened == 0 || args.scenario == .echo ? nil : connectCPU / Double(opened) * 1e6
        let held = total.timeline.last?.open ?? total.open
        let rssDelta = servers.reduce(0) { $0 + ($1.rssHeldKiB - $1.rssStartKiB) }
        let kib: Double? = servers.isEmpty || held == 0 || servers.allSatisfy({ $0.rssHeldKiB == 0 }) ? nil : Double(rssDelta) / Double(held)
        // The bottleneck check: the busiest worker near a full core while the server was not.
        let connectSeconds = max(total.connectSeconds, 1e-3)
        let serverCore = servers.map { $0.connectCPUSeconds / connectSeconds * 100 }.max() ?? 0
        if peakWorkerCore >= 90, servers.isEmpty || serverCore < 80 {
            warnings.append(String(format: "generator-bound: a worker used %.0f%% of a core while the server used %.0f%%; the figures measure the client, not the server", peakWorkerCore, serverCore))
        }
        if servers.isEmpty { warnings.append("no --server-pid: server CPU and memory not measured") }
        let lost = max(0, confirmed - total.delivered)
        return LoadReport(
            scenario: args.scenario.rawValue, targets: args.targets.map(\.description), connections: args.connections,
            workers: args.workerCount, rate: args.rate, elapsedSeconds: elapsed,
            attempted: total.attempted, opened: opened, held: held, failures: total.failures,
            connectRate: connectRate, handshake: total.handshake.summary, handshakeCurve: total.handshake.curve,
            messagesSent: total.messagesSent, messagesReceived: total.messagesReceived,
            messagesPerSecond: args.scenario == .echo ? Tally.messageRate(tallies)
                : (args.duration > 0 ? Double(total.delivered) / args.duration : 0),
            messageLatency: total.message.summary, messageCurve: total.message.curve,
            published: published, confirmed: confirmed, delivered: total.delivered,
            lost: args.scenario == .deliver ? lost : 0, duplicates: total.duplicates,
            timeline: total.timeline, servers: servers, serverCPUPerConnectionMicros: cpuPer,
            kibPerIdleConnection: kib, generatorCPUSeconds: generatorCPU, generatorPeakCorePercent: peakWorkerCore,
            warnings: warnings)
    }

    func finish() -> Int32 {
        let report = makeReport()
        print(Self.table(report))
        if let path = args.json {
            do { try report.encode().write(to: URL(fileURLWithPath: path)) } catch {
                FileHandle.standardError.write(Data("cannot write \(path): \(error)\n".utf8))
            }
        }
        if let path = args.svg {
            do { try Data(SVGChart.render(report).utf8).write(to: URL(fileURLWithPath: path)) } catch {
                FileHandle.standardError.write(Data("cannot write \(path): \(error)\n".utf8))
            }
        }
        return report.opened > 0 ? 0 : 1
    }

    static func table(_ r: LoadReport) -> String {
        var lines: [String] = []
        func row(_ k: String, _ v: String) { lines.append(k.padding(toLength: 30, withPad: " ", startingAt: 0) + v) }
        func lat(_ s: LatencySummary) -> String {
            "p50 \(ms(s.p50))  p99 \(ms(s.p99))  p99.9 \(ms(s.p999))  max \(ms(s.max))  (n=\(s.count))"
        }
        row("scenario", "\(r.scenario) -> \(r.targets.joined(separator: ", ")) (\(r.workers) worker\(r.workers == 1 ? "" : "s"))")
        row("connections", "\(r.opened) opened of \(r.attempted) attempted, \(r.held) held at stop")
        row("connect rate", String(format: "%.0f /s", r.connectRate))
        row("handshake latency", lat(r.handshake))
        row("failures", r.failures.isEmpty ? "none" : r.failures.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))
        if r.scenario == "echo" {
            row("echo messages", String(format: "%.0f /s (%d sent, %d received)", r.messagesPerSecond, r.messagesSent, r.messagesReceived))
            row("echo round trip", lat(r.messageLatency))
        }
        if r.scenario == "deliver" || r.scenario == "soak" {
            row("events", "\(r.published) published, \(r.confirmed) confirmed, \(r.delivered) delivered, \(r.lost) lost, \(r.duplicates) duplicates")
            row("delivery throughput", String(format: "%.0f /s", r.messagesPerSecond))
            row("publish-to-receive", lat(r.messageLatency))
        }
        if let c = r.serverCPUPerConnectionMicros { row("server CPU per connection", String(format: "%.1f µs", c)) }
        if let k = r.kibPerIdleConnection { row("server KiB per idle conn", String(format: "%.2f KiB", k)) }
        for s in r.servers {
            row("server \(s.pid)", String(format: "CPU %.2f s, RSS %d -> %d KiB (peak %d)", s.cpuSeconds, s.rssStartKiB, s.rssHeldKiB, s.rssPeakKiB))
        }
        row("generator CPU", String(format: "%.2f s, busiest worker %.0f%% of a core while connecting", r.generatorCPUSeconds, r.generatorPeakCorePercent))
        row("elapsed", String(format: "%.2f s", r.elapsedSeconds))
        for w in r.warnings { lines.append("WARNING: \(w)") }
        return lines.joined(separator: "\n")
    }

    static func ms(_ micros: UInt64) -> String {
        micros >= 10_000 ? String(format: "%.0f ms", Double(micros) / 1000) : String(format: "%.2f ms", Double(micros) / 1000)
    }
}

/// The live line on stderr: only when stderr is a terminal, redrawn in place.
final class ProgressLine {
    let enabled = isatty(2) != 0
    private var drawn = false

    func draw(t: Double, sum: WorkerProgress, publisher: PublisherState) {
        guard enabled else { return }
        let c = publisher.counts.withLock { $0 }
        var s = String(format: "\r%6.1fs  open %d  opened %d/%d  failed %d", t, sum.open, sum.opened, sum.attempted, sum.failed)
        if sum.received > 0 { s += "  recv \(sum.received)" }
        if c.published > 0 { s += "  published \(c.published) confirmed \(c.confirmed) delivered \(sum.delivered)" }
        FileHandle.standardError.write(Data((s + "\u{1B}[K").utf8))
        drawn = true
    }

    func finish() {
        if drawn { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
