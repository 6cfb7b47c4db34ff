// notifyd: the Instaverse notification daemon. Configuration comes from INSTAVERSE_*
// environment variables (docs/notifyd.md); systemd runs it as Type=notify (READY=1 once the
// store is open and the port listens, WATCHDOG=1 from the loop, STOPPING=1 on SIGTERM).
//
// stdout carries exactly one line, `notifyd listening on HOST:PORT`, once ready (tests and
// scripts parse the port, which matters with INSTAVERSE_NOTIFYD_PORT=0); logs go to stderr.
// Exit status: 0 after a graceful stop, 1 when the configuration or the start fails, 64 for
// a command-line argument other than --help and --version.
import Daemon
import IOCore
import NotifyCore
import Tokens
#if canImport(Glibc)
import Glibc
#endif

/// The process's objects, kept together so nothing is global state (strict concurrency).
final class Main {
    let log: Log
    let config: NotifydConfig
    let notifier = SystemdNotifier()

    init() {
        let env = Config.fromProcess()
        let level = Log.Level(name: env.string("INSTAVERSE_LOG_LEVEL", default: "info")) ?? .info
        let bootLog = Log(component: "notifyd", level: level, redact: { JWT.redact($0) })
        do throws(ConfigError) {
            config = try NotifydConfig(environment: env)
        } catch {
            bootLog.error("configuration: \(error)")
            exit(1)
        }
        log = Log(component: "notifyd", level: config.logLevel, redact: { JWT.redact($0) })
    }

    func run() -> Int32 {
        DaemonLifecycle.prepareProcess()
        let limit = raiseOpenFilesLimit()
        log.info("open files limit \(limit)")
        let loop: EventLoop
        let daemon: Notifyd
        let port: Int
        do {
            loop = try EventLoop()
            daemon = try Notifyd(loop: loop, config: config, log: log)
            port = try daemon.start()
        } catch {
            log.error("start failed: \(error)")
            return 1
        }
        // SIGUSR2 fault injection for the watchdog test (off unless the variable is set): it
        // blocks the loop thread, as a bug would, so WATCHDOG=1 must stop until it returns.
        var stall: SignalWatcher?
        let lifecycle: DaemonLifecycle
        do {
            lifecycle = try DaemonLifecycle(loop: loop, notifier: notifier, log: log) { done in
                daemon.shutdown {
                    stall?.cancel()
                    done()
                }
            }
            if let stallMs = ProcessInfoLite.int("INSTAVERSE_DEBUG_STALL_MS"), stallMs > 0 {
                log.warning("fault injection on: SIGUSR2 stalls the event loop for \(stallMs) ms")
                stall = try loop.onSignal(SIGUSR2) { _ in usleep(useconds_t(stallMs) * 1000) }
            }
        } catch {
            log.error("cannot watch signals: \(error)")
            return 1
        }
        print("notifyd listening on \(config.host):\(port)")
        fflush(nil)
        lifecycle.ready(status: "listening on port \(port)")
        loop.run()
        do {
            try loop.close()
        } catch {
            log.warning("event loop closed with a leaked handle: \(error)")
        }
        return 0
    }
}

enum ProcessInfoLite {
    static func int(_ name: String) -> Int? { getenv(name).flatMap { Int(String(cString: $0)) } }
}

enum NotifydDescription: DaemonDescription {
    static let name = "notifyd"
    static let abstract = "The Instaverse notification daemon: WebSocket sessions, REST, AMQP ingest."
    static let discussion = """
    Configuration comes from INSTAVERSE_* environment variables (docs/notifyd.md), e.g. \
    INSTAVERSE_NOTIFYD_HOST, INSTAVERSE_NOTIFYD_PORT, INSTAVERSE_AMQP_URL, \
    INSTAVERSE_STORE_PATH, INSTAVERSE_JWT_KEYS, INSTAVERSE_LOG_LEVEL. Once ready it prints \
    `notifyd listening on HOST:PORT` on stdout; logs go to stderr. SIGTERM or SIGINT stops it \
    gracefully. Exit status: 0 after a graceful stop, 1 when the configuration or the start \
    fails.
    """
}

DaemonCommandLine.parseOrExit(NotifydDescription.self)
exit(Main().run())
