// Settings of an HTTPServer: limits, deadlines, buffering, logging.
import HTTP1
import IOCore

extension HTTPServer {
    /// Every deadline is applied by the server's one sweep timer, so each fires between its
    /// value and its value plus `sweepInterval`.
    public struct Configuration: Sendable {
        /// Head size, header count, target length and the default body limit (routes set
        /// their own with `bodyLimit:`).
        public var parserLimits = HTTPParserLimits()
        /// From the connection's first byte (or its accept) to the end of the head: 408, close.
        /// Not reset by further bytes, so a slowloris client cannot stretch it.
        public var headerTimeout: Duration = .seconds(10)
        /// Between a response and the first byte of the next request: close.
        public var idleTimeout: Duration = .seconds(60)
        /// Longest silence while a body is arriving (reset by each body byte): 408, close.
        public var bodyTimeout: Duration = .seconds(30)
        /// Longest wait for a peer that does not read our response (after a send reported
        /// backpressure): close.
        public var sendTimeout: Duration = .seconds(60)
        /// After the last response of a connection we send FIN and read (and discard) until
        /// the peer's EOF, so unread input cannot turn our close into an RST that destroys the
        /// response; this bounds the wait.
        public var lingerTimeout: Duration = .seconds(5)
        /// Period of the sweep timer (deadlines and the cached Date header).
        public var sweepInterval: Duration = .seconds(1)
        /// Pipelined input held while a handler is pending; past it the connection stops
        /// reading until the response is out.
        public var maxBufferedInput = 64 * 1024
        /// The `Server` header value; nil sends none.
        public var serverName: String?
        /// Write watermarks and TCP_NODELAY of accepted connections.
        public var connectionOptions = TCPConnection.Options()
        /// listen(2) backlog.
        public var backlog: Int32 = 1024
        /// Receives one line per unusual event (handler errors, misuse). Lines name the method
        /// and path, never the query string or any header. Called on the loop thread.
        public var log: (@Sendable (String) -> Void)?
        /// Receives each error the server answers itself: no route took the request (404,
        /// 405, 400 invalid path), or the request broke a protocol rule or limit (400, 408,
        /// 413, 414, 431), with the method and the path (never the query; "-" when the head
        /// was not parsed). Called on the loop thread; route handlers' responses are observed
        /// with `HTTPResponder.onRespond` instead.
        public var onUnroutedError: (@Sendable (HTTPMethod, String, HTTPError) -> Void)?

        public init() {}
    }
}

extension Duration {
    /// Whole milliseconds, at least 1 for a positive duration (loop time is in milliseconds).
    var loopMilliseconds: UInt64 {
        let (seconds, attoseconds) = components
        if seconds < 0 { return 0 }
        let ms = UInt64(seconds) &* 1000 &+ UInt64(attoseconds / 1_000_000_000_000_000)
        return ms == 0 && attoseconds > 0 ? 1 : ms
    }
}
