// instaverse-load: connection storms, echo comparisons, delivery latency and soak against
// notifyd or any ws:// server. `instaverse-load --help` prints the usage (LoadCommand.swift).
// The parent process orchestrates (Orchestrator.swift); worker processes (--worker) hold the
// connections (WorkerMain.swift, WorkerEngine.swift); `serve-echo` runs EchoServer.swift.
// Exit status 64 for a refused command line (with the message and the usage on stderr).
import Foundation
import IOCore

let parsed: LoadArguments
do {
    // --help and --version exit 0 here; a bad option or a run outside the bounds exits 64.
    parsed = try LoadCommand.parseOrExit().arguments()
} catch {
    // Unreachable: parseOrExit already ran the same checks (LoadCommand.validate).
    FileHandle.standardError.write(Data("\(error)\n".utf8))
    exit(64)
}
_ = raiseOpenFilesLimit()
if parsed.scenario == .serveEcho {
    exit(EchoServerMain.run(port: parsed.port))
} else if let slice = parsed.worker {
    exit(WorkerMain.run(parsed, slice: slice))
} else {
    exit(Orchestrator(args: parsed).run())
}
