// JWT HS256: round trip, every refusal with its stable name, kid rotation, redaction.
import Testing
import Tokens
import CryptoBytes

private func key(_ kid: String, _ fill: UInt8) throws -> JWTKey {
    try JWTKey(kid: kid, secret: [UInt8](repeating: fill, count: 32))
}

/// Builds a token from raw header and payload JSON, signed with `secret` (or with the
/// given raw signature segment), so tests can forge what a client might send.
private func forge(header: String, payload: String, secret: [UInt8]?, signature: String? = nil) -> String {
    let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
    if let signature { return input + "." + signature }
    guard let secret else { return input + "." }
    return input + "." + Base64URL.encode(HMACSHA256.mac(key: secret, data: Array(input.utf8)))
}

private let now: Int64 = 1_800_000_000

@Suite struct JWTTests {
    @Test func signVerifyRoundTrip() throws {
        let keys = try JWTKeySet(current: key("k1", 1))
        let claims = JWTClaims(sub: "42", role: "admin", iat: now, exp: now + 900, nbf: now - 5)
        let token = JWT.sign(claims: claims, keys: keys)
        #expect(token.split(separator: ".").count == 3)
        #expect(try JWT.verify(token, keys: keys, now: now) == claims)
        #expect(try JWT.verify(token, keys: keys, now: now).userId == 42)
        // The header names the key and the algorithm.
        let header = try #require(Base64URL.decode(String(token.split(separator: ".")[0])))
        #expect(String(decoding: header, as: UTF8.self) == #"{"alg":"HS256","typ":"JWT","kid":"k1"}"#)
    }

    @Test func subWithQuotesIsEscapedAndRoundTrips() throws {
        let keys = try JWTKeySet(current: key("k1", 1))
        let claims = JWTClaims(sub: "a\"b\\c\n\u{1}é", iat: now, exp: now + 60)
        #expect(try JWT.verify(JWT.sign(claims: claims, keys: keys), keys: keys, now: now) == claims)
    }

    @Test func expiryAndNotBefore() throws {
        let keys = try JWTKeySet(current: key("k1", 1))
        let token = JWT.sign(claims: JWTClaims(sub: "1", iat: now, exp: now + 10, nbf: now + 5), keys: keys)
        #expect(throws: JWTError.notYetValid) { try JWT.verify(token, keys: keys, now: now + 4) }
        #expect(try JWT.verify(token, keys: keys, now: now + 5).sub == "1")
        #expect(try JWT.verify(token, keys: keys, now: now + 9).sub == "1")
        #expect(throws: JWTError.expired) { try JWT.verify(token, keys: keys, now: now + 10) }   // exp <= now
        #expect(throws: JWTError.expired) { try JWT.verify(token, keys: keys, now: now + 11) }
        // Leeway widens both edges.
        #expect(try JWT.verify(token, keys: keys, now: now + 12, leeway: 3).sub == "1")
        #expect(try JWT.verify(token, keys: keys, now: now + 3, leeway: 3).sub == "1")
    }

    @Test func algNoneAndOtherAlgorithmsAreRefused() throws {
        let keys = try JWTKeySet(current: key("k1", 1))
        let payload = #"{"sub":"1","exp":\#(now + 60)}"#
        let none = forge(header: #"{"alg":"none","kid":"k1"}"#, payload: payload, secret: nil)
        #expect(throws: JWTError.unsupportedAlgorithm) { try JWT.verify(none, keys: keys, now: now) }
        let noneNoDot = String(none.dropLast())
        #expect(throws: JWTError.malformed) { try JWT.verify(noneNoDot, keys: keys, now: now) }
        for alg in ["RS256", "HS512", "hs256", "ES256"] {
            let token = forge(header: #"{"alg":"\#(alg)","kid":"k1"}"#, payload: payload, secret: keys.current.secret)
            #expect(throws: JWTError.unsupportedAlgorithm) { try JWT.verify(token, keys: keys, now: now) }
        }
        let missingAlg = forge(header: #"{"kid":"k1"}"#, payload: payload, secret: keys.current.secret)
        #expect(throws: JWTError.unsupportedAlgorithm) { try JWT.verify(missingAlg, keys: keys, now: now) }
        let crit = forge(header: #"{"alg":"HS256","kid":"k1","crit":["b64"]}"#, payload: payload, secret: keys.current.secret)
        #expect(throws: JWTError.malformed) { try JWT.verify(crit, keys: keys, now: now) }
    }

    @Test func signatureFromAnotherKeyOrTamperedIsRefused() throws {
        let keys = try JWTKeySet(current: key("k1", 1))
        let attacker = try key("k1", 2)   // same kid, different secret
        let forged = JWT.sign(claims: JWTClaims(sub: "1", iat: now, exp: now + 60), key: attacker)
        #expect(throws: JWTError.badSignature) { try JWT.verify(forged, keys: keys, now: now) }

        let good = JWT.sign(claims: JWTClaims(sub: "1", iat: now, exp: now + 60), keys: keys)
        let parts = good.split(separator: ".").map(String.init)
        // Payload swapped for another user's, signature kept.
        let other = Base64URL.encode(Array(#"{"sub":"2","exp":\#(now + 60)}"#.utf8))
        #expect(throws: JWTError.badSignature) { try JWT.verify(parts[0] + "." + other + "." + parts[2], keys: keys, now: now) }
        // Signature truncated, or with its first or last byte changed.
        var sig = try #require(Base64URL.decode(parts[2]))
        #expect(throws: JWTError.badSignature) {
            try JWT.verify(parts[0] + "." + parts[1] + "." + Base64URL.encode(sig.dropLast()), keys: keys, now: now)
        }
        sig[0] ^= 1
        #expect(throws: JWTError.badSignature) { try JWT.verify(parts[0] + "." + parts[1] + "." + Base64URL.encode(sig), keys: keys, now: now) }
        sig[0] ^= 1
        sig[31] ^= 0x80
        #expect(throws: JWTError.badSignature) { try JWT.verify(parts[0] + "." + parts[1] + "." + Base64URL.encode(sig), keys: keys, now: now) }
    }

    @Test func unknownOrMissingKidIsRefused() throws {
        let keys = try JWTKeySet(current: key("k1", 1))
        let stranger = JWT.sign(claims: JWTClaims(sub: "1", iat: now, exp: now + 60), key: try key("k9", 1))
        #expect(throws: JWTError.unknownKid) { try JWT.verify(stranger, keys: keys, now: now) }
        let noKid = forge(header: #"{"alg":"HS256"}"#, payload: #"{"sub":"1","exp":\#(now + 60)}"#, secret: keys.current.secret)
        #expect(throws: JWTError.unknownKid) { try JWT.verify(noKid, keys: keys, now: now) }
    }

    @Test func kidRotation() throws {
        let old = try key("2026-01", 1)
        let new = try key("2026-02", 2)
        let before = try JWTKeySet(current: old)
        let during = try JWTKeySet(current: new, previous: [old])
        let after = try JWTKeySet(current: new)
        let oldToken = JWT.sign(claims: JWTClaims(sub: "7", iat: now, exp: now + 60), keys: before)
        let newToken = JWT.sign(claims: JWTClaims(sub: "7", iat: now, exp: now + 60), keys: during)
        #expect(try JWT.verify(oldToken, keys: during, now: now).sub == "7")
        #expect(try JWT.verify(newToken, keys: during, now: now).sub == "7")
        #expect(try JWT.verify(newToken, keys: after, now: now).sub == "7")
        #expect(throws: JWTError.unknownKid) { try JWT.verify(oldToken, keys: after, now: now) }
        #expect(throws: JWTError.unknownKid) { try JWT.verify(newToken, keys: before, now: now) }
        #expect(throws: JWTKeyError.duplicateKid("2026-02")) { try JWTKeySet(current: new, previous: [new]) }
        #expect(throws: JWTKeyError.weakSecret(kid: "short")) { try JWTKey(kid: "short", secret: [1, 2, 3]) }
        #expect(throws: JWTKeyError.badKid) { try JWTKey(kid: "has space", secret: [UInt8](repeating: 1, count: 32)) }
    }

    @Test func missingClaimsAreRefused() throws {
        let keys = try JWTKeySet(current: key("k1", 1))
        let header = #"{"alg":"HS256","kid":"k1"}"#
        let cases = [#"{"exp":\#(now + 60)}"#, #"{"sub":"1"}"#, #"{"sub":"","exp":\#(now + 60)}"#,
                     #"{"sub":1,"exp":\#(now + 60)}"#, #"{"sub":"1","exp":"\#(now + 60)"}"#,
                     #"{"sub":"1","exp":\#(now + 60).5}"#]
        for payload in cases {
            let token = forge(header: header, payload: payload, secret: keys.current.secret)
            #expect(throws: JWTError.missingClaim, "\(payload)") { try JWT.verify(token, keys: keys, now: now) }
        }
        // Defaults for optional claims; unknown claims are ignored.
        let extra = forge(header: header, payload: #"{"sub":"5","exp":\#(now + 60),"aud":["a",{"b":[1,2.5e3]}],"x":null}"#,
                          secret: keys.current.secret)
        #expect(try JWT.verify(extra, keys: keys, now: now) == JWTClaims(sub: "5", role: "user", iat: 0, exp: now + 60))
    }

    @Test func malformedTokensAreRefused() throws {
        let keys = try JWTKeySet(current: key("k1", 1))
        let secret = keys.current.secret
        let good = JWT.sign(claims: JWTClaims(sub: "1", iat: now, exp: now + 60), keys: keys)
        let malformed = [
            "", "abc", "a.b", "a.b.c.d", good + ".x", "..",
            good.replacingOccurrences(".", with: "=."),                              // padding is not base64url
            "*" + good,                                                               // bad alphabet
            forge(header: "not json", payload: "{}", secret: secret),
            forge(header: #"{"alg":"HS256","kid":"k1"}"#, payload: "[1]", secret: secret),
            forge(header: #"{"alg":"HS256","kid":"k1"}"#, payload: #"{"sub":"1","sub":"2","exp":9999999999}"#, secret: secret),
            forge(header: #"{"alg":"HS256","kid":"k1"}"#, payload: #"{"sub":"1","exp":9999999999} x"#, secret: secret),
            forge(header: #"{"alg":"HS256","alg":"HS256","kid":"k1"}"#, payload: "{}", secret: secret),
            forge(header: #"{"alg":"HS256","kid":"k1"}"#, payload: #"{"sub":"\ud800","exp":9999999999}"#, secret: secret),
            forge(header: #"{"alg":"HS256","kid":"k1"}"#, payload: #"{"sub":"1","exp":9999999999,"role":5}"#, secret: secret),
            forge(header: #"{"alg":"HS256","kid":"k1"}"#, payload: String(repeating: "[", count: 40), secret: secret),
        ]
        for token in malformed {
            #expect(throws: JWTError.malformed, "\(token)") { try JWT.verify(token, keys: keys, now: now) }
        }
        let huge = forge(header: #"{"alg":"HS256","kid":"k1"}"#,
                         payload: #"{"sub":"1","exp":9999999999,"pad":"\#(String(repeating: "x", count: 8000))"}"#, secret: secret)
        #expect(throws: JWTError.tooLarge) { try JWT.verify(huge, keys: keys, now: now) }
    }

    @Test func errorNamesAreStable() {
        let names = [JWTError.tooLarge, .malformed, .unsupportedAlgorithm, .unknownKid, .badSignature, .expired,
                     .notYetValid, .missingClaim].map(\.name)
        #expect(names == ["too_large", "malformed", "unsupported_alg", "unknown_kid", "bad_signature", "expired",
                          "not_yet_valid", "missing_claim"])
    }

    @Test func redactRemovesTokensFromLogLines() throws {
        let keys = try JWTKeySet(current: key("k1", 1))
        let token = JWT.sign(claims: JWTClaims(sub: "1", iat: now, exp: now + 60), keys: keys)
        #expect(JWT.redact("GET /ws?userId=7&access_token=\(token)&x=1 HTTP/1.1") == "GET /ws?userId=7&access_token=[redacted]&x=1 HTTP/1.1")
        #expect(JWT.redact("GET /ws?access_token=opaque-not-jwt") == "GET /ws?access_token=[redacted]")
        #expect(JWT.redact("Authorization: Bearer \(token)") == "Authorization: Bearer [redacted]")
        #expect(JWT.redact("Sec-WebSocket-Protocol: bearer.\(token), chat") == "Sec-WebSocket-Protocol: bearer.[redacted], chat")
        #expect(JWT.redact(#"{"t":"eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0."}"#) == #"{"t":"[redacted]"}"#)
        #expect(JWT.redact("two \(token) and \(token)") == "two [redacted] and [redacted]")
        // Nothing token-like: unchanged.
        for plain in ["user 42 connected", "eyJ alone", "keyJ.abc.def", "access_token=", "version 1.2.3"] {
            #expect(JWT.redact(plain) == plain)
        }
    }
}

extension String {
    fileprivate func replacingOccurrences(_ target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
