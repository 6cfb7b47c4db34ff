// The lifecycle every daemon shares (notifyd and the three services), bound to the event loop
// that serves it: SIGTERM and SIGINT start a graceful stop, a loop timer pings the systemd
// watchdog (so a stalled loop stops the pings and systemd restarts the process), and sd_notify
// says READY=1 and STOPPING=1. What "drain" means is the daemon's own: it is handed in.
//
// Order of a stop: signal → log line → STOPPING=1 → `drain(done)`; when the daemon calls
// `done` (on the loop thread), the signal watchers and the watchdog timer are cancelled and
// the loop stops, so the loop can close with no handle left open.
import IOCore
#if canImport(Glibc)
import Glibc
#endif

public final class DaemonLifecycle {
    private let loop: EventLoop
    private let notifier: SystemdNotifier
    private var watchers: [SignalWatcher] = []
    private var watchdog: LoopTimer?

    /// Prepares the process for the signals above. Call from main before any thread starts
    /// (threads inherit the mask): a parent may hand over a blocked SIGTERM (Foundation's
    /// Process does), which would then stay pending forever, so SIGTERM, SIGINT and SIGUSR2
    /// (notifyd's fault injection) are unblocked; SIGPIPE is ignored (a peer that went away
    /// is an error value of the write, not a process exit).
    public static func prepareProcess() {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGUSR2)
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
        signal(SIGPIPE, SIG_IGN)
    }

    /// Loop thread, once the daemon listens. Watches SIGTERM and SIGINT; each delivery logs
    /// `signal N: stopping` with `log`, sends STOPPING=1 and calls `drain`, which must call its
    /// argument on the loop thread once the daemon has drained. Throws when a signal cannot be
    /// watched.
    public init(loop: EventLoop, notifier: SystemdNotifier, log: Log,
                drain: @escaping (_ done: @escaping () -> Void) -> Void) throws(IOError) {
        self.loop = loop
        self.notifier = notifier
        // The watchers' callbacks hold this object until `finish` cancels them.
        let stop: (Int32) -> Void = { [self] signal in
            log.info("signal \(signal): stopping")
            notifier.stopping()
            drain { self.finish() }
        }
        do {
            watchers.append(try loop.onSignal(SIGTERM, stop))
            watchers.append(try loop.onSignal(SIGINT, stop))
        } catch {
            finish()
            throw error
        }
    }

    /// Loop thread, once the daemon serves: READY=1 with a human-readable status, then, under a
    /// systemd watchdog (WATCHDOG_USEC for this PID), WATCHDOG=1 at once and every half period
    /// from a loop timer.
    public func ready(status: String) {
        notifier.ready(status: status)
        guard watchdog == nil, !watchers.isEmpty, let micros = notifier.watchdogIntervalMicros else { return }
        let interval = Duration.microseconds(Int64(max(micros, 1000)))
        let notifier = self.notifier
        notifier.watchdog()
        watchdog = loop.schedule(after: interval, repeating: interval) { notifier.watchdog() }
    }

    /// Cancels the watchers and the watchdog timer, then stops the loop. Loop thread.
    private func finish() {
        watchdog?.cancel()
        watchdog = nil
        for watcher in watchers { watcher.cancel() }
        watchers = []
        loop.stop()
    }
}
