// The HTTP1 fuzzer's connection mode (part of mode 0-127, see Main.swift): drives
// HTTPConnectionState the way Web's HTTPServerConnection does, answering every dispatched
// request at once, and records its actions. The same bytes cut differently must give the same
// actions, every offset must stay in bounds, and serials must count heads.

enum ConnectionRecord: Equatable {
    case head(UInt32)
    case writeContinue
    case dispatch
    case response(keepAlive: Bool)
    case fail(Int)
    case upgrade(handedOver: Int)
    case linger
}

func connectionTranscript(_ data: UnsafeRawBufferPointer, cuts: [Int], limits: HTTPParserLimits, seed: UInt8) -> [ConnectionRecord] {
    let timeouts = HTTPConnectionTimeouts(header: 1, body: 1, idle: 1, send: 1, linger: 1)
    var state = HTTPConnectionState(limits: limits)
    state.start(now: 0, timeouts: timeouts)
    var out: [ConnectionRecord] = []
    var head: HTTPRequestHead?
    var handedOver = 0

    func linger() {
        out.append(.linger)
        check(state.beginLingeringClose(queuedBytes: 1, now: 0, timeouts: timeouts) == .shutdown(resumeReading: false),
              "linger with queued bytes must shut down")
    }
    func dispatch(_ request: HTTPRequestHead) {
        state.dispatched()
        out.append(.dispatch)
        check(!state.canParse, "parsing goes on while a response is pending")
        guard let keepAlive = state.responseStarted(serial: state.serial, requestKeepAlive: request.keepAlive) else {
            fatalError("invariant: the dispatched request cannot be answered")
        }
        out.append(.response(keepAlive: keepAlive))
        switch state.responseWritten(keepAlive: keepAlive) {
        case .lingerClose: linger()
        case .none: check(keepAlive, "a closing response did not close")
        case .close, .resume: fatalError("invariant: a response inside the feeding loop asked for close or resume")
        }
    }

    var start = 0
    for end in cuts + [data.count] where end >= start && end <= data.count {
        let piece = UnsafeRawBufferPointer(rebasing: data[start..<end])
        start = end
        if handedOver > 0 {
            handedOver += piece.count  // the upgrade owner has these bytes
            continue
        }
        switch state.didRead(hasKeptInput: false) {
        case .discard:
            continue  // after a close or a failure: dropped, as a whole buffer's rest is
        case .keep:
            fatalError("invariant: input kept although every response was given at once")
        case .parse:
            break
        }
        state.beginFeeding()
        defer { state.endFeeding() }
        var offset = 0
        var steps = 0
        feeding: while true {
            steps += 1
            check(steps < 1_000_000, "next made no progress")
            let action = state.next(piece, offset: &offset, now: 0, timeouts: timeouts)
            check(offset >= 0 && offset <= piece.count, "offset out of bounds")
            switch action {
            case .needMore:
                check(offset == piece.count || state.isDone, "needMore left bytes while parsing may go on")
                break feeding
            case .head(let h):
                check(state.serial == UInt32(out.filter { if case .head = $0 { return true } else { return false } }.count + 1),
                      "serial does not count heads")
                out.append(.head(state.serial))
                head = h
                let outcome: HTTPRouteOutcome = h.isUpgrade ? .upgrade
                    : h.path.utf8.count & 1 == 0 ? .handler(bodyLimit: Int(seed & 15)) : .answeredByServer
                switch state.routed(h, outcome) {
                case .none: break
                case .writeContinue: out.append(.writeContinue)
                case .answerNow:
                    head = nil
                    dispatch(h)
                case .fail(let error):
                    head = nil
                    out.append(.fail(error.status.code))
                    linger()
                }
            case .body:
                break
            case .end:
                guard let request = head else { continue }
                head = nil
                if request.isUpgrade, seed & 16 != 0 {
                    _ = state.upgradeAccepted()
                    check(state.isDone, "an accepted upgrade left the connection running")
                    handedOver = 1 + piece.count - offset
                    break feeding
                }
                if request.isUpgrade { state.upgradeDeclined() }
                dispatch(request)
            case .discardRest:
                break feeding
            case .fail(let error):
                out.append(.fail(error.status.code))
                linger()
                break feeding
            }
        }
        state.updateDeadline(now: 0, timeouts: timeouts)
    }
    if handedOver > 0 { out.append(.upgrade(handedOver: handedOver - 1)) }
    return out
}
