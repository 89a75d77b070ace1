// Glob.match (SENTINEL RESET patterns, PSUBSCRIBE): never traps, runs in
// O(pattern x string) (libFuzzer's -timeout catches anything slower), agrees
// with a straightforward memoised matcher of the same rules, and the String and
// byte entry points agree.
//
// Input: one control byte (bit 0: case-insensitive; bits 1...7 with the next
// byte: the pattern's length), then the pattern, then the string.
import SentinelCore

/// One element of a pattern: `*`, or a test on a single byte.
enum Element {
    case star
    case byte((UInt8) -> Bool)
}

func lowerASCII(_ c: UInt8) -> UInt8 { c >= 65 && c <= 90 ? c + 32 : c }

/// The pattern's elements, read with Glob's documented rules.
func elements(_ p: [UInt8], fold: Bool) -> [Element] {
    func eq(_ a: UInt8, _ b: UInt8) -> Bool { fold ? lowerASCII(a) == lowerASCII(b) : a == b }
    var out: [Element] = []
    var i = 0
    while i < p.count {
        let c = p[i]
        if c == UInt8(ascii: "*") {
            out.append(.star)
            i += 1
        } else if c == UInt8(ascii: "?") {
            out.append(.byte { _ in true })
            i += 1
        } else if c == UInt8(ascii: "\\") && i + 1 < p.count {
            let literal = p[i + 1]
            out.append(.byte { eq($0, literal) })
            i += 2
        } else if c == UInt8(ascii: "[") {
            i += 1
            var negate = false
            if i < p.count && p[i] == UInt8(ascii: "^") {
                negate = true
                i += 1
            }
            var tests: [(UInt8) -> Bool] = []
            while i < p.count && p[i] != UInt8(ascii: "]") {
                if p[i] == UInt8(ascii: "\\") && i + 1 < p.count {
                    let literal = p[i + 1]
                    tests.append { $0 == literal }  // exact even when folding
                    i += 2
                } else if i + 2 < p.count && p[i + 1] == UInt8(ascii: "-") {
                    var (low, high) = (min(p[i], p[i + 2]), max(p[i], p[i + 2]))
                    if fold { (low, high) = (lowerASCII(low), lowerASCII(high)) }
                    tests.append { c in
                        let x = fold ? lowerASCII(c) : c
                        return x >= low && x <= high
                    }
                    i += 3
                } else {
                    let literal = p[i]
                    tests.append { eq($0, literal) }
                    i += 1
                }
            }
            if i < p.count { i += 1 }  // the `]`
            out.append(.byte { c in tests.contains { $0(c) } != negate })
        } else {
            out.append(.byte { eq($0, c) })
            i += 1
        }
    }
    return out
}

/// Memoised reference: does `elements[e...]` match `s[i...]`?
func reference(_ pattern: [UInt8], _ s: [UInt8], fold: Bool) -> Bool {
    if s.isEmpty { return pattern.isEmpty }
    let el = elements(pattern, fold: fold)
    var memo = [Bool?](repeating: nil, count: (el.count + 1) * (s.count + 1))
    func go(_ e: Int, _ i: Int) -> Bool {
        let key = e * (s.count + 1) + i
        if let known = memo[key] { return known }
        let result: Bool
        if e == el.count {
            result = i == s.count
        } else {
            switch el[e] {
            case .star: result = go(e + 1, i) || (i < s.count && go(e, i + 1))
            case .byte(let test): result = i < s.count && test(s[i]) && go(e + 1, i + 1)
            }
        }
        memo[key] = result
        return result
    }
    return go(0, 0)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGlob(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count >= 2 else { return 0 }
    let bytes = input(data, count)
    let fold = bytes[0] & 1 == 1
    let patternLength = min((Int(bytes[0] >> 1) << 8 | Int(bytes[1])), count - 2)
    let pattern = Array(bytes[2..<2 + patternLength])
    let string = Array(bytes[(2 + patternLength)...])
    let matched = Glob.match(pattern, string, caseInsensitive: fold)
    if pattern.count * string.count <= 1 << 16 {
        let expected = reference(pattern, string, fold: fold)
        require(matched == expected, "Glob.match(\(pattern), \(string), fold: \(fold)) = \(matched), expected \(expected)")
    }
    if let p = String(validating: pattern, as: UTF8.self), let s = String(validating: string, as: UTF8.self) {
        require(Glob.match(p, s, caseInsensitive: fold) == matched, "String and byte matches differ")
    }
    return 0
}
