// The one Authorization: Bearer parser (RFC 6750 §2.1): scheme case-insensitive, one space
// or more, token68 characters only, surrounding whitespace ignored, anything else malformed.
import Testing
import HTTP1

@Suite struct BearerTokenTests {
    static let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3In0.c2lnbmF0dXJl"

    @Test(arguments: [
        ("Bearer \(jwt)", jwt),
        ("bearer \(jwt)", jwt),
        ("BEARER \(jwt)", jwt),
        ("BeArEr \(jwt)", jwt),
        ("Bearer    \(jwt)", jwt),            // one space or more
        ("  Bearer \(jwt) \t", jwt),          // field-value whitespace is not part of it
        ("Bearer abc-._~+/xyz==", "abc-._~+/xyz=="),  // the whole token68 alphabet and padding
    ])
    func acceptsToken68AfterTheScheme(value: String, token: String) {
        #expect(BearerCredentials(authorization: value) == .token(token), "\(value)")
    }

    @Test(arguments: [
        "Bearer",                      // no token
        "Bearer ",                     // empty token
        "Bearer\t\(jwt)",              // the separator is SP
        "Bearer\(jwt)",                // no separator
        "Basic dXNlcjpwYXNz",          // another scheme
        "Bearerx \(jwt)",              // a longer scheme
        "Token \(jwt)",
        "Bearer \(jwt) extra",         // a space inside the token
        "Bearer \"\(jwt)\"",           // quoted
        "Bearer a,b",                  // a list
        "Bearer ab=c",                 // '=' only as trailing padding
        "Bearer =",                    // padding alone
        "Bearer é",                    // non-ASCII
        "",
    ])
    func refusesAnythingElse(value: String) {
        #expect(BearerCredentials(authorization: value) == .malformed, "\(value)")
        #expect(BearerCredentials(authorization: value).token == nil)
    }

    @Test func readsTheAuthorizationHeader() {
        #expect(BearerCredentials(HTTPHeaders()) == .absent)
        #expect(BearerCredentials(["authorization": "Bearer abc"]).token == "abc")
        #expect(BearerCredentials(["Authorization": "Basic abc"]) == .malformed)
    }
}
