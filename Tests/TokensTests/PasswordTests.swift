// scrypt passwords, constant-time comparison, randomness and base64url.
import Testing
import Tokens
import CryptoBytes

/// A low cost for speed in the many-case tests; one test runs the standard cost.
private let cheap = ScryptParameters(n: 1 << 10, r: 8, p: 1)

@Suite struct PasswordTests {
    @Test func hashAndVerifyAtLowCost() throws {
        let encoded = try Password.hash("correct horse", parameters: cheap)
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        #expect(parts.count == 6)
        #expect(parts[0] == "scrypt" && parts[1] == "1024" && parts[2] == "8" && parts[3] == "1")
        #expect(Base64URL.decode(String(parts[4]))?.count == 16)
        #expect(Base64URL.decode(String(parts[5]))?.count == 32)
        #expect(Password.verify("correct horse", encoded: encoded))
        #expect(!Password.verify("correct horsf", encoded: encoded))
        #expect(!Password.verify("", encoded: encoded))
        // A fresh salt every time.
        #expect(try Password.hash("correct horse", parameters: cheap) != encoded)
        #expect(Password.needsRehash(encoded))
    }

    @Test func standardCostIsOWASPAndWorks() throws {
        #expect(ScryptParameters.standard == ScryptParameters(n: 131_072, r: 8, p: 1))
        let encoded = try Password.hash("pässwörd ✓")
        #expect(encoded.hasPrefix("scrypt$131072$8$1$"))
        #expect(Password.verify("pässwörd ✓", encoded: encoded))
        #expect(!Password.verify("passwörd ✓", encoded: encoded))
        #expect(!Password.needsRehash(encoded))
    }

    @Test func malformedOrHostileEncodingsAreFalse() throws {
        let encoded = try Password.hash("pw", parameters: cheap)
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false).map(String.init)
        let bad = [
            "", "scrypt", "bcrypt$1024$8$1$\(parts[4])$\(parts[5])",
            "scrypt$1000$8$1$\(parts[4])$\(parts[5])",                 // N not a power of two
            "scrypt$1073741824$8$1$\(parts[4])$\(parts[5])",           // 2^30: would need 1 TiB
            "scrypt$1024$0$1$\(parts[4])$\(parts[5])",
            "scrypt$1024$8$1$\(parts[4])$\(parts[5])=",
            "scrypt$1024$8$1$$\(parts[5])",
            encoded + "$x",
        ]
        for item in bad { #expect(!Password.verify("pw", encoded: item), "\(item)") }
        #expect(throws: PasswordError.badParameters) { try Password.hash("pw", parameters: ScryptParameters(n: 3, r: 8, p: 1)) }
    }

    @Test func constantTimeEquals() {
        #expect(ConstantTime.equals([], []))
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equals([0, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2]))
    }

    @Test func hmacMatchesRFC4231() {
        // RFC 4231 test case 2.
        let mac = HMACSHA256.mac(key: Array("Jefe".utf8), data: Array("what do ya want for nothing?".utf8))
        let hex = mac.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
        #expect(hex == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }


    @Test(arguments: [
        ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy"),
    ])
    func base64URLVectors(plain: String, encoded: String) {
        #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
        #expect(Base64URL.decode(encoded) == Array(plain.utf8))
    }

    @Test func base64URLAlphabetAndStrictness() {
        #expect(Base64URL.encode([0xFB, 0xFF, 0xBF]) == "-_-_")
        #expect(Base64URL.decode("-_-_") == [0xFB, 0xFF, 0xBF])
        #expect(Base64URL.decode("+/+/") == nil)     // standard alphabet refused
        #expect(Base64URL.decode("Zg==") == nil)     // padding refused
        #expect(Base64URL.decode("Z") == nil)        // 1 mod 4
        #expect(Base64URL.decode("Zh") == nil)       // non-zero trailing bits
        for length in 0..<40 {
            let bytes = SecureRandom.bytes(length)
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
    }
}
