// Pure tests of the load generator: no servers, no sockets.
import Foundation
import Testing
import Tokens
@testable import instaverse_load

@Suite struct LoadArgumentTests {
    @Test func refusesANonLoopbackTarget() {
        #expect(throws: ArgumentError.self) { try LoadArguments.parse(["storm", "--target", "ws://10.0.0.1:5004/ws"]) }
        #expect(throws: ArgumentError.self) { try LoadArguments.parse(["storm", "--target", "ws://192.168.1.2/"]) }
        let ok = try? LoadArguments.parse(["storm", "--target", "ws://10.0.0.1:5004/ws", "--allow-remote"])
        #expect(ok?.targets.first?.host == "10.0.0.1")
        #expect((try? LoadArguments.parse(["storm", "--target", "ws://127.9.8.7:1/"])) != nil)
        #expect((try? LoadArguments.parse(["storm", "--target", "ws://[::1]:9000/x"]))?.targets.first?.port == 9000)
    }

    @Test func capsDurationAndConnections() {
        #expect(throws: ArgumentError.self) { try LoadArguments.parse(["storm", "-t", "ws://127.0.0.1:1/", "-c", "100001"]) }
        #expect(throws: ArgumentError.self) { try LoadArguments.parse(["storm", "-t", "ws://127.0.0.1:1/", "--max-connections", "200000"]) }
        #expect(throws: ArgumentError.self) { try LoadArguments.parse(["storm", "-t", "ws://127.0.0.1:1/", "-c", "50", "--max-connections", "10"]) }
        #expect(throws: ArgumentError.self) { try LoadArguments.parse(["storm", "-t", "ws://127.0.0.1:1/", "--max-duration", "301"]) }
        #expect(throws: ArgumentError.self) { try LoadArguments.parse(["echo", "-t", "ws://127.0.0.1:1/", "--duration", "400"]) }
        #expect(throws: ArgumentError.self) { try LoadArguments.parse(["deliver", "-t", "ws://127.0.0.1:1/", "--duration", "290", "--grace", "20", "--amqp", "amqp://x"]) }
        #expect(throws: ArgumentError.self) { try LoadArguments.parse(["storm"]) }
        #expect(throws: ArgumentError.self) { try LoadArguments.parse(["deliver", "-t", "ws://127.0.0.1:1/"]) }
        #expect((try? LoadArguments.parse(["storm", "-t", "ws://127.0.0.1:1/", "-c", "100000"]))?.connections == 100_000)
    }

    @Test func splitsUsersOverWorkers() throws {
        let a = try LoadArguments.parse(["storm", "-t", "ws://127.0.0.1:1/", "-c", "40001", "--per-process", "15000"])
        #expect(a.workerCount == 3)
        let s = a.slices
        #expect(s.map(\.count).reduce(0, +) == 40001)
        #expect(s[0].first == 1 && s[1].first == s[0].first + s[0].count && s[2].users.upperBound == 40002)
        // A worker's own arguments parse back to its slice.
        let w = try LoadArguments.parse(a.workerArguments(s[1]))
        #expect(w.worker == s[1] && w.connections == s[1].count && w.targets == a.targets)
    }

    /// Every option of the hand-written parser still parses to the same field, with the same
    /// defaults when left out.
    @Test func everyOptionParsesToItsField() throws {
        let d = try LoadArguments.parse(["storm", "-t", "ws://127.0.0.1:1/"])
        #expect(d.connections == 1000 && d.rate == nil && d.churn == 100 && d.hold == 0 && d.duration == 10
                && d.size == 512 && d.amqp == nil && d.grace == 5 && d.perProcess == 15_000 && d.sourceAddresses == 1
                && d.serverPids.isEmpty && d.json == nil && d.svg == nil && d.maxDuration == 300
                && d.maxConnections == 100_000 && !d.allowRemote && d.concurrency == 2000 && d.connectTimeout == 10
                && d.worker == nil && d.port == 0 && d.jwtKeys == nil)
        let secret = String(repeating: "s", count: 32)
        let a = try LoadArguments.parse([
            "deliver", "--connections", "7", "--target", "ws://127.0.0.1:2/a", "-t", "ws://127.0.0.1:3/b",
            "--jwt-keys", "k1:\(secret)", "--rate", "2.5", "--churn", "3", "--hold", "4", "-d", "6", "--size", "64",
            "--amqp", "amqp://u:p@127.0.0.1:5672/%2f", "--grace", "7", "--per-process", "0", "--source-addresses", "3",
            "--server-pid", "11", "--server-pid", "12", "--json", "r.json", "--svg", "r.svg", "--max-duration", "100",
            "--max-connections", "50", "--concurrency", "0", "--connect-timeout", "2", "--port", "9",
            "--worker", "3:4:1"])
        #expect(a.scenario == .deliver && a.connections == 7 && a.targets.map(\.description) == ["ws://127.0.0.1:2/a", "ws://127.0.0.1:3/b"])
        #expect(a.jwtKeys == "k1:\(secret)" && a.rate == 2.5 && a.churn == 3 && a.hold == 4 && a.duration == 6 && a.size == 64)
        #expect(a.amqp == "amqp://u:p@127.0.0.1:5672/%2f" && a.grace == 7 && a.perProcess == 1 && a.sourceAddresses == 3)
        #expect(a.serverPids == [11, 12] && a.json == "r.json" && a.svg == "r.svg" && a.maxDuration == 100)
        #expect(a.maxConnections == 50 && a.concurrency == 1 && a.connectTimeout == 2 && a.port == 9)
        #expect(a.worker == UserSlice(first: 3, count: 4, index: 1))
        #expect(try LoadArguments.parse(["soak", "-t", "ws://10.1.2.3:1/", "--allow-remote"]).allowRemote)
        #expect(try LoadArguments.parse(["serve-echo", "--port", "0"]).scenario == .serveEcho)
    }

    /// A refused command line says what is wrong.
    @Test func refusalsNameTheProblem() {
        func message(_ argv: [String]) -> String {
            do { _ = try LoadArguments.parse(argv); return "" } catch { return error.message }
        }
        #expect(message(["storm", "-t", "ws://127.0.0.1:1/", "--bogus"]).contains("Unknown option '--bogus'"))
        #expect(message(["hurricane", "-t", "ws://127.0.0.1:1/"]).contains("hurricane"))
        #expect(message(["storm", "-t", "http://127.0.0.1:1/"]).contains("http://127.0.0.1:1/"))
        #expect(message(["storm", "-t", "ws://127.0.0.1:1/", "--rate", "inf"]).contains("--rate"))
        #expect(message(["storm", "-t", "ws://127.0.0.1:1/", "--hold", "nan"]).contains("--hold"))
        #expect(message(["storm", "-t", "ws://127.0.0.1:1/", "--server-pid", "0"]).contains("--server-pid"))
        #expect(message(["storm", "-t", "ws://127.0.0.1:1/", "--worker", "1:2"]).contains("--worker"))
        #expect(message(["storm", "-t", "ws://127.0.0.1:1/", "-c", "x"]).contains("x"))
    }

    /// The help lists every option the hand-written usage listed (the parent's --worker stays hidden).
    @Test func helpListsEveryOption() {
        let help = LoadCommand.helpMessage(columns: 200)
        for option in ["<scenario>", "storm, echo, deliver, soak, serve-echo", "-c, --connections", "-t, --target",
                       "--jwt-keys", "--rate", "--churn", "--hold", "-d, --duration", "--size", "--amqp", "--grace",
                       "--per-process", "--source-addresses", "--server-pid", "--json", "--svg", "--max-duration",
                       "--max-connections", "--concurrency", "--connect-timeout", "--allow-remote", "--port",
                       "--version", "--help"] {
            #expect(help.contains(option), "\(option) missing from the help")
        }
        #expect(!help.contains("--worker"))
    }

    @Test func targetPathSubstitutesTheUser() throws {
        let t = try #require(WSTarget("ws://127.0.0.1:5004/ws?userId={user}"))
        #expect(t.path(for: 42) == "/ws?userId=42" && t.hostHeader == "127.0.0.1:5004")
        #expect(WSTarget("http://127.0.0.1/") == nil && WSTarget("ws://127.0.0.1:0/") == nil)
    }
}

@Suite struct LoadTokenTests {
    @Test func signedTokensVerify() throws {
        let secret = String(repeating: "k", count: 40)
        let tokens = try UserTokens(keys: "k2:\(secret)2,k1:\(secret)1")
        let now = unixSeconds()
        let token = tokens.token(user: 7, now: now)
        let keys = try JWTKeySet(current: JWTKey(kid: "k2", secret: Array((secret + "2").utf8)))
        let claims = try JWT.verify(token, keys: keys, now: now)
        #expect(claims.userId == 7 && claims.exp > now)
        #expect(throws: ArgumentError.self) { try UserTokens(keys: "short:abc") }
        #expect(throws: ArgumentError.self) { try LoadArguments.parse(["storm", "-t", "ws://127.0.0.1:1/", "--jwt-keys", "nokid"]) }
    }
}

@Suite struct LoadReportTests {
    @Test func histogramsMergeAcrossWorkerReports() throws {
        var a = Tally(), b = Tally()
        for i in 1...1000 { a.handshake.record(nanos: UInt64(i) * 1000) }
        for i in 1...1000 { b.handshake.record(nanos: UInt64(i) * 1_000_000) }
        a.fail("refused"); b.fail("refused"); b.fail("timeout")
        a.timeline = [TimelinePoint(t: 0.25, open: 10, opened: 10, failed: 0)]
        b.timeline = [TimelinePoint(t: 0.25, open: 5, opened: 6, failed: 1), TimelinePoint(t: 0.5, open: 7, opened: 8, failed: 1)]
        // Through the worker pipe encoding, as the parent receives them.
        let coder = JSONEncoder()
        let la = try JSONDecoder().decode(WorkerLine.self, from: coder.encode(WorkerLine(tally: a)))
        let lb = try JSONDecoder().decode(WorkerLine.self, from: coder.encode(WorkerLine(tally: b)))
        var total = Tally()
        total.merge(try #require(la.tally))
        total.merge(try #require(lb.tally))
        #expect(total.handshake.count == 2000)
        #expect(total.failures == ["refused": 2, "timeout": 1])
        // Half the values are 1..1000 µs, half 1..1000 ms: the median sits at the boundary.
        let p50 = total.handshake.micros(at: 50)
        #expect(p50 >= 999 && p50 <= 1001)
        let p99 = total.handshake.micros(at: 99)
        #expect(p99 >= 979_000 && p99 <= 981_000)
        #expect(total.timeline.count == 2 && total.timeline[0].open == 15 && total.timeline[1].open == 7)
    }

    @Test func jsonReportRoundTrips() throws {
        var t = Tally()
        t.handshake.record(nanos: 250_000)
        t.open = 10
        let report = Reporter(args: try LoadArguments.parse(["storm", "-t", "ws://127.0.0.1:1/"]), total: t, tallies: [t],
                              servers: [ServerUsage(pid: 1, cpuSeconds: 1, connectCPUSeconds: 0.5, rssStartKiB: 100, rssHeldKiB: 200, rssPeakKiB: 210)],
                              elapsed: 2, generatorCPU: 0.1, peakWorkerCore: 10, published: 0, confirmed: 0, warnings: []).makeReport()
        let data = try report.encode()
        let back = try LoadReport.decode(data)
        #expect(back.schema == "instaverse-load/1")
        #expect(back.handshake == report.handshake && back.handshake.p50 == 250)
        #expect(back.servers == report.servers)
        #expect(try back.encode() == data)
        let keys = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any]).keys
        for k in ["connectRate", "handshake", "failures", "servers", "timeline", "kibPerIdleConnection", "lost", "duplicates"] {
            #expect(keys.contains(k), "missing \(k)")
        }
        #expect(SVGChart.render(report).hasPrefix("<svg"))
    }

    @Test func procStatParsesCommandsWithSpaces() {
        let line = "123 (a b) c) S 1 2 3 4 5 6 7 8 9 10 250 150 0 0"
        #expect(ProcSampler.cpuSeconds(statLine: line) == 400 / ProcSampler.ticksPerSecond)
        #expect(ProcSampler.sample(pid: getpid())?.rssKiB ?? 0 > 0)
    }

    @Test func notificationScanFindsTheMeasurementFields() {
        let json = Array(#"{"type":"notification","notification":{"id":5,"postId":123456,"commentId":77,"text":"x"}}"#.utf8)
        json.withUnsafeBytes { b in
            #expect(NotificationScan.int(after: "\"commentId\":", in: b) == 77)
            #expect(NotificationScan.int(after: "\"postId\":", in: b) == 123456)
            #expect(!NotificationScan.isBacklog(b))
        }
        Array(#"{"type":"backlog","notifications":[]}"#.utf8).withUnsafeBytes { #expect(NotificationScan.isBacklog($0)) }
    }
}
