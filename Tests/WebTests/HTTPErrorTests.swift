// The services' one error shape: `{"error": "<snake_case code>", "message": "<text>"}`, what
// the short initializer makes of a code or a sentence, headers an error carries (Retry-After),
// and the responder's observer that metrics and refusal logs hang on.
import Testing
import Synchronization
import HTTP1
import Web

extension WebTests {
    @Suite struct ErrorShape {
        func answer(_ error: HTTPError) -> (status: Int, headers: HTTPHeaders, body: [String: JSONValue]) {
            let got = Mutex<(Int, HTTPHeaders, [UInt8])?>(nil)
            let responder = HTTPResponder { status, headers, body in got.withLock { $0 = (status.code, headers, body) } }
            responder.run { throw error }
            let (status, headers, body) = got.withLock { $0 } ?? (0, [:], [])
            guard case .object(let object)? = try? JSONParser.parse(body, limits: JSONParseLimits()) else {
                return (status, headers, [:])
            }
            return (status, headers, object)
        }

        @Test func aCodeStaysTheCodeAndGetsAStandardMessage() {
            let r = answer(HTTPError(.unauthorized, "missing_token"))
            #expect(r.status == 401)
            #expect(r.body["error"] == .string("missing_token"))
            #expect(r.body["message"] == .string("send a token in an Authorization: Bearer header or the bearer.<jwt> subprotocol"))
            #expect(r.headers["Content-Type"] == "application/json")
        }

        @Test func aSentenceBecomesTheMessageUnderTheStatusCode() {
            #expect(answer(.badRequest("caption must be a string")).body == [
                "error": .string("bad_request"), "message": .string("caption must be a string")])
            #expect(answer(.notFound("story not found")).body["error"] == .string("not_found"))
            #expect(answer(.forbidden("only the author can edit a story")).body["error"] == .string("forbidden"))
            #expect(answer(HTTPError(.conflict, "username is taken")).body["error"] == .string("conflict"))
            #expect(answer(HTTPError(.unsupportedMediaType, "the body is not a JPEG")).body["error"]
                    == .string("unsupported_media_type"))
        }

        @Test func explicitErrorsCarryTheirHeaders() {
            let limited = answer(.tooManyRequests("too many likes: retry later", retryAfter: 30))
            #expect(limited.status == 429)
            #expect(limited.headers["Retry-After"] == "30")
            #expect(limited.body["error"] == .string("too_many_requests"))
            let down = answer(.unavailable("database_unavailable", retryAfter: 2))
            #expect(down.status == 503)
            #expect(down.headers["Retry-After"] == "2")
            #expect(down.body["error"] == .string("database_unavailable"))
            #expect(down.body["message"].flatMap(\.stringValue)?.contains("Retry-After") == true)
        }

        @Test func theObserverSeesEachAnswerOnce() {
            let seen = Mutex<[Int]>([])
            let responder = HTTPResponder { _, _, _ in }
            responder.onRespond = { status, _ in seen.withLock { $0.append(status.code) } }
            responder.respond(error: .notFound())
            responder.respond(.ok)
            #expect(seen.withLock { $0 } == [404])
        }

        @Test func isCodeAcceptsOnlySnakeCase() {
            #expect(ErrorBody.isCode("user_deleted"))
            #expect(!ErrorBody.isCode("not found"))
            #expect(!ErrorBody.isCode("Invalid"))
            #expect(!ErrorBody.isCode(""))
            #expect(HTTPStatus.tooManyRequests.errorCode == "too_many_requests")
            #expect(HTTPStatus.payloadTooLarge.errorCode == "content_too_large")
            #expect(HTTPStatus.internalServerError.errorCode == "internal_error")
        }
    }
}
