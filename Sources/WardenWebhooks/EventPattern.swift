/// Which events an endpoint receives: a list of glob patterns over Redis event names
/// (`+switch-master`, `+odown`, `-sdown`, `+failover-state-*`).
///
/// The glob follows Redis's pattern rules (as `PSUBSCRIBE`): `*` any run of
/// characters, `?` one, `[abc]` / `[^abc]` / `[a-z]` a set, `\x` the character x;
/// matching is on bytes and case-sensitive. An unterminated `[` set runs to the end
/// of the pattern. It is written here, not shared with SentinelCore's `Glob`, so this
/// module stays independent of the core; the tests check the two agree.
public struct EventPattern: Equatable, Sendable {
    public let text: String
    private let tokens: [Token]

    private enum Token: Equatable, Sendable {
        case byte(UInt8)
        case any
        case star
        case set(negated: Bool, ranges: [ClosedRange<UInt8>])
    }

    public init(_ text: String) {
        self.text = text
        tokens = Self.compile(Array(text.utf8))
    }

    private static func compile(_ p: [UInt8]) -> [Token] {
        var tokens: [Token] = []
        var i = 0
        while i < p.count {
            let c = p[i]
            i += 1
            switch c {
            case UInt8(ascii: "*"):
                if tokens.last != .star { tokens.append(.star) }
            case UInt8(ascii: "?"):
                tokens.append(.any)
            case UInt8(ascii: "\\") where i < p.count:
                tokens.append(.byte(p[i]))
                i += 1
            case UInt8(ascii: "["):
                var negated = false
                if i < p.count && p[i] == UInt8(ascii: "^") {
                    negated = true
                    i += 1
                }
                var ranges: [ClosedRange<UInt8>] = []
                while i < p.count && p[i] != UInt8(ascii: "]") {
                    if p[i] == UInt8(ascii: "\\") && i + 1 < p.count {
                        ranges.append(p[i + 1]...p[i + 1])
                        i += 2
                    } else if i + 2 < p.count && p[i + 1] == UInt8(ascii: "-") {
                        ranges.append(min(p[i], p[i + 2])...max(p[i], p[i + 2]))
                        i += 3
                    } else {
                        ranges.append(p[i]...p[i])
                        i += 1
                    }
                }
                if i < p.count { i += 1 }   // the closing ]
                tokens.append(.set(negated: negated, ranges: ranges))
            default:
                tokens.append(.byte(c))
            }
        }
        return tokens
    }

    /// Whether `name` matches. An empty name matches only an empty pattern (as in Redis).
    public func matches(_ name: String) -> Bool {
        let s = Array(name.utf8)
        if s.isEmpty { return tokens.isEmpty }
        // Backtracking to the latest star only: O(pattern x name).
        var t = 0, i = 0
        var starToken = -1, starPosition = 0
        while i < s.count {
            if t < tokens.count {
                switch tokens[t] {
                case .star:
                    starToken = t
                    starPosition = i
                    t += 1
                    continue
                case .any:
                    t += 1
                    i += 1
                    continue
                case .byte(let b) where b == s[i]:
                    t += 1
                    i += 1
                    continue
                case .set(let negated, let ranges) where ranges.contains(where: { $0.contains(s[i]) }) != negated:
                    t += 1
                    i += 1
                    continue
                default:
                    break
                }
            }
            guard starToken >= 0 else { return false }
            starPosition += 1
            i = starPosition
            t = starToken + 1
        }
        while t < tokens.count && tokens[t] == .star { t += 1 }
        return t == tokens.count
    }
}
