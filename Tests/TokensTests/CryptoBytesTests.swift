// CryptoBytes, the one wrapper of OpenSSL's SHA-1, random bytes and base64: known vectors.
import Testing
import CryptoBytes

@Suite struct CryptoBytesTests {
    func hex(_ bytes: [UInt8]) -> String { bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }

    @Test func sha1KnownVectors() {
        // FIPS 180 examples.
        #expect(hex(SHA1Digest.hash(Array("abc".utf8))) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(hex(SHA1Digest.hash([UInt8]())) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
    }

    @Test func base64StandardAlphabetWithPadding() {
        // RFC 4648 §10.
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors { #expect(Base64.encode(Array(plain.utf8)) == encoded, "\(plain)") }
        #expect(Base64.encode([0xFB, 0xFF]) == "+/8=")
        // RFC 6455 §1.3: the accept value for the sample key.
        let key = "dGhlIHNhbXBsZSBub25jZQ==" + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
        #expect(Base64.encode(SHA1Digest.hash(Array(key.utf8))) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    @Test func base64URLIsUnpaddedWithTheURLAlphabet() {
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.decode("-_8") == [0xFB, 0xFF])
        #expect(Base64URL.decode("-_8=") == nil)
    }

    @Test func randomBytesFillTheBuffer() {
        #expect(SecureRandom.bytes(0).isEmpty)
        let a = SecureRandom.bytes(32), b = SecureRandom.bytes(32)
        #expect(a.count == 32 && a != b)
        var word: UInt64 = 0, other: UInt64 = 0
        withUnsafeMutableBytes(of: &word) { SecureRandom.fill($0) }
        withUnsafeMutableBytes(of: &other) { SecureRandom.fill($0) }
        #expect(word != other)
    }
}
