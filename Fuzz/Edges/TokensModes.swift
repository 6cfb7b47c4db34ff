// Modes 0-6: the Tokens module (JWT, its flat JSON reader, redaction, Base64URL, the scrypt
// encoded string, the key list).
import CryptoBytes
import HTTP1
@testable import Tokens

let secret1 = Array("fuzz-secret-one-0123456789abcdef!".utf8)
let secret2 = Array("fuzz-secret-two-0123456789abcdef!".utf8)
let fuzzKeys: JWTKeySet = {
    do {
        return try JWTKeySet(current: JWTKey(kid: "k1", secret: secret1), previous: [JWTKey(kid: "k2", secret: secret2)])
    } catch {
        fatalError("fixed key set")
    }
}()
let fuzzNow: Int64 = 1_800_000_000
let fuzzLeeway: Int64 = 5

/// Mode 0: any string as a token. Whatever verify accepts is a token redact must catch.
func fuzzJWTRaw(_ input: [UInt8]) {
    let token = text(input)
    do {
        let claims = try JWT.verify(token, keys: fuzzKeys, now: fuzzNow, leeway: fuzzLeeway)
        check(!claims.sub.isEmpty, "verify accepted an empty sub")
        check(JWT.redact(token) != token, "a token verify accepts was not redacted")
    } catch {
        if token.utf8.count > JWT.maxTokenBytes { check(error == .tooLarge, "oversized token not refused as too_large") }
    }
}

/// Mode 1: header and payload JSON from the input (split at the first 0 byte), signed with k1
/// so the fuzzer gets past the signature into the header and payload checks.
func fuzzJWTSigned(_ input: [UInt8]) {
    let (header, payload) = split2(input)
    var signing = Base64URL.encodeBytes(header)
    signing.append(UInt8(ascii: "."))
    signing.append(contentsOf: Base64URL.encodeBytes(payload))
    let mac = HMACSHA256.mac(key: secret1, data: signing)
    let token = text(signing) + "." + Base64URL.encode(mac)
    let claims: JWTClaims
    do {
        claims = try JWT.verify(token, keys: fuzzKeys, now: fuzzNow, leeway: fuzzLeeway)
    } catch {
        return
    }
    // Accepted: the header must really say HS256 with kid k1 (k2's secret did not sign it).
    guard let h = FlatJSONObject.parse(header), let p = FlatJSONObject.parse(payload) else {
        fatalError("invariant: verify accepted a header or payload FlatJSON refuses")
    }
    check(h["alg"] == .string("HS256"), "verify accepted alg other than HS256")
    check(h["kid"] == .string("k1"), "verify accepted a kid whose key did not sign")
    check(h["crit"] == nil, "verify accepted crit")
    check(p["sub"] == .string(claims.sub) && !claims.sub.isEmpty, "claims.sub differs from the payload")
    check(p["exp"] == .integer(claims.exp), "claims.exp differs from the payload")
    let (limit, overflow) = claims.exp.addingReportingOverflow(fuzzLeeway)
    check(overflow || limit > fuzzNow, "verify accepted an expired token")
    if let nbf = claims.nbf {
        let (start, under) = nbf.subtractingReportingOverflow(fuzzLeeway)
        check(under || start <= fuzzNow, "verify accepted a token before nbf")
    }
    check(JWT.redact(token) != token, "a token verify accepts was not redacted")
    check(!JWT.redact("log line " + token + " end").contains(token), "an accepted token survived redaction")
}

/// Mode 2: redact never crashes, and a token JWT.sign issued, embedded anywhere in the text
/// (glued to any neighbours), never survives it.
func fuzzRedact(_ input: [UInt8]) {
    _ = JWT.redact(text(input))
    let (before, after) = split2(input)
    let sub = String(before.count * 31 + after.count)
    let token = JWT.sign(claims: JWTClaims(sub: sub, iat: fuzzNow, exp: fuzzNow + 3600), keys: fuzzKeys)
    let line = text(before) + token + text(after)
    let out = JWT.redact(line)
    check(out != line, "redact returned a line holding a token unchanged")
    check(!out.contains(token), "a signed token survived redaction")
    let query = text(before) + "access_token=" + token + text(after)
    check(!JWT.redact(query).contains(token), "an access_token= value survived redaction")
}

/// Mode 3: strict decoding means one encoding per byte string, both ways.
func fuzzBase64URL(_ input: [UInt8]) {
    if let decoded = input.withUnsafeBytes({ Base64URL.decode($0) }) {
        check(Base64URL.encodeBytes(decoded) == input, "decode accepted a non-canonical encoding")
    }
    let encoded = Base64URL.encodeBytes(input)
    check(encoded.withUnsafeBytes { Base64URL.decode($0) } == input, "encode/decode round trip")
    check(Base64URL.decode(text(encoded)) == input, "String decode round trip")
}

/// Mode 4: the encoded scrypt string. Whatever parse accepts is within the memory and work
/// bounds; verify runs only where that is cheap; a cheap hash verifies its own password.
func fuzzPassword(_ input: [UInt8]) {
    let raw = text(input)
    checkBounded(raw)
    // Structured: numbers from the input (any size), then salt and hash from the rest.
    guard input.count >= 3 else { return }
    let n = UInt64(1) << UInt64(input[0] % 64)
    let r = UInt64(input[1]) % 40
    let p = UInt64(input[2]) % 20
    let tail = Array(input[3...])
    let salt = Base64URL.encode(tail.prefix(tail.count / 2))
    let hash = Base64URL.encode(tail.suffix(tail.count - tail.count / 2))
    checkBounded("scrypt$\(n)$\(r)$\(p)$\(salt)$\(hash)")
    if input[0] & 0x80 != 0 { checkBounded("scrypt$\(n &* 3)$\(r)$\(p)$\(salt)$\(hash)") }
    // A cheap real hash round trip (N=16..64, r=1, p=1: microseconds).
    if input[0] % 8 == 0 {
        let cheap = ScryptParameters(n: 16 << UInt64(input[1] % 3), r: 1, p: 1)
        let password = text(tail)
        guard let encoded = try? Password.hash(password, parameters: cheap) else { fatalError("invariant: cheap hash failed") }
        check(Password.verify(password, encoded: encoded), "a hash does not verify its password")
        check(!Password.verify(password + "x", encoded: encoded), "a hash verifies another password")
    }
}

private func checkBounded(_ encoded: String) {
    guard let parsed = Password.parse(encoded) else {
        check(!Password.verify("pw", encoded: encoded), "verify accepted an unparsable encoded string")
        return
    }
    let q = parsed.parameters
    check(q.isAcceptable, "parse returned unacceptable parameters")
    check(128 * q.r * q.n <= 256 << 20, "parse accepted a V array over 256 MiB")
    check(q.n * q.r * q.p <= 1 << 21, "parse accepted more than twice the standard work")
    check(q.memoryBytes <= (256 << 20) + (4 << 20), "memory bound (maxmem given to OpenSSL)")
    check(parsed.salt.count <= 64 && (16...64).contains(parsed.hash.count), "salt or hash length out of bounds")
    if q.n * q.r * q.p <= 1 << 10 {
        _ = Password.verify("pw", encoded: encoded)
    }
}

/// Mode 5: the key list. Accepted lists hold valid keys; errors never echo a secret.
func fuzzKeyList(_ input: [UInt8]) {
    let list = text(input)
    let secrets: [String] = list.split(separator: ",").compactMap { entry in
        guard let colon = entry.firstIndex(of: ":") else { return nil }
        return String(entry[entry.index(after: colon)...]).trimmingSpaces()
    }
    do {
        let keys = try JWTKeySet.parse(list: list)
        check(!keys.kids.isEmpty && keys.kids.contains(keys.current.kid), "key set without its current key")
        for kid in keys.kids {
            check(keys.secret(for: kid).map { $0.count >= 32 } == true, "accepted a weak secret")
        }
        // A token signed with the current key verifies against the parsed set.
        let token = JWT.sign(claims: JWTClaims(sub: "1", iat: fuzzNow, exp: fuzzNow + 60), keys: keys)
        check((try? JWT.verify(token, keys: keys, now: fuzzNow)) != nil, "own token refused")
    } catch {
        let message = error.description
        let kids = list
        for secret in secrets where secret.utf8.count >= 8 {
            // The message names kids; a secret equal to part of a kid or of the template text is no leak.
            let template = "entry is not kid:secret has an invalid kid (1-64 printable characters, no spaces) the secret of kid ' is shorter than 32 bytes appears twice holds no key"
            if message.contains(secret), !template.contains(secret) {
                let asKid = kids.split(separator: ",").contains { entry in
                    entry.split(separator: ":", maxSplits: 1).first.map { $0.contains(secret) } ?? false
                }
                check(asKid, "a key list error repeated a secret")
            }
        }
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var s = Substring(self)
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}

/// Mode 6: FlatJSON against HTTP1's JSON parser. Within FlatJSON's depth, both accept the
/// same objects and read the same strings and integers.
func fuzzFlatJSON(_ input: [UInt8]) {
    let flat = FlatJSONObject.parse(input)
    let full: JSONValue?
    var fullError: JSONParseError?
    do { full = try JSONParser.parse(input) } catch { full = nil; fullError = error }
    if flat != nil, full == nil {
        let reason = fullError?.reason ?? ""
        check(reason == "duplicate member name" || reason == "number out of range",
              "FlatJSON accepted what the HTTP1 parser refuses")
    }
    guard case .object(let members)? = full, depth(full ?? .null) <= 10 else { return }
    guard let flat else { fatalError("invariant: FlatJSON refused an object the HTTP1 parser accepts") }
    for (key, value) in members {
        switch (value, flat[key]) {
        case (.string(let a), .string(let b)?): check(a == b, "strings differ")
        case (.int(let a), .integer(let b)?): check(a == b, "integers differ")
        case (.bool(let a), .bool(let b)?): check(a == b, "bools differ")
        case (.null, .null?), (.double, .other?), (.array, .other?), (.object, .other?): break
        default: fatalError("invariant: FlatJSON and HTTP1 read a member differently")
        }
    }
}

private func depth(_ value: JSONValue) -> Int {
    switch value {
    case .array(let items): 1 + (items.map(depth).max() ?? 0)
    case .object(let members): 1 + (members.values.map(depth).max() ?? 0)
    default: 0
    }
}
