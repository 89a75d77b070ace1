/// IP address literals: validation and the canonical text form, without libc.
///
/// Two dialects, both checked against glibc on Linux:
/// - the strict one of `inet_pton`: dotted quads of decimal numbers without leading
///   zeros, and RFC 4291 IPv6 text (at most one `::`, a dotted quad allowed as the
///   last 32 bits, no zone);
/// - the one redis-sentinel really accepts where hostnames are not resolved
///   (`SENTINEL MONITOR`, `sentinel monitor` in the config): `getaddrinfo` with
///   `AI_NUMERICHOST`, which also takes the old `inet_aton` forms of IPv4 (`127.1`,
///   `0x7f.0.0.1`, `010.0.0.1` — octal, so 8.0.0.1 — and a bare 32-bit number) and an
///   IPv6 zone suffix (`fe80::1%2`), and which Redis then prints with `inet_ntop`.
///
/// Canonical text is what `inet_ntop` prints: IPv4 as four decimals; IPv6 in lower
/// case without leading zeros, the first longest run of two or more zero groups as
/// `::`, and the last 32 bits as a dotted quad for IPv4-compatible (`::a.b.c.d`) and
/// IPv4-mapped (`::ffff:a.b.c.d`) addresses.
public enum IPAddress {
    /// A strict dotted-quad IPv4 literal, as `inet_pton(AF_INET)` accepts.
    public static func isValidIPv4(_ s: String) -> Bool {
        parseIPv4Strict(Array(s.utf8)[...]) != nil
    }

    /// An IPv6 literal as `inet_pton(AF_INET6)` accepts (no zone, no brackets).
    public static func isValidIPv6(_ s: String) -> Bool {
        parseIPv6(Array(s.utf8)[...]) != nil
    }

    /// A strict IPv4 or IPv6 literal.
    public static func isValid(_ s: String) -> Bool {
        isValidIPv4(s) || isValidIPv6(s)
    }

    /// The canonical form of a strict IPv4 or IPv6 literal, or nil if `s` is neither.
    public static func normalize(_ s: String) -> String? {
        let bytes = Array(s.utf8)[...]
        if let v4 = parseIPv4Strict(bytes) { return format(ipv4: v4) }
        if let v6 = parseIPv6(bytes) { return format(ipv6: v6) }
        return nil
    }

    /// What redis-sentinel makes of a host when it does not resolve hostnames: the
    /// canonical form of any numeric host `getaddrinfo(AI_NUMERICHOST)` accepts, or
    /// nil where Redis answers `Invalid IP address or hostname specified`.
    ///
    /// A zone is accepted only as a number (`%2`); glibc also looks up interface
    /// names for link-local addresses, which needs the system. The zone is dropped
    /// from the result, as it is from the address Redis keeps.
    public static func normalizeNumericHost(_ s: String) -> String? {
        // The common case (every hello, INFO and GET-MASTER-ADDR-BY-NAME asks),
        // without the allocations of the full parse: a canonical dotted quad is
        // its own normal form.
        if isCanonicalDottedQuad(s) { return s }
        let bytes = Array(s.utf8)[...]
        if let v4 = parseIPv4Legacy(bytes) { return format(ipv4: v4) }
        var address = bytes
        if let percent = bytes.firstIndex(of: UInt8(ascii: "%")) {
            let zone = bytes[(percent + 1)...]
            guard let first = zone.first, isDigit(first),
                  let n = ASCIINumber.uint64(zone), n <= UInt64(UInt32.max) else { return nil }
            address = bytes[..<percent]
        }
        return parseIPv6(address).map(format(ipv6:))
    }

    // MARK: - IPv4

    /// Four decimal parts of 0...255 without leading zeros, separated by dots:
    /// certainly an IPv4 literal.
    static func isCanonicalDottedQuad(_ host: String) -> Bool {
        var parts = 0, value = 0, digits = 0
        for c in host.utf8 {
            if c >= 0x30 && c <= 0x39 {
                if digits > 0 && value == 0 { return false }  // "0..." is octal to getaddrinfo
                value = value * 10 + Int(c - 0x30)
                digits += 1
                if digits > 3 || value > 255 { return false }
            } else if c == 0x2e && digits > 0 && parts < 3 {
                parts += 1
                value = 0
                digits = 0
            } else {
                return false
            }
        }
        return parts == 3 && digits > 0
    }

    /// `inet_pton`: exactly four decimal parts of 0...255, no leading zeros, nothing else.
    private static func parseIPv4Strict(_ s: ArraySlice<UInt8>) -> [UInt8]? {
        var parts: [UInt8] = []
        parts.reserveCapacity(4)
        var value = 0
        var digits = 0
        for c in s {
            if isDigit(c) {
                if digits > 0 && value == 0 { return nil }  // a leading zero
                value = value * 10 + Int(c - UInt8(ascii: "0"))
                if value > 255 { return nil }
                digits += 1
            } else if c == UInt8(ascii: "."), digits > 0, parts.count < 3 {
                parts.append(UInt8(value))
                value = 0
                digits = 0
            } else {
                return nil
            }
        }
        guard digits > 0, parts.count == 3 else { return nil }
        parts.append(UInt8(value))
        return parts
    }

    /// `inet_aton` with nothing allowed after the address: one to four parts, each
    /// decimal, octal (leading 0) or hex (0x); the last part fills the remaining bytes.
    private static func parseIPv4Legacy(_ s: ArraySlice<UInt8>) -> [UInt8]? {
        var values: [UInt32] = []
        var i = s.startIndex
        while true {
            guard i < s.endIndex, isDigit(s[i]) else { return nil }
            guard let (value, next) = parseCNumber(s, from: i) else { return nil }
            values.append(value)
            i = next
            if i == s.endIndex { break }
            guard s[i] == UInt8(ascii: "."), values.count < 4, value <= 0xff else { return nil }
            i += 1
        }
        let head = values.dropLast()
        let maxLast: [UInt32] = [0xffff_ffff, 0xff_ffff, 0xffff, 0xff]
        guard let last = values.last, last <= maxLast[head.count] else { return nil }
        var word = last
        for (k, v) in head.enumerated() { word |= v << (24 - 8 * UInt32(k)) }
        return [UInt8(word >> 24), UInt8(word >> 16 & 0xff), UInt8(word >> 8 & 0xff), UInt8(word & 0xff)]
    }

    /// A number as C's `strtoul(_, _, 0)` reads it, stopping at the first byte that
    /// does not belong to it; nil if it exceeds 32 bits. `s[from]` is a digit.
    private static func parseCNumber(_ s: ArraySlice<UInt8>, from: Int) -> (UInt32, Int)? {
        var i = from
        var base: UInt64 = 10
        if s[i] == UInt8(ascii: "0") {
            base = 8
            if i + 1 < s.endIndex, s[i + 1] | 0x20 == UInt8(ascii: "x"),
               i + 2 < s.endIndex, hexValue(s[i + 2]) != nil {
                base = 16
                i += 2
            }
        }
        var value: UInt64 = 0
        while i < s.endIndex, let d = hexValue(s[i]), UInt64(d) < base {
            value = value * base + UInt64(d)
            if value > 0xffff_ffff { return nil }
            i += 1
        }
        return (UInt32(value), i)
    }

    // MARK: - IPv6

    /// `inet_pton(AF_INET6)`: eight groups of one to four hex digits, one `::` for a
    /// run of zero groups, optionally a strict dotted quad for the last two groups.
    private static func parseIPv6(_ s: ArraySlice<UInt8>) -> [UInt16]? {
        var groups: [UInt16] = []
        groups.reserveCapacity(8)
        var gapAt: Int? = nil
        var i = s.startIndex
        guard i < s.endIndex else { return nil }
        if s[i] == UInt8(ascii: ":") {
            guard i + 1 < s.endIndex, s[i + 1] == UInt8(ascii: ":") else { return nil }
            i += 1
        }
        var tokenStart = i
        var value: UInt16 = 0
        var digits = 0
        while i < s.endIndex {
            let c = s[i]
            i += 1
            if let d = hexValue(c) {
                if digits == 4 { return nil }
                value = value << 4 | UInt16(d)
                digits += 1
            } else if c == UInt8(ascii: ":") {
                tokenStart = i
                if digits == 0 {
                    if gapAt != nil { return nil }
                    gapAt = groups.count
                    continue
                }
                if i == s.endIndex || groups.count == 8 { return nil }
                groups.append(value)
                value = 0
                digits = 0
            } else if c == UInt8(ascii: "."), groups.count <= 6,
                      let quad = parseIPv4Strict(s[tokenStart...]) {
                groups.append(UInt16(quad[0]) << 8 | UInt16(quad[1]))
                groups.append(UInt16(quad[2]) << 8 | UInt16(quad[3]))
                digits = 0
                break
            } else {
                return nil
            }
        }
        if digits > 0 {
            if groups.count == 8 { return nil }
            groups.append(value)
        }
        if let gapAt {
            // `::` must stand for at least one group.
            if groups.count == 8 { return nil }
            groups.insert(contentsOf: repeatElement(0, count: 8 - groups.count), at: gapAt)
        }
        return groups.count == 8 ? groups : nil
    }

    // MARK: - Text

    private static func format(ipv4 b: [UInt8]) -> String {
        "\(b[0]).\(b[1]).\(b[2]).\(b[3])"
    }

    private static func format(ipv6 g: [UInt16]) -> String {
        // The first longest run of zero groups, if it has at least two.
        var bestStart = -1
        var bestLength = 0
        var runStart = -1
        for k in 0...8 {
            if k < 8 && g[k] == 0 {
                if runStart < 0 { runStart = k }
            } else if runStart >= 0 {
                if k - runStart > bestLength {
                    bestStart = runStart
                    bestLength = k - runStart
                }
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }

        var text = ""
        for k in 0..<8 {
            if bestStart >= 0 && k >= bestStart && k < bestStart + bestLength {
                if k == bestStart { text += ":" }
                continue
            }
            if k > 0 { text += ":" }
            if k == 6 && bestStart == 0 && (bestLength == 6 || (bestLength == 5 && g[5] == 0xffff)) {
                text += "\(g[6] >> 8).\(g[6] & 0xff).\(g[7] >> 8).\(g[7] & 0xff)"
                break
            }
            text += String(g[k], radix: 16)
        }
        if bestStart >= 0 && bestStart + bestLength == 8 { text += ":" }
        return text
    }

    private static func isDigit(_ c: UInt8) -> Bool {
        c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
