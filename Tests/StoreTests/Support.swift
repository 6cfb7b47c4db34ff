// Helpers for the store tests: a private temp directory, and the implementations the
// shared contract suite runs against.
#if canImport(Glibc)
import Glibc
#endif
import Store

/// A fresh directory under /tmp, removed (with the files in it) on deinit.
final class TempDir {
    let path: String

    init() throws {
        var template = Array(((getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp") + "/store-tests.XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw TestFailure("mkdtemp failed") }
        path = String(cString: made)
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit {
        if let dir = opendir(path) {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(dir)
        }
        rmdir(path)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Copies a file byte for byte (a crash snapshot of a file another connection holds open).
func copyFile(_ from: String, _ to: String) throws {
    guard let input = fopen(from, "rb") else { throw TestFailure("open \(from)") }
    defer { fclose(input) }
    guard let output = fopen(to, "wb") else { throw TestFailure("open \(to)") }
    defer { fclose(output) }
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let count = fread(&buffer, 1, buffer.count, input)
        if count == 0 { break }
        guard fwrite(buffer, 1, count, output) == count else { throw TestFailure("write \(to)") }
    }
}

func fileSize(_ path: String) -> Int {
    var info = stat()
    return stat(path, &info) == 0 ? Int(info.st_size) : -1
}

/// The implementations every contract test runs against.
enum Implementation: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memory, sqlite
    var testDescription: String { rawValue }
}

/// A store plus whatever keeps it alive (the temp dir of the SQLite file).
struct Fixture {
    let store: any NotificationStore
    let dir: TempDir?

    init(_ implementation: Implementation) throws {
        switch implementation {
        case .memory:
            store = InMemoryNotificationStore()
            dir = nil
        case .sqlite:
            let dir = try TempDir()
            store = try SQLiteNotificationStore(path: dir.file("notify.db"))
            self.dir = dir
        }
    }
}

func note(_ event: String, to user: Int64, from actor: Int64 = 1000, kind: NotificationKind = .like,
          at time: Int64 = 1_764_043_200_000) -> NewNotification {
    NewNotification(eventId: event, userId: user, kind: kind, actorId: actor, actorUsername: "user\(actor)",
                    postId: kind == .newFollower ? nil : 991, commentId: kind == .comment ? 5 : nil,
                    text: "user\(actor) did \(kind.rawValue)", createdAt: time)
}

import Testing
