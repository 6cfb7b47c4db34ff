// The JSON parser: values, strictness, and limits on depth, size and encoding.
import Testing
import HTTP1

@Suite struct JSONParsing {
    @Test func parsesValues() throws {
        let v = try JSONParser.parse(#" {"type":"read","ids":[1,2,3],"x":-1.5e2,"n":null,"t":true,"s":"a\u00e9\ud83d\ude00"} "#)
        #expect(v["type"]?.stringValue == "read")
        #expect(v["ids"]?.arrayValue?.compactMap(\.intValue) == [1, 2, 3])
        #expect(v["x"] == .double(-150))
        #expect(v["n"]?.isNull == true)
        #expect(v["t"]?.boolValue == true)
        #expect(v["s"]?.stringValue == "aé😀")
        #expect(try JSONParser.parse("9223372036854775807") == .int(Int64.max))
        #expect(try JSONParser.parse("9223372036854775808") == .double(9223372036854775808))
        #expect(try JSONParser.parse("\"\"") == .string(""))
    }

    @Test func roundTripsThroughTheWriter() throws {
        let v = try JSONParser.parse(#"{"b":[1,{"c":"d\n"}],"a":0.25}"#)
        #expect(String(decoding: v.jsonBytes, as: UTF8.self) == #"{"a":0.25,"b":[1,{"c":"d\n"}]}"#)
        #expect(try JSONParser.parse(v.jsonBytes) == v)
    }

    @Test func depthLimit() throws {
        let ok = String(repeating: "[", count: 32) + String(repeating: "]", count: 32)
        #expect(throws: Never.self) { try JSONParser.parse(ok) }
        let deep = String(repeating: "[", count: 33) + String(repeating: "]", count: 33)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        // A hostile depth fails fast instead of overflowing the stack.
        #expect(throws: JSONParseError.self) { try JSONParser.parse(String(repeating: "{\"a\":", count: 100_000)) }
    }

    @Test func sizeLimit() {
        let body = "\"" + String(repeating: "x", count: 100) + "\""
        #expect(throws: JSONParseError.self) { try JSONParser.parse(body, limits: JSONParseLimits(maxBytes: 50)) }
        #expect(throws: Never.self) { try JSONParser.parse(body, limits: JSONParseLimits(maxBytes: 102)) }
    }

    @Test(arguments: [
        [0x22, 0xC3, 0x28, 0x22],                    // bad continuation
        [0x22, 0xC0, 0xAF, 0x22],                    // overlong "/"
        [0x22, 0xE0, 0x80, 0xAF, 0x22],              // overlong 3-byte
        [0x22, 0xED, 0xA0, 0x80, 0x22],              // UTF-8 encoded surrogate
        [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22],        // above U+10FFFF
        [0x22, 0xFF, 0x22],
        [0x22, 0xE2, 0x82, 0x22],                    // truncated
    ] as [[UInt8]])
    func invalidUTF8IsRejected(input: [UInt8]) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(input) }
    }

    @Test(arguments: [
        "", " ", "{} x", "[1] [2]", "1 2", "{\"a\":1,}", "[1,]", "[,1]", "{\"a\" 1}", "{a:1}",
        "01", "1.", ".5", "-", "+1", "1e", "1e+", "NaN", "Infinity", "1e400", "tru", "nul", "falsey",
        "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"", "\"a\nb\"", "\"\u{1}\"",
        "\"unterminated", "{\"a\":1,\"a\":2}", "[\"\\", "'a'",
    ])
    func invalidDocumentsAreRejected(input: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(input) }
    }

    @Test func errorCarriesOffset() {
        do {
            _ = try JSONParser.parse("[1, 2, x]")
            Issue.record("parsed")
        } catch {
            #expect(error.offset == 7)
            #expect(error.member == nil)
        }
    }

    /// A bad value names its member, as a dotted path, so a 400 can name the field.
    @Test func errorNamesTheMemberWhoseValueFailed() {
        let bad: [UInt8] = Array(#"{"ok":"x","profile":{"bio":"a"#.utf8) + [0xFF] + Array(#""}}"#.utf8)
        do {
            _ = try JSONParser.parse(bad)
            Issue.record("parsed")
        } catch {
            #expect(error.reason == "invalid UTF-8")
            #expect(error.member == "profile.bio")
            #expect(error.description == "invalid UTF-8 in profile.bio at byte 29")
        }
        do {
            _ = try JSONParser.parse(#"{"tags":["a", nope]}"#)
            Issue.record("parsed")
        } catch {
            #expect(error.member == "tags")
        }
    }
}
