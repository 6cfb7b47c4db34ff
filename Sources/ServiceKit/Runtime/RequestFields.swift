// Reading request bodies and path parameters with one clear 400 per problem.
import HTTP1
import Web

/// A JSON object body, with typed getters that throw 400 naming the field.
public struct JSONBody: Sendable {
    public let object: [String: JSONValue]

    public init(_ request: HTTPRequest) throws(HTTPError) {
        guard case .object(let object) = try request.json() else {
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
            out.append(s)
        }
        return out
    }
}

extension HTTPRequest {
    /// A positive integer path parameter, else 400 naming it.
    public func id(_ name: String) throws(HTTPError) -> Int64 {
        guard let text = parameters[name], let value = Int64(text), value > 0 else {
            throw HTTPError.badRequest("\(name) must be a positive integer")
        }
        return value
    }
}

/// Pagination from `?limit=&offset=`: limit 1-100 (default 20), offset ≥ 0.
public struct Page: Sendable {
    public let limit: Int
    public let offset: Int

    public init(_ query: QueryParameters) throws(HTTPError) {
        let limit = query["limit"].map { Int($0) } ?? 20
        let offset = query["offset"].map { Int($0) } ?? 0
        guard let limit, (1...100).contains(limit) else { throw HTTPError.badRequest("limit must be 1-100") }
        guard let offset, offset >= 0 else { throw HTTPError.badRequest("offset must be a non-negative integer") }
        self.limit = limit
        self.offset = offset
    }
}

/// A conflict from a unique constraint, a missing row: small helpers for handlers.
extension HTTPError {
    public static func conflict(_ message: String) -> HTTPError { HTTPError(.conflict, message) }
}
