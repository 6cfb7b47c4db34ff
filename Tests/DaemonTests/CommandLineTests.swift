// The command line of every executable: `--help` and `--version` exit 0 with the expected
// text, anything else exits 64 with a message naming it. The pure half parses in-process;
// the black-box half spawns the built binaries (`swift build --build-tests` builds them next
// to the test bundle).
import Foundation
import Testing
@testable import Daemon

private enum Sample: DaemonDescription {
    static let name = "sampled"
    static let abstract = "A daemon for tests."
    static let discussion = "Configuration comes from INSTAVERSE_SAMPLE_* variables."
}

@Suite struct DaemonCommandLineTests {
    @Test func noArgumentsRunsTheDaemon() {
        #expect(DaemonCommandLine.outcome(Sample.self, arguments: []) == .run)
    }

    @Test func helpAndVersionExitZero() {
        let outcome = DaemonCommandLine.outcome(Sample.self, arguments: ["--help"])
        guard case .exit(status: 0, let help) = outcome else {
            Issue.record("--help did not exit 0: \(outcome)")
            return
        }
        #expect(help.contains("USAGE: sampled") && help.contains("A daemon for tests.")
                && help.contains("INSTAVERSE_SAMPLE_") && help.contains("--version"))
        #expect(DaemonCommandLine.outcome(Sample.self, arguments: ["-h"]) == .exit(status: 0, text: help))
        #expect(DaemonCommandLine.outcome(Sample.self, arguments: ["--version"])
                == .exit(status: 0, text: InstaverseVersion.string))
    }

    @Test func anythingElseIsAUsageError() {
        for arguments in [["--port", "80"], ["serve"], ["-x"]] {
            guard case .exit(let status, let text) = DaemonCommandLine.outcome(Sample.self, arguments: arguments) else {
                Issue.record("\(arguments) was accepted")
                continue
            }
            #expect(status == 64, "\(arguments)")
            #expect(text.contains(arguments[0]), "\(arguments): \(text)")
        }
    }
}

/// Runs a built executable to its end and returns its status and both streams.
private func run(_ binary: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    // An empty environment: the answer must not depend on (or read) any configuration.
    process.environment = [:]
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // The outputs are small; read them to EOF before waiting so neither pipe can fill.
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

/// The directory holding the built products: the test bundle's own, or its parents'.
private func binary(_ name: String) throws -> String {
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    var looked: [String] = []
    for _ in 0..<4 {
        let candidate = dir.appendingPathComponent(name).path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        looked.append(candidate)
        dir = dir.deletingLastPathComponent()
    }
    let fallback = FileManager.default.currentDirectoryPath + "/.build/debug/" + name
    if FileManager.default.isExecutableFile(atPath: fallback) { return fallback }
    struct NotBuilt: Error, CustomStringConvertible {
        var description: String
    }
    throw NotBuilt(description: "\(name) not built (swift build --build-tests); looked at \(looked + [fallback])")
}

@Suite struct ExecutableCommandLineTests {
    static let daemons = ["notifyd", "auth-service", "story-service", "social-service"]
    static let executables = daemons + ["instaverse-load", "ws-echo", "web-hello"]

    @Test(arguments: ExecutableCommandLineTests.executables)
    func versionPrintsTheOneVersion(_ name: String) throws {
        let r = try run(try binary(name), ["--version"])
        #expect(r.status == 0 && r.stdout == InstaverseVersion.string + "\n", "\(name): \(r)")
    }

    @Test(arguments: ExecutableCommandLineTests.executables)
    func helpNamesTheCommandAndItsOptions(_ name: String) throws {
        let r = try run(try binary(name), ["--help"])
        #expect(r.status == 0, "\(name): \(r)")
        #expect(r.stdout.contains("USAGE: \(name)") && r.stdout.contains("--version") && r.stdout.contains("--help"),
                "\(name): \(r.stdout)")
    }

    @Test(arguments: ExecutableCommandLineTests.daemons)
    func daemonHelpPointsAtTheEnvironment(_ name: String) throws {
        let r = try run(try binary(name), ["--help"])
        #expect(r.stdout.contains("INSTAVERSE_"), "\(name): \(r.stdout)")
    }

    @Test(arguments: ExecutableCommandLineTests.executables)
    func anUnknownOptionExits64WithItsName(_ name: String) throws {
        // instaverse-load first checks its scenario and target.
        let r = try run(try binary(name), (name == "instaverse-load" ? ["storm", "-t", "ws://127.0.0.1:1/"] : []) + ["--no-such-option"])
        #expect(r.status == 64, "\(name): \(r)")
        #expect(r.stderr.contains("Unknown option '--no-such-option'") && r.stdout.isEmpty, "\(name): \(r)")
    }
}
