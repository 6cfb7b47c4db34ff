// Vocabulary shared by the codec, the handshake and the connection state machine.

/// Which end of the connection this code plays. A server requires masked frames from its peer
/// and sends unmasked ones; a client does the opposite (RFC 6455 section 5.1).
public enum WebSocketRole: UInt8, Sendable {
    case server
    case client
}

/// Frame opcodes defined by RFC 6455 section 5.2. Other values are reserved and fail the
/// connection with 1002.
public enum WebSocketOpcode: UInt8, Sendable {
    case continuation = 0x0
    case text = 0x1
    case binary = 0x2
    case close = 0x8
    case ping = 0x9
    case pong = 0xA

    /// Control frames (close, ping, pong) carry at most 125 bytes and are never fragmented.
    @inlinable public var isControl: Bool { rawValue & 0x8 != 0 }
}

/// A close status code (RFC 6455 section 7.4). The named values are the ones this module
/// sends; `isValidReceived` decides which codes a peer may put in a close frame.
public struct WebSocketCloseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }

    /// 1000: the purpose of the connection is fulfilled.
    public static let normal = WebSocketCloseCode(rawValue: 1000)
    /// 1001: the server shuts down (or the client navigates away).
    public static let goingAway = WebSocketCloseCode(rawValue: 1001)
    /// 1002: the peer broke the framing protocol.
    public static let protocolError = WebSocketCloseCode(rawValue: 1002)
    /// 1003: a data type this endpoint cannot accept.
    public static let unsupportedData = WebSocketCloseCode(rawValue: 1003)
    /// 1007: a text message (or close reason) that is not UTF-8, or undecodable compressed data.
    public static let invalidPayload = WebSocketCloseCode(rawValue: 1007)
    /// 1008: a policy violation; this project also uses it for slow consumers (docs/websocket.md).
    public static let policyViolation = WebSocketCloseCode(rawValue: 1008)
    /// 1009: a message larger than the configured maximum (also after decompression).
    public static let messageTooBig = WebSocketCloseCode(rawValue: 1009)
    /// 1010: the client needed an extension the server did not negotiate.
    public static let mandatoryExtension = WebSocketCloseCode(rawValue: 1010)
    /// 1011: the server hit an unexpected condition.
    public static let internalError = WebSocketCloseCode(rawValue: 1011)

    /// Whether a peer may send this code in a close frame. 1005, 1006 and 1015 are reserved
    /// for reporting and must never be on the wire; 1004 and 1016-2999 are unassigned;
    /// 1012-1014 (service restart, try again later, bad gateway) were registered with IANA
    /// after RFC 6455 and are accepted; 3000-4999 belong to libraries and applications.
    @inlinable public var isValidReceived: Bool {
        switch rawValue {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }

    public var description: String { String(rawValue) }
}
