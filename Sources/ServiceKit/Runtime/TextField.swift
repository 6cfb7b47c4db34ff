// The one check every text a client sends passes before it can reach PostgreSQL: body
// strings (JSONBody), query parameters and path parameters (Service.route). PostgreSQL
// refuses U+0000 in text and invalid UTF-8 anywhere, which would otherwise surface as a 500;
// here they are a 400 that names the field.
import HTTP1
import Web

public enum TextField {
    /// Longest query or path parameter value, in characters; fields with their own tighter
    /// bound (search `query`, 200) check it themselves.
    public static let maxParameterLength = 1000

    /// Throws 400 naming `name` when `value` holds a NUL character.
    public static func check(_ value: String, name: String) throws(HTTPError) {
        if value.utf8.contains(0) {
            throw HTTPError.badRequest("\(name) must not contain NUL characters")
        }
    }

    /// Checks every query parameter of `rawQuery` (still percent-encoded): valid UTF-8 once
    /// decoded, no NUL, at most `maxParameterLength` characters. The 400 names the parameter.
    public static func checkQuery(_ rawQuery: String?) throws(HTTPError) {
        guard let rawQuery, !rawQuery.isEmpty else { return }
        for part in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            let eq = part.firstIndex(of: "=")
            let rawName = eq.map { part[..<$0] } ?? part[...]
            guard let name = PercentDecoding.decodeQueryComponentStrictly(rawName) else {
                throw HTTPError.badRequest("query parameter names must be valid UTF-8")
            }
            try check(name, name: "a query parameter name")
            guard let eq else { continue }
            guard let value = PercentDecoding.decodeQueryComponentStrictly(part[part.index(after: eq)...]) else {
                throw HTTPError.badRequest("\(name) must be valid UTF-8 (percent-encoded)")
            }
            try check(value, name: name)
            if value.count > maxParameterLength {
                throw HTTPError.badRequest("\(name) is longer than \(maxParameterLength) characters")
            }
        }
    }

    /// Checks the decoded path parameters (the router already refused invalid UTF-8).
    public static func checkParameters(_ parameters: RouteParameters) throws(HTTPError) {
        for (name, value) in zip(parameters.names, parameters.values) {
            try check(value, name: name)
            if value.count > maxParameterLength {
                throw HTTPError.badRequest("\(name) is longer than \(maxParameterLength) characters")
            }
        }
    }
}
