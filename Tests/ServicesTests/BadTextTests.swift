// Text PostgreSQL cannot store (U+0000, invalid UTF-8) and over-long fields are a 400 that
// names the field, on every service, never a 500 and never an error-level log line.
import Foundation
import Testing
import HTTP1
import Web
@testable import ServiceKit

extension ServicesTests {
    @Suite struct BadText {
        /// The JSON escape of NUL, as a client sends it.
        static let nul = #"\u0000"#

        func expect400(_ r: Response, naming field: String, _ what: String) {
            #expect(r.status == 400, "\(what): \(r.status) \(r.text)")
            #expect(r.json["error"]?.stringValue == "bad_request", "\(what): \(r.text)")
            #expect(r.json["message"]?.stringValue?.contains(field) == true, "\(what) should name \(field): \(r.text)")
        }

        @Test func storyFieldsAndQueries() throws {
            let log = LogCapture()
            defer { log.remove() }
            let s = try RunningService(StoryService(), name: "story", configure: log.configure)
            defer { s.stop() }
            let t = token(3)
            for field in ["caption", "category", "device"] {
                expect400(try s.request("POST", "/stories", token: t, json: #"{"\#(field)":"a\#(Self.nul)b"}"#),
                          naming: field, "POST /stories \(field)")
            }
            expect400(try s.request("POST", "/stories", token: t, json: #"{"tags":["ok","a\#(Self.nul)"]}"#),
                      naming: "tags", "POST /stories tags")
            let created = try s.request("POST", "/stories", token: t, json: #"{"caption":"fine"}"#)
            #expect(created.status == 201)
            let id = try #require(created.json["id"]?.intValue)
            expect400(try s.request("PUT", "/stories/\(id)", token: t, json: #"{"caption":"\#(Self.nul)"}"#),
                      naming: "caption", "PUT /stories caption")

            // Query parameters: NUL, invalid UTF-8 and over-long values, on every list route.
            expect400(try s.request("GET", "/stories/search?query=%00"), naming: "query", "search NUL")
            expect400(try s.request("GET", "/stories/search?query=a%FFb"), naming: "query", "search bad UTF-8")
            expect400(try s.request("GET", "/stories/search?query=x&category=%00"), naming: "category", "search category")
            expect400(try s.request("GET", "/stories?tag=%C3%28"), naming: "tag", "list tag")
            expect400(try s.request("GET", "/stories?category=" + String(repeating: "c", count: 1001)),
                      naming: "category", "list long category")
            expect400(try s.request("GET", "/stories/search?query=" + String(repeating: "q", count: 201)),
                      naming: "query", "search long query")
            // A NUL in a path parameter is refused before the handler parses it.
            expect400(try s.request("GET", "/stories/1%00"), naming: "id", "path NUL")

            // Fine text still works, and nothing above was logged as an error.
            #expect(try s.request("GET", "/stories/search?query=fine").status == 200)
            let lines = log.lines
            #expect(!lines.contains { $0.contains(" error ") }, "error-level lines: \(lines)")
            #expect(lines.contains { $0.contains("refused GET /stories/search: 400") })
        }

        @Test func authAndSocialFields() throws {
            let auth = try RunningService(AuthService(), name: "auth")
            defer { auth.stop() }
            expect400(try auth.request("POST", "/auth/register",
                                       json: #"{"username":"nul_user","email":"n@example.com","password":"password123","bio":"x\#(Self.nul)"}"#),
                      naming: "bio", "register bio")
            expect400(try auth.request("POST", "/auth/register",
                                       json: #"{"username":"nul_user","email":"n\#(Self.nul)@example.com","password":"password123"}"#),
                      naming: "email", "register email")
            expect400(try auth.request("POST", "/auth/login", json: #"{"email":"a@example.com","password":"pass\#(Self.nul)word"}"#),
                      naming: "password", "login password")
            let registered = try auth.request("POST", "/auth/register",
                                              json: #"{"username":"clean","email":"clean@example.com","password":"password123"}"#)
            #expect(registered.status == 201)
            let id = try #require(registered.json["user"]?["id"]?.intValue)
            for field in ["bio", "gender", "favoriteStyle"] {
                expect400(try auth.request("PUT", "/auth/profile/\(id)", token: token(Int64(id)),
                                           json: #"{"\#(field)":"\#(Self.nul)"}"#),
                          naming: field, "profile \(field)")
            }
            // Invalid UTF-8 in a body is refused by the JSON parser, before any field.
            let raw = Array(#"{"username":"x"#.utf8) + [0xFF, 0xFE] + Array(#"","email":"e@example.com"}"#.utf8)
            let invalid = try auth.request("POST", "/auth/register", headers: [("Content-Type", "application/json")], body: raw)
            #expect(invalid.status == 400)
            #expect(invalid.json["message"]?.stringValue?.contains("invalid UTF-8 in username") == true, "\(invalid.text)")

            let social = try RunningService(try socialService(), name: "social")
            defer { social.stop() }
            expect400(try social.request("POST", "/social/share/1", token: token(2), json: #"{"platform":"x\#(Self.nul)"}"#),
                      naming: "platform", "share platform")
            // A comment's text, checked by its field parser before any post lookup.
            #expect(throws: HTTPError.badRequest("text must not contain NUL characters")) {
                try CommentFields(JSONBody(json: Array(#"{"text":"hi\#(Self.nul)"}"#.utf8)))
            }
            expect400(try social.request("GET", "/social/likes/1?limit=%00"), naming: "limit", "likes limit")
        }

        /// The accessor every field parser uses, without a server (what Fuzz/Edges drives).
        @Test func theAccessorRefusesNul() throws {
            let body = try JSONBody(json: Array(#"{"text":"a\u0000","tags":["\u0000"]}"#.utf8))
            #expect(throws: HTTPError.badRequest("text must not contain NUL characters")) { try body.string("text") }
            #expect(throws: HTTPError.badRequest("tags must not contain NUL characters")) {
                try body.optionalStringArray("tags", maxCount: 5, maxLength: 10)
            }
            #expect(throws: HTTPError.badRequest("q must be valid UTF-8 (percent-encoded)")) { try TextField.checkQuery("q=%FF") }
            #expect(throws: HTTPError.badRequest("q must not contain NUL characters")) { try TextField.checkQuery("a=1&q=x%00") }
            try TextField.checkQuery("q=caf%C3%A9+au+lait&empty&x=%ZZ")
        }
    }
}
