// Insert throughput of the SQLite notification store: a benchmark, not a test (the figure
// depends on the disk and on what else runs). For each batch size (100, 1000) and each
// durability setting (synchronous FULL, NORMAL) it inserts `rows` notifications spread over
// 5,000 users into a new file under $TMPDIR, timing only the `insert(batch:)` calls on the
// monotonic clock, and prints one `store-bench` line per run. Build in release:
// scripts/bench-store.sh (docs/store.md quotes its figures).
// Usage: store-bench [rows]   (default 100000)
#if canImport(Glibc)
import Glibc
#endif
import Store

let rows = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 100_000
let root = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"

for batchSize in [100, 1000] {
    for durability in [SQLiteDurability.full, .normal] {
        var template = Array("\(root)/store-bench.XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed under \(root)") }
        let dir = String(cString: made)
        let file = dir + "/bench.db"
        let store = try SQLiteNotificationStore(path: file, durability: durability)
        let batches = max(1, rows / batchSize)
        let prepared: [[NewNotification]] = (0..<batches).map { b in
            (0..<batchSize).map { i in
                let actor = Int64(i)
                return NewNotification(eventId: "bench-\(b)-\(i)", userId: Int64((b * batchSize + i) % 5000), kind: .like,
                                       actorId: actor, actorUsername: "user\(actor)", postId: 991, commentId: nil,
                                       text: "user\(actor) did like", createdAt: 1_764_043_200_000)
            }
        }
        var start = timespec(), end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        var stored = 0
        for batch in prepared { stored += try store.insert(batch: batch).count }
        clock_gettime(CLOCK_MONOTONIC, &end)
        let seconds = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
        store.close()
        for suffix in ["", "-wal", "-shm"] { unlink(file + suffix) }
        rmdir(dir)
        guard stored == batches * batchSize else { fatalError("stored \(stored) of \(batches * batchSize) rows") }
        print("store-bench synchronous=\(durability == .full ? "FULL" : "NORMAL") batch=\(batchSize) rows=\(stored) " +
              "seconds=\(seconds) rows_per_s=\(Int(Double(stored) / seconds)) commits_per_s=\(Int(Double(batches) / seconds))")
    }
}
