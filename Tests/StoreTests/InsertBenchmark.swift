// Insert throughput of the SQLite store, printed (not asserted: the figure depends on the
// disk). Run in release for the figures in docs/store.md: scripts/bench-store.sh.
// In a debug `swift test` it runs a small size as a plain correctness check.
#if canImport(Glibc)
import Glibc
#endif
import Testing
import Store

@Suite struct InsertBenchmark {
    @Test(arguments: [100, 1000])
    func insertThroughput(batchSize: Int) throws {
        let rows = getenv("STORE_BENCH_ROWS").flatMap { Int(String(cString: $0)) } ?? 4000
        for durability in [SQLiteDurability.full, .normal] {
            let dir = try TempDir()
            let store = try SQLiteNotificationStore(path: dir.file("bench.db"), durability: durability)
            let batches = max(1, rows / batchSize)
            let prepared: [[NewNotification]] = (0..<batches).map { b in
                (0..<batchSize).map { i in note("bench-\(b)-\(i)", to: Int64((b * batchSize + i) % 5000), from: Int64(i)) }
            }
            var start = timespec(), end = timespec()
            clock_gettime(CLOCK_MONOTONIC, &start)
            var stored = 0
            for batch in prepared { stored += try store.insert(batch: batch).count }
            clock_gettime(CLOCK_MONOTONIC, &end)
            let seconds = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
            #expect(stored == batches * batchSize)
            print("store-bench synchronous=\(durability == .full ? "FULL" : "NORMAL") batch=\(batchSize) rows=\(stored) " +
                  "seconds=\(seconds) rows_per_s=\(Int(Double(stored) / seconds)) commits_per_s=\(Int(Double(batches) / seconds))")
            store.close()
        }
    }
}
