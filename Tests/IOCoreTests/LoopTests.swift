// The loop without sockets: timers, cross-thread jobs, signals, loop threads.
import Testing
@testable import IOCore
import Synchronization
import Dispatch
#if canImport(Glibc)
import Glibc
#endif

extension IOCoreTests {
    @Suite struct Loop {
        @Test func timersFireInDueOrderAndCancelledOnesNever() throws {
            var fired: [String] = []
            var ticks = 0
            try withLoop { loop in
                loop.schedule(after: .milliseconds(30)) { fired.append("c") }
                loop.schedule(after: .milliseconds(10)) { fired.append("a") }
                loop.schedule(after: .milliseconds(20)) { fired.append("b") }
                let cancelled = loop.schedule(after: .milliseconds(15)) { fired.append("cancelled") }
                cancelled.cancel()
                #expect(!cancelled.isActive)
                var repeating: LoopTimer?
                repeating = loop.schedule(after: .milliseconds(1), repeating: .milliseconds(2)) {
                    ticks += 1
                    if ticks == 3 { repeating?.cancel() }
                }
                loop.schedule(after: .milliseconds(60)) { loop.stop() }
            }
            #expect(fired == ["a", "b", "c"])
            #expect(ticks == 3)
        }

        @Test func closeCancelsPendingTimersAndFreesThem() throws {
            let loop = try EventLoop()
            var fired = false
            loop.schedule(after: .seconds(3600)) { fired = true }
            loop.schedule(after: .seconds(1), repeating: .seconds(1)) { fired = true }
            #expect(loop.openHandleCount == 3)  // two timers and the sender's async handle
            try loop.close()
            #expect(loop.openHandleCount == 0)
            #expect(!fired)
        }

        @Test func jobsFromFourThreadsRunExactlyOnceOnTheLoopThreadAndCoalesce() throws {
            final class Counter { var runs = 0; var offThread = 0; var drainsAtEnd = 0 }
            let threads = 4, perThread = 10_000, total = 4 * 10_000
            let counter = Counter()
            var workers: [TestThread] = []
            var sender: EventLoop.Sender?
            try withLoop { loop in
                let bound = LoopBound(counter, loop: loop)
                let loopSender = loop.sender
                sender = loopSender
                for _ in 0..<threads {
                    workers.append(TestThread {
                        for _ in 0..<perThread {
                            loopSender.execute { loop in
                                let counter = bound.value(on: loop)
                                counter.runs += 1
                                if !loop.isOnLoopThread { counter.offThread += 1 }
                                if counter.runs == total {
                                    counter.drainsAtEnd = loop.sender.drainCount
                                    loop.stop()
                                }
                            }
                        }
                    })
                }
            }
            for worker in workers { worker.join() }
            #expect(counter.runs == total)
            #expect(counter.offThread == 0)
            // 40,000 sends woke the loop far fewer times: uv_async_send coalesces.
            #expect(counter.drainsAtEnd >= 1 && counter.drainsAtEnd < total, "\(counter.drainsAtEnd) wake-ups for \(total) jobs")
            // After close the sender refuses jobs instead of touching freed memory.
            let refused = sender?.execute { _ in Issue.record("ran after close") }
            #expect(refused == false)
            #expect(sender?.isOpen == false)
        }

        @Test func signalBecomesACallbackOnTheLoop() throws {
            var received: Int32 = 0
            try withLoop { loop in
                _ = try loop.onSignal(SIGUSR2) { signal in
                    received = signal
                    loop.stop()
                }
                loop.schedule(after: .milliseconds(1)) { _ = kill(getpid(), SIGUSR2) }
            }
            #expect(received == SIGUSR2)
        }

        @Test func twoLoopsOnTwoThreadsTalkOverTCP() throws {
            // Loop A listens and echoes; loop B connects to it and reports what came back.
            let port = Mutex(0)
            let portReady = DispatchSemaphore(value: 0)
            let done = DispatchSemaphore(value: 0)
            let outcome = Mutex<(String, pthread_t, pthread_t)?>(nil)
            let server = try EventLoopThread(name: "test-loop-a") { loop in
                let serverThread = pthread_self()
                do {
                    let listener = try TCPListener(loop: loop, host: "127.0.0.1", port: 0) { connection in
                        let echo = Delegate()
                        echo.onRead = { connection, bytes in
                            var reply = Array("\(serverThread):".utf8)
                            reply.append(contentsOf: bytes)
                            connection.send(reply)
                        }
                        connection.start(delegate: echo)
                    }
                    port.withLock { $0 = listener.localPort }
                } catch {
                    Issue.record("listen: \(error)")
                }
                portReady.signal()
            }
            #expect(portReady.wait(timeout: .now() + 10) == .success)
            let serverPort = port.withLock { $0 }
            let client = try EventLoopThread(name: "test-loop-b") { loop in
                let clientThread = pthread_self()
                do {
                    try TCPConnection.connect(on: loop, host: "127.0.0.1", port: serverPort) { result in
                        guard case .success(let connection) = result else {
                            Issue.record("connect: \(result)")
                            done.signal()
                            return
                        }
                        let reader = Delegate()
                        reader.onRead = { connection, bytes in
                            let text = String(decoding: bytes, as: UTF8.self)
                            let serverThread = pthread_t(text.split(separator: ":").first.map(String.init) ?? "") ?? 0
                            outcome.withLock { $0 = (text, serverThread, clientThread) }
                            connection.close()
                            done.signal()
                        }
                        connection.start(delegate: reader)
                        connection.send(Array("ping".utf8))
                    }
                } catch {
                    Issue.record("connect: \(error)")
                    done.signal()
                }
            }
            #expect(done.wait(timeout: .now() + 10) == .success)
            server.stop()
            client.stop()
            #expect(server.join(), "loop A closed with a handle left")
            #expect(client.join(), "loop B closed with a handle left")
            let seen = try #require(outcome.withLock { $0 })
            #expect(seen.0.hasSuffix(":ping"))
            #expect(pthread_equal(seen.1, seen.2) == 0, "both loops ran on one thread")
            #expect(server.sender.execute { _ in } == false)
        }
    }
}
