// The notifyd binary as a child process: found next to the test bundle (.build/debug), started
// with a private environment (port 0, its own store file, queue and exchange), its port read
// from the one stdout line, stopped with SIGTERM or killed with SIGKILL.
import Foundation
import Testing
import TestSupport

struct NotifydNotBuilt: Error, CustomStringConvertible {
    let looked: [String]
    var description: String {
        "the notifyd executable was not found (looked in \(looked.joined(separator: ", "))): build it with `swift build` first"
    }
}

/// One test's private names: exchange, queue, store file, keys.
struct DaemonLane {
    static let secret = "notifyd-test-secret-0123456789-abcdefghij"
    let prefix: String
    let exchange: String
    let queue: String
    let dir: URL
    let storePath: String

    init() throws {
        prefix = "nd" + UUID().uuidString.prefix(8).lowercased()
        exchange = "\(prefix).events"
        queue = "\(prefix).notifyd.events"
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("notifyd-\(prefix)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        storePath = dir.appendingPathComponent("notify.db").path
    }

    func environment(_ extra: [String: String] = [:]) throws -> [String: String] {
        var env: [String: String] = [
            "INSTAVERSE_AMQP_URL": try Servers.amqpURL(),
            "INSTAVERSE_NOTIFYD_PORT": "0",
            "INSTAVERSE_NOTIFYD_HOST": "127.0.0.1",
            "INSTAVERSE_STORE_PATH": storePath,
            "INSTAVERSE_STORE_SYNC": "normal",
            "INSTAVERSE_NOTIFYD_QUEUE": queue,
            "INSTAVERSE_NOTIFYD_EXCHANGE": exchange,
            "INSTAVERSE_JWT_KEYS": "test1:\(Self.secret)",
            "INSTAVERSE_NOTIFYD_EXPIRY_SWEEP_MS": "100",
            "INSTAVERSE_LOG_LEVEL": "debug",
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin",
        ]
        for (k, v) in extra { env[k] = v }
        return env
    }

    func cleanUp() { try? FileManager.default.removeItem(at: dir) }
}

final class NotifydProcess: @unchecked Sendable {
    // @unchecked Sendable: `process` is configured before run() and then only read; the
    // stdout state lives in a Watched.
    let process = Process()
    let stderrPath: String
    private let stdoutLines = Watched<[String]>([])
    private(set) var port = 0

    static func binary() throws -> String {
        var candidates: [String] = []
        if let override = ProcessInfo.processInfo.environment["INSTAVERSE_NOTIFYD_BIN"] { candidates.append(override) }
        let me = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = me.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(dir.appendingPathComponent("notifyd").path)
            dir = dir.deletingLastPathComponent()
        }
        if let exe = Bundle.main.executableURL {
            candidates.append(exe.deletingLastPathComponent().appendingPathComponent("notifyd").path)
        }
        candidates.append(FileManager.default.currentDirectoryPath + "/.build/debug/notifyd")
        for c in candidates where FileManager.default.isExecutableFile(atPath: c) { return c }
        throw NotifydNotBuilt(looked: candidates)
    }

    /// Starts notifyd and waits (up to 30 s) for its `listening` line.
    init(lane: DaemonLane, env extra: [String: String] = [:], waitForReady: Bool = true) throws {
        process.executableURL = URL(fileURLWithPath: try Self.binary())
        process.environment = try lane.environment(extra)
        stderrPath = lane.dir.appendingPathComponent("notifyd-\(UUID().uuidString.prefix(6)).log").path
        _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        let out = Pipe()
        process.standardOutput = out
        let lines = stdoutLines
        out.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty { handle.readabilityHandler = nil; return }
            let text = String(decoding: data, as: UTF8.self)
            lines.update { $0 += text.split(separator: "\n").map(String.init) }
        }
        try process.run()
        guard waitForReady else { return }
        let ok = stdoutLines.wait(seconds: 30) { $0.contains { $0.hasPrefix("notifyd listening on ") } } 
        guard ok, let line = stdoutLines.read({ $0.first { $0.hasPrefix("notifyd listening on ") } }),
              let port = Int(line.split(separator: ":").last ?? "") else {
            process.terminate()
            throw DaemonFailed(message: "notifyd did not report its port; stderr:\n\(log)")
        }
        self.port = port
        // Ready means the consumer is connected, so the queue exists and is bound: events
        // published from here on are routed to it.
        guard waitUntilReady() else {
            throw DaemonFailed(message: "notifyd did not become ready; log:\n\(log)")
        }
    }

    /// Waits until /readyz answers 200.
    func waitUntilReady(seconds: Double = 30) -> Bool {
        eventually(seconds: seconds, poll: 0.05) { (try? HTTP.get(port: port, "/readyz"))?.status == 200 }
    }

    var log: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
    var isRunning: Bool { process.isRunning }
    var pid: Int32 { process.processIdentifier }

    /// SIGTERM, then waits for the exit; returns the status (nil when it did not exit in time).
    func terminate(seconds: Double = 30) -> Int32? {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        return waitForExit(seconds: seconds)
    }

    /// SIGTERM and expects a clean exit (status 0) within `seconds`; records the log otherwise.
    func expectCleanExit(seconds: Double = 30, sourceLocation: SourceLocation = #_sourceLocation) {
        let status = terminate(seconds: seconds)
        #expect(status == 0, "notifyd did not exit cleanly (status \(String(describing: status))); log:\n\(log)",
                sourceLocation: sourceLocation)
    }

    /// SIGKILL (a crash: nothing flushed, no acks sent) and wait.
    func killHard() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        _ = waitForExit(seconds: 10)
    }

    func waitForExit(seconds: Double) -> Int32? {
        guard eventually(seconds: seconds, { !process.isRunning }) else { return nil }
        return process.terminationStatus
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

struct DaemonFailed: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
