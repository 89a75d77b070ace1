import XCTest
import SentinelCore

final class GlobTests: XCTestCase {
    /// Keys and, for each pattern, the ones `KEYS <pattern>` returned from
    /// redis-server 7.0.15 (`KEYS` matches with `stringmatchlen`, case-sensitive).
    private let keys = [
        "", "a", "b", "]", "-", "\\", "[", "ab", "abc", "aXc", "h*llo", "hello", "hallo", "hllo",
        "heeeello", "x^", "^", "Hello", "mymaster", "my-master-2",
    ]
    private let redisAnswers: [(pattern: String, matches: Set<String>)] = [
        ("**", ["-", "Hello", "[", "\\", "]", "^", "a", "aXc", "ab", "abc", "b", "h*llo", "hallo",
                "heeeello", "hello", "hllo", "my-master-2", "mymaster", "x^"]),
        ("?*", ["-", "Hello", "[", "\\", "]", "^", "a", "aXc", "ab", "abc", "b", "h*llo", "hallo",
                "heeeello", "hello", "hllo", "my-master-2", "mymaster", "x^"]),
        ("a*", ["a", "aXc", "ab", "abc"]),
        ("[a-]", ["]", "^", "a"]),
        ("[a-]]", ["]", "^", "a"]),
        ("[]a]", []),
        ("[", []),
        ("[^", ["-", "[", "\\", "]", "^", "a", "b"]),
        ("[ab", ["a", "b"]),
        ("[^a", ["-", "[", "\\", "]", "^", "b"]),
        ("\\", ["\\"]),
        ("a\\", []),
        ("h\\*llo", ["h*llo"]),
        ("h[^e]llo", ["h*llo", "hallo"]),
        ("h[a-b]llo", ["hallo"]),
        ("h[b-a]llo", ["hallo"]),
        ("h*llo", ["h*llo", "hallo", "heeeello", "hello", "hllo"]),
        ("h?llo", ["h*llo", "hallo", "hello"]),
        ("h[\\]]", []),
        ("[\\^]", ["^"]),
        ("[\\", ["\\"]),
        ("[a\\", ["\\", "a"]),
        ("my*", ["my-master-2", "mymaster"]),
        ("*master*", ["my-master-2", "mymaster"]),
        ("[M]ymaster", []),
        ("x[^]", ["x^"]),
        ("[-]", ["-"]),
        ("[a-c]", ["a", "b"]),
        ("[c-a]c", []),
    ]

    func testAgreesWithRedis() {
        for (pattern, expected) in redisAnswers {
            let got = Set(keys.filter { Glob.match(pattern, $0) })
            XCTAssertEqual(got, expected, "pattern \(pattern.debugDescription)")
        }
    }

    func testEmptyStrings() {
        XCTAssertTrue(Glob.match("", ""))
        XCTAssertFalse(Glob.match("*", ""))
        XCTAssertFalse(Glob.match("", "a"))
        XCTAssertTrue(Glob.match("*", "a"))
    }

    func testCaseInsensitive() {
        XCTAssertTrue(Glob.match("MY*", "mymaster", caseInsensitive: true))
        XCTAssertFalse(Glob.match("MY*", "mymaster"))
        XCTAssertTrue(Glob.match("[A-C]x", "bX", caseInsensitive: true))
        XCTAssertTrue(Glob.match("[^A]", "b", caseInsensitive: true))
        XCTAssertFalse(Glob.match("[^A]", "a", caseInsensitive: true))
        // An escaped byte in a set is compared exactly, as in Redis.
        XCTAssertFalse(Glob.match("[\\A]", "a", caseInsensitive: true))
        XCTAssertTrue(Glob.match("\\A", "a", caseInsensitive: true))
    }

    func testBytes() {
        XCTAssertTrue(Glob.match([0x2a, 0xff], [0x00, 0x01, 0xff]))
        XCTAssertTrue(Glob.match([0x3f], [0x80]))
        XCTAssertFalse(Glob.match([0x3f], [0x80, 0x81]))
        XCTAssertTrue(Glob.match(Array("__sentinel__:*".utf8), Array("__sentinel__:hello".utf8)))
    }

    /// The pattern Redis's CVE-2024-31228 fix is about: without care, each `*` retries
    /// every position of the rest, which is exponential in the number of stars.
    func testPathologicalPatternsRunInPolynomialTime() {
        let pattern = String(repeating: "*a", count: 2000) + "*b"
        let string = String(repeating: "a", count: 20_000)
        let started = ContinuousClock.now
        XCTAssertFalse(Glob.match(pattern, string))
        XCTAssertTrue(Glob.match(pattern, string + "b"))
        XCTAssertFalse(Glob.match(String(repeating: "?", count: 5000) + "*x", string))
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(20))
    }

    /// Random short patterns and strings over the bytes that matter, against a
    /// direct recursive reading of the rules (fine for inputs this small).
    func testAgreesWithRecursiveDefinition() {
        var rng = SplitMix64(seed: 0x5EED)
        let alphabet = Array("ab*?[]^-\\A".utf8)
        for _ in 0..<50_000 {
            let p = (0..<Int(rng.next() % 8)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            let s = (0..<Int(rng.next() % 6)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            let fold = rng.next() % 2 == 0
            XCTAssertEqual(Glob.match(p, s, caseInsensitive: fold), reference(p[...], s[...], fold),
                           "\(String(decoding: p, as: UTF8.self)) vs \(String(decoding: s, as: UTF8.self))")
        }
    }

    private func reference(_ p: ArraySlice<UInt8>, _ s: ArraySlice<UInt8>, _ fold: Bool) -> Bool {
        if s.isEmpty { return p.isEmpty }
        return referenceNonEmpty(p, s, fold)
    }

    private func referenceNonEmpty(_ p: ArraySlice<UInt8>, _ s: ArraySlice<UInt8>, _ fold: Bool) -> Bool {
        guard let first = p.first else { return s.isEmpty }
        if first == UInt8(ascii: "*") {
            let rest = p.dropFirst()
            return s.indices.map { s[$0...] }.contains { referenceNonEmpty(rest, $0, fold) }
                || rest.allSatisfy { $0 == UInt8(ascii: "*") }
        }
        guard let c = s.first else { return p.allSatisfy { $0 == UInt8(ascii: "*") } }
        func low(_ x: UInt8) -> UInt8 { fold && x >= 65 && x <= 90 ? x + 32 : x }
        var i = p.startIndex
        var ok: Bool
        switch first {
        case UInt8(ascii: "?"):
            ok = true
            i += 1
        case UInt8(ascii: "\\") where p.count >= 2:
            ok = low(p[i + 1]) == low(c)
            i += 2
        case UInt8(ascii: "["):
            i += 1
            let not = i < p.endIndex && p[i] == UInt8(ascii: "^")
            if not { i += 1 }
            ok = false
            scan: while i < p.endIndex {
                switch p[i] {
                case UInt8(ascii: "\\") where i + 1 < p.endIndex:
                    if p[i + 1] == c { ok = true }
                    i += 2
                case UInt8(ascii: "]"):
                    i += 1
                    break scan
                case _ where i + 2 < p.endIndex && p[i + 1] == UInt8(ascii: "-"):
                    // Order the ends first, then fold them, as Redis does.
                    let (a, b) = (low(min(p[i], p[i + 2])), low(max(p[i], p[i + 2])))
                    if low(c) >= a && low(c) <= b { ok = true }
                    i += 3
                default:
                    if low(p[i]) == low(c) { ok = true }
                    i += 1
                }
            }
            ok = ok != not
        default:
            ok = low(first) == low(c)
            i += 1
        }
        return ok && referenceNonEmpty(p[i...], s.dropFirst(), fold)
    }
}

/// A small deterministic generator for randomized tests (SplitMix64).
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49EB_11CE_14EB
        return z ^ (z >> 31)
    }
}
