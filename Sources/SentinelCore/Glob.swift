/// Glob-style matching with the rules of Redis's `stringmatchlen`, for
/// `SENTINEL RESET <pattern>` and `PSUBSCRIBE`.
///
/// Matching is on bytes. `*` matches any run of bytes, `?` one byte, `[abc]` one of
/// the listed bytes, `[^abc]` one byte not listed, `[a-z]` a range (ends in either
/// order), and `\x` the byte `x` (also inside brackets). The corners follow Redis:
/// an unterminated `[` set runs to the end of the pattern, a `\` that ends the
/// pattern is a literal backslash, `[a-]` is a range from `a` to `]`, and an empty
/// string is matched only by an empty pattern (not even by `*`). Bytes compare as
/// unsigned values (Redis compares signed `char`s in ranges, which only differs for
/// bytes over 0x7F), and case folding is ASCII only.
///
/// Redis recurses once per `*`; this matcher is iterative and only ever returns to
/// the most recent `*`, so any pattern runs in O(pattern × string) time.
public enum Glob {
    public static func match(_ pattern: String, _ string: String, caseInsensitive: Bool = false) -> Bool {
        var pattern = pattern
        var string = string
        return pattern.withUTF8 { p in
            string.withUTF8 { s in matchBytes(p, s, caseInsensitive) }
        }
    }

    /// The same on raw bytes, as channel names and patterns arrive in RESP bulk strings.
    public static func match(_ pattern: [UInt8], _ string: [UInt8], caseInsensitive: Bool = false) -> Bool {
        pattern.withUnsafeBufferPointer { p in
            string.withUnsafeBufferPointer { s in matchBytes(p, s, caseInsensitive) }
        }
    }

    private static func matchBytes(_ p: UnsafeBufferPointer<UInt8>, _ s: UnsafeBufferPointer<UInt8>,
                                   _ fold: Bool) -> Bool {
        if s.isEmpty { return p.isEmpty }
        var pi = 0
        var si = 0
        // Where to resume after a mismatch: the pattern just past the latest `*`, and
        // the string position that `*` will next try to stretch over.
        var resumePattern = -1
        var resumeString = 0
        while si < s.count {
            if pi < p.count && p[pi] == UInt8(ascii: "*") {
                while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
                if pi == p.count { return true }
                resumePattern = pi
                resumeString = si
                continue
            }
            if pi < p.count {
                let (matched, next) = matchOne(p, pi, s[si], fold)
                if matched {
                    pi = next
                    si += 1
                    continue
                }
            }
            guard resumePattern >= 0 else { return false }
            resumeString += 1
            si = resumeString
            pi = resumePattern
        }
        while pi < p.count && p[pi] == UInt8(ascii: "*") { pi += 1 }
        return pi == p.count
    }

    /// Matches the single-byte element of the pattern at `start` (anything but `*`)
    /// against `c`; returns whether it matched and where the next element begins.
    /// Where an element ends never depends on `c`.
    private static func matchOne(_ p: UnsafeBufferPointer<UInt8>, _ start: Int, _ c: UInt8,
                                 _ fold: Bool) -> (Bool, Int) {
        switch p[start] {
        case UInt8(ascii: "?"):
            return (true, start + 1)
        case UInt8(ascii: "\\") where start + 1 < p.count:
            return (same(p[start + 1], c, fold), start + 2)
        case UInt8(ascii: "["):
            var i = start + 1
            let negate = i < p.count && p[i] == UInt8(ascii: "^")
            if negate { i += 1 }
            var found = false
            while true {
                if i + 1 < p.count && p[i] == UInt8(ascii: "\\") {
                    // An escaped byte inside a set is compared exactly, even when folding.
                    if p[i + 1] == c { found = true }
                    i += 2
                } else if i == p.count {
                    break
                } else if p[i] == UInt8(ascii: "]") {
                    i += 1
                    break
                } else if i + 2 < p.count && p[i + 1] == UInt8(ascii: "-") {
                    var low = p[i]
                    var high = p[i + 2]
                    if low > high { swap(&low, &high) }
                    let x = fold ? lower(c) : c
                    if fold {
                        low = lower(low)
                        high = lower(high)
                    }
                    if x >= low && x <= high { found = true }
                    i += 3
                } else {
                    if same(p[i], c, fold) { found = true }
                    i += 1
                }
            }
            return (found != negate, i)
        default:
            return (same(p[start], c, fold), start + 1)
        }
    }

    private static func same(_ a: UInt8, _ b: UInt8, _ fold: Bool) -> Bool {
        fold ? lower(a) == lower(b) : a == b
    }

    private static func lower(_ c: UInt8) -> UInt8 {
        c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z") ? c + 32 : c
    }
}
