// story-service over real HTTP: CRUD with owner checks, full-text search, images.
import Testing
import ServiceKit

extension ServicesTests {
    @Suite struct Story {
        @Test func crudSearchAndImages() throws {
            let s = try RunningService(StoryService(), name: "story")
            defer { s.stop() }
            let author: Int64 = 5, other: Int64 = 6
            let created = try s.request("POST", "/stories", token: token(author),
                                        json: ##"{"caption":"Golden sunset over the harbour","category":"Travel","tags":["#Sunset","sea"]}"##)
            #expect(created.status == 201)
            let id = try #require(created.json["id"]?.intValue)
            #expect(created.json["tags"]?.arrayValue?.compactMap(\.stringValue) == ["sunset", "sea"])
            let second = try s.request("POST", "/stories", token: token(other), json: #"{"caption":"Street food tour","category":"food","tags":["tacos"]}"#)
            #expect(second.status == 201)
            #expect(try s.request("POST", "/stories", json: #"{"caption":"x"}"#).status == 401)
            #expect(try s.request("POST", "/stories", token: token(author), json: #"{"tags":["no spaces allowed"]}"#).status == 400)

            #expect(try s.request("GET", "/stories/\(id)").json["caption"]?.stringValue == "Golden sunset over the harbour")
            #expect(try s.request("GET", "/stories/999999").status == 404)
            #expect(try s.request("GET", "/stories/user/\(author)").json["stories"]?.arrayValue?.count == 1)
            #expect(try s.request("GET", "/stories?limit=1").json["stories"]?.arrayValue?.count == 1)
            #expect(try s.request("GET", "/stories?limit=1000").status == 400)

            // Full-text search over caption and tags, with the category filter.
            func searchIds(_ query: String) throws -> [Int] {
                try s.request("GET", "/stories/search?\(query)").json["stories"]?.arrayValue?.compactMap { $0["id"]?.intValue } ?? []
            }
            #expect(try searchIds("query=harbour") == [id])
            #expect(try searchIds("query=sea") == [id])              // a tag
            #expect(try searchIds("query=tacos&category=food").count == 1)
            #expect(try searchIds("query=tacos&category=travel").isEmpty)
            #expect(try searchIds("category=travel") == [id])
            #expect(try s.request("GET", "/stories/search").status == 400)

            // Owner-only edits.
            #expect(try s.request("PUT", "/stories/\(id)", token: token(other), json: #"{"caption":"mine now"}"#).status == 403)
            let edited = try s.request("PUT", "/stories/\(id)", token: token(author), json: #"{"caption":"Blue hour at the harbour","tags":["bluehour"]}"#)
            #expect(edited.status == 200)
            #expect(try searchIds("query=bluehour") == [id])
            #expect(try searchIds("query=sunset").isEmpty)

            // Images: magic bytes decide, the Content-Type must agree, the size is bounded.
            let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 7, count: 100)
            let gif = Array("GIF89a-not-allowed".utf8)
            #expect(try s.request("POST", "/stories/\(id)/image", token: token(author), headers: [("Content-Type", "image/png")], body: gif).status == 415)
            #expect(try s.request("POST", "/stories/\(id)/image", token: token(author), headers: [("Content-Type", "image/jpeg")], body: png).status == 415)
            #expect(try s.request("POST", "/stories/\(id)/image", token: token(other), headers: [("Content-Type", "image/png")], body: png).status == 403)
            #expect(try s.request("POST", "/stories/\(id)/image", token: token(author), headers: [("Content-Type", "image/png")], body: png).status == 201)
            let image = try s.request("GET", "/stories/\(id)/image")
            #expect(image.status == 200)
            #expect(image.header("Content-Type") == "image/png")
            #expect(image.body == png)
            let big = [UInt8](repeating: 0xFF, count: ImageStore.maxBytes + 1)
            #expect(try s.request("POST", "/stories/\(id)/image", token: token(author), headers: [("Content-Type", "image/jpeg")], body: big).status == 413)

            // Delete: the owner only; the image goes with the post.
            #expect(try s.request("DELETE", "/stories/\(id)", token: token(other)).status == 403)
            #expect(try s.request("DELETE", "/stories/\(id)", token: token(author)).status == 204)
            #expect(try s.request("GET", "/stories/\(id)").status == 404)
            #expect(try s.request("GET", "/stories/\(id)/image").status == 404)
            let events = try s.database.query("SELECT routing_key FROM outbox ORDER BY id").map { try $0.string(0) }
            #expect(events == ["post.created", "post.created", "post.updated", "post.deleted"])
        }

        @Test func mentionsAreParsedFromText() {
            #expect(Mentions.usernames(in: "hi @alice and @Bob_2, mail me at x@y.z @alice") == ["alice", "Bob_2"])
            #expect(Mentions.usernames(in: "@@nobody @") == [])
        }
    }
}
