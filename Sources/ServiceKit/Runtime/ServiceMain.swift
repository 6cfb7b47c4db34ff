// The whole `main` of a service executable: configuration from the environment, start,
// wait for SIGTERM/SIGINT, stop. Errors at start go to stderr with exit status 1.
#if canImport(Glibc)
import Glibc
#endif

import Daemon

/// What a service's main states once: its short name, default port and database. The
/// command line (`--help`, `--version`) and the configuration are both derived from it.
public protocol ServiceDescription: DaemonDescription {
    /// "auth", "story", "social": names INSTAVERSE_<NAME>_* and the log lines.
    static var service: String { get }
    static var defaultPort: Int { get }
    static var defaultDatabase: String { get }
}

extension ServiceDescription {
    public static var name: String { service + "-service" }

    /// The `--help` text after the usage: where the service's configuration comes from.
    public static var discussion: String {
        let upper = service.uppercased()
        return """
        Configuration comes from INSTAVERSE_* environment variables (docs/services.md): \
        INSTAVERSE_\(upper)_HOST (127.0.0.1), INSTAVERSE_\(upper)_PORT (\(defaultPort)), \
        INSTAVERSE_\(upper)_DB_URL or INSTAVERSE_PG_URL (+ /\(defaultDatabase)), \
        INSTAVERSE_JWT_KEYS (required), INSTAVERSE_AMQP_URL, INSTAVERSE_LOG_LEVEL. SIGTERM or \
        SIGINT stops it gracefully. Exit status: 0 after a graceful stop, 1 when the \
        configuration or the start fails.
        """
    }
}

public enum ServiceMain {
    /// The whole main of a service executable: parses the command line (returns only when the
    /// service should start), builds the definition with `make` (which may read settings of
    /// its own from the environment and throw on a bad one), runs it until a stop signal and
    /// returns the process exit status.
    public static func main<S: ServiceDescription, D: ServiceDefinition>(_ description: S.Type,
                                                                        _ make: () throws -> D) -> Int32 {
        DaemonCommandLine.parseOrExit(description)
        return run(name: S.service, defaultPort: S.defaultPort, defaultDatabase: S.defaultDatabase, make)
    }

    /// Builds the definition with `make`, then runs it until a stop signal; returns the
    /// process exit status.
    public static func run<D: ServiceDefinition>(name: String, defaultPort: Int, defaultDatabase: String,
                                                 _ make: () throws -> D) -> Int32 {
        do {
            let definition = try make()
            let config = try ServiceConfig.load(name: name, defaultPort: defaultPort, defaultDatabase: defaultDatabase)
            let host = try ServiceHost.start(definition, config: config, handleSignals: true)
            return host.wait() ? 0 : 1
        } catch {
            let line = "\(name)-service: cannot start: \(error)\n"
            _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
            return 1
        }
    }
}
