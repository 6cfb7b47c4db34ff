// Reading request bodies and path parameters with one clear 400 per problem (the body's
// fields themselves: JSONBody.swift).
import HTTP1
import Web

extension JSONBody {
    /// The request's body as a JSON object (400 when it is empty, not JSON or not an object).
    public init(_ request: HTTPRequest) throws(HTTPError) {
        try self.init(json: request.body)
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
