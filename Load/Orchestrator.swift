// The parent process of a run. It never holds a connection: it spawns ceil(N / --per-process)
// workers (posix_spawn of /proc/self/exe with --worker first:count:index), reads their JSON
// lines on pipes (one reader thread each), and every 100 ms: sums their progress, samples the
// servers (--server-pid) and its workers from /proc, redraws the progress line, and moves the
// run through its phases:
//   connect  until no worker is still connecting (the server CPU spent so far / opened is
//            the CPU per accepted connection);
//   measure  storm: hold --hold s, then RSS held - RSS at start gives KiB per idle connection;
//            echo: --duration s; deliver: the publisher runs --duration s, then up to --grace s
//            until every confirmed event arrived; soak: --duration s with publisher and churn;
//   stop     "stop" to every worker, wait for the tallies, merge, report.
// --max-duration bounds the whole run whatever the phase.
import Foundation
import Synchronization

final class WorkerChannel: Sendable {
    struct State: Sendable { var progress = WorkerProgress(); var tally: Tally?; var ended = false }
    let state = Mutex(State())
    let process: Process
    let input: Pipe

    // The reader thread touches only `state` (a Mutex); Process and Pipe are used from the
    // orchestrator thread.
    init(process: Process, input: Pipe) {
        self.process = process
        self.input = input
    }
}




struct Orchestrator {
    let args: LoadArguments

    func run() -> Int32 {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var channels: [WorkerChannel] = []
        let start = monotonicNanos()
        let servers = args.serverPids
        var usage = servers.map { ServerUsage(pid: $0) }
        let serverStart = servers.map { ProcSampler.sample(pid: $0) }
        for (i, s) in serverStart.enumerated() { usage[i].rssStartKiB = s?.rssKiB ?? 0; usage[i].rssPeakKiB = s?.rssKiB ?? 0 }
        for slice in args.slices {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: exe)
            p.arguments = args.workerArguments(slice)
            let input = Pipe(), output = Pipe()
            p.standardInput = input
            p.standardOutput = output
            p.standardError = FileHandle.standardError
            do { try p.run() } catch {
                FileHandle.standardError.write(Data("cannot start worker: \(error)\n".utf8))
                for c in channels { c.process.terminate() }
                return 1
            }
            let channel = WorkerChannel(process: p, input: input)
            channels.append(channel)
            let fd = output.fileHandleForReading
            Thread { readLines(fd, into: channel) }.start()
        }
        let progress = ProgressLine()
        let publisher = PublisherState()
        var publisherStarted = false
        var connectedAt: UInt64 = 0
        var connectCPU: [Double] = []
        var workerCPUAtConnected = 0.0
        var peakWorkerCore = 0.0
        var lastWorkerCPU: [Double] = channels.map { _ in 0 }
        var lastTick = monotonicNanos()
        var stopAt: UInt64 = start + UInt64(args.maxDuration * 1e9)
        var warnings: [String] = []
        var heldSampled = false
        let workerPids = channels.map { $0.process.processIdentifier }

        while true {
            usleep(100_000)
            let now = monotonicNanos()
            let states = channels.map { c in c.state.withLock { $0 } }
            var sum = WorkerProgress()
            sum.connecting = false
            for s in states {
                sum.attempted += s.progress.attempted; sum.opened += s.progress.opened; sum.open += s.progress.open
                sum.failed += s.progress.failed; sum.received += s.progress.received; sum.delivered += s.progress.delivered
                if s.progress.connecting && !s.ended { sum.connecting = true }
            }
            let t = seconds(from: start, to: now)
            for (i, pid) in servers.enumerated() {
                guard let s = ProcSampler.sample(pid: pid) else { continue }
                usage[i].samples.append([t, Double(s.rssKiB), s.cpuSeconds])
                usage[i].rssPeakKiB = max(usage[i].rssPeakKiB, s.rssKiB)
            }
            // The generator's own CPU: the busiest worker's share of a core since the last tick.
            let dt = seconds(from: lastTick, to: now)
            lastTick = now
            for (i, pid) in workerPids.enumerated() {
                guard let cpu = ProcSampler.cpuSeconds(pid: pid) else { continue }
                if connectedAt == 0, dt > 0 { peakWorkerCore = max(peakWorkerCore, (cpu - lastWorkerCPU[i]) / dt * 100) }
                lastWorkerCPU[i] = cpu
            }
            let bothEnded = states.allSatisfy { $0.ended }
            progress.draw(t: t, sum: sum, publisher: publisher)

            if connectedAt == 0, !sum.connecting || bothEnded {
                connectedAt = now
                connectCPU = servers.map { ProcSampler.cpuSeconds(pid: $0) ?? 0 }
                workerCPUAtConnected = lastWorkerCPU.reduce(0, +)
                switch args.scenario {
                case .storm: stopAt = min(stopAt, now + UInt64(args.hold * 1e9))
                case .echo, .soak: stopAt = min(stopAt, now + UInt64(args.duration * 1e9))
                case .deliver: stopAt = min(stopAt, now + UInt64((args.duration + args.grace) * 1e9))
                case .serveEcho: break
                }
                if let url = args.amqp, args.scenario == .deliver || args.scenario == .soak {
                    publisherStarted = true
                    let users = args.connections, rate = args.rate, duration = args.duration
                    Thread { DeliverPublisher.run(url: url, users: users, rate: rate, duration: duration, state: publisher) }.start()
                }
            }
            // Idle RSS: sampled once the connections are all open and before any traffic
            // (storm: at the end of the hold; deliver/soak: right before publishing starts).
            if connectedAt != 0, !heldSampled, args.scenario == .deliver || args.scenario == .soak || now + 150_000_000 >= stopAt {
                heldSampled = true
                for (i, pid) in servers.enumerated() { usage[i].rssHeldKiB = ProcSampler.rssKiB(pid: pid) ?? 0 }
            }
            if args.scenario == .deliver, publisherStarted {
                let c = publisher.counts.withLock { $0 }
                if c.done, sum.delivered >= c.confirmed { stopAt = min(stopAt, now) }
            }
            if now >= stopAt || bothEnded { break }
        }
        publisher.stopRequested.store(true, ordering: .relaxed)
        for c in channels { c.input.fileHandleForWriting.write(Data("stop\n".utf8)) }
        // Workers need at most 3 s to close; give them 10 before killing.
        let killAt = monotonicNanos() + 10_000_000_000
        while channels.contains(where: { c in !c.state.withLock { $0.ended } }), monotonicNanos() < killAt { usleep(20_000) }
        for c in channels where c.process.isRunning { c.process.terminate() }
        for c in channels { c.process.waitUntilExit() }
        if publisherStarted { while !publisher.counts.withLock({ $0.done }) { usleep(10_000) } }
        progress.finish()

        let end = monotonicNanos()
        var tallies: [Tally] = []
        for (i, c) in channels.enumerated() {
            if let t = c.state.withLock({ $0.tally }) { tallies.append(t) } else { warnings.append("worker \(i) sent no tally") }
        }
        var total = Tally()
        for t in tallies { total.merge(t) }
        for (i, pid) in servers.enumerated() {
            let cpu = ProcSampler.cpuSeconds(pid: pid) ?? usage[i].samples.last?[2] ?? 0
            usage[i].cpuSeconds = cpu - (serverStart[i]?.cpuSeconds ?? 0)
            usage[i].connectCPUSeconds = (i < connectCPU.count ? connectCPU[i] : cpu) - (serverStart[i]?.cpuSeconds ?? 0)
        }
        let generatorCPU = workerPids.indices.reduce(0.0) { $0 + lastWorkerCPU[$1] }
        let counts = publisher.counts.withLock { $0 }
        if let e = counts.error { warnings.append(e) }
        return Reporter(args: args, total: total, tallies: tallies, servers: usage, elapsed: seconds(from: start, to: end),
                        generatorCPU: max(generatorCPU, workerCPUAtConnected), peakWorkerCore: peakWorkerCore,
                        published: counts.published, confirmed: counts.confirmed, warnings: warnings).finish()
    }
}

/// Reader thread body: splits the worker's stdout into lines and decodes them.
private func readLines(_ handle: FileHandle, into channel: WorkerChannel) {
    let decoder = JSONDecoder()
    var buffer = Data()
    while true {
        let chunk = handle.availableData
        if chunk.isEmpty { break }
        buffer.append(chunk)
        while let nl = buffer.firstIndex(of: 10) {
            let line = buffer[buffer.startIndex..<nl]
            buffer.removeSubrange(buffer.startIndex...nl)
            guard let decoded = try? decoder.decode(WorkerLine.self, from: line) else { continue }
            channel.state.withLock { s in
                if let p = decoded.progress { s.progress = p }
                if let t = decoded.tally { s.tally = t; s.progress.connecting = false }
            }
        }
    }
    channel.state.withLock { $0.ended = true }
}
