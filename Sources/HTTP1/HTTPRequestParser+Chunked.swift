// Chunked transfer coding (RFC 9112 section 7.1) for HTTPRequestParser: the chunk-size line
// with its extensions and the CRLF after each chunk's data, one byte per call. The data itself
// and the trailer section are handled in HTTPRequestParser.feed (data as slices of the input,
// trailers through the head buffer).

extension HTTPRequestParser {
    /// Advances the chunk-size line and chunk-delimiter states by one byte; returns an
    /// error for anything RFC 9112 section 7.1 does not allow.
    mutating func chunkFramingByte(_ b: UInt8) -> HTTPParseError? {
        switch state {
        case .chunkSize(let value, let digits):
            if let h = ASCII.hexValue(b) {
                guard value <= UInt64.max >> 4 else {
                    return HTTPParseError(.badRequest, "chunk size overflow")
                }
                state = .chunkSize(value << 4 | UInt64(h), digits: digits + 1)
                return nil
            }
            guard digits > 0 else { return HTTPParseError(.badRequest, "invalid chunk size") }
            switch b {
            case ASCII.cr: state = .chunkSizeLF(value)
            case ASCII.semicolon: state = .chunkExtension(value, bytes: 1, quoted: false, escaped: false)
            case ASCII.sp, ASCII.htab: state = .chunkSizeWhitespace(value)
            default: return HTTPParseError(.badRequest, "invalid chunk size")
            }
        case .chunkSizeWhitespace(let value):
            switch b {
            case ASCII.sp, ASCII.htab: break
            case ASCII.semicolon: state = .chunkExtension(value, bytes: 1, quoted: false, escaped: false)
            default: return HTTPParseError(.badRequest, "invalid chunk size line")
            }
        case .chunkExtension(let value, let bytes, let quoted, let escaped):
            if bytes + 1 > limits.maxChunkExtensionBytes {
                return HTTPParseError(.badRequest, "chunk extension too long")
            }
            if quoted {
                if escaped {
                    guard b == ASCII.htab || (b >= 0x20 && b != 0x7F) else {
                        return HTTPParseError(.badRequest, "invalid chunk extension")
                    }
                    state = .chunkExtension(value, bytes: bytes + 1, quoted: true, escaped: false)
                } else if b == ASCII.quote {
                    state = .chunkExtension(value, bytes: bytes + 1, quoted: false, escaped: false)
                } else if b == ASCII.backslash {
                    state = .chunkExtension(value, bytes: bytes + 1, quoted: true, escaped: true)
                } else if ASCII.isFieldValueByte(b) {
                    state = .chunkExtension(value, bytes: bytes + 1, quoted: true, escaped: false)
                } else {
                    return HTTPParseError(.badRequest, "invalid chunk extension")
                }
            } else if b == ASCII.cr {
                state = .chunkSizeLF(value)
            } else if b == ASCII.quote {
                state = .chunkExtension(value, bytes: bytes + 1, quoted: true, escaped: false)
            } else if ASCII.isToken(b) || b == ASCII.equals || b == ASCII.semicolon || b == ASCII.sp || b == ASCII.htab {
                state = .chunkExtension(value, bytes: bytes + 1, quoted: false, escaped: false)
            } else {
                return HTTPParseError(.badRequest, "invalid chunk extension")
            }
        case .chunkSizeLF(let value):
            guard b == ASCII.lf else { return HTTPParseError(.badRequest, "chunk size line must end with CRLF") }
            if value == 0 {
                state = .trailers
                buffer.removeAll(keepingCapacity: true)
                lineStart = 0
                fieldLines = 0
                return nil
            }
            guard value <= bodyLimit - bodyReceived else {
                return HTTPParseError(.payloadTooLarge, "chunked body exceeds the body limit")
            }
            bodyReceived += value
            state = .chunkData(value)
        case .chunkDataCR:
            guard b == ASCII.cr else { return HTTPParseError(.badRequest, "chunk data must end with CRLF") }
            state = .chunkDataLF
        case .chunkDataLF:
            guard b == ASCII.lf else { return HTTPParseError(.badRequest, "chunk data must end with CRLF") }
            state = .chunkSize(0, digits: 0)
        default:
            return HTTPParseError(.internalServerError, "parser reached an impossible state")
        }
        return nil
    }
}
