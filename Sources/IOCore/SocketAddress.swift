// IPv4/IPv6 socket addresses: numeric parsing and printing only (no DNS on the loop).
import CLibUV
#if canImport(Glibc)
import Glibc
#endif

/// A numeric IPv4 or IPv6 address with a port. Parsing never resolves names (a DNS lookup
/// would block the loop): "127.0.0.1", "::1", "0.0.0.0", "::".
public struct SocketAddress: Sendable, Equatable, CustomStringConvertible {
    // sockaddr_storage is plain bytes; kept as the C struct so libuv calls get a pointer to it.
    private var storage = sockaddr_storage()

    /// Parses `ip` (IPv6 when it contains ':'), with `port` in 0...65535.
    public init(ip: String, port: Int) throws(IOError) {
        guard (0...65535).contains(port) else { throw IOError(code: UV_EINVAL.rawValue, operation: "port \(port)") }
        let rc: Int32 = withUnsafeMutableBytes(of: &storage) { raw in
            if ip.contains(":") {
                return uv_ip6_addr(ip, Int32(port), raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self))
            }
            return uv_ip4_addr(ip, Int32(port), raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self))
        }
        if rc != 0 { throw IOError(code: rc, operation: "address \(ip)") }
    }

    /// Copies an address libuv filled in (getsockname, getpeername). Nil for other families.
    init?(copying raw: UnsafeRawPointer) {
        let family = raw.assumingMemoryBound(to: sockaddr.self).pointee.sa_family
        guard family == sa_family_t(AF_INET) || family == sa_family_t(AF_INET6) else { return nil }
        let length = family == sa_family_t(AF_INET) ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size
        withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: raw, count: length)) }
    }

    public var isIPv6: Bool { storage.ss_family == sa_family_t(AF_INET6) }

    /// AF_INET or AF_INET6.
    var family: Int32 { Int32(storage.ss_family) }

    /// The numeric address text, without port or brackets.
    public var ip: String {
        withUnsafeBytes(of: storage) { raw -> String in
            var text = [CChar](repeating: 0, count: 64)
            if isIPv6 {
                uv_ip6_name(raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self), &text, text.count)
            } else {
                uv_ip4_name(raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self), &text, text.count)
            }
            return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    public var port: Int {
        withUnsafeBytes(of: storage) { raw -> Int in
            let networkOrder = isIPv6
                ? raw.load(as: sockaddr_in6.self).sin6_port
                : raw.load(as: sockaddr_in.self).sin_port
            return Int(UInt16(bigEndian: networkOrder))
        }
    }

    /// "1.2.3.4:80" or "[::1]:80".
    public var description: String { isIPv6 ? "[\(ip)]:\(port)" : "\(ip):\(port)" }

    public static func == (a: SocketAddress, b: SocketAddress) -> Bool {
        a.isIPv6 == b.isIPv6 && a.port == b.port && a.ip == b.ip
    }

    /// Calls `body` with a sockaddr pointer valid for the call (libuv copies it).
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>) -> R) -> R {
        withUnsafeBytes(of: storage) { body($0.baseAddress!.assumingMemoryBound(to: sockaddr.self)) }
    }

    /// Reads a handle's local or peer address through a libuv getter.
    static func read(_ getter: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<Int32>) -> Int32) -> SocketAddress? {
        var raw = sockaddr_storage()
        var length = Int32(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutableBytes(of: &raw) { getter($0.baseAddress!.assumingMemoryBound(to: sockaddr.self), &length) }
        guard rc == 0 else { return nil }
        return withUnsafeBytes(of: raw) { SocketAddress(copying: $0.baseAddress!) }
    }
}
