// End to end on loopback: the codec-built echo server (EchoServer) on one loop thread, the
// echo scenario's engine on this thread's loop, 10 connections for 1 s.
import Glibc
import IOCore
import Synchronization
import Testing
import TestSupport
@testable import instaverse_load

@Suite struct EchoEndToEndTests {
    @Test func echoScenarioEchoesAndRecordsLatency() throws {
        let port = Watched(0)
        let serverThread = try EventLoopThread(name: "echo-server") { loop in
            let server = EchoServer(loop: loop)
            let bound = (try? server.listen(port: 0)) ?? -1
            port.update { $0 = bound }
            // Keep the server alive for the loop's life (the listener retains itself while open).
            _ = Unmanaged.passRetained(server)
        }
        let bound = port.wait(seconds: 5) { $0 != 0 } ? port.read { $0 } : 0
        #expect(bound > 0)

        let args = try LoadArguments.parse(["echo", "-c", "10", "--target", "ws://127.0.0.1:\(bound)/echo",
                                            "--duration", "1", "--size", "64", "--source-addresses", "0"])
        let loop = try EventLoop()
        var result: Tally?
        var progressLines = 0
        let engine = try WorkerEngine(loop: loop, args: args, slice: UserSlice(first: 1, count: 10, index: 0),
                                      onProgress: { _ in progressLines += 1 },
                                      onFinish: { result = $0; loop.stop() })
        engine.start()
        let stopper = loop.schedule(after: .seconds(1)) { engine.stop() }
        loop.run()
        stopper.cancel()
        // The aborted connections' close callbacks: iterate until only the loop's own
        // wake-up handle is left, then close the loop and check that nothing leaked.
        for _ in 0..<1000 where loop.openHandleCount > 1 { loop.runNoWait() }
        #expect(throws: Never.self) { try loop.close() }
        #expect(loop.openHandleCount == 0)
        serverThread.stop()
        _ = serverThread.join()

        let tally = try #require(result)
        #expect(tally.opened == 10)
        #expect(tally.failures.isEmpty, "\(tally.failures)")
        #expect(tally.messagesReceived > 100)
        #expect(tally.message.count == UInt64(tally.messagesReceived))
        #expect(tally.message.micros(at: 50) > 0)
        #expect(tally.handshake.count == 10)
        #expect(tally.messageSeconds > 0.5)
        #expect(progressLines >= 2)
    }
}
