// swift-tools-version:6.0
// Instaverse real-time layer: notifyd, the light services and the load generator,
// all on one libuv-based I/O core. Only the C* wrapper targets touch C headers.
import PackageDescription

func system(_ name: String, _ pkg: String, _ apt: String) -> Target {
    .systemLibrary(name: name, path: "Sources/\(name)", pkgConfig: pkg, providers: [.apt([apt])])
}

let package = Package(
    name: "instaverse-realtime",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "notifyd", targets: ["notifyd"]),
        .executable(name: "auth-service", targets: ["auth-service"]),
        .executable(name: "story-service", targets: ["story-service"]),
        .executable(name: "social-service", targets: ["social-service"]),
        .executable(name: "instaverse-load", targets: ["instaverse-load"]),
    ],
    dependencies: [
        // Latency histograms of the load generator (mergeable across its worker processes).
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // Every executable's command line (--help, --version; instaverse-load's options).
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C wrappers: a module map and a tiny shim each, libraries from Debian.
        system("CLibUV", "libuv", "libuv1-dev"),
        system("CRabbitMQ", "librabbitmq", "librabbitmq-dev"),
        system("COpenSSL", "openssl", "libssl-dev"),
        system("CSQLite", "sqlite3", "libsqlite3-dev"),
        system("CPQ", "libpq", "libpq-dev"),
        system("CZlib", "zlib", "zlib1g-dev"),

        // The one wrapper of OpenSSL's SHA-1, random bytes and base64 (WebSocket and Tokens use it).
        .target(name: "CryptoBytes", dependencies: ["COpenSSL"]),
        // The I/O core: loop, TCP, timers, waker, signals.
        .target(name: "IOCore", dependencies: ["CLibUV"]),
        // Protocol state machines: bytes in, actions out, no sockets.
        .target(name: "HTTP1"),
        .target(name: "WebSocket", dependencies: ["CryptoBytes", "CZlib"]),
        // Bindings of the protocols to the I/O core: HTTP server, WebSocket server and client.
        .target(name: "Web", dependencies: ["IOCore", "HTTP1", "WebSocket"]),
        // Hello-world server for the HTTP benchmark (scripts/bench-http.sh).
        .executableTarget(name: "web-hello", dependencies: ["Web", "IOCore", "HTTP1", "Daemon", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // WebSocket echo endpoint for Autobahn (scripts/conformance.sh) and benchmarks.
        .executableTarget(name: "ws-echo", dependencies: ["Web", "IOCore", "HTTP1", "WebSocket", "Daemon", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // Crypto helpers: JWT HS256, scrypt.
        .target(name: "Tokens", dependencies: ["COpenSSL", "CryptoBytes"]),
        // The event contract shared by every publisher and notifyd.
        .target(name: "Events"),
        // AMQP on rabbitmq-c: consumer and publisher threads.
        .target(name: "AMQP", dependencies: ["CRabbitMQ", "IOCore", "Events"]),
        // PostgreSQL through libpq, the outbox and its relay.
        .target(name: "PG", dependencies: ["CPQ", "IOCore"]),
        // What every daemon shares: configuration from the environment, logging, sd_notify, the
        // lifecycle on its loop (signals, watchdog, drain), the command line (--help,
        // --version) and the version string.
        .target(name: "Daemon", dependencies: ["IOCore", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // notifyd's store: protocol, SQLite implementation, in-memory double.
        .target(name: "Store", dependencies: ["CSQLite"]),
        // Insert throughput of the SQLite store (scripts/bench-store.sh): a benchmark, kept out of the unit suite.
        .executableTarget(name: "store-bench", dependencies: ["Store"]),
        // notifyd as a library (hub, sessions, REST) so tests can drive it in-process.
        .target(name: "NotifyCore", dependencies: ["IOCore", "HTTP1", "WebSocket", "Web", "AMQP", "Store", "Tokens", "Events", "Daemon"]),
        .executableTarget(name: "notifyd", dependencies: ["NotifyCore", "Daemon", "IOCore", "Tokens"]),
        // Shared pieces of the three light services.
        .target(name: "ServiceKit", dependencies: ["IOCore", "HTTP1", "Web", "PG", "AMQP", "Tokens", "CryptoBytes", "Events", "Daemon"]),
        .executableTarget(name: "auth-service", dependencies: ["ServiceKit", "Daemon"]),
        .executableTarget(name: "story-service", dependencies: ["ServiceKit", "Daemon"]),
        .executableTarget(name: "social-service", dependencies: ["ServiceKit", "Daemon"]),
        .executableTarget(name: "instaverse-load", dependencies: ["IOCore", "WebSocket", "Tokens", "AMQP", "Events", "Daemon", .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Histogram", package: "hdrhistogram-swift")], path: "Load"),

        // Tests find the private servers through environment variables (scripts/servers.sh).
        .target(name: "TestSupport", dependencies: ["CSQLite", "Store"], path: "Tests/TestSupport"),
        .testTarget(name: "DaemonTests", dependencies: ["Daemon", "IOCore", "TestSupport"]),
        .testTarget(name: "PGTests", dependencies: ["PG", "TestSupport"]),
        .testTarget(name: "TokensTests", dependencies: ["Tokens", "CryptoBytes", "COpenSSL"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "CSQLite"]),
        .testTarget(name: "IOCoreTests", dependencies: ["IOCore"]),
        .testTarget(name: "HTTP1Tests", dependencies: ["HTTP1"]),
        .testTarget(name: "WebSocketTests", dependencies: ["WebSocket"]),
        .testTarget(name: "WebTests", dependencies: ["Web", "IOCore", "HTTP1", "WebSocket"]),
        .testTarget(name: "FoundationTests", dependencies: ["TestSupport", "CLibUV", "CRabbitMQ", "COpenSSL", "CSQLite", "CPQ", "CZlib"]),
        .testTarget(name: "EventsTests", dependencies: ["Events"]),
        .testTarget(name: "LoadTests", dependencies: ["instaverse-load", "IOCore", "Tokens", "TestSupport", .product(name: "Histogram", package: "hdrhistogram-swift")]),
        .testTarget(name: "AMQPTests", dependencies: ["AMQP", "Events", "CRabbitMQ", "TestSupport"]),
        .testTarget(name: "NotifyCoreTests", dependencies: ["NotifyCore", "AMQP", "Store", "Events", "CSQLite", "TestSupport"]),
        .testTarget(name: "ServicesTests", dependencies: ["ServiceKit", "Web", "IOCore", "HTTP1", "PG", "AMQP", "Events", "Tokens", "CryptoBytes", "TestSupport"]),
        // Black-box tests of the built notifyd binary (spawned as a process) plus unit tests of its front.
        .testTarget(name: "NotifydTests", dependencies: ["NotifyCore", "AMQP", "Store", "Events", "Tokens", "HTTP1", "WebSocket", "Web", "IOCore", "Daemon", "TestSupport"]),
    ]
)
