// Turns the bytes of a complete request head (request line through the empty line) into an
// HTTPRequestHead, applying RFC 9112's message-framing rules strictly: anything ambiguous
// enough to enable request smuggling is a 400, never a guess.
//
// Called by HTTPRequestParser once it has found the end of the head; the buffer is the
// parser's accumulator and lives only for the call.

enum HTTPHeadParser {
    typealias Bytes = UnsafeBufferPointer<UInt8>

    /// Parses the field lines of a complete head, `bytes[from...]`, which ends with
    /// CRLF CRLF (the request parser checked it), and applies the framing rules.
    static func parse(_ bytes: Bytes, from: Int, method: HTTPMethod, target: String, version: HTTPVersion)
        -> Result<HTTPRequestHead, HTTPParseError>
    {
        switch parseFieldLines(bytes, from: from, to: bytes.count - 2) {
        case .success(let headers):
            return interpret(method: method, target: target, version: version, headers: headers)
        case .failure(let e):
            return .failure(e)
        }
    }

    // MARK: request line

    static func parseRequestLine(_ b: Bytes, end: Int, limits: HTTPParserLimits)
        -> Result<(HTTPMethod, String, HTTPVersion), HTTPParseError>
    {
        guard end >= 2, b[end - 2] == ASCII.cr else {
            return .failure(HTTPParseError(.badRequest, "request line must end with CRLF"))
        }
        let lineEnd = end - 2
        var i = 0
        while i < lineEnd, ASCII.isToken(b[i]) { i += 1 }
        guard i > 0, i < lineEnd, b[i] == ASCII.sp else {
            return .failure(HTTPParseError(.badRequest, "invalid method"))
        }
        let method = HTTPMethod(string(b, 0, i))
        i += 1
        let targetStart = i
        while i < lineEnd, b[i] != ASCII.sp {
            guard ASCII.isTargetByte(b[i]) else {
                return .failure(HTTPParseError(.badRequest, "invalid byte in request-target"))
            }
            i += 1
        }
        let targetLength = i - targetStart
        if targetLength > limits.maxTargetBytes {
            return .failure(HTTPParseError(.uriTooLong, "request-target too long"))
        }
        guard targetLength > 0, i < lineEnd else {
            return .failure(HTTPParseError(.badRequest, "invalid request-target"))
        }
        let target = string(b, targetStart, i)
        i += 1
        // HTTP-version = "HTTP/" DIGIT "." DIGIT, and nothing after it.
        let http: [UInt8] = [72, 84, 84, 80, 47]
        guard lineEnd - i == 8, (0..<5).allSatisfy({ b[i + $0] == http[$0] }),
              let major = digit(b[i + 5]), b[i + 6] == 46, let minor = digit(b[i + 7])
        else {
            return .failure(HTTPParseError(.badRequest, "invalid HTTP version"))
        }
        guard major == 1, minor <= 1 else {
            return .failure(HTTPParseError(.httpVersionNotSupported, "unsupported HTTP version"))
        }
        return .success((method, target, HTTPVersion(major: major, minor: minor)))
    }

    // MARK: field lines (headers and trailers)

    /// Parses `field-name ":" OWS field-value OWS CRLF` lines in `b[from..<to]`. Rejects
    /// obs-fold, whitespace before the colon, bare CR or LF, and control bytes in values.
    static func parseFieldLines(_ b: Bytes, from: Int, to: Int) -> Result<HTTPHeaders, HTTPParseError> {
        var fields: [HTTPField] = []
        var i = from
        while i < to {
            let first = b[i]
            if first == ASCII.sp || first == ASCII.htab {
                return .failure(HTTPParseError(.badRequest, "obsolete line folding"))
            }
            let nameStart = i
            while i < to, ASCII.isToken(b[i]) { i += 1 }
            guard i > nameStart, i < to, b[i] == ASCII.colon else {
                return .failure(HTTPParseError(.badRequest, "invalid header name"))
            }
            let name = string(b, nameStart, i)
            i += 1
            while i < to, b[i] == ASCII.sp || b[i] == ASCII.htab { i += 1 }
            let valueStart = i
            while i < to, b[i] != ASCII.cr, b[i] != ASCII.lf {
                guard ASCII.isFieldValueByte(b[i]) else {
                    return .failure(HTTPParseError(.badRequest, "invalid byte in header value"))
                }
                i += 1
            }
            guard i + 1 < to, b[i] == ASCII.cr, b[i + 1] == ASCII.lf else {
                return .failure(HTTPParseError(.badRequest, "bare CR or LF in header section"))
            }
            var valueEnd = i
            while valueEnd > valueStart, b[valueEnd - 1] == ASCII.sp || b[valueEnd - 1] == ASCII.htab {
                valueEnd -= 1
            }
            fields.append(HTTPField(name: name, value: string(b, valueStart, valueEnd)))
            i += 2
        }
        return .success(HTTPHeaders(fields))
    }

    // MARK: framing, keep-alive, upgrade

    static func interpret(method: HTTPMethod, target: String, version: HTTPVersion, headers: HTTPHeaders)
        -> Result<HTTPRequestHead, HTTPParseError>
    {
        var contentLength: UInt64?
        var transferEncodings: [Substring] = []
        var hostCount = 0
        var close = false, keepAliveToken = false, upgradeToken = false
        var upgradeValue: String?
        var expectsContinue = false
        for field in headers {
            // One pass; most fields match none of these names, and the length test in
            // equalsIgnoringCase rejects them at once.
            if ASCII.equalsIgnoringCase(field.name, "content-length") {
                for element in field.value.split(separator: ",", omittingEmptySubsequences: false) {
                    guard let n = parseDecimal(element) else {
                        return .failure(HTTPParseError(.badRequest, "invalid Content-Length"))
                    }
                    if let previous = contentLength, previous != n {
                        return .failure(HTTPParseError(.badRequest, "conflicting Content-Length values"))
                    }
                    contentLength = n
                }
            } else if ASCII.equalsIgnoringCase(field.name, "transfer-encoding") {
                for element in field.value.split(separator: ",", omittingEmptySubsequences: false) {
                    let coding = Substring(ASCII.trimOWS(element.utf8))
                    guard !coding.isEmpty else {
                        return .failure(HTTPParseError(.badRequest, "empty transfer coding"))
                    }
                    transferEncodings.append(coding)
                }
            } else if ASCII.equalsIgnoringCase(field.name, "host") {
                hostCount += 1
            } else if ASCII.equalsIgnoringCase(field.name, "connection") {
                close = close || ASCII.listContainsToken(field.value, "close")
                keepAliveToken = keepAliveToken || ASCII.listContainsToken(field.value, "keep-alive")
                upgradeToken = upgradeToken || ASCII.listContainsToken(field.value, "upgrade")
            } else if ASCII.equalsIgnoringCase(field.name, "upgrade") {
                if upgradeValue == nil { upgradeValue = field.value }
            } else if ASCII.equalsIgnoringCase(field.name, "expect") {
                expectsContinue = ASCII.equalsIgnoringCase(field.value, "100-continue")
            }
        }
        if hostCount > 1 { return .failure(HTTPParseError(.badRequest, "more than one Host")) }
        if hostCount == 0, version == .http1_1 {
            return .failure(HTTPParseError(.badRequest, "missing Host"))
        }

        let framing: HTTPBodyFraming
        if !transferEncodings.isEmpty {
            if contentLength != nil {
                return .failure(HTTPParseError(.badRequest, "both Content-Length and Transfer-Encoding"))
            }
            if version == .http1_0 {
                return .failure(HTTPParseError(.badRequest, "Transfer-Encoding in HTTP/1.0"))
            }
            guard let last = transferEncodings.last, ASCII.equalsIgnoringCase(String(last), "chunked") else {
                return .failure(HTTPParseError(.badRequest, "final transfer coding is not chunked"))
            }
            guard transferEncodings.count == 1 else {
                return .failure(HTTPParseError(.notImplemented, "unsupported transfer coding"))
            }
            framing = .chunked
        } else if let contentLength {
            framing = contentLength == 0 ? .none : .contentLength(contentLength)
        } else {
            framing = .none
        }

        let keepAlive = version == .http1_1 ? !close : (!close && keepAliveToken)
        var upgrade: String?
        if version == .http1_1, upgradeToken, let upgradeValue, !upgradeValue.isEmpty {
            upgrade = upgradeValue
        }

        guard let (path, query) = splitTarget(target, method: method) else {
            return .failure(HTTPParseError(.badRequest, "invalid request-target form"))
        }
        return .success(HTTPRequestHead(
            method: method, target: target, path: path, query: query, version: version,
            headers: headers, framing: framing, keepAlive: keepAlive, upgrade: upgrade,
            expectsContinue: expectsContinue))
    }

    /// Splits a request-target into path and query. Accepts origin-form, absolute-form
    /// (`http://host/p?q`), `*` for OPTIONS and authority-form for CONNECT.
    static func splitTarget(_ target: String, method: HTTPMethod) -> (String, String?)? {
        if method == .CONNECT { return (target, nil) }
        if target == "*" { return method == .OPTIONS ? ("*", nil) : nil }
        let u = Array(target.utf8)
        var pathStart = 0
        if u.first != ASCII.slash {
            // absolute-form: scheme "://" authority [path-abempty] ["?" query]
            var i = 0
            while i < u.count, isSchemeByte(u[i]) { i += 1 }
            guard i > 0, i + 3 <= u.count, u[i] == ASCII.colon, u[i + 1] == ASCII.slash, u[i + 2] == ASCII.slash else {
                return nil
            }
            i += 3
            while i < u.count, u[i] != ASCII.slash, u[i] != ASCII.question { i += 1 }
            pathStart = i
        }
        var q = pathStart
        while q < u.count, u[q] != ASCII.question { q += 1 }
        var path = String(decoding: u[pathStart..<q], as: UTF8.self)
        if path.isEmpty { path = "/" }
        let query = q < u.count ? String(decoding: u[(q + 1)...], as: UTF8.self) : nil
        return (path, query)
    }

    static func isSchemeByte(_ b: UInt8) -> Bool {
        (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A) || (b >= 0x30 && b <= 0x39) || b == ASCII.plus || b == 45 || b == 46
    }

    // MARK: helpers

    @inline(__always)
    static func string(_ b: Bytes, _ start: Int, _ end: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: b[start..<end]), as: UTF8.self)
    }

    @inline(__always)
    static func digit(_ b: UInt8) -> Int? { b >= 0x30 && b <= 0x39 ? Int(b - 0x30) : nil }

    /// 1*DIGIT with optional surrounding OWS, without overflow; nil otherwise.
    static func parseDecimal(_ s: Substring) -> UInt64? {
        let digits = ASCII.trimOWS(s.utf8)
        guard !digits.isEmpty else { return nil }
        var n: UInt64 = 0
        for b in digits {
            guard let d = digit(b) else { return nil }
            let (m, o1) = n.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(d))
            if o1 || o2 { return nil }
            n = s
        }
        return n
    }
}
