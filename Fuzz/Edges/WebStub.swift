// The one type the ServiceKit field validators take from Web: HTTPError, as declared in
// Sources/Web/HTTPRequest.swift (status, code, message; the short initializer's code rule
// is ErrorBody's, from HTTP1). Web itself needs IOCore and libuv,
// which a fuzzer does not; this module is named Web so the validators' `import Web` resolves
// here. Keep the shape in step with the real one (the fuzzer fails to build otherwise).
import HTTP1

public struct HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: HTTPStatus
    public let code: String
    public let message: String

    public init(_ status: HTTPStatus, _ message: String) {
        self.status = status
        self.code = ErrorBody.isCode(message) ? message : status.errorCode
        self.message = message
    }

    public static func badRequest(_ message: String) -> HTTPError { HTTPError(.badRequest, message) }

    public var description: String { "\(status.code) \(message)" }
}
