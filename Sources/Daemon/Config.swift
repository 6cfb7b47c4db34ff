// Configuration from the environment: systemd's EnvironmentFile, `make run`'s embedded
// defaults, and tests all speak the same INSTAVERSE_* variables.
//
// A value that is present but malformed is an error naming the variable, never a silent
// fallback to the default.
#if canImport(Glibc)
import Glibc
#endif

public struct ConfigError: Error, CustomStringConvertible {
    public let variable: String
    public let problem: String
    public init(variable: String, problem: String) {
        self.variable = variable
        self.problem = problem
    }
    public var description: String { "\(variable): \(problem)" }
}

public struct Config: Sendable {
    public let values: [String: String]

    public init(_ values: [String: String]) { self.values = values }

    /// Every INSTAVERSE_* variable of this process, plus NOTIFY_SOCKET and WATCHDOG_*.
    public static func fromProcess() -> Config {
        var values: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let pair = String(cString: entry)
            if let eq = pair.firstIndex(of: "=") {
                let key = String(pair[..<eq])
                if key.hasPrefix("INSTAVERSE_") || key == "NOTIFY_SOCKET" || key.hasPrefix("WATCHDOG_") {
                    values[key] = String(pair[pair.index(after: eq)...])
                }
            }
            cursor += 1
        }
        return Config(values)
    }

    public func string(_ name: String, default fallback: String) -> String {
        values[name].flatMap { $0.isEmpty ? nil : $0 } ?? fallback
    }

    public func optionalString(_ name: String) -> String? {
        values[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    public func required(_ name: String) throws(ConfigError) -> String {
        guard let v = optionalString(name) else { throw ConfigError(variable: name, problem: "is required") }
        return v
    }

    public func int(_ name: String, default fallback: Int, range: ClosedRange<Int> = Int.min...Int.max) throws(ConfigError) -> Int {
        guard let raw = optionalString(name) else { return fallback }
        guard let v = Int(raw) else { throw ConfigError(variable: name, problem: "'\(raw)' is not an integer") }
        guard range.contains(v) else { throw ConfigError(variable: name, problem: "\(v) is outside \(range)") }
        return v
    }

    public func bool(_ name: String, default fallback: Bool) throws(ConfigError) -> Bool {
        guard let raw = optionalString(name) else { return fallback }
        switch raw.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigError(variable: name, problem: "'\(raw)' is not a boolean")
        }
    }

    /// A comma-separated list; empty entries are dropped.
    public func list(_ name: String, default fallback: [String] = []) -> [String] {
        guard let raw = optionalString(name) else { return fallback }
        return raw.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
