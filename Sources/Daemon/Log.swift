// A small line logger for the daemons: `2026-11-25T04:00:00.123Z info notifyd: message`.
//
// Every message passes through `redact` before it is written, so a token that slips into a
// path or a query string never reaches the journal. Thread: any (one write(2) per line, which
// the kernel keeps whole for lines under PIPE_BUF on pipes and for regular files).
#if canImport(Glibc)
import Glibc
#endif

public final class Log: Sendable {
    public enum Level: Int, Sendable, Comparable {
        case debug, info, warning, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        var name: String { switch self { case .debug: "debug"; case .info: "info"; case .warning: "warning"; case .error: "error" } }
        public init?(name: String) {
            switch name.lowercased() {
            case "debug": self = .debug
            case "info": self = .info
            case "warning", "warn": self = .warning
            case "error": self = .error
            default: return nil
            }
        }
    }

    public let component: String
    public let level: Level
    private let fd: Int32
    private let redact: @Sendable (String) -> String

    public init(component: String, level: Level = .info, fd: Int32 = 2,
                redact: @escaping @Sendable (String) -> String) {
        self.component = component
        self.level = level
        self.fd = fd
        self.redact = redact
    }

    public func debug(_ message: @autoclosure () -> String) { write(.debug, message) }
    public func info(_ message: @autoclosure () -> String) { write(.info, message) }
    public func warning(_ message: @autoclosure () -> String) { write(.warning, message) }
    public func error(_ message: @autoclosure () -> String) { write(.error, message) }

    private func write(_ at: Level, _ message: () -> String) {
        guard at >= level else { return }
        var line = Log.timestamp() + " " + at.name + " " + component + ": " + Log.escapeControls(redact(message()))
        line.append("\n")
        _ = line.utf8CString.withUnsafeBufferPointer { Glibc.write(fd, $0.baseAddress, $0.count - 1) }
    }

    /// `text` with every C0 control character and DEL written as `\n`, `\r`, `\t` or `\xNN`:
    /// a message may quote what a client sent (a path, a query name), and a raw newline there
    /// would forge a log line of its own. Text without controls is returned as it is.
    public static func escapeControls(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return text }
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0..<0x20, 0x7F:
                let hex = String(scalar.value, radix: 16)
                out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// UTC, millisecond precision, without Foundation's formatters.
    static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = time_t(ts.tv_sec)
        var parts = tm()
        gmtime_r(&t, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T" +
            "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(ts.tv_nsec / 1_000_000), 3))Z"
    }
}
