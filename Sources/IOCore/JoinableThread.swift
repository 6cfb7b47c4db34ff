// A plain joinable pthread for the threads that own a blocking resource (an AMQP
// connection, the store's write connection): started once, joined once by its owner.
// Loop threads use EventLoopThread instead.
#if canImport(Glibc)
import Glibc
#endif

/// A started pthread that can be joined once.
public struct JoinableThread: Sendable {
    public let id: pthread_t

    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    /// Starts `body` on a new thread; returns nil when pthread_create fails.
    public static func start(_ body: @escaping @Sendable () -> Void) -> JoinableThread? {
        let ctx = Unmanaged.passRetained(Body(body)).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<Body>.fromOpaque(raw).takeRetainedValue().run()
            return nil
        }, ctx)
        guard rc == 0 else {
            Unmanaged<Body>.fromOpaque(ctx).release()
            return nil
        }
        return JoinableThread(id: tid)
    }

    public var isCurrent: Bool { pthread_equal(pthread_self(), id) != 0 }

    public func join() { pthread_join(id, nil) }
}
