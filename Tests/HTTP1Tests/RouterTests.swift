// The router: parameters, static precedence, 404 vs 405, decoding, body limits, queries.
import Testing
import HTTP1

@Suite struct Routing {
    func router() -> Router<String> {
        var r = Router<String>(defaultBodyLimit: 4096)
        r.add(.GET, "/notifications/:userId", "list")
        r.add(.PUT, "/notifications/:id/read", bodyLimit: 0, "read")
        r.add(.PUT, "/notifications/:userId/read-all", "readAll")
        r.add(.GET, "/notifications/stats", "stats")
        r.add(.GET, "/healthz", "health")
        r.add(.POST, "/stories", bodyLimit: 10 << 20, "create")
        r.add(.GET, "/stories", "index")
        r.add(.GET, "/", "root")
        r.add(.GET, "/files/:name", "file")
        return r
    }

    func handler(_ m: RouteMatch<String>) -> String? {
        if case .found(let h, _, _) = m { return h }
        return nil
    }

    @Test func parametersAreCaptured() {
        guard case .found(let h, let p, let limit) = router().match(method: .GET, path: "/notifications/42") else {
            Issue.record("no match"); return
        }
        #expect(h == "list")
        #expect(p["userId"] == "42")
        #expect(p.int("userId") == 42)
        #expect(limit == 4096)
        guard case .found(let h2, let p2, let l2) = router().match(method: .PUT, path: "/notifications/9/read") else {
            Issue.record("no match"); return
        }
        #expect(h2 == "read")
        #expect(p2["id"] == "9")
        #expect(l2 == 0)
        #expect(handler(router().match(method: .PUT, path: "/notifications/9/read-all")) == "readAll")
    }

    @Test func staticSegmentsWinOverParameters() {
        #expect(handler(router().match(method: .GET, path: "/notifications/stats")) == "stats")
        // ...but a parameter still matches when the static branch has no route for the rest.
        #expect(handler(router().match(method: .PUT, path: "/notifications/stats/read")) == "read")
    }

    @Test func notFoundVersusMethodNotAllowed() {
        let r = router()
        guard case .notFound = r.match(method: .GET, path: "/nope") else { Issue.record("expected 404"); return }
        guard case .notFound = r.match(method: .GET, path: "/notifications/1/read/extra") else { Issue.record("expected 404"); return }
        guard case .methodNotAllowed(let allowed) = r.match(method: .DELETE, path: "/stories") else {
            Issue.record("expected 405"); return
        }
        #expect(allowed == [.GET, .POST])
        #expect(RouteMatch<String>.allowHeader(allowed) == "GET, POST")
        guard case .methodNotAllowed(let a2) = r.match(method: .POST, path: "/notifications/stats") else {
            Issue.record("expected 405"); return
        }
        #expect(a2 == [.GET])
    }

    @Test func rootTrailingSlashAndEmptySegments() {
        let r = router()
        #expect(handler(r.match(method: .GET, path: "/")) == "root")
        #expect(handler(r.match(method: .GET, path: "/healthz/")) == "health")
        guard case .notFound = r.match(method: .GET, path: "/notifications/") else { Issue.record("empty param matched"); return }
    }

    @Test func segmentsArePercentDecoded() {
        let r = router()
        guard case .found(_, let p, _) = r.match(method: .GET, path: "/files/a%2Fb%20c+d%C3%A9") else {
            Issue.record("no match"); return
        }
        #expect(p["name"] == "a/b c+dé")
        #expect(handler(r.match(method: .GET, path: "/heal%74hz")) == "health")
        guard case .invalidPath = r.match(method: .GET, path: "/files/%zz") else { Issue.record("bad escape accepted"); return }
        guard case .invalidPath = r.match(method: .GET, path: "/files/%C3") else { Issue.record("bad UTF-8 accepted"); return }
        guard case .invalidPath = r.match(method: .GET, path: "/files/%") else { Issue.record("truncated escape accepted"); return }
    }

    @Test func bodyLimitPerRoute() {
        guard case .found(_, _, let limit) = router().match(method: .POST, path: "/stories") else { Issue.record("no match"); return }
        #expect(limit == 10 << 20)
    }

    @Test func queryParameters() {
        let q = QueryParameters("unread=true&limit=50&before=123&name=a+b%20c%26d&flag&empty=&bad=%zz%4&x=%E2%82%AC")
        #expect(q["unread"] == "true")
        #expect(q.bool("unread") == true)
        #expect(q.int("limit") == 50)
        #expect(q["name"] == "a b c&d")
        #expect(q["flag"] == "")
        #expect(q["empty"] == "")
        #expect(q["bad"] == "%zz%4")
        #expect(q["x"] == "€")
        #expect(q["missing"] == nil)
        #expect(QueryParameters(nil).pairs.isEmpty)
        #expect(QueryParameters("a=1&a=2").values("a") == ["1", "2"])
        #expect(QueryParameters("k%3D=v%3D")["k="] == "v=")
    }
}
