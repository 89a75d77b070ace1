/// The client side of RESP: turns the byte stream a Redis server (or another
/// sentinel) sends into `RESPValue`s. Understands every RESP2 and RESP3 type;
/// attributes (`|`) are parsed and dropped, leaving the value they annotate.
///
/// Bytes may arrive split anywhere. Partly received aggregates are kept on a
/// stack, so a large reply arriving in many reads is parsed only once.
///
/// `$-1` is `.bulkString(nil)` and `*-1` is `.array(nil)`; a length of -1 on any
/// other type is an error. Lines must end in `\r\n`, and so must bulk payloads;
/// a simple string or error line holding a `\n` is an error, as is a verbatim
/// string whose three format bytes are not ASCII.
public struct RESPReplyParser: Sendable {
    public let limits: RESPLimits

    private var input: InputBuffer
    private var progress = Progress()
    private var failure: RESPProtocolError?

    /// `retainedCapacity`: an emptied input buffer larger than this is freed rather
    /// than kept for the next reply (a sentinel's links mostly receive short replies
    /// and an INFO now and then: they need not keep an INFO's worth per link).
    public init(limits: RESPLimits = .default, retainedCapacity: Int = 64 * 1024) {
        self.limits = limits
        self.input = InputBuffer(retainedCapacity: retainedCapacity)
    }

    /// How many received bytes have not been consumed by a returned value yet
    /// (including the parts of a partly received aggregate already parsed).
    public var bufferedByteCount: Int { input.unconsumedCount + progress.valueBytes }

    /// Adds bytes read from the server.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        input.append(bytes)
    }

    /// Adds bytes read from the server.
    public mutating func append(_ bytes: [UInt8]) {
        input.append(bytes)
    }

    /// The next complete value, or nil when more bytes are needed. Once this
    /// throws, it throws the same error on every later call.
    public mutating func next() throws(RESPProtocolError) -> RESPValue? {
        if let failure { throw failure }
        var state = progress
        progress.stack = []  // keep a single reference so appends do not copy
        state.offset = input.readOffset
        let limits = self.limits
        do {
            let value = try input.bytes.withUnsafeBufferPointer {
                (bytes) throws(RESPProtocolError) -> RESPValue? in
                try Self.parse(bytes, &state, limits: limits)
            }
            input.consume(upTo: state.offset)
            progress = state
            return value
        } catch {
            failure = error
            throw error
        }
    }

    /// An aggregate whose elements are still arriving.
    private struct Frame: Sendable {
        enum Kind: Sendable { case array, set, push, map, attribute }
        var kind: Kind
        /// Elements still expected (keys and values count separately in maps).
        var remaining: Int
        var items: [RESPValue]

        /// The finished aggregate; nil for an attribute, which is dropped.
        func finished() -> RESPValue? {
            switch kind {
            case .array: return .array(items)
            case .set: return .set(items)
            case .push: return .push(items)
            case .attribute: return nil
            case .map:
                var pairs: [RESPPair] = []
                pairs.reserveCapacity(items.count / 2)
                var index = 0
                while index + 1 < items.count {
                    pairs.append(RESPPair(items[index], items[index + 1]))
                    index += 2
                }
                return .map(pairs)
            }
        }
    }

    /// Where the parser stands inside the current top-level value.
    private struct Progress: Sendable {
        /// Index of the first unconsumed byte.
        var offset = 0
        /// Open aggregates, outermost first.
        var stack: [Frame] = []
        /// Bytes consumed by the current, still incomplete, top-level value.
        var valueBytes = 0
    }

    private static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>, _ state: inout Progress, limits: RESPLimits
    ) throws(RESPProtocolError) -> RESPValue? {
        let end = bytes.count
        while true {
            let start = state.offset
            guard start < end, let cr = try lineEnd(bytes, at: start, state, limits: limits) else {
                return try incomplete(bytes, state, limits)
            }
            let type = bytes[start]
            var next = cr + 2
            let value: RESPValue
            switch type {
            case UInt8(ascii: "+"):
                // RESP lines hold no \n (nor \r, which ends them): none could be
                // written back, and no server sends one.
                guard bytes.firstIndex(of: ASCII.lf, from: start + 1, to: cr) == nil else {
                    throw .protocolError("invalid simple string")
                }
                value = .simpleString(bytes.string(from: start + 1, to: cr))
            case UInt8(ascii: "-"):
                guard bytes.firstIndex(of: ASCII.lf, from: start + 1, to: cr) == nil else {
                    throw .protocolError("invalid error reply")
                }
                value = .error(bytes.string(from: start + 1, to: cr))
            case UInt8(ascii: ":"):
                guard let number = bytes.strictInt64(from: start + 1, to: cr) else {
                    throw .protocolError("invalid integer")
                }
                value = .integer(number)
            case UInt8(ascii: "_"):
                guard cr == start + 1 else { throw .protocolError("invalid null") }
                value = .null
            case UInt8(ascii: ","):
                guard let number = Double(bytes.string(from: start + 1, to: cr)) else {
                    throw .protocolError("invalid double")
                }
                value = .double(number)
            case UInt8(ascii: "#"):
                guard cr == start + 2 else { throw .protocolError("invalid boolean") }
                switch bytes[start + 1] {
                case UInt8(ascii: "t"): value = .boolean(true)
                case UInt8(ascii: "f"): value = .boolean(false)
                default: throw .protocolError("invalid boolean")
                }
            case UInt8(ascii: "("):
                guard isBigNumber(bytes, from: start + 1, to: cr) else {
                    throw .protocolError("invalid big number")
                }
                value = .bigNumber(bytes.string(from: start + 1, to: cr))
            case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
                guard let length = bytes.strictInt64(from: start + 1, to: cr) else {
                    throw .protocolError("invalid bulk length")
                }
                if length == -1 && type == UInt8(ascii: "$") {
                    value = .bulkString(nil)
                    break
                }
                guard length >= 0, length <= Int64(limits.maxBulkLength) else {
                    throw .protocolError("invalid bulk length")
                }
                let count = Int(length)
                if state.valueBytes + (next - start) + count + 2 > limits.maxQueryBuffer {
                    throw .queryBufferLimit
                }
                guard end - next >= count + 2 else { return try incomplete(bytes, state, limits) }
                guard bytes[next + count] == ASCII.cr, bytes[next + count + 1] == ASCII.lf else {
                    throw .protocolError("bulk string not terminated by CRLF")
                }
                switch type {
                case UInt8(ascii: "$"):
                    value = .bulkString(bytes.copyBytes(from: next, to: next + count))
                case UInt8(ascii: "!"):
                    value = .blobError(bytes.copyBytes(from: next, to: next + count))
                default:
                    // Three ASCII bytes of format (`txt`, `mkd`), a colon, the text.
                    guard count >= 4, bytes[next + 3] == ASCII.colon,
                          bytes[next] < 0x80, bytes[next + 1] < 0x80, bytes[next + 2] < 0x80 else {
                        throw .protocolError("invalid verbatim string")
                    }
                    value = .verbatim(format: bytes.string(from: next, to: next + 3),
                                      text: bytes.copyBytes(from: next + 4, to: next + count))
                }
                next += count + 2
            case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"),
                 UInt8(ascii: "%"), UInt8(ascii: "|"):
                guard let length = bytes.strictInt64(from: start + 1, to: cr) else {
                    throw .protocolError("invalid multibulk length")
                }
                if length == -1 && type == ASCII.star {
                    value = .array(nil)
                    break
                }
                guard length >= 0, length <= Int64(limits.maxMultibulkCount) else {
                    throw .protocolError("invalid multibulk length")
                }
                let kind: Frame.Kind
                switch type {
                case ASCII.star: kind = .array
                case UInt8(ascii: "~"): kind = .set
                case UInt8(ascii: ">"): kind = .push
                case UInt8(ascii: "%"): kind = .map
                default: kind = .attribute
                }
                let elements = (kind == .map || kind == .attribute) ? Int(length) * 2 : Int(length)
                let frame = Frame(kind: kind, remaining: elements, items: [])
                if elements == 0 {
                    try consume(to: next, &state, limits)
                    guard let empty = frame.finished() else { continue }  // an empty attribute
                    if let done = deliver(empty, &state) { return done }
                    continue
                }
                guard state.stack.count < limits.maxNestingDepth else {
                    throw .protocolError("nesting too deep")
                }
                try consume(to: next, &state, limits)
                state.stack.append(frame)
                state.stack[state.stack.count - 1].items.reserveCapacity(min(elements, 1024))
                continue
            default:
                throw .protocolError("unknown reply type '\(Character(Unicode.Scalar(type)))'")
            }
            try consume(to: next, &state, limits)
            if let done = deliver(value, &state) { return done }
        }
    }

    /// Moves past a parsed item, counting it against the per-value byte cap.
    @inline(__always)
    private static func consume(
        to next: Int, _ state: inout Progress, _ limits: RESPLimits
    ) throws(RESPProtocolError) {
        state.valueBytes += next - state.offset
        state.offset = next
        if state.valueBytes > limits.maxQueryBuffer { throw .queryBufferLimit }
    }

    /// Hands a finished value to the innermost open aggregate, closing every
    /// aggregate it completes. Returns the top-level value once it is complete,
    /// nil while more items are expected.
    private static func deliver(_ value: RESPValue, _ state: inout Progress) -> RESPValue? {
        var value = value
        while !state.stack.isEmpty {
            let last = state.stack.count - 1
            state.stack[last].items.append(value)
            state.stack[last].remaining -= 1
            if state.stack[last].remaining > 0 { return nil }
            guard let finished = state.stack.removeLast().finished() else {
                return nil  // an attribute: drop it and read the value it annotates
            }
            value = finished
        }
        state.valueBytes = 0
        return value
    }

    /// Finds the `\r` of the `\r\n` ending the line at `start` (`state.offset`);
    /// nil if it has not fully arrived.
    ///
    /// Before any error about the line, and before the line is read, the cap is
    /// checked against the bytes up to the one the verdict needs, excluded: a read
    /// that ended just before that byte would have failed the cap in `incomplete`,
    /// so the error must not depend on how the stream was split.
    @inline(__always)
    private static func lineEnd(
        _ bytes: UnsafeBufferPointer<UInt8>, at start: Int, _ state: Progress, limits: RESPLimits
    ) throws(RESPProtocolError) -> Int? {
        let end = bytes.count
        let window = start + min(end - start, limits.maxInlineLength + 1)
        guard let cr = bytes.firstIndex(of: ASCII.cr, from: start, to: window) else {
            if end - start > limits.maxInlineLength {
                try checkCap(state, before: start + limits.maxInlineLength, limits)
                throw .protocolError("too big reply line")
            }
            return nil
        }
        guard cr + 1 < end else { return nil }
        try checkCap(state, before: cr + 1, limits)
        guard bytes[cr + 1] == ASCII.lf else { throw .protocolError("expected '\\n' after '\\r'") }
        return cr
    }

    /// Throws `.queryBufferLimit` if the current value's bytes before `position`
    /// already exceed the cap.
    @inline(__always)
    private static func checkCap(
        _ state: Progress, before position: Int, _ limits: RESPLimits
    ) throws(RESPProtocolError) {
        if state.valueBytes + (position - state.offset) > limits.maxQueryBuffer {
            throw .queryBufferLimit
        }
    }

    /// Nil for "need more bytes", unless the incomplete value has already
    /// outgrown the buffer cap.
    @inline(__always)
    private static func incomplete(
        _ bytes: UnsafeBufferPointer<UInt8>, _ state: Progress, _ limits: RESPLimits
    ) throws(RESPProtocolError) -> RESPValue? {
        if state.valueBytes + (bytes.count - state.offset) > limits.maxQueryBuffer {
            throw .queryBufferLimit
        }
        return nil
    }

    /// An optional sign followed by at least one digit.
    private static func isBigNumber(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Bool {
        var index = start
        if index < end && (bytes[index] == ASCII.minus || bytes[index] == ASCII.plus) { index += 1 }
        guard index < end else { return false }
        while index < end {
            guard ASCII.isDigit(bytes[index]) else { return false }
            index += 1
        }
        return true
    }
}
