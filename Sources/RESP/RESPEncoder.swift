/// The RESP protocol version a peer speaks (`HELLO 2` / `HELLO 3`).
public enum RESPVersion: Int, Sendable {
    case resp2 = 2
    case resp3 = 3
}

/// Writes `RESPValue`s to bytes. For a RESP2 peer, RESP3-only types are
/// downgraded the way redis-server downgrades them:
///
/// | value            | RESP3                | RESP2                                   |
/// |------------------|----------------------|-----------------------------------------|
/// | map              | `%N`                 | `*2N` of key, value, key, value ...     |
/// | set, push        | `~N`, `>N`           | `*N`                                    |
/// | null             | `_`                  | `$-1`                                   |
/// | bulkString(nil)  | `_`                  | `$-1`                                   |
/// | array(nil)       | `_`                  | `*-1`                                   |
/// | double           | `,1.5`               | bulk string `1.5` (`inf`, `-inf`, `nan`)|
/// | boolean          | `#t` / `#f`          | `:1` / `:0`                             |
/// | bigNumber        | `(123`               | bulk string                             |
/// | verbatim         | `=N\r\ntxt:...`      | bulk string of the text only            |
/// | blobError        | `!N`                 | `-` error line                          |
///
/// Simple strings, errors and big numbers are single lines: any `\r` or `\n`
/// in them is written as a space.
public enum RESPEncoder {
    /// Appends the encoding of `value` to `out`.
    public static func encode(_ value: RESPValue, version: RESPVersion, into out: inout [UInt8]) {
        let resp3 = version == .resp3
        switch value {
        case .simpleString(let text):
            out.append(UInt8(ascii: "+"))
            appendLine(text.utf8, into: &out)
        case .error(let text):
            out.append(UInt8(ascii: "-"))
            appendLine(text.utf8, into: &out)
        case .integer(let number):
            out.append(UInt8(ascii: ":"))
            appendDecimal(number, into: &out)
            appendCRLF(into: &out)
        case .bulkString(let bytes?):
            appendBulk(bytes, into: &out)
        case .bulkString(nil), .null:
            appendNull(resp3: resp3, into: &out)
        case .array(let elements?):
            appendHeader(ASCII.star, elements.count, into: &out)
            for element in elements { encode(element, version: version, into: &out) }
        case .array(nil):
            if resp3 {
                appendNull(resp3: true, into: &out)
            } else {
                appendStatic("*-1\r\n", into: &out)
            }
        case .double(let number):
            if resp3 {
                out.append(UInt8(ascii: ","))
                DoubleFormat.append(number, into: &out)
                appendCRLF(into: &out)
            } else {
                var text: [UInt8] = []
                DoubleFormat.append(number, into: &text)
                appendBulk(text, into: &out)
            }
        case .boolean(let flag):
            if resp3 {
                appendStatic(flag ? "#t\r\n" : "#f\r\n", into: &out)
            } else {
                appendStatic(flag ? ":1\r\n" : ":0\r\n", into: &out)
            }
        case .bigNumber(let digits):
            if resp3 {
                out.append(UInt8(ascii: "("))
                appendLine(digits.utf8, into: &out)
            } else {
                appendBulk(digits.utf8, into: &out)
            }
        case .verbatim(let format, let text):
            if resp3 {
                appendHeader(UInt8(ascii: "="), text.count + 4, into: &out)
                // The format is exactly three bytes on the wire: pad or cut it.
                var formatBytes = format.utf8.makeIterator()
                for _ in 0..<3 { out.append(formatBytes.next() ?? ASCII.space) }
                out.append(ASCII.colon)
                out.append(contentsOf: text)
                appendCRLF(into: &out)
            } else {
                appendBulk(text, into: &out)
            }
        case .map(let pairs):
            if resp3 {
                appendHeader(UInt8(ascii: "%"), pairs.count, into: &out)
            } else {
                appendHeader(ASCII.star, pairs.count * 2, into: &out)
            }
            for pair in pairs {
                encode(pair.key, version: version, into: &out)
                encode(pair.value, version: version, into: &out)
            }
        case .set(let elements):
            appendHeader(resp3 ? UInt8(ascii: "~") : ASCII.star, elements.count, into: &out)
            for element in elements { encode(element, version: version, into: &out) }
        case .push(let elements):
            appendHeader(resp3 ? UInt8(ascii: ">") : ASCII.star, elements.count, into: &out)
            for element in elements { encode(element, version: version, into: &out) }
        case .blobError(let bytes):
            if resp3 {
                appendHeader(UInt8(ascii: "!"), bytes.count, into: &out)
                out.append(contentsOf: bytes)
                appendCRLF(into: &out)
            } else {
                out.append(ASCII.minus)
                appendLine(bytes, into: &out)
            }
        }
    }

    /// The encoding of `value`.
    public static func encode(_ value: RESPValue, version: RESPVersion) -> [UInt8] {
        var out: [UInt8] = []
        encode(value, version: version, into: &out)
        return out
    }

    /// Appends a command as a client sends it: a multibulk of bulk strings.
    public static func encodeCommand(_ args: [String], into out: inout [UInt8]) {
        appendHeader(ASCII.star, args.count, into: &out)
        for arg in args { appendBulk(arg.utf8, into: &out) }
    }

    /// Appends a command as a client sends it: a multibulk of bulk strings.
    public static func encodeCommand(_ args: [[UInt8]], into out: inout [UInt8]) {
        appendHeader(ASCII.star, args.count, into: &out)
        for arg in args { appendBulk(arg, into: &out) }
    }

    /// A command as a client sends it: a multibulk of bulk strings.
    public static func encodeCommand(_ args: [String]) -> [UInt8] {
        var out: [UInt8] = []
        encodeCommand(args, into: &out)
        return out
    }

    /// Appends `n` in decimal without going through a String.
    static func appendDecimal(_ n: Int64, into out: inout [UInt8]) {
        if n >= 0 && n < 10 {
            out.append(ASCII.zero &+ UInt8(truncatingIfNeeded: n))
            return
        }
        if n < 0 { out.append(ASCII.minus) }
        var magnitude = n.magnitude
        // 20 digits hold UInt64.max.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var index = 20
            repeat {
                index -= 1
                digits[index] = ASCII.zero &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[index..<20]))
        }
    }

    /// Appends a literal's bytes without building an array for them.
    @inline(__always)
    static func appendStatic(_ text: StaticString, into out: inout [UInt8]) {
        text.withUTF8Buffer { out.append(contentsOf: $0) }
    }

    @inline(__always)
    static func appendCRLF(into out: inout [UInt8]) {
        out.append(ASCII.cr)
        out.append(ASCII.lf)
    }

    /// `<type><count>\r\n`
    @inline(__always)
    static func appendHeader(_ type: UInt8, _ count: Int, into out: inout [UInt8]) {
        out.append(type)
        appendDecimal(Int64(count), into: &out)
        appendCRLF(into: &out)
    }

    @inline(__always)
    static func appendBulk<C: Collection>(_ bytes: C, into out: inout [UInt8]) where C.Element == UInt8 {
        appendHeader(ASCII.dollar, bytes.count, into: &out)
        out.append(contentsOf: bytes)
        appendCRLF(into: &out)
    }

    private static func appendNull(resp3: Bool, into out: inout [UInt8]) {
        appendStatic(resp3 ? "_\r\n" : "$-1\r\n", into: &out)
    }

    /// Appends one protocol line, turning any `\r` or `\n` into a space, then `\r\n`.
    private static func appendLine<C: Collection>(_ bytes: C, into out: inout [UInt8]) where C.Element == UInt8 {
        if bytes.contains(where: { $0 == ASCII.cr || $0 == ASCII.lf }) {
            for byte in bytes { out.append(byte == ASCII.cr || byte == ASCII.lf ? ASCII.space : byte) }
        } else {
            out.append(contentsOf: bytes)
        }
        appendCRLF(into: &out)
    }
}
