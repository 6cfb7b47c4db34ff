// Method + path routing over a segment trie. Static segments win over parameters, with
// backtracking, so `/notifications/:id/read` and `/notifications/:userId/read-all` and a
// static `/notifications/stats` coexist. A value type: build it at startup, then share it
// across loops (it is Sendable when the handler type is).

/// Path parameters of a matched route, decoded (`:userId` in `/notifications/7` gives
/// ("userId", "7")).
public struct RouteParameters: Sendable, Equatable {
    public private(set) var names: [String] = []
    public private(set) var values: [String] = []

    public init() {}

    mutating func append(_ name: String, _ value: String) {
        names.append(name)
        values.append(value)
    }

    public subscript(name: String) -> String? {
        for (k, n) in names.enumerated() where n == name { return values[k] }
        return nil
    }

    /// The parameter as an Int, nil when absent or not a decimal integer.
    public func int(_ name: String) -> Int? { self[name].flatMap { Int($0) } }
    public var count: Int { names.count }
}

/// The result of routing one request.
public enum RouteMatch<Handler> {
    case found(handler: Handler, parameters: RouteParameters, bodyLimit: Int)
    /// No route has this path: answer 404.
    case notFound
    /// Routes have this path but not this method: answer 405 with `Allow: <allowHeader>`.
    case methodNotAllowed(allowed: [HTTPMethod])
    /// The path has a malformed percent-escape or decodes to invalid UTF-8: answer 400.
    case invalidPath
}

extension RouteMatch {
    /// `Allow` header value for a 405 (methods sorted, comma-separated).
    public static func allowHeader(_ methods: [HTTPMethod]) -> String {
        methods.map(\.rawValue).sorted().joined(separator: ", ")
    }
}

public struct Router<Handler> {
    /// A value-type trie: copying a router copies its routes, so a router built at startup
    /// and then shared is immutable.
    struct Node {
        var statics: [String: Node] = [:]
        /// Zero or one child (an array gives the recursive struct its indirection).
        var parameterChild: [Node] = []
        var routes: [HTTPMethod: Route] = [:]

        mutating func insert(_ segments: ArraySlice<Substring>, _ method: HTTPMethod, _ route: Route) {
            guard let segment = segments.first else {
                routes[method] = route
                return
            }
            if segment.hasPrefix(":") {
                if parameterChild.isEmpty { parameterChild = [Node()] }
                parameterChild[0].insert(segments.dropFirst(), method, route)
            } else {
                statics[String(segment), default: Node()].insert(segments.dropFirst(), method, route)
            }
        }
    }

    struct Route {
        var handler: Handler
        var bodyLimit: Int
        /// The route's own parameter names, in order: routes sharing a parameter position
        /// may name it differently (`/n/:userId` and `/n/:id/read`).
        var parameterNames: [String]
    }

    /// The body limit for routes added without one.
    public var defaultBodyLimit: Int
    var root = Node()

    public init(defaultBodyLimit: Int = 1024 * 1024) {
        self.defaultBodyLimit = defaultBodyLimit
    }

    /// Adds a route. `pattern` is `/`-separated; a segment `:name` captures one decoded,
    /// non-empty segment. Static segments are compared with the request's decoded segment.
    /// Adding the same method and pattern (parameter names aside) twice replaces the first.
    public mutating func add(_ method: HTTPMethod, _ pattern: String, bodyLimit: Int? = nil, _ handler: Handler) {
        let segments = Router.segments(pattern)
        let names = segments.filter { $0.hasPrefix(":") }.map { String($0.dropFirst()) }
        root.insert(segments[...], method, Route(handler: handler, bodyLimit: bodyLimit ?? defaultBodyLimit, parameterNames: names))
    }

    /// Routes a request path (as in `HTTPRequestHead.path`, still percent-encoded).
    public func match(method: HTTPMethod, path: String) -> RouteMatch<Handler> {
        var decoded: [String] = []
        for raw in Router.segments(path) {
            guard let d = PercentDecoding.decodePathSegment(raw) else { return .invalidPath }
            decoded.append(d)
        }
        var values: [String] = []
        var allowed: Set<HTTPMethod> = []
        if let route = search(root, decoded[...], method, &values, &allowed) {
            var parameters = RouteParameters()
            for (name, value) in zip(route.parameterNames, values) { parameters.append(name, value) }
            return .found(handler: route.handler, parameters: parameters, bodyLimit: route.bodyLimit)
        }
        if allowed.isEmpty { return .notFound }
        return .methodNotAllowed(allowed: allowed.sorted { $0.rawValue < $1.rawValue })
    }

    /// Depth-first, static before parameter. Collects the methods of every node the path
    /// reaches, so a 405 lists all of them.
    func search(_ node: Node, _ rest: ArraySlice<String>, _ method: HTTPMethod,
                _ values: inout [String], _ allowed: inout Set<HTTPMethod>) -> Route?
    {
        guard let segment = rest.first else {
            if let route = node.routes[method] { return route }
            allowed.formUnion(node.routes.keys)
            return nil
        }
        let tail = rest.dropFirst()
        if let next = node.statics[segment], let hit = search(next, tail, method, &values, &allowed) {
            return hit
        }
        if let next = node.parameterChild.first, !segment.isEmpty {
            values.append(segment)
            if let hit = search(next, tail, method, &values, &allowed) { return hit }
            values.removeLast()
        }
        return nil
    }

    /// Splits a path into segments; a leading `/` and one trailing `/` are ignored, so
    /// `/a/b/` routes like `/a/b`, and `/` is the empty list.
    static func segments(_ path: String) -> [Substring] {
        var p = Substring(path)
        if p.first == "/" { p = p.dropFirst() }
        if p.last == "/" { p = p.dropLast() }
        if p.isEmpty { return [] }
        return p.split(separator: "/", omittingEmptySubsequences: false)
    }
}

extension Router: Sendable where Handler: Sendable {}
extension Router.Node: Sendable where Handler: Sendable {}
extension Router.Route: Sendable where Handler: Sendable {}
