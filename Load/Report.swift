// The JSON report (--json): the schema other tools read. Stable keys; times in seconds,
// latencies in microseconds, memory in KiB. `LoadReport.decode(encode())` round-trips.
import Foundation

struct ServerUsage: Codable, Sendable, Equatable {
    var pid: Int32
    var cpuSeconds = 0.0
    /// CPU spent between the start and the moment every connection was open.
    var connectCPUSeconds = 0.0
    var rssStartKiB = 0
    /// RSS with every connection open and idle (end of the hold / before traffic).
    var rssHeldKiB = 0
    var rssPeakKiB = 0
    /// [seconds since start, RSS KiB, CPU seconds]
    var samples: [[Double]] = []
}

struct LoadReport: Codable, Sendable {
    static let schema = "instaverse-load/1"

    var schema = LoadReport.schema
    var scenario: String
    var targets: [String]
    var connections: Int
    var workers: Int
    var rate: Double?
    var elapsedSeconds: Double

    var attempted: Int
    var opened: Int
    /// Connections open when the run stopped them.
    var held: Int
    var failures: [String: Int]
    /// Handshakes completed per second over the connect phase.
    var connectRate: Double
    var handshake: LatencySummary
    var handshakeCurve: [[Double]]

    var messagesSent: Int
    var messagesReceived: Int
    var messagesPerSecond: Double
    var messageLatency: LatencySummary
    var messageCurve: [[Double]]

    /// deliver: events published and confirmed, delivered (distinct), lost, duplicates.
    var published: Int
    var confirmed: Int
    var delivered: Int
    var lost: Int
    var duplicates: Int

    var timeline: [TimelinePoint]
    var servers: [ServerUsage]
    /// Server CPU per accepted connection (all servers, connect phase), µs.
    var serverCPUPerConnectionMicros: Double?
    /// (RSS held - RSS at start) / connections held, all servers, KiB.
    var kibPerIdleConnection: Double?
    /// The generator's CPU (all workers) over the run, seconds, and its busiest worker's
    /// share of one core during the connect phase.
    var generatorCPUSeconds: Double
    var generatorPeakCorePercent: Double
    var warnings: [String]

    func encode() throws -> Data {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try e.encode(self)
    }

    static func decode(_ data: Data) throws -> LoadReport {
        try JSONDecoder().decode(LoadReport.self, from: data)
    }
}
