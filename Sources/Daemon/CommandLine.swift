// A daemon's command line: `--help` and `--version`, nothing else. Daemons read their
// configuration from INSTAVERSE_* environment variables (systemd's EnvironmentFile, `make run`,
// the tests), so the command line only answers questions and never competes with them.
import ArgumentParser

/// What `--help` says about one daemon.
public protocol DaemonDescription {
    /// The executable's name ("notifyd", "auth-service").
    static var name: String { get }
    /// One line: what the daemon is.
    static var abstract: String { get }
    /// Paragraphs after the usage: where its configuration comes from, its exit statuses.
    static var discussion: String { get }
}

/// The outcome of parsing a daemon's command line.
public enum DaemonCommandLineOutcome: Equatable, Sendable {
    /// No arguments: start the daemon.
    case run
    /// `--help` or `--version` (status 0), or a refused argument (status 64, EX_USAGE): print
    /// `text` (to stderr when `status` is non-zero) and exit with `status`.
    case exit(status: Int32, text: String)
}

public enum DaemonCommandLine {
    /// Parses `arguments` (without the program name). Pure: prints nothing, exits nothing.
    public static func outcome<D: DaemonDescription>(_ description: D.Type, arguments: [String]) -> DaemonCommandLineOutcome {
        do {
            _ = try DaemonArguments<D>.parse(arguments)
            return .run
        } catch {
            return .exit(status: DaemonArguments<D>.exitCode(for: error).rawValue,
                         text: DaemonArguments<D>.fullMessage(for: error))
        }
    }

    /// Parses the process's own arguments; returns only when the daemon should start, else
    /// prints the help or the version (stdout, status 0) or the error and the usage (stderr,
    /// status 64) and exits. Call it first in main.swift, before any thread starts.
    public static func parseOrExit<D: DaemonDescription>(_ description: D.Type) {
        _ = DaemonArguments<D>.parseOrExit()
    }
}

/// The command ArgumentParser parses for a daemon: no options of its own, so the parser adds
/// only `-h/--help` and `--version`.
struct DaemonArguments<D: DaemonDescription>: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: D.name, abstract: D.abstract, discussion: D.discussion,
                             version: InstaverseVersion.string)
    }
}
