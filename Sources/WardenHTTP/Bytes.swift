// Byte-level helpers shared by the parsers: character classes of RFC 9110 and a
// consumable input buffer.

enum ASCII {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
}

/// tchar of RFC 9110 §5.6.2: the characters of a token (method, field name).
func isTokenChar(_ c: UInt8) -> Bool {
    switch c {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
         UInt8(ascii: "0")...UInt8(ascii: "9"):
        return true
    case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
         UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
         UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
        return true
    default:
        return false
    }
}

func isToken<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
    !bytes.isEmpty && bytes.allSatisfy(isTokenChar)
}

func isToken(_ text: String) -> Bool { isToken(text.utf8) }

/// A byte allowed in a field value: VCHAR, obs-text, SP and HTAB (no other controls).
func isFieldValueByte(_ c: UInt8) -> Bool {
    c == ASCII.tab || (c >= 0x20 && c != 0x7F)
}

func isOWS(_ c: UInt8) -> Bool { c == ASCII.space || c == ASCII.tab }

func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
    default: return nil
    }
}

func asciiLowercased(_ text: String) -> String {
    String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }, as: UTF8.self)
}

func asciiCaseInsensitiveEqual(_ a: String, _ b: String) -> Bool {
    let x = a.utf8, y = b.utf8
    guard x.count == y.count else { return false }
    return zip(x, y).allSatisfy { p, q in
        p == q || (p | 0x20 == q | 0x20 && (p | 0x20) >= 0x61 && (p | 0x20) <= 0x7A)
    }
}

/// Removes leading and trailing spaces and tabs.
func trimOWS(_ text: String) -> String {
    let bytes = Array(text.utf8)
    return String(decoding: trimOWS(bytes[...]), as: UTF8.self)
}

func trimOWS(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
    var slice = bytes
    while let first = slice.first, isOWS(first) { slice = slice.dropFirst() }
    while let last = slice.last, isOWS(last) { slice = slice.dropLast() }
    return slice
}

/// A non-negative decimal made only of digits, or nil (empty, other characters, or
/// above `limit`). Never traps, however long the input.
func parseDecimal<C: Collection>(_ bytes: C, limit: Int = Int.max) -> Int? where C.Element == UInt8 {
    guard !bytes.isEmpty else { return nil }
    var value = 0
    for c in bytes {
        guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { return nil }
        let (times10, o1) = value.multipliedReportingOverflow(by: 10)
        let (sum, o2) = times10.addingReportingOverflow(Int(c - UInt8(ascii: "0")))
        guard !o1, !o2, sum <= limit else { return nil }
        value = sum
    }
    return value
}

/// Received bytes not yet consumed, addressed by stream offset: the index of a byte
/// is its position in everything ever appended, so indices stay valid while
/// consumed bytes are dropped (lazily, once they are at least half of the storage,
/// which keeps consuming O(1) amortised).
struct ByteQueue: Sendable {
    private var storage: [UInt8] = []
    /// Stream offset of storage[0].
    private var base = 0
    /// Stream offset of the first unconsumed byte.
    private(set) var start = 0

    /// Unconsumed bytes.
    var count: Int { end - start }
    var isEmpty: Bool { count == 0 }
    /// Stream offset one past the last byte received.
    var end: Int { base + storage.count }

    subscript(absolute index: Int) -> UInt8 { storage[index - base] }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compactIfWorthwhile()
        storage.append(contentsOf: bytes)
    }

    mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        compactIfWorthwhile()
        storage.append(contentsOf: bytes)
    }

    /// Consumes every byte before stream offset `index`.
    mutating func consume(upTo index: Int) {
        start = min(max(index, start), end)
    }

    /// Drops every byte, consumed or not (a parser that will read no more).
    mutating func discardAll() {
        let offset = end
        storage = []
        base = offset
        start = offset
    }

    /// The bytes from stream offset `from` to `to` (indices of the slice are storage
    /// indices, not stream offsets).
    func slice(_ from: Int, _ to: Int) -> ArraySlice<UInt8> { storage[(from - base)..<(to - base)] }

    /// Stream offset of the first `byte` at or after `from`, or nil.
    func firstIndex(of byte: UInt8, from: Int) -> Int? {
        guard from < end else { return nil }
        return storage[(from - base)...].firstIndex(of: byte).map { $0 + base }
    }

    private mutating func compactIfWorthwhile() {
        let consumed = start - base
        guard consumed > 0 else { return }
        if consumed == storage.count {
            storage.removeAll(keepingCapacity: storage.capacity <= 64 * 1024)
        } else if consumed * 2 >= storage.count {
            storage.removeSubrange(0..<consumed)
        } else {
            return
        }
        base = start
    }
}
