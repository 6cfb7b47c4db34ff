// Test scaffolding: every test gets its own schema in notify_db (tests run in parallel), and
// a connection URL whose search_path points at it, so pool workers, relays and migrations
// that open their own connections all land in the same private schema.
import Foundation
import PG
import TestSupport

/// A fresh schema `t_<random>`; `drop()` removes it with everything in it.
struct TestSchema {
    let name: String
    let url: String
    private let adminURL: String

    init() throws {
        adminURL = try Servers.postgresURL(database: "notify_db")
        name = "t_" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        url = adminURL + "?options=-csearch_path%3D" + name
        let admin = try PGConnection(url: adminURL)
        try admin.executeScript("CREATE SCHEMA " + admin.quoteIdentifier(name))
    }

    func connect() throws -> PGConnection { try PGConnection(url: url) }

    func drop() {
        guard let admin = try? PGConnection(url: adminURL), let quoted = try? admin.quoteIdentifier(name) else { return }
        _ = try? admin.executeScript("SET client_min_messages = warning; DROP SCHEMA \(quoted) CASCADE")
    }
}

/// A thread-safe list that tests append to from other threads, with a wait on its size
/// (a `Watched` list: its waits are on the monotonic clock).
final class Recorder<Element: Sendable>: Sendable {
    private let items = Watched<[Element]>([])

    func append(_ element: Element) { items.update { $0.append(element) } }

    func append(contentsOf elements: [Element]) { items.update { $0.append(contentsOf: elements) } }

    var all: [Element] { items.read { $0 } }

    /// Waits until `ready(items)` holds or `seconds` pass; returns whether it held.
    func wait(seconds: Double, until ready: ([Element]) -> Bool) -> Bool {
        items.wait(seconds: seconds, until: ready)
    }
}
