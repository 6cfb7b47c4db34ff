// Drives HTTPRequestParser the way the socket binding will, recording events as values.
import HTTP1

/// An event with its body copied out, so runs can be compared with ==.
enum Recorded: Equatable {
    case head(HTTPRequestHead)
    case body([UInt8])
    case end(HTTPHeaders?)
    case paused
    case error(Int)
}

/// Feeds `bytes` in pieces cut at `cuts` (sorted offsets), following the calling contract:
/// feed until `.needMore`/`.paused`/`.error`, then hand over the next piece. Consecutive body
/// pieces are merged so different splits give equal transcripts. `bodyLimit` is applied
/// after every head.
func run(_ bytes: [UInt8], cuts: [Int] = [], limits: HTTPParserLimits = HTTPParserLimits(),
         bodyLimit: Int? = nil) -> [Recorded] {
    var parser = HTTPRequestParser(limits: limits)
    var out: [Recorded] = []
    var bounds = [0] + cuts + [bytes.count]
    bounds = bounds.filter { $0 >= 0 && $0 <= bytes.count }
    func record(_ r: Recorded) {
        if case .body(let b) = r, case .body(let a)? = out.last {
            out[out.count - 1] = .body(a + b)
        } else {
            out.append(r)
        }
    }
    outer: for k in 0..<(bounds.count - 1) {
        let piece = Array(bytes[bounds[k]..<bounds[k + 1]])
        var stop = false
        piece.withUnsafeBytes { raw in
            var rest = raw
            while true {
                let step = parser.feed(rest)
                rest = UnsafeRawBufferPointer(rebasing: rest[step.consumed...])
                switch step.event {
                case .needMore:
                    precondition(rest.isEmpty, "needMore must consume everything")
                    return
                case .head(let h):
                    record(.head(h))
                    if let bodyLimit { parser.setBodyLimit(bodyLimit) }
                case .body(let b): record(.body(Array(b)))
                case .end(let t): record(.end(t))
                case .paused: record(.paused); stop = true; return
                case .error(let e): record(.error(e.status.code)); stop = true; return
                }
            }
        }
        if stop { break outer }
    }
    return out
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// The status of the first error, or nil when the run had none.
func firstError(_ s: String, limits: HTTPParserLimits = HTTPParserLimits(), bodyLimit: Int? = nil) -> Int? {
    for r in run(bytes(s), limits: limits, bodyLimit: bodyLimit) {
        if case .error(let code) = r { return code }
    }
    return nil
}

extension Recorded {
    var head: HTTPRequestHead? { if case .head(let h) = self { return h }; return nil }
}
