// JWT HS256 (RFC 7519 with the JWS compact form of RFC 7515): the access token format
// auth-service issues and notifyd and the gateway check. Only HS256 is accepted, whatever
// the header says, so alg=none and RS256/HS256 confusion cannot get in. Pure functions,
// safe from any thread.
import CryptoBytes

/// The claims this product uses. Other claims in a token are ignored.
public struct JWTClaims: Sendable, Equatable {
    /// The user id, as a decimal string (`sub` = userId everywhere).
    public var sub: String
    /// "user" or "admin"; "user" when a token has no role claim.
    public var role: String
    /// Issued at, seconds since the epoch; 0 when a token has none.
    public var iat: Int64
    /// Expiry, seconds since the epoch; required.
    public var exp: Int64
    /// Not before, seconds since the epoch; optional.
    public var nbf: Int64?

    public init(sub: String, role: String = "user", iat: Int64, exp: Int64, nbf: Int64? = nil) {
        self.sub = sub
        self.role = role
        self.iat = iat
        self.exp = exp
        self.nbf = nbf
    }

    /// `sub` as a user id, or nil when it is not a decimal Int64.
    public var userId: Int64? { Int64(sub) }
}

/// Why a token was refused. `name` is stable: logs and 401 bodies carry it.
public enum JWTError: Error, Equatable, Sendable {
    case tooLarge
    case malformed
    case unsupportedAlgorithm
    case unknownKid
    case badSignature
    case expired
    case notYetValid
    case missingClaim

    public var name: String {
        switch self {
        case .tooLarge: "too_large"
        case .malformed: "malformed"
        case .unsupportedAlgorithm: "unsupported_alg"
        case .unknownKid: "unknown_kid"
        case .badSignature: "bad_signature"
        case .expired: "expired"
        case .notYetValid: "not_yet_valid"
        case .missingClaim: "missing_claim"
        }
    }
}

public enum JWT {
    /// Tokens longer than this are refused before any parsing.
    public static let maxTokenBytes = 8 * 1024
    /// Seconds of clock skew every verifier tolerates on `exp` and `nbf` by default (notifyd's
    /// INSTAVERSE_JWT_LEEWAY_S overrides it): the issuing auth-service and a verifier on
    /// another host may disagree by a few seconds, which is small beside a token's lifetime.
    public static let defaultLeeway: Int64 = 5

    /// Signs `claims` with `key`: header {"alg":"HS256","typ":"JWT","kid":key.kid}.
    public static func sign(claims: JWTClaims, key: JWTKey) -> String {
        var header: [UInt8] = Array(#"{"alg":"HS256","typ":"JWT","kid":"#.utf8)
        appendJSONString(key.kid, to: &header)
        header.append(UInt8(ascii: "}"))

        var payload: [UInt8] = Array(#"{"sub":"#.utf8)
        appendJSONString(claims.sub, to: &payload)
        payload.append(contentsOf: #","role":"#.utf8)
        appendJSONString(claims.role, to: &payload)
        payload.append(contentsOf: #","iat":"#.utf8)
        payload.append(contentsOf: String(claims.iat).utf8)
        payload.append(contentsOf: #","exp":"#.utf8)
        payload.append(contentsOf: String(claims.exp).utf8)
        if let nbf = claims.nbf {
            payload.append(contentsOf: #","nbf":"#.utf8)
            payload.append(contentsOf: String(nbf).utf8)
        }
        payload.append(UInt8(ascii: "}"))

        var signingInput = Base64URL.encodeBytes(header)
        signingInput.append(UInt8(ascii: "."))
        signingInput.append(contentsOf: Base64URL.encodeBytes(payload))
        let mac = HMACSHA256.mac(key: key.secret, data: signingInput)
        signingInput.append(UInt8(ascii: "."))
        signingInput.append(contentsOf: Base64URL.encodeBytes(mac))
        return String(decoding: signingInput, as: UTF8.self)
    }

    /// Signs with the set's current key.
    public static func sign(claims: JWTClaims, keys: JWTKeySet) -> String {
        sign(claims: claims, key: keys.current)
    }

    /// Verifies `token` and returns its claims, or throws why it is refused.
    ///
    /// Order: size, shape, header (it starts with `{"`; alg must be HS256, kid must be
    /// known, no `crit`), the
    /// signature (compared in constant time), and only then the payload: expired when
    /// `exp + leeway <= now`, not yet valid when `nbf - leeway > now` (seconds).
    public static func verify(_ token: String, keys: JWTKeySet, now: Int64, leeway: Int64 = 0) throws(JWTError) -> JWTClaims {
        let bytes = Array(token.utf8)
        guard bytes.count <= maxTokenBytes else { throw .tooLarge }
        guard let firstDot = bytes.firstIndex(of: UInt8(ascii: ".")),
              let secondDot = bytes[(firstDot + 1)...].firstIndex(of: UInt8(ascii: ".")),
              !bytes[(secondDot + 1)...].contains(UInt8(ascii: "."))
        else { throw .malformed }

        guard let headerJSON = decodeSegment(bytes, 0, firstDot), startsWithObjectMember(headerJSON),
              let header = FlatJSONObject.parse(headerJSON)
        else { throw .malformed }
        guard case .string("HS256")? = header["alg"] else { throw .unsupportedAlgorithm }
        if header["crit"] != nil { throw .malformed }
        guard case .string(let kid)? = header["kid"], let secret = keys.secret(for: kid) else { throw .unknownKid }

        guard let signature = decodeSegment(bytes, secondDot + 1, bytes.count) else { throw .malformed }
        let expected = bytes.withUnsafeBytes { HMACSHA256.mac(key: secret, data: UnsafeRawBufferPointer(rebasing: $0[0..<secondDot])) }
        guard ConstantTime.equals(signature, expected) else { throw .badSignature }

        guard let payloadJSON = decodeSegment(bytes, firstDot + 1, secondDot), startsWithObjectMember(payloadJSON),
              let payload = FlatJSONObject.parse(payloadJSON)
        else { throw .malformed }
        guard case .string(let sub)? = payload["sub"], !sub.isEmpty else { throw .missingClaim }
        guard case .integer(let exp)? = payload["exp"] else { throw .missingClaim }
        var role = "user"
        switch payload["role"] {
        case nil: break
        case .string(let value)?: role = value
        default: throw .malformed
        }
        var iat: Int64 = 0
        switch payload["iat"] {
        case nil: break
        case .integer(let value)?: iat = value
        default: throw .malformed
        }
        var nbf: Int64?
        switch payload["nbf"] {
        case nil: break
        case .integer(let value)?: nbf = value
        default: throw .malformed
        }

        let leeway = max(0, leeway)
        let (expLimit, expOverflow) = exp.addingReportingOverflow(leeway)
        if !expOverflow, expLimit <= now { throw .expired }
        if let nbf {
            let (nbfLimit, nbfOverflow) = nbf.subtractingReportingOverflow(leeway)
            if !nbfOverflow, nbfLimit > now { throw .notYetValid }
        }
        return JWTClaims(sub: sub, role: role, iat: iat, exp: exp, nbf: nbf)
    }

    /// Header and payload must start with `{"` (as every JWS library writes them, and as
    /// `sign` does), so both segments of an accepted token start with "eyJ": the mark
    /// `redact` looks for. JSON would allow leading whitespace; a token using it would verify
    /// yet pass through log redaction untouched (found by Fuzz/Edges, mode 1).
    private static func startsWithObjectMember(_ json: [UInt8]) -> Bool {
        json.count >= 2 && json[0] == UInt8(ascii: "{") && json[1] == UInt8(ascii: "\"")
    }

    private static func decodeSegment(_ bytes: [UInt8], _ start: Int, _ end: Int) -> [UInt8]? {
        guard start < end else { return nil }
        return bytes.withUnsafeBytes { Base64URL.decode(UnsafeRawBufferPointer(rebasing: $0[start..<end])) }
    }
}
