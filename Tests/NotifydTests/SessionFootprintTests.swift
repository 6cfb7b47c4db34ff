// Memory per idle session, deterministically: the size of the one per-session object and of
// the hub's per-user entry. The RSS figure is a benchmark (scripts/bench/idle-memory.sh),
// not a test: RSS is noisy.
import Testing
import IOCore
@testable import NotifyCore

@Suite struct SessionFootprintTests {
    @Test func aSessionIsOneSmallAllocation() {
        let session = Session(grant: SessionGrant(userId: 7, tokenExpiry: Int64.max, since: 42))
        // 72 bytes requested (header 16 + fields 56): glibc's 80-byte chunk, usable 72.
        #expect(mallocUsableSize(session) <= 72)
        // The hub's map holds one reference per user (the session list is intrusive).
        #expect(MemoryLayout<Session?>.size == 8)
        // The cursor and the clamped expiry keep their meaning.
        #expect(session.since == 42 && session.lastSentId == 42)
        #expect(session.tokenExpiry == Int64(UInt32.max))
        #expect(Session(grant: SessionGrant(userId: 7, tokenExpiry: 100)).since == nil)
    }
}
