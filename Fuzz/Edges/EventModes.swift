// Modes 7-8: the event contract's decoder (Events) and the broker URL parser (AMQP).
import Events

/// Mode 7: Event.decode on any body. An accepted event holds the contract's limits and
/// survives encode/decode unchanged.
func fuzzEvent(_ input: [UInt8]) {
    let event: Event
    do {
        event = try Event.decode(input)
    } catch {
        if input.count > Event.maxBodyBytes {
            check(error == .tooLarge(bytes: input.count, limit: Event.maxBodyBytes), "oversized body not refused as tooLarge")
        }
        return
    }
    check(input.count <= Event.maxBodyBytes, "accepted a body over the limit")
    check(EventID.isValid(event.id), "accepted a bad id")
    check(!event.actor.username.isEmpty && event.actor.username.utf8.count <= Event.maxUsernameBytes, "actor.username limits")
    check((event.data.username?.utf8.count ?? 0) <= Event.maxUsernameBytes, "data.username limit")
    check((event.data.excerpt?.utf8.count ?? 0) <= Event.maxExcerptBytes, "excerpt limit")
    check((event.data.caption?.utf8.count ?? 0) <= Event.maxCaptionBytes, "caption limit")
    check((event.data.changed?.count ?? 0) <= Event.maxChangedFields, "changed limit")
    for field in event.type.requiredDataFields { check(event.data.has(field), "a required data field is missing") }
    if event.type.requiresRecipient { check(event.recipientId != nil, "a recipient is missing") }
    let again: Event
    do {
        again = try Event.decode(event.encode())
    } catch {
        fatalError("invariant: an accepted event does not decode after encode: \(error)")
    }
    check(again == event, "encode/decode changed the event")
}

/// Mode 8: AMQPEndpoint(url:). Raw input; then a URL built from input parts with the
/// password percent-encoded: the password is read back exactly, and an error message never
/// holds it.
func fuzzAMQPEndpoint(_ input: [UInt8]) {
    let raw = text(input)
    if let endpoint = try? AMQPEndpoint(url: raw) {
        check(!endpoint.host.isEmpty && (1...65535).contains(endpoint.port), "accepted an empty host or bad port")
        check(!endpoint.vhost.isEmpty, "empty vhost")
        if !endpoint.host.contains("]") {
            let host = endpoint.host.contains(":") ? "[\(endpoint.host)]" : endpoint.host
            let again = "amqp://\(pct(endpoint.user)):\(pct(endpoint.password))@\(host):\(endpoint.port)/\(pct(endpoint.vhost))"
            check((try? AMQPEndpoint(url: again)) == endpoint, "endpoint does not survive re-encoding")
        }
    }
    let (userAndHost, password) = split2(input)
    let (user, host) = split2(userAndHost, UInt8(ascii: "@"))
    let secret = "S3cr3t" + text(password)
    // The host part without '@' (the last '@' ends the user info, as in every URL parser).
    let url = "amqp://" + pct(text(user)) + ":" + pct(secret) + "@" + text(host.filter { $0 != UInt8(ascii: "@") })
    do {
        let endpoint = try AMQPEndpoint(url: url)
        check(endpoint.password == secret, "password not read back exactly")
    } catch {
        check(!error.description.contains(pct(secret)), "an AMQP URL error repeated the password")
    }
}

/// Every byte percent-encoded except unreserved ASCII.
func pct(_ s: String) -> String {
    var out = ""
    for byte in s.utf8 {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            out.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex = Array("0123456789ABCDEF".unicodeScalars)
            out.unicodeScalars.append("%")
            out.unicodeScalars.append(hex[Int(byte >> 4)])
            out.unicodeScalars.append(hex[Int(byte & 15)])
        }
    }
    return out
}
