// Percent-decoding of path segments and query strings (RFC 3986, and the form encoding's
// `+` for space in queries).

public enum PercentDecoding {
    /// Decodes `%XX` escapes in a path segment. Returns nil for a malformed escape or when
    /// the decoded bytes are not valid UTF-8 (the router answers 400 then). `+` stays `+`.
    public static func decodePathSegment<S: StringProtocol>(_ segment: S) -> String? {
        decode(segment, plusIsSpace: false, strict: true)
    }

    /// Decodes a query component: `+` is a space and `%XX` escapes are decoded. A malformed
    /// escape is kept literally and invalid UTF-8 becomes U+FFFD, as browsers do: query
    /// values are data, not routing decisions.
    public static func decodeQueryComponent<S: StringProtocol>(_ component: S) -> String {
        decode(component, plusIsSpace: true, strict: false) ?? String(component)
    }

    /// Decodes a query component like `decodeQueryComponent`, but returns nil when the
    /// decoded bytes are not valid UTF-8 (a malformed escape is still kept literally), so a
    /// caller can refuse the text instead of storing U+FFFD.
    public static func decodeQueryComponentStrictly<S: StringProtocol>(_ component: S) -> String? {
        guard let bytes = decodeBytes(component, plusIsSpace: true, strict: false) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    static func decode<S: StringProtocol>(_ s: S, plusIsSpace: Bool, strict: Bool) -> String? {
        let u = s.utf8
        if !u.contains(ASCII.percent), !(plusIsSpace && u.contains(ASCII.plus)) { return String(s) }
        guard let out = decodeBytes(s, plusIsSpace: plusIsSpace, strict: strict) else { return nil }
        if strict {
            return String(validating: out, as: UTF8.self)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The decoded bytes; nil for a malformed escape when `strict`, else the escape is kept.
    static func decodeBytes<S: StringProtocol>(_ s: S, plusIsSpace: Bool, strict: Bool) -> [UInt8]? {
        let u = s.utf8
        var out: [UInt8] = []
        out.reserveCapacity(u.count)
        var it = u.makeIterator()
        var lookahead: [UInt8] = []
        while let b = lookahead.isEmpty ? it.next() : lookahead.removeFirst() {
            if b == ASCII.plus, plusIsSpace {
                out.append(ASCII.sp)
            } else if b == ASCII.percent {
                let h1 = it.next(), h2 = h1 == nil ? nil : it.next()
                if let h1, let h2, let v1 = ASCII.hexValue(h1), let v2 = ASCII.hexValue(h2) {
                    out.append(v1 << 4 | v2)
                } else {
                    if strict { return nil }
                    out.append(b)
                    lookahead = [h1, h2].compactMap { $0 }
                }
            } else {
                out.append(b)
            }
        }
        return out
    }
}

/// Query string parameters in order: `a=1&b=x+y&flag` gives (a,1) (b,"x y") (flag,"").
public struct QueryParameters: Sendable, Equatable, Sequence {
    public private(set) var pairs: [(name: String, value: String)]

    public init(_ query: String?) {
        pairs = []
        guard let query, !query.isEmpty else { return }
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            if let eq = part.firstIndex(of: "=") {
                pairs.append((PercentDecoding.decodeQueryComponent(part[..<eq]),
                              PercentDecoding.decodeQueryComponent(part[part.index(after: eq)...])))
            } else {
                pairs.append((PercentDecoding.decodeQueryComponent(part), ""))
            }
        }
    }

    public static func == (a: QueryParameters, b: QueryParameters) -> Bool {
        a.pairs.count == b.pairs.count && zip(a.pairs, b.pairs).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { pairs.makeIterator() }

    /// The first value of `name` (case-sensitive), or nil.
    public subscript(name: String) -> String? {
        for p in pairs where p.name == name { return p.value }
        return nil
    }

    public func values(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }

    public func int(_ name: String) -> Int? { self[name].flatMap { Int($0) } }

    /// `true`/`1` and `false`/`0`; nil for anything else or when absent.
    public func bool(_ name: String) -> Bool? {
        switch self[name] {
        case "true", "1": return true
        case "false", "0": return false
        default: return nil
        }
    }
}
