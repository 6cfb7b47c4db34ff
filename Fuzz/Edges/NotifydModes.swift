// Modes 9-10: what notifyd parses from its clients beyond HTTP1 (already fuzzed): the
// session's client messages, and the upgrade's query (userId, since) with the token choice.
import HTTP1
import Tokens

/// Mode 9: a client text message under the 4 KiB limit (and a tiny one).
func fuzzClientMessage(_ input: [UInt8]) {
    for maxBytes in [4096, 16] {
        let result = input.withUnsafeBytes { ClientMessage.parse($0, maxBytes: maxBytes) }
        switch result {
        case .success(.ack(let ids)), .success(.read(let ids)):
            check(input.count <= maxBytes, "accepted a message over the limit")
            check(ids.count <= ClientMessage.maxIds && ids.allSatisfy { $0 > 0 }, "ids out of bounds")
        case .failure(let invalid):
            check(["message_too_large", "invalid_json", "unknown_type", "bad_ids"].contains(invalid.name), "unknown error name")
            if input.count > maxBytes { check(invalid.name == "message_too_large", "oversized message not refused as such") }
        }
    }
}

/// Mode 10: the upgrade request `GET /ws?<query>` with the input as the query (up to the
/// first 0 byte; "$T" there becomes a valid token) and, after it, a selector for how a
/// token for user 7 is presented. An accepted upgrade is for exactly the user the query
/// names, which is the token's sub.
func fuzzSessionAuth(_ input: [UInt8]) {
    let (queryBytes, rest) = split2(input)
    let token = JWT.sign(claims: JWTClaims(sub: "7", iat: fuzzNow, exp: fuzzNow + 60), keys: fuzzKeys)
    // "$T" in the query stands for the token (so access_token= can carry a valid one).
    let query = text(queryBytes.filter { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "#") }).replacing("$T", with: token)
    var head = "GET /ws?\(query) HTTP/1.1\r\nHost: x\r\n"
    switch rest.first.map({ $0 % 4 }) ?? 0 {
    case 0: head += "Authorization: Bearer \(token)\r\n"
    case 1: head += "Sec-WebSocket-Protocol: chat, bearer.\(token)\r\n"
    case 2: break  // only what the query carries (access_token=, refused as token_in_url)
    default: head += "Authorization: \(text(rest.dropFirst().filter { $0 >= 0x20 && $0 < 0x7F }))\r\n"
    }
    head += "\r\n"
    var parser = HTTPRequestParser()
    let bytes = Array(head.utf8)
    let step = bytes.withUnsafeBytes { parser.feed($0) }
    guard case .head(let request) = step.event else { return }
    let auth = SessionAuthenticator(keys: fuzzKeys, leeway: 0)
    switch auth.authorizeUpgrade(request, now: fuzzNow) {
    case .success(let grant):
        check(!query.contains(token), "accepted an upgrade whose URL carries a token")
        check(!SessionAuthenticator.queryCarriesToken(request.query), "accepted an upgrade whose URL carries a token")
        let parameters = QueryParameters(request.query)
        check(parameters["userId"].flatMap { SessionAuthenticator.parseId($0) } == grant.userId, "grant for another userId")
        check(grant.userId == 7, "grant for a user the token does not name")
        if let since = grant.since { check(since >= 0, "negative since") }
        if let raw = parameters["since"] { check(SessionAuthenticator.parseId(raw, allowZero: true) == grant.since, "since differs") }
        if let presented = grant.subprotocol { check(presented.hasPrefix("bearer."), "selected a subprotocol that is not bearer.") }
    case .failure(let rejection):
        check([400, 401, 403].contains(rejection.status.code), "unexpected rejection status")
    }
}
