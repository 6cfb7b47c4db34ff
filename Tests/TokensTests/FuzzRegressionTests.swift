// Regressions found by Fuzz/Edges (scripts/test.d/fuzz-edges.sh) and the bounds it checks.
import Testing
@testable import Tokens
import CryptoBytes

private let now: Int64 = 1_800_000_000

private func signed(header: String, payload: String, secret: [UInt8]) -> String {
    let input = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(payload.utf8))
    return input + "." + Base64URL.encode(HMACSHA256.mac(key: secret, data: Array(input.utf8)))
}

@Suite struct FuzzRegressionTests {
    /// Mode 1 found a token with `{ "alg" ...` (JSON whitespace) that verified but that
    /// redact, which looks for "eyJ", left in a log line whole.
    @Test func everyTokenVerifyAcceptsIsRedacted() throws {
        let key = try JWTKey(kid: "k1", secret: [UInt8](repeating: 7, count: 32))
        let keys = try JWTKeySet(current: key)
        let spaced = signed(header: #"{ "alg" : "HS256", "kid" : "k1" }"#, payload: #" {"sub":"1","exp":1900000000}"#,
                            secret: key.secret)
        #expect(JWT.redact(spaced) == spaced)  // no eyJ anywhere: redaction cannot see it...
        #expect(throws: JWTError.malformed) { try JWT.verify(spaced, keys: keys, now: now) }  // ...so verify refuses it
        let spacedPayload = signed(header: #"{"alg":"HS256","kid":"k1"}"#, payload: #"{ "sub":"1","exp":1900000000}"#,
                                   secret: key.secret)
        #expect(throws: JWTError.malformed) { try JWT.verify(spacedPayload, keys: keys, now: now) }
        let normal = JWT.sign(claims: JWTClaims(sub: "1", iat: now, exp: now + 60), keys: keys)
        #expect(try JWT.verify(normal, keys: keys, now: now).sub == "1")
        // Glued to a word, the header is not redacted, but payload and signature are.
        #expect(!JWT.redact("x%20" + normal).contains(normal))
    }

    /// A tampered hash row could ask for N=2^17, r=32, p=16 (512 MiB, ~25 s of work per
    /// verify) under the old 1 GiB-only bound; now work and memory are both bounded.
    @Test func hostileScryptParametersAreRefusedBeforeAnyWork() throws {
        let salt = Base64URL.encode([UInt8](repeating: 1, count: 16))
        let hash = Base64URL.encode([UInt8](repeating: 2, count: 32))
        for (n, r, p) in [(1 << 17, 32, 16), (1 << 20, 8, 1), (1 << 19, 8, 1), (1 << 14, 32, 16), (1 << 18, 8, 2)] {
            let encoded = "scrypt$\(n)$\(r)$\(p)$\(salt)$\(hash)"
            #expect(Password.parse(encoded) == nil, "\(encoded)")
            #expect(!Password.verify("pw", encoded: encoded))
        }
        #expect(Password.parse("scrypt$\(1 << 17)$8$1$\(salt)$\(hash)") != nil)   // the standard cost
        #expect(Password.parse("scrypt$\(1 << 18)$8$1$\(salt)$\(hash)") != nil)   // the configurable maximum
        let longSalt = Base64URL.encode([UInt8](repeating: 1, count: 65))
        #expect(Password.parse("scrypt$1024$8$1$\(longSalt)$\(hash)") == nil)
        #expect(Password.parse("scrypt$1024$8$1$\(salt)$\(hash)" + String(repeating: "0", count: 300)) == nil)
        #expect(throws: PasswordError.badParameters) { try Password.hash("pw", parameters: ScryptParameters(n: 1 << 19, r: 8, p: 1)) }
    }

    /// notifyd and the services now share one parser: same trimming, so a secret with a
    /// trailing space is read the same by both (before, notifyd trimmed it and the services
    /// kept it, so notifyd refused every token the services signed).
    @Test func keyListParsing() throws {
        let a = String(repeating: "a", count: 32), b = String(repeating: "b", count: 40)
        let keys = try JWTKeySet.parse(list: " k1:\(a) , old:\(b) ,, ")
        #expect(keys.current.kid == "k1")
        #expect(keys.secret(for: "k1") == Array(a.utf8))
        #expect(keys.secret(for: "old") == Array(b.utf8))
        #expect(throws: JWTKeyListError.empty) { try JWTKeySet.parse(list: " , ") }
        #expect(throws: JWTKeyListError.notKidSecret(entry: 2)) { try JWTKeySet.parse(list: "k1:\(a),nocolon") }
        #expect(throws: JWTKeyListError.weakSecret(kid: "k1")) { try JWTKeySet.parse(list: "k1:tinysecret") }
        #expect(throws: JWTKeyListError.duplicateKid("k1")) { try JWTKeySet.parse(list: "k1:\(a),k1:\(b)") }
        #expect(throws: JWTKeyListError.badKid(entry: 1)) { try JWTKeySet.parse(list: "k 1:\(a)") }
        do {
            _ = try JWTKeySet.parse(list: "k1:tinysecret")
        } catch {
            #expect(!error.description.contains("tinysecret"))
        }
    }
}
