#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes a parser has received but not yet consumed: one growable array
/// and a read offset. Consumed bytes are dropped when everything has been
/// consumed (cheap), or before an append once at least half the array is dead.
struct InputBuffer: Sendable {
    private(set) var bytes: [UInt8] = []
    /// Index of the first unconsumed byte.
    private(set) var readOffset = 0

    /// An emptied buffer bigger than this is released rather than kept for reuse,
    /// so that one large command does not pin its memory for the connection's life.
    static let defaultRetainedCapacity = 64 * 1024
    let retainedCapacity: Int
    /// Dead bytes below this are never worth a move.
    private static let compactionThreshold = 16 * 1024

    var unconsumedCount: Int { bytes.count - readOffset }

    init(retainedCapacity: Int = InputBuffer.defaultRetainedCapacity) {
        self.retainedCapacity = retainedCapacity
    }

    mutating func append(_ chunk: UnsafeRawBufferPointer) {
        guard !chunk.isEmpty else { return }
        compact()
        chunk.withMemoryRebound(to: UInt8.self) { bytes.append(contentsOf: $0) }
    }

    mutating func append(_ chunk: [UInt8]) {
        guard !chunk.isEmpty else { return }
        compact()
        bytes.append(contentsOf: chunk)
    }

    /// Marks everything before `offset` as consumed; an emptied buffer is
    /// reset at once (and released if one big message made it large).
    mutating func consume(upTo offset: Int) {
        readOffset = offset
        if readOffset == bytes.count && readOffset > 0 {
            if bytes.capacity > retainedCapacity {
                bytes = []
            } else {
                bytes.removeAll(keepingCapacity: true)
            }
            readOffset = 0
        }
    }

    private mutating func compact() {
        // Moving the live bytes down costs no more than the dead ones took to arrive.
        if readOffset >= Self.compactionThreshold && readOffset * 2 >= bytes.count {
            bytes.removeSubrange(0..<readOffset)
            readOffset = 0
        }
    }
}

/// ASCII bytes the parsers and the encoder care about.
enum ASCII {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let nul: UInt8 = 0x00
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let minus: UInt8 = 0x2D
    static let plus: UInt8 = 0x2B
    static let dot: UInt8 = 0x2E
    static let colon: UInt8 = 0x3A
    static let dollar: UInt8 = 0x24
    static let star: UInt8 = 0x2A
    static let doubleQuote: UInt8 = 0x22
    static let singleQuote: UInt8 = 0x27
    static let backslash: UInt8 = 0x5C

    /// C's `isspace` in the C locale: space, \t, \n, \v, \f, \r.
    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == space || (byte >= 0x09 && byte <= 0x0D)
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool {
        byte >= zero && byte <= nine
    }
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// The index of the first `byte` in `start..<end`, found with memchr.
    @inline(__always)
    func firstIndex(of byte: UInt8, from start: Int, to end: Int) -> Int? {
        guard start < end, let base = baseAddress else { return nil }
        guard let hit = memchr(base + start, Int32(byte), end - start) else { return nil }
        return UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit))
    }

    /// Parses `start..<end` as a decimal integer with redis-server's strict
    /// rules (`string2ll`): an optional `-`, no `+`, no spaces, no leading zeros,
    /// at most 20 characters, no overflow.
    @inline(__always)
    func strictInt64(from start: Int, to end: Int) -> Int64? {
        let length = end - start
        guard length > 0, length < 21 else { return nil }
        var index = start
        let negative = self[index] == ASCII.minus
        if negative {
            index += 1
            if index == end { return nil }
        }
        let first = self[index]
        if first == ASCII.zero { return length == 1 ? 0 : nil }
        guard first > ASCII.zero && first <= ASCII.nine else { return nil }
        var magnitude = UInt64(first &- ASCII.zero)
        index += 1
        while index < end {
            let byte = self[index]
            guard ASCII.isDigit(byte) else { return nil }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte &- ASCII.zero))
            if overflow1 || overflow2 { return nil }
            magnitude = sum
            index += 1
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// A copy of `start..<end`.
    @inline(__always)
    func copyBytes(from start: Int, to end: Int) -> [UInt8] {
        Array(UnsafeBufferPointer(rebasing: self[start..<end]))
    }

    /// `start..<end` decoded as UTF-8 (invalid sequences become U+FFFD).
    @inline(__always)
    func string(from start: Int, to end: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: self[start..<end]), as: UTF8.self)
    }
}
