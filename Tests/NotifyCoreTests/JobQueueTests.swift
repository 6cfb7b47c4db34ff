// The store job queue under load: bounded (a full queue refuses at once and counts it) and
// interleaved with ingest (a long queue of front jobs cannot starve delivery). The store
// thread is held by a gate job so the test decides what is queued when it resumes.
import Foundation
import Testing
import AMQP
import Events
import NotifyCore
import Store
import TestSupport

@Suite(.serialized) struct JobQueueTests {
    /// Queues a job that holds the store thread until `open` is set; returns once it runs.
    private func hold(_ pipeline: NotificationPipeline, _ gate: Watched<(running: Bool, open: Bool)>) -> Bool {
        pipeline.perform({ _ in
            gate.update { $0.running = true }
            gate.wait(seconds: 30) { $0.open }
        }, completion: { _ in })
        return gate.wait(seconds: 10) { $0.running }
    }

    @Test func aFullJobQueueRefusesAtOnceAndCountsIt() throws {
        let lane = try Lane()
        defer { lane.cleanUp() }
        var config = lane.config(store: .inMemory)
        config.maxQueuedJobs = 4
        let (pipeline, _) = try startPipeline(config)
        defer { pipeline.stop() }
        let gate = Watched((running: false, open: false))
        #expect(hold(pipeline, gate))

        let results = Watched([Int: Result<Int, any Error>]())
        for i in 0..<6 {
            pipeline.perform({ store in try store.unreadCount(userId: Int64(i)) + i },
                             completion: { r in results.update { $0[i] = r } })
        }
        // The two past the cap failed at once, on the calling thread; the four wait.
        let refused = results.read { $0 }
        #expect(refused.count == 2)
        for i in 4..<6 {
            guard case .failure(let error)? = refused[i] else { Issue.record("job \(i) was not refused"); continue }
            #expect(error is StoreQueueFull)
        }
        #expect(pipeline.queuedJobs == 4)
        #expect(pipeline.metrics.storeJobsQueued.load(ordering: .relaxed) == 4)
        #expect(pipeline.metrics.storeJobsRejected.load(ordering: .relaxed) == 2)
        let text = pipeline.metrics.renderPrometheus()
        #expect(text.contains("# TYPE notifyd_store_jobs_queued gauge\nnotifyd_store_jobs_queued 4\n"))
        #expect(text.contains("# TYPE notifyd_store_jobs_rejected_total counter\nnotifyd_store_jobs_rejected_total 2\n"))
        #expect(text.contains("# TYPE notifyd_client_messages_rate_limited_total counter\n"))

        gate.update { $0.open = true }
        #expect(results.wait(seconds: 10) { $0.count == 6 })
        for i in 0..<4 {
            guard case .success(let value)? = results.read({ $0[i] }) else { Issue.record("job \(i) failed"); continue }
            #expect(value == i)
        }
        #expect(eventually(seconds: 10) { pipeline.metrics.storeJobsQueued.load(ordering: .relaxed) == 0 })
        // Room again: a new job is accepted.
        let again = Watched<Bool?>(nil)
        pipeline.perform({ _ in 1 }, completion: { r in again.update { $0 = (try? r.get()) == 1 } })
        #expect(again.wait(seconds: 10) { $0 != nil } && again.read { $0 } == true)
    }

    @Test func aLongJobQueueDoesNotStarveDelivery() throws {
        let lane = try Lane()
        defer { lane.cleanUp() }
        var config = lane.config(store: .inMemory)
        config.maxJobsPerTurn = 256
        // The log of what the store thread did, in order: "j" per job, "d" per delivery.
        let log = Watched([Character]())
        let pipeline = try NotificationPipeline(config: config) { batch in
            log.update { $0 += Array(repeating: "d", count: batch.count) }
        }
        try pipeline.start()
        defer { pipeline.stop() }
        #expect(eventually(seconds: 20) { pipeline.isBrokerConnected })
        let gate = Watched((running: false, open: false))
        #expect(hold(pipeline, gate))
        for _ in 0..<1000 {
            pipeline.perform({ _ in log.update { $0.append("j") } }, completion: { _ in })
        }
        _ = try publishAll([OutgoingMessage(event: like(1, actor: 2, owner: 3))], with: lane.publisher())
        #expect(eventually(seconds: 20) { pipeline.queuedDeliveries == 1 })
        gate.update { $0.open = true }
        #expect(log.wait(seconds: 20) { $0.count == 1001 })
        // The delivery went out after one turn's share of the jobs, not after all 1000.
        let position = log.read { $0.firstIndex(of: "d") }
        #expect(position == 256)
    }
}
