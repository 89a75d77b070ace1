import RESP

/// The transcript file format (see Transcripts/README.md): blocks of
///
///     command line
///     optional input lines
///     ----
///     expected output lines
///
/// separated by blank lines; `#` lines between blocks are comments.
struct TranscriptFile {
    struct Block {
        /// 1-based line number of the command line.
        let line: Int
        let command: String
        let body: [String]
        /// The expected output lines, and where they are in `lines`.
        let expected: [String]
        let expectedRange: Range<Int>
    }

    struct FormatError: Error, CustomStringConvertible {
        let line: Int
        let message: String
        var description: String { "\(line): \(message)" }
    }

    let lines: [String]
    let blocks: [Block]

    static let separator = "----"

    init(text: String) throws {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        self.lines = lines
        var blocks: [Block] = []
        var i = 0
        while i < lines.count {
            let line = lines[i]
            if line.trimmingSpaces.isEmpty || line.hasPrefix("#") {
                i += 1
                continue
            }
            var j = i + 1
            var body: [String] = []
            while j < lines.count, lines[j] != Self.separator {
                if lines[j].trimmingSpaces.isEmpty {
                    throw FormatError(line: i + 1, message: "`\(line)` has no `\(Self.separator)` line before the blank line")
                }
                body.append(lines[j])
                j += 1
            }
            guard j < lines.count else {
                throw FormatError(line: i + 1, message: "`\(line)` has no `\(Self.separator)` line")
            }
            let start = j + 1
            var end = start
            while end < lines.count, !lines[end].trimmingSpaces.isEmpty { end += 1 }
            blocks.append(Block(line: i + 1, command: line, body: body,
                                expected: Array(lines[start..<end]), expectedRange: start..<end))
            i = end
        }
        self.blocks = blocks
    }

    /// The file with every block's expected output replaced by `actual[i]`.
    func rewritten(with actual: [[String]]) -> String {
        var out = lines
        for (block, output) in zip(blocks, actual).reversed() {
            out.replaceSubrange(block.expectedRange, with: output)
        }
        return out.joined(separator: "\n") + "\n"
    }
}

extension String {
    var trimmingSpaces: Substring {
        var s = self[...]
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}

// MARK: - A readable line diff

enum LineDiff {
    /// A unified-style diff of two line lists (`-` expected, `+` actual), with
    /// `context` unchanged lines around each change; empty when they are equal.
    static func render(expected: [String], actual: [String], context: Int = 3) -> [String] {
        let n = expected.count, m = actual.count
        // Longest common subsequence table (outputs are at most a few hundred lines).
        var lcs = Array(repeating: Array(repeating: 0, count: m + 1), count: n + 1)
        for i in stride(from: n - 1, through: 0, by: -1) {
            for j in stride(from: m - 1, through: 0, by: -1) {
                lcs[i][j] = expected[i] == actual[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var ops: [(Character, String)] = []
        var i = 0, j = 0
        while i < n || j < m {
            if i < n, j < m, expected[i] == actual[j] {
                ops.append((" ", expected[i])); i += 1; j += 1
            } else if i < n, j == m || lcs[i + 1][j] >= lcs[i][j + 1] {
                ops.append(("-", expected[i])); i += 1
            } else {
                ops.append(("+", actual[j])); j += 1
            }
        }
        guard ops.contains(where: { $0.0 != " " }) else { return [] }
        var keep = Array(repeating: false, count: ops.count)
        for (k, op) in ops.enumerated() where op.0 != " " {
            for c in max(0, k - context)...min(ops.count - 1, k + context) { keep[c] = true }
        }
        var out: [String] = []
        var skipped = false
        for (k, op) in ops.enumerated() {
            if keep[k] {
                if skipped { out.append("  ..."); skipped = false }
                out.append("\(op.0) \(op.1)")
            } else {
                skipped = true
            }
        }
        if skipped { out.append("  ...") }
        return out
    }
}

// MARK: - RESP values as text

enum RESPText {
    /// `+OK`, `-ERR x`, `:1`, `"bulk"`, `(nil)`, `[a, b]`, `{k: v}`.
    static func render(_ v: RESPValue) -> String {
        switch v {
        case .simpleString(let s): return "+" + s
        case .error(let s): return "-" + s
        case .integer(let n): return ":\(n)"
        case .bulkString(nil), .array(nil), .null: return "(nil)"
        case .bulkString(let b?): return quote(String(decoding: b, as: UTF8.self))
        case .array(let a?): return "[" + a.map(render).joined(separator: ", ") + "]"
        case .set(let a): return "~[" + a.map(render).joined(separator: ", ") + "]"
        case .push(let a): return ">[" + a.map(render).joined(separator: ", ") + "]"
        case .map(let pairs): return "{" + pairs.map { render($0.key) + ": " + render($0.value) }.joined(separator: ", ") + "}"
        case .double(let d): return ",\(d)"
        case .boolean(let b): return b ? "#t" : "#f"
        case .bigNumber(let s): return "(" + s
        case .verbatim(let f, let t): return "=\(f):" + quote(String(decoding: t, as: UTF8.self))
        case .blobError(let b): return "!" + quote(String(decoding: b, as: UTF8.self))
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\r": out += "\\r"
            case "\n": out += "\\n"
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: out.unicodeScalars.append(c)
            }
        }
        return out + "\""
    }

    struct ParseError: Error, CustomStringConvertible {
        let description: String
    }

    /// Reads the forms `render` writes (simple strings, errors, integers, quoted
    /// bulk strings, `(nil)` and arrays).
    static func parse(_ text: String) throws -> RESPValue {
        var p = Parser(chars: Array(text.unicodeScalars))
        let v = try p.value()
        p.skipSpaces()
        guard p.i == p.chars.count else { throw ParseError(description: "unexpected text after the value in `\(text)`") }
        return v
    }

    private struct Parser {
        let chars: [Unicode.Scalar]
        var i = 0

        mutating func skipSpaces() {
            while i < chars.count, chars[i] == " " { i += 1 }
        }

        mutating func value() throws -> RESPValue {
            skipSpaces()
            guard i < chars.count else { throw ParseError(description: "a value is missing") }
            switch chars[i] {
            case "+", "-", ":":
                let kind = chars[i]
                i += 1
                var s = ""
                // Inside an array a simple value ends at `,` or `]`.
                while i < chars.count, chars[i] != ",", chars[i] != "]" { s.unicodeScalars.append(chars[i]); i += 1 }
                let t = String(s.trimmingSpaces)
                if kind == "+" { return .simpleString(t) }
                if kind == "-" { return .error(t) }
                guard let n = Int64(t) else { throw ParseError(description: "bad integer `\(t)`") }
                return .integer(n)
            case "\"":
                i += 1
                var s = ""
                while i < chars.count, chars[i] != "\"" {
                    if chars[i] == "\\", i + 1 < chars.count {
                        i += 1
                        switch chars[i] {
                        case "r": s += "\r"
                        case "n": s += "\n"
                        default: s.unicodeScalars.append(chars[i])
                        }
                    } else {
                        s.unicodeScalars.append(chars[i])
                    }
                    i += 1
                }
                guard i < chars.count else { throw ParseError(description: "unterminated string") }
                i += 1
                return .bulk(s)
            case "(":
                guard String(String.UnicodeScalarView(chars[i...].prefix(5))) == "(nil)" else {
                    throw ParseError(description: "unknown value")
                }
                i += 5
                return .bulkString(nil)
            case "[":
                i += 1
                var items: [RESPValue] = []
                skipSpaces()
                if i < chars.count, chars[i] == "]" { i += 1; return .array([]) }
                while true {
                    items.append(try value())
                    skipSpaces()
                    guard i < chars.count else { throw ParseError(description: "unterminated array") }
                    if chars[i] == "]" { i += 1; return .array(items) }
                    guard chars[i] == "," else { throw ParseError(description: "expected `,` in array") }
                    i += 1
                }
            default:
                throw ParseError(description: "a value starts with + - : \" ( or [")
            }
        }
    }
}
