// Where the tests find the private servers that scripts/servers.sh started.
//
// Every accessor throws when its variable is missing, with a message that names the
// variable: a test that needs a server fails loudly, it never skips or passes silently.
#if canImport(Glibc)
import Glibc
#endif

public struct MissingServer: Error, CustomStringConvertible {
    public let variable: String
    public var description: String {
        "\(variable) is not set: run the tests with `make test` (scripts/test.sh starts the private servers and exports it)"
    }
}

public enum Servers {
    public static func env(_ name: String) throws -> String {
        guard let raw = getenv(name), let value = String(validatingCString: raw), !value.isEmpty else {
            throw MissingServer(variable: name)
        }
        return value
    }

    /// amqp://guest:guest@127.0.0.1:PORT/%2f
    public static func amqpURL() throws -> String { try env("INSTAVERSE_AMQP_URL") }
    public static func amqpPort() throws -> Int {
        guard let port = Int(try env("INSTAVERSE_AMQP_PORT")) else { throw MissingServer(variable: "INSTAVERSE_AMQP_PORT") }
        return port
    }
    /// postgresql://postgres@127.0.0.1:PORT (append /DBNAME).
    public static func postgresURL(database: String) throws -> String { try env("INSTAVERSE_PG_URL") + "/" + database }
    /// The servers script, for tests that stop and start the broker.
    public static func script() throws -> String { try env("INSTAVERSE_SERVERS_SCRIPT") }
}

/// Runs a shell command and returns its exit status (for tests that stop/start servers).
public func shell(_ command: String) -> Int32 {
    let status = system(command)
    // system() returns a wait status; decode the exit code.
    return (status >> 8) & 0xff
}
