/// An absolute `http` or `https` URL, parsed strictly for use as a webhook endpoint.
///
/// Accepted: `http[s]://host[:port][/path][?query]` where host is a DNS name (ASCII
/// letters, digits and hyphens in dot-separated labels; lowercased), a dotted-quad
/// IPv4 address, or an IPv6 address in brackets. Refused, each with its reason:
/// another scheme, credentials (`user:pass@`, which would end up in logs: use a
/// secret instead), a fragment, a port outside 1...65535, an IPv6 zone (`%eth0`),
/// non-ASCII (write the punycode form), bytes a URL may not contain unescaped
/// (space, `"`, `<`, `>`, `\`, `^`, `` ` ``, `{`, `|`, `}`, controls), a bad `%`
/// escape, and URLs longer than `maxLength`.
public struct HTTPURL: Equatable, Hashable, Sendable, CustomStringConvertible {
    public enum HostKind: Equatable, Hashable, Sendable {
        case name, ipv4, ipv6
    }

    public static let maxLength = 2048

    /// True for https.
    public let isSecure: Bool
    /// The host without brackets: "example.com", "10.0.0.1", "::1".
    public let host: String
    public let hostKind: HostKind
    public let port: Int
    /// Path and query, as sent in the request line: "/hooks/warden?x=1" ("/" at least).
    public let target: String

    public var scheme: String { isSecure ? "https" : "http" }
    public var defaultPort: Int { isSecure ? 443 : 80 }

    /// The Host field: the host (IPv6 in brackets) and the port unless it is the default.
    public var authority: String {
        let h = hostKind == .ipv6 ? "[\(host)]" : host
        return port == defaultPort ? h : "\(h):\(port)"
    }

    /// The URL in normal form (scheme and host lowercased, default port left out).
    public var description: String { "\(scheme)://\(authority)\(target)" }

    public init(parsing text: String) throws(HTTPURLError) {
        guard text.utf8.count <= Self.maxLength else { throw .init("URL longer than \(Self.maxLength) bytes") }
        guard text.utf8.allSatisfy({ $0 < 0x80 }) else {
            throw .init("URL contains non-ASCII characters (percent-encode them, and use the punycode form of a host name)")
        }
        guard let schemeEnd = text.firstIndex(of: ":"), text[schemeEnd...].hasPrefix("://") else {
            throw .init("not an absolute URL (expected http://host/path or https://host/path)")
        }
        let scheme = asciiLowercased(String(text[..<schemeEnd]))
        switch scheme {
        case "http": isSecure = false
        case "https": isSecure = true
        default: throw .init("unsupported scheme '\(scheme)' (use http or https)")
        }
        let rest = text[text.index(schemeEnd, offsetBy: 3)...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if target.contains("#") { throw .init("URL has a fragment ('#...'), which is never sent to the server") }
        guard !authority.contains("@") else { throw .init("credentials in the URL are not supported (use a webhook secret)") }
        guard !authority.isEmpty else { throw .init("URL has no host") }

        var hostPart = authority
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .init("unterminated '[' in the host") }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .init("unexpected characters after the IPv6 address") }
                portPart = after.dropFirst()
            }
            if hostPart.contains("%") { throw .init("IPv6 zone identifiers are not supported") }
            guard isIPv6Address(hostPart) else { throw .init("invalid IPv6 address '\(hostPart)'") }
            host = asciiLowercased(String(hostPart))
            hostKind = .ipv6
        } else {
            if let colon = authority.lastIndex(of: ":") {
                hostPart = authority[..<colon]
                portPart = authority[authority.index(after: colon)...]
            }
            let lowered = asciiLowercased(String(hostPart))
            if lowered.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2E }) {
                guard isIPv4Address(lowered) else { throw .init("invalid IPv4 address '\(hostPart)'") }
                hostKind = .ipv4
            } else {
                guard isHostName(lowered) else { throw .init("invalid host name '\(hostPart)'") }
                hostKind = .name
            }
            host = lowered
        }
        if let portPart {
            guard let p = parseDecimal(portPart.utf8, limit: 65535), p >= 1, portPart.utf8.count <= 5 else {
                throw .init("invalid port '\(portPart)' (1-65535)")
            }
            port = p
        } else {
            port = isSecure ? 443 : 80
        }
        if target.isEmpty || target.hasPrefix("?") { target = "/" + target }
        for c in target.utf8 where !Self.isTargetByte(c) {
            throw .init("URL contains a character that must be percent-encoded: '\(Character(Unicode.Scalar(c)))'")
        }
        guard PercentEncoding.decodeBytes(Substring(target)) != nil else { throw .init("invalid percent-escape in the URL") }
        self.target = target
    }

    private static func isTargetByte(_ c: UInt8) -> Bool {
        guard c > 0x20 && c < 0x7F else { return false }
        switch c {
        case UInt8(ascii: "\""), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\\"), UInt8(ascii: "^"),
             UInt8(ascii: "`"), UInt8(ascii: "{"), UInt8(ascii: "|"), UInt8(ascii: "}"):
            return false
        default:
            return true
        }
    }
}

public struct HTTPURLError: Error, Equatable, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Four decimal octets 0...255 without leading zeros ("010" could be read as octal).
func isIPv4Address<S: StringProtocol>(_ text: S) -> Bool {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    return parts.count == 4 && parts.allSatisfy { part in
        guard parseDecimal(part.utf8, limit: 255) != nil, part.utf8.count <= 3 else { return false }
        return part.utf8.count == 1 || part.utf8.first != UInt8(ascii: "0")
    }
}

/// RFC 4291 text form: eight groups of 1-4 hex digits, one `::` for a run of zero
/// groups, optionally ending in an IPv4 address.
func isIPv6Address<S: StringProtocol>(_ text: S) -> Bool {
    let s = String(text)
    guard s.utf8.count <= 45 else { return false }
    let halves = s.components(separatedByDoubleColon: ())
    guard halves.count <= 2 else { return false }
    func groups(_ part: String, allowIPv4Tail: Bool) -> Int? {
        if part.isEmpty { return 0 }
        let items = part.split(separator: ":", omittingEmptySubsequences: false)
        var count = 0
        for (index, item) in items.enumerated() {
            if index == items.count - 1 && allowIPv4Tail && item.contains(".") {
                guard isIPv4Address(item) else { return nil }
                count += 2
            } else {
                guard (1...4).contains(item.utf8.count), item.utf8.allSatisfy({ hexValue($0) != nil }) else { return nil }
                count += 1
            }
        }
        return count
    }
    if halves.count == 1 {
        return groups(halves[0], allowIPv4Tail: true) == 8
    }
    guard let head = groups(halves[0], allowIPv4Tail: false), let tail = groups(halves[1], allowIPv4Tail: true) else {
        return false
    }
    return head + tail <= 7
}

extension String {
    /// Splits at each "::" (no Foundation here).
    fileprivate func components(separatedByDoubleColon: ()) -> [String] {
        var parts: [String] = []
        var current: [UInt8] = []
        let bytes = Array(utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == ASCII.colon && i + 1 < bytes.count && bytes[i + 1] == ASCII.colon {
                parts.append(String(decoding: current, as: UTF8.self))
                current = []
                i += 2
            } else {
                current.append(bytes[i])
                i += 1
            }
        }
        parts.append(String(decoding: current, as: UTF8.self))
        return parts
    }
}

/// Dot-separated labels of letters, digits and hyphens (1-63 each, not starting or
/// ending with a hyphen), 253 bytes at most. A single trailing dot is allowed.
func isHostName(_ name: String) -> Bool {
    var n = Substring(name)
    if n.hasSuffix(".") { n = n.dropLast() }
    guard !n.isEmpty, n.utf8.count <= 253 else { return false }
    return n.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
        (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
            && label.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
    }
}
