// instaverse-load: connection storms, echo comparisons, delivery latency and soak against
// notifyd or any ws:// server. `instaverse-load` with no arguments prints the usage. The
// parent process orchestrates (Orchestrator.swift); worker processes (--worker) hold the
// connections (WorkerMain.swift, WorkerEngine.swift); `serve-echo` runs EchoServer.swift.
import Foundation
import IOCore

let argv = Array(CommandLine.arguments.dropFirst())
let parsed: LoadArguments
do {
    parsed = try LoadArguments.parse(argv)
} catch {
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
