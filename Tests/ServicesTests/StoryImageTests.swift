// Image files follow the database: a write or delete whose transaction fails leaves the files
// as they were (no new file, the old image intact).
import Foundation
import Testing
import ServiceKit
import TestSupport

extension ServicesTests {
    @Suite struct StoryImage {
        @Test func aFailedDatabaseWriteKeepsTheOldImageAndLeavesNoNewFile() throws {
            let s = try RunningService(StoryService(), name: "story")
            defer { s.stop() }
            let directory = s.host.config.dataDirectory
            defer { try? FileManager.default.removeItem(atPath: directory) }
            func files() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted() }
            let author: Int64 = 5
            let created = try s.request("POST", "/stories", token: token(author), json: #"{"caption":"harbour"}"#)
            let id = try #require(created.json["id"]?.intValue)
            let png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + Array(repeating: 7, count: 100)
            let jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0] + Array(repeating: 9, count: 100)
            #expect(try s.request("POST", "/stories/\(id)/image", token: token(author), headers: [("Content-Type", "image/png")], body: png).status == 201)
            #expect(files().count == 1)

            // The UPDATE naming the new image fails: the old image stays, no new file remains.
            _ = try s.database.query("""
                CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$
                """)
            _ = try s.database.query("CREATE TRIGGER refuse_update BEFORE UPDATE ON posts FOR EACH ROW EXECUTE FUNCTION refuse()")
            #expect(try s.request("POST", "/stories/\(id)/image", token: token(author), headers: [("Content-Type", "image/jpeg")], body: jpeg).status == 500)
            let kept = try s.request("GET", "/stories/\(id)/image")
            #expect(kept.status == 200)
            #expect(kept.header("Content-Type") == "image/png")
            #expect(kept.body == png)
            #expect(files().count == 1, "\(files())")
            _ = try s.database.query("DROP TRIGGER refuse_update ON posts")

            // A replacement that commits removes the previous file.
            #expect(try s.request("POST", "/stories/\(id)/image", token: token(author), headers: [("Content-Type", "image/jpeg")], body: jpeg).status == 201)
            #expect(try s.request("GET", "/stories/\(id)/image").body == jpeg)
            #expect(files().count == 1, "\(files())")

            // A delete whose COMMIT fails (a deferred trigger) keeps the post and its image.
            _ = try s.database.query("""
                CREATE CONSTRAINT TRIGGER refuse_delete AFTER DELETE ON posts DEFERRABLE INITIALLY DEFERRED
                FOR EACH ROW EXECUTE FUNCTION refuse()
                """)
            #expect(try s.request("DELETE", "/stories/\(id)", token: token(author)).status == 500)
            #expect(try s.request("GET", "/stories/\(id)/image").body == jpeg)
            _ = try s.database.query("DROP TRIGGER refuse_delete ON posts")
            #expect(try s.request("DELETE", "/stories/\(id)", token: token(author)).status == 204)
            #expect(files().isEmpty, "\(files())")
        }
    }
}
