// A request body's JSON object and typed getters that throw 400 naming the field. Pure (no
// request, no socket): handlers build it with JSONBody(request); Fuzz/Edges feeds it bytes.
import HTTP1
import Web

/// A JSON object body, with typed getters that throw 400 naming the field. Every string a
/// getter returns is free of NUL characters (PostgreSQL refuses U+0000 in text, so one that
/// got through would be a 500); invalid UTF-8 never gets this far (the parser refuses it).
public struct JSONBody: Sendable {
    public let object: [String: JSONValue]

    public init(object: [String: JSONValue]) {
        self.object = object
    }

    /// Parses `bytes` (a request body) as one JSON object under the default JSON limits:
    /// 400 when it is empty, not valid JSON or not an object.
    public init(json bytes: [UInt8]) throws(HTTPError) {
        if bytes.isEmpty { throw HTTPError.badRequest("request body must be JSON") }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes, limits: JSONParseLimits())
        } catch {
            throw HTTPError.badRequest("invalid JSON: \(error.description)")
        }
        guard case .object(let object) = value else {
            throw HTTPError.badRequest("request body must be a JSON object")
        }
        self.object = object
    }

    public func has(_ name: String) -> Bool { object[name] != nil && object[name] != .null }

    /// A required string, trimmed of surrounding spaces, with a length bound in characters.
    public func string(_ name: String, maxLength: Int = 1000) throws(HTTPError) -> String {
        guard let value = try optionalString(name, maxLength: maxLength) else {
            throw HTTPError.badRequest("\(name) is required")
        }
        return value
    }

    public func optionalString(_ name: String, maxLength: Int = 1000) throws(HTTPError) -> String? {
        guard let raw = object[name], raw != .null else { return nil }
        guard case .string(let value) = raw else { throw HTTPError.badRequest("\(name) must be a string") }
        try TextField.check(value, name: name)
        let trimmed = value.trimmingCharacters(in: " ")
        guard trimmed.count <= maxLength else { throw HTTPError.badRequest("\(name) is longer than \(maxLength) characters") }
        return trimmed
    }

    public func int(_ name: String) throws(HTTPError) -> Int64 {
        guard let value = try optionalInt(name) else { throw HTTPError.badRequest("\(name) is required") }
        return value
    }

    public func optionalInt(_ name: String) throws(HTTPError) -> Int64? {
        guard let raw = object[name], raw != .null else { return nil }
        guard case .int(let value) = raw else { throw HTTPError.badRequest("\(name) must be an integer") }
        return value
    }

    public func optionalStringArray(_ name: String, maxCount: Int, maxLength: Int) throws(HTTPError) -> [String]? {
        guard let raw = object[name], raw != .null else { return nil }
        guard case .array(let items) = raw, items.count <= maxCount else {
            throw HTTPError.badRequest("\(name) must be an array of at most \(maxCount) strings")
        }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item, !s.isEmpty, s.count <= maxLength else {
                throw HTTPError.badRequest("\(name) entries must be strings of 1-\(maxLength) characters")
            }
            try TextField.check(s, name: name)
            out.append(s)
        }
        return out
    }
}
