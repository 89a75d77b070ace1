import Foundation
import WardenCrypto
import XCTest

final class SHA256Tests: XCTestCase {
    func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
    func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = hex.startIndex
        while i < hex.endIndex {
            let j = hex.index(i, offsetBy: 2)
            out.append(UInt8(hex[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    /// FIPS 180-4 examples (NIST CSRC "Examples with intermediate values") and the
    /// NIST byte-oriented test vectors for lengths around the padding boundary.
    func testFIPS180Vectors() {
        XCTAssertEqual(hex(SHA256.hash(Array("abc".utf8))),
                       "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex(SHA256.hash([UInt8]())),
                       "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
                       "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(hex(SHA256.hash(Array("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu".utf8))),
                       "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        XCTAssertEqual(hex(SHA256.hash([UInt8](repeating: 0x61, count: 1_000_000))),
                       "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testIncrementalUpdatesMatchOneShot() {
        var g = SystemRandomNumberGenerator()
        for length in [0, 1, 55, 56, 57, 63, 64, 65, 127, 128, 129, 1000] {
            let data = (0..<length).map { _ in UInt8.random(in: 0...255, using: &g) }
            var h = SHA256()
            var i = 0
            while i < data.count {
                let n = Int.random(in: 1...17, using: &g)
                h.update(data[i..<min(data.count, i + n)])
                i += n
            }
            XCTAssertEqual(h.finalize(), SHA256.hash(data), "length \(length)")
        }
    }

    /// RFC 4231 test cases 1–7 (case 5's truncated output is checked as a prefix).
    func testRFC4231Vectors() {
        let cases: [(key: [UInt8], data: [UInt8], mac: String)] = [
            ([UInt8](repeating: 0x0b, count: 20), Array("Hi There".utf8),
             "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            ([UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
             "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
            (bytes(hex: "0102030405060708090a0b0c0d0e0f10111213141516171819"), [UInt8](repeating: 0xcd, count: 50),
             "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
            ([UInt8](repeating: 0x0c, count: 20), Array("Test With Truncation".utf8),
             "a3b6167473100ee06e0c796c2955552b"),
            ([UInt8](repeating: 0xaa, count: 131), Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            ([UInt8](repeating: 0xaa, count: 131),
             Array("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".utf8),
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
        ]
        for (n, c) in cases.enumerated() {
            let mac = hex(HMACSHA256.authenticationCode(key: c.key, message: c.data))
            XCTAssertTrue(mac.hasPrefix(c.mac), "RFC 4231 case \(n + 1): \(mac)")
        }
    }

    func testSecretComparesBytesExactly() {
        let composed = Secret(Array("caf\u{e9}".utf8))          // "café", precomposed: c3 a9
        XCTAssertTrue(composed.matches(Array("caf\u{e9}".utf8)))
        // The decomposed spelling is the same String in Swift but other bytes.
        XCTAssertEqual("caf\u{e9}", "cafe\u{301}")
        XCTAssertFalse(composed.matches(Array("cafe\u{301}".utf8)))
        // Invalid UTF-8 is kept as it is, not replaced by U+FFFD.
        let invalid = Secret([0xff, 0xfe])
        XCTAssertTrue(invalid.matches([0xff, 0xfe]))
        XCTAssertFalse(invalid.matches([0xfe, 0xff]))
        XCTAssertFalse(invalid.matches([0xef, 0xbf, 0xbd, 0xef, 0xbf, 0xbd]))
        XCTAssertFalse(invalid.matches([0xff]))
        XCTAssertFalse(Secret([UInt8]()).matches([0]))
        XCTAssertEqual("\(invalid)", "******")
    }
}
