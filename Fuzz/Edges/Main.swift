// libFuzzer entry for the parsers at the product's edges that have no fuzzer of their own,
// built by scripts/test.d/fuzz-edges.sh from the modules' sources (HTTP1, Tokens and Events
// as separate modules, the rest compiled into this one). The first byte picks a mode, the
// rest is the input; FUZZ_EDGES_MODES (e.g. "0,1,2") restricts the modes, to measure one
// family at a time. An invariant violation traps, which libFuzzer reports as a crash.
//   Tokens (TokensModes.swift)      0 JWT.verify raw   1 JWT.verify, signed fuzz header/payload
//                                   2 JWT.redact       3 Base64URL   4 Password (scrypt string)
//                                   5 JWTKeySet.parse(list:)   6 FlatJSON
//   Events, AMQP (EventModes.swift) 7 Event.decode     8 AMQPEndpoint(url:)
//   notifyd (NotifydModes.swift)    9 ClientMessage.parse   10 SessionAuthenticator (query, token)
//   ServiceKit (ServiceKitModes.swift) 11 register/login/profile/story/comment bodies
//                                   12 Mentions.usernames   13 ImageStore.sniff
#if canImport(Glibc)
import Glibc
#endif

let modeCount = 15

/// The modes this process runs (all unless FUZZ_EDGES_MODES says otherwise). Read once.
let enabledModes: [Int] = {
    guard let raw = getenv("FUZZ_EDGES_MODES") else { return Array(0..<modeCount) }
    let picked = String(cString: raw).split(separator: ",").compactMap { Int($0) }.filter { (0..<modeCount).contains($0) }
    return picked.isEmpty ? Array(0..<modeCount) : picked
}()

func check(_ condition: Bool, _ message: StaticString) {
    if !condition { fatalError("invariant: \(message)") }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    let mode = enabledModes[Int(data[0]) % enabledModes.count]
    let input = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    switch mode {
    case 0: fuzzJWTRaw(input)
    case 1: fuzzJWTSigned(input)
    case 2: fuzzRedact(input)
    case 3: fuzzBase64URL(input)
    case 4: fuzzPassword(input)
    case 5: fuzzKeyList(input)
    case 6: fuzzFlatJSON(input)
    case 7: fuzzEvent(input)
    case 8: fuzzAMQPEndpoint(input)
    case 9: fuzzClientMessage(input)
    case 10: fuzzSessionAuth(input)
    case 11: fuzzBodies(input)
    case 12: fuzzMentions(input)
    case 13: fuzzSniff(input)
    default: fuzzQuery(input)
    }
    return 0
}

/// Splits `input` at the first `separator` byte (the second part empty when there is none).
func split2(_ input: [UInt8], _ separator: UInt8 = 0) -> ([UInt8], [UInt8]) {
    guard let i = input.firstIndex(of: separator) else { return (input, []) }
    return (Array(input[..<i]), Array(input[(i + 1)...]))
}

/// A string from arbitrary bytes (invalid UTF-8 repaired, as every String from the wire is).
func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
