/// Splits an inline command line into arguments with the rules of Redis's
/// `sdssplitargs` (the ones redis-cli also uses):
///
/// - arguments are separated by whitespace;
/// - `"double quotes"` understand `\n \r \t \b \a`, `\xHH` and `\<any>` escapes;
/// - `'single quotes'` understand only `\'`;
/// - a quote may open in the middle of an argument (`a"b c"` is `ab c`), but a
///   closing quote must be followed by whitespace or the end of the line;
/// - an unterminated quote makes the whole line invalid.
public enum InlineSplitter {
    /// The arguments of a whole line, or nil for unbalanced quotes. sentinel.conf
    /// lines are split with the same rules.
    public static func split(_ line: [UInt8]) -> [[UInt8]]? {
        line.withUnsafeBufferPointer { split($0, from: 0, to: $0.count) }
    }

    /// The arguments of `bytes[start..<end]`, or nil for unbalanced quotes.
    static func split(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> [[UInt8]]? {
        var arguments: [[UInt8]] = []
        var index = start
        while true {
            while index < end && ASCII.isSpace(bytes[index]) { index += 1 }
            if index >= end { return arguments }
            var current: [UInt8] = []
            var inDoubleQuotes = false
            var inSingleQuotes = false
            token: while true {
                if inDoubleQuotes {
                    guard index < end else { return nil }
                    let byte = bytes[index]
                    if byte == ASCII.backslash && index + 3 < end && bytes[index + 1] == UInt8(ascii: "x"),
                       let high = hexValue(bytes[index + 2]), let low = hexValue(bytes[index + 3]) {
                        current.append(high << 4 | low)
                        index += 4
                    } else if byte == ASCII.backslash && index + 1 < end {
                        current.append(unescaped(bytes[index + 1]))
                        index += 2
                    } else if byte == ASCII.doubleQuote {
                        if index + 1 < end && !ASCII.isSpace(bytes[index + 1]) { return nil }
                        index += 1
                        break token
                    } else {
                        current.append(byte)
                        index += 1
                    }
                } else if inSingleQuotes {
                    guard index < end else { return nil }
                    let byte = bytes[index]
                    if byte == ASCII.backslash && index + 1 < end && bytes[index + 1] == ASCII.singleQuote {
                        current.append(ASCII.singleQuote)
                        index += 2
                    } else if byte == ASCII.singleQuote {
                        if index + 1 < end && !ASCII.isSpace(bytes[index + 1]) { return nil }
                        index += 1
                        break token
                    } else {
                        current.append(byte)
                        index += 1
                    }
                } else {
                    // Take the run of ordinary bytes in one copy.
                    let runStart = index
                    while index < end && !endsUnquotedRun(bytes[index]) { index += 1 }
                    if index > runStart {
                        current.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                    }
                    if index >= end { break token }
                    switch bytes[index] {
                    case ASCII.doubleQuote:
                        inDoubleQuotes = true
                        index += 1
                    case ASCII.singleQuote:
                        inSingleQuotes = true
                        index += 1
                    default:  // a separator: \v and \f are not separators inside an argument
                        index += 1
                        break token
                    }
                }
            }
            arguments.append(current)
        }
    }

    /// Bytes that end a run of unquoted argument bytes: the separators
    /// (space, \t, \r, \n) and the quotes.
    @inline(__always)
    private static func endsUnquotedRun(_ byte: UInt8) -> Bool {
        switch byte {
        case ASCII.space, ASCII.tab, ASCII.cr, ASCII.lf, ASCII.doubleQuote, ASCII.singleQuote: return true
        default: return false
        }
    }

    @inline(__always)
    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    @inline(__always)
    private static func unescaped(_ byte: UInt8) -> UInt8 {
        switch byte {
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "t"): return 0x09
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "a"): return 0x07
        default: return byte
        }
    }
}
