// The pure body validators and event texts (also fuzzed by Fuzz/Edges, modes 11-12): no
// database, no server.
import Events
import HTTP1
import Testing
import Web
@testable import ServiceKit

@Suite struct FieldTests {
    /// Found while writing the fuzz property "an excerpt fits the event": excerpt() counted
    /// characters only, so 280 emoji (1120 bytes) made a post.commented event that
    /// Event.decode refuses (excerpt over 1024 bytes): notifyd dead-lettered it and the
    /// post's owner never got the COMMENT notification.
    @Test func commentExcerptFitsTheEventContract() throws {
        for text in [String(repeating: "😀", count: 280), String(repeating: "👨‍👩‍👧‍👦", count: 100),
                     "e" + String(repeating: "\u{301}", count: 2000), String(repeating: "a", count: 2000)] {
            let cut = excerpt(text)
            #expect(cut.utf8.count <= Event.maxExcerptBytes)
            #expect(cut.count <= 280)
            #expect(cut.hasSuffix("…"))
            let event = Event.make(.postCommented, actor: EventActor(id: 1, username: "alice"), recipientId: 2,
                                   data: EventData(postId: 3, commentId: 4, postOwnerId: 2, excerpt: cut))
            #expect(try Event.decode(event.encode()).data.excerpt == cut)
        }
        #expect(excerpt("short") == "short")
        #expect(excerpt(String(repeating: "b", count: 280)) == String(repeating: "b", count: 280))
    }

    @Test func registrationAndLoginBodies() throws {
        let ok = try RegistrationFields(JSONBody(json: Array(#"{"username":"bob_1","email":"Bob@Example.com","password":"12345678","age":20}"#.utf8)))
        #expect(ok.username == "bob_1" && ok.email == "bob@example.com" && ok.profile.age == 20)
        for body in [#"{"username":"b","email":"b@x.y","password":"12345678"}"#,
                     #"{"username":"bob","email":"nope","password":"12345678"}"#,
                     #"{"username":"bob","email":"b@x.y","password":"short"}"#,
                     #"{"username":"bob","email":"b@x.y","password":"12345678","age":7}"#,
                     #"{"username":"bob@","email":"b@x.y","password":"12345678"}"#, "[1]", "", "{"] {
            #expect(throws: HTTPError.self, "\(body)") { try RegistrationFields(JSONBody(json: Array(body.utf8))) }
        }
        #expect(throws: HTTPError.self) { try LoginFields(JSONBody(json: Array(#"{"email":"a@b.c"}"#.utf8))) }
    }

    @Test func storyTagsAreSafeArrayLiterals() throws {
        let s = try StoryFields(JSONBody(json: Array(##"{"caption":"hi @bob","tags":["#Sun","sun","a_b"]}"##.utf8)))
        #expect(s.tags == ["sun", "a_b"])
        #expect(StoryFields.arrayLiteral(s.tags ?? []) == "{sun,a_b}")
        #expect(throws: HTTPError.self) { try StoryFields(JSONBody(json: Array(#"{"tags":["a,b"]}"#.utf8))) }
        #expect(throws: HTTPError.self) { try StoryFields(JSONBody(json: Array(#"{"tags":["\"}"]}"#.utf8))) }
        #expect(eventCaption(String(repeating: "😀", count: 2000)).utf8.count <= Event.maxCaptionBytes)
    }

    @Test func mentions() {
        #expect(Mentions.usernames(in: "hello @bob, @Bob and @alice_1 a@b @@x") == ["bob", "alice_1"])
        #expect(Mentions.usernames(in: "@" + String(repeating: "a", count: 31)).isEmpty)
    }
}
