// Why a body is not a valid event. Each case names what was wrong and where, so a dead-lettered
// message can be diagnosed from the log line alone.

public enum EventDecodeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The body is larger than `Event.maxBodyBytes`.
    case tooLarge(bytes: Int, limit: Int)
    /// The body is not JSON, or a field has the wrong JSON type (path and detail given).
    case invalidJSON(String)
    /// A required field is absent; the path is dotted, e.g. "data.postId".
    case missingField(String)
    /// A field is present but its value breaks the contract (path and reason).
    case invalidField(String, reason: String)
    /// The `type` is not one of the contract's routing keys.
    case unknownType(String)

    public var description: String {
        switch self {
        case let .tooLarge(bytes, limit): "event body is \(bytes) bytes, over the \(limit)-byte limit"
        case let .invalidJSON(detail): "event body is not valid event JSON: \(detail)"
        case let .missingField(path): "event is missing required field \(path)"
        case let .invalidField(path, reason): "event field \(path) is invalid: \(reason)"
        case let .unknownType(type): "event type \"\(type)\" is not in the contract"
        }
    }
}
