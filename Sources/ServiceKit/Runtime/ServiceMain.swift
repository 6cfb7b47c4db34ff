// The whole `main` of a service executable: configuration from the environment, start,
// wait for SIGTERM/SIGINT, stop. Errors at start go to stderr with exit status 1.
#if canImport(Glibc)
import Glibc
#endif

public enum ServiceMain {
    /// Runs `definition` until a stop signal; returns the process exit status.
    public static func run(_ definition: some ServiceDefinition, name: String, defaultPort: Int,
                           defaultDatabase: String) -> Int32 {
        run(name: name, defaultPort: defaultPort, defaultDatabase: defaultDatabase) { definition }
    }

    /// Builds the definition with `make` (which may read settings of its own from the
    /// environment and throw on a bad one), then runs it like `run(_:name:…)`.
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

    /// The `--help` text after the usage: where a service's configuration comes from.
    public static func discussion(name: String, defaultPort: Int, defaultDatabase: String) -> String {
        let upper = name.uppercased()
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
