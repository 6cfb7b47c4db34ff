// Story images on disk: `<dir>/<postId>-<random>.img`, a new name for every upload, named
// with its media type in the posts row (`<postId>.img` for rows from before that). A file
// is written completely before the transaction that names it commits, and a file the row
// stops naming is removed only after that commit: a failed write leaves the old image.
// Blocking file I/O: called on PGPool workers (and the applier) only, never on the loop.
#if canImport(Glibc)
import Glibc
#endif

public struct ImageStore: Sendable {
    public let directory: String
    public static let maxBytes = 5 * 1024 * 1024

    public init(directory: String) {
        self.directory = directory
    }

    /// The media type of `bytes` judged by their magic numbers, or nil when they are not a
    /// JPEG, PNG or WebP image. The Content-Type a client claims is checked against this.
    public static func sniff(_ bytes: [UInt8]) -> String? {
        if bytes.count >= 3, bytes[0] == 0xFF, bytes[1] == 0xD8, bytes[2] == 0xFF { return "image/jpeg" }
        if bytes.count >= 8, bytes[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if bytes.count >= 12, bytes[0..<4].elementsEqual(Array("RIFF".utf8)), bytes[8..<12].elementsEqual(Array("WEBP".utf8)) {
            return "image/webp"
        }
        return nil
    }

    /// A file name no row names yet, for a new image of `postId`.
    func newFileName(postId: Int64) -> String {
        // SystemRandomNumberGenerator: 64 bits from the kernel, so names never collide.
        let random = UInt64.random(in: 1...UInt64.max)
        return String(postId) + "-" + String(random, radix: 16) + ".img"
    }

    /// Only names this store makes: digits, '-', hex, ".img" (never a path).
    func path(_ file: String) -> String? {
        guard !file.isEmpty, file.utf8.count <= 64, file.hasSuffix(".img"), file.utf8.allSatisfy({ byte in
            (byte >= 48 && byte <= 57) || (byte >= 97 && byte <= 102) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
                || byte == UInt8(ascii: "i") || byte == UInt8(ascii: "m") || byte == UInt8(ascii: "g")
        }), !file.hasPrefix(".") else { return nil }
        return directory + "/" + file
    }

    /// Creates the directory (one level) if missing.
    func prepare() -> Bool {
        if mkdir(directory, 0o750) == 0 || errno == EEXIST { return true }
        return false
    }

    /// Writes `file` completely (temporary file, fsync, rename), before any row names it.
    /// Throws a description on failure.
    func write(file: String, bytes: [UInt8]) throws(ImageStoreError) {
        guard prepare() else { throw ImageStoreError("cannot create \(directory): errno \(errno)") }
        guard let final = path(file) else { throw ImageStoreError("bad image file name \(file)") }
        let temporary = final + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw ImageStoreError("cannot open \(temporary): errno \(errno)") }
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                close(fd)
                unlink(temporary)
                throw ImageStoreError("write failed: errno \(errno)")
            }
            offset += n
        }
        fsync(fd)
        close(fd)
        guard rename(temporary, final) == 0 else {
            unlink(temporary)
            throw ImageStoreError("rename failed: errno \(errno)")
        }
    }

    /// The file's bytes, or nil when it does not exist or cannot be read.
    func read(file: String) -> [UInt8]? {
        guard let path = path(file) else { return nil }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
            if out.count > ImageStore.maxBytes { return nil }
        }
    }

    /// Removes `file`; call only after the transaction that stopped naming it committed.
    func remove(file: String) {
        if let path = path(file) { unlink(path) }
    }
}

public struct ImageStoreError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
