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

/// A thread-safe list that tests append to from other threads, with a wait on its size.
final class Recorder<Element: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `items` is only touched while holding `condition`.
    private let condition = NSCondition()
    private var items: [Element] = []

    func append(_ element: Element) {
        condition.lock()
        items.append(element)
        condition.broadcast()
        condition.unlock()
    }

    func append(contentsOf elements: [Element]) {
        condition.lock()
        items.append(contentsOf: elements)
        condition.broadcast()
        condition.unlock()
    }

    var all: [Element] {
        condition.lock()
        defer { condition.unlock() }
        return items
    }

    /// Waits until `ready(items)` holds or `seconds` pass; returns whether it held.
    func wait(seconds: Double, until ready: ([Element]) -> Bool) -> Bool {
        let deadline = Date(timeIntervalSinceNow: seconds)
        condition.lock()
        defer { condition.unlock() }
        while !ready(items) {
            if !condition.wait(until: deadline) { return ready(items) }
        }
        return true
    }
}
