// Log lines as an operator's tools read them: one event, one line, whatever a client sent.
import Testing
@testable import Daemon
#if canImport(Glibc)
import Glibc
#endif

@Suite struct LogTests {
    @Test func controlCharactersAreEscaped() {
        #expect(Log.escapeControls("plain text, ünïcode ✓") == "plain text, ünïcode ✓")
        #expect(Log.escapeControls("a\nb\rc\td") == #"a\nb\rc\td"#)
        #expect(Log.escapeControls("nul\u{0}bell\u{7}del\u{7F}") == #"nul\x00bell\x07del\x7f"#)
    }

    /// A message quoting a client's path with an encoded newline stays one line: the forged
    /// "second line" is visibly part of the first.
    @Test func aClientsNewlineCannotForgeALine() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let log = Log(component: "test", level: .info, fd: fds[1], redact: { $0 })
        log.info("refused GET /auth/x\n2026-01-01T00:00:00.000Z info auth-service: admin logged in")
        close(fds[1])
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = read(fds[0], &buffer, buffer.count)
        let text = String(decoding: buffer[0..<max(0, n)], as: UTF8.self)
        #expect(text.filter { $0 == "\n" }.count == 1, "\(text)")
        #expect(text.hasSuffix(#"/auth/x\n2026-01-01T00:00:00.000Z info auth-service: admin logged in"# + "\n"))
    }
}
