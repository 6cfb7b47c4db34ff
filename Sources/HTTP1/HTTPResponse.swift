// Response heads serialized straight into a [UInt8] the binding writes to the socket.

/// A response head. `serialize` appends the status line, the fields, the framing and
/// connection fields it owns (Content-Length, Connection, Date) and the empty line.
public struct HTTPResponseHead: Sendable, Equatable {
    public var status: HTTPStatus
    /// Fields written as given, except that the serializer owns `Content-Length`,
    /// `Connection` and `Date`: set those through `serialize`'s arguments.
    public var headers: HTTPHeaders

    public init(status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders()) {
        self.status = status
        self.headers = headers
    }

    /// Appends the head to `out`.
    /// - contentLength: written unless the status forbids a body (1xx, 204, 304); nil writes
    ///   none (the caller frames the body some other way, e.g. a 101 upgrade).
    /// - keepAlive: false writes `Connection: close`; true writes `Connection: keep-alive`
    ///   only for an HTTP/1.0 request, whose default is to close.
    /// - date: an IMF-fixdate (`HTTPDate.format`), usually cached once per second by the binding.
    /// CR, LF and NUL in names or values are written as spaces, so a value taken from
    /// input cannot inject a header.
    public func serialize(into out: inout [UInt8], contentLength: Int?, keepAlive: Bool,
                          requestVersion: HTTPVersion = .http1_1, date: String? = nil) {
        append("HTTP/1.1 ", to: &out)
        appendDecimal(status.code, to: &out)
        out.append(ASCII.sp)
        appendSafe(status.reasonPhrase, to: &out)
        append("\r\n", to: &out)
        for field in headers {
            if ASCII.equalsIgnoringCase(field.name, "content-length")
                || ASCII.equalsIgnoringCase(field.name, "connection")
                || ASCII.equalsIgnoringCase(field.name, "date") { continue }
            appendSafe(field.name, to: &out)
            append(": ", to: &out)
            appendSafe(field.value, to: &out)
            append("\r\n", to: &out)
        }
        if let contentLength, !status.forbidsBody {
            append("Content-Length: ", to: &out)
            appendDecimal(contentLength, to: &out)
            append("\r\n", to: &out)
        }
        if !keepAlive {
            append("Connection: close\r\n", to: &out)
        } else if requestVersion == .http1_0 {
            append("Connection: keep-alive\r\n", to: &out)
        }
        if let date {
            append("Date: ", to: &out)
            appendSafe(date, to: &out)
            append("\r\n", to: &out)
        }
        append("\r\n", to: &out)
    }
}

/// Whole responses in one buffer, for handlers that answer at once.
public enum HTTPResponse {
    /// Head and body in one [UInt8]. The body is omitted for statuses that forbid one and
    /// for HEAD requests (`omitBody`), but Content-Length still tells its size for HEAD.
    public static func encode(_ head: HTTPResponseHead, body: [UInt8] = [], keepAlive: Bool,
                              requestVersion: HTTPVersion = .http1_1, date: String? = nil,
                              omitBody: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + head.headers.count * 32 + body.count)
        head.serialize(into: &out, contentLength: body.count, keepAlive: keepAlive,
                       requestVersion: requestVersion, date: date)
        if !omitBody, !head.status.forbidsBody { out.append(contentsOf: body) }
        return out
    }

    /// A JSON response: `Content-Type: application/json` and the writer's bytes as the body.
    public static func json(_ status: HTTPStatus = .ok, _ body: JSONWriter, keepAlive: Bool,
                            requestVersion: HTTPVersion = .http1_1, date: String? = nil,
                            extraHeaders: HTTPHeaders = HTTPHeaders()) -> [UInt8] {
        var head = HTTPResponseHead(status: status, headers: extraHeaders)
        head.headers.replace(name: "Content-Type", value: "application/json")
        return encode(head, body: body.bytes, keepAlive: keepAlive, requestVersion: requestVersion, date: date)
    }

    /// The answer to a parse error: `{"error":"<status code>","message":"<reason>"}` with the
    /// error's status and `Connection: close` (the parser cannot continue after an error).
    public static func error(_ error: HTTPParseError, date: String? = nil) -> [UInt8] {
        let head = HTTPResponseHead(status: error.status, headers: ["Content-Type": "application/json"])
        return encode(head, body: ErrorBody.json(code: error.status.errorCode, message: error.reason),
                      keepAlive: false, date: date)
    }
}

/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) without Foundation.
public enum HTTPDate {
    /// Formats seconds since the Unix epoch (UTC). Costs one small String; cache it per second.
    public static func format(secondsSince1970 t: Int64) -> String {
        let days = t >= 0 ? t / 86_400 : (t - 86_399) / 86_400
        let secs = Int(t - days * 86_400)
        // Civil-from-days (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = Int(doy - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        let year = Int(yoe + era * 400 + (month <= 2 ? 1 : 0))
        let weekday = Int(((days % 7) + 11) % 7)  // 1970-01-01 was a Thursday
        let names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(names[weekday]), \(two(day)) \(months[month - 1]) \(year) \(two(secs / 3600)):\(two(secs / 60 % 60)):\(two(secs % 60)) GMT"
    }
}

@inline(__always)
func append(_ s: StaticString, to out: inout [UInt8]) {
    s.withUTF8Buffer { out.append(contentsOf: $0) }
}

func appendSafe(_ s: String, to out: inout [UInt8]) {
    for b in s.utf8 {
        out.append(b == ASCII.cr || b == ASCII.lf || b == 0 ? ASCII.sp : b)
    }
}

func appendDecimal(_ value: Int, to out: inout [UInt8]) {
    if value < 0 {
        out.append(45)
        if value == Int.min {
            out.append(contentsOf: String(value).utf8.dropFirst())
            return
        }
        appendDecimal(-value, to: &out)
        return
    }
    var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                 UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var v = value
    var n = 0
    withUnsafeMutableBytes(of: &digits) { d in
        repeat {
            d[19 - n] = UInt8(v % 10) + 0x30
            v /= 10
            n += 1
        } while v > 0
        out.append(contentsOf: UnsafeRawBufferPointer(rebasing: d[(20 - n)...]))
    }
}
