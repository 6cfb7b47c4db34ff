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
}
