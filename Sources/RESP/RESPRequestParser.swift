/// The server side of RESP: turns the byte stream a client sends into commands
/// (argument lists), the way redis-server's `processInlineBuffer` and
/// `processMultibulkBuffer` do.
///
/// A command that starts with `*` is a multibulk (`*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n`);
/// anything else is an inline command line (`PING\r\n`, `\n` alone also ends a line),
/// split into arguments with redis-cli's quoting rules. Bytes may arrive split
/// anywhere: every split of a stream yields the same commands.
///
/// Differences from redis-server 7.0:
/// - a multibulk count above `maxMultibulkCount` (1M) is an `invalid multibulk length`,
///   as in redis-server 6 (7.0 allows up to 2^31-1).
///
/// and these, chosen so that the outcome does not depend on how the stream was
/// split into reads:
/// - a line longer than `maxInlineLength` is an error even when its newline arrived
///   in the same read (redis-server would accept it then, and reject it otherwise);
/// - a command larger than `maxQueryBuffer` fails with `.queryBufferLimit` as soon
///   as that is certain: when a bulk header announces more than the cap allows,
///   or when the incomplete command already buffered exceeds it.
///
/// Like redis-server, the two bytes after a `\r` ending a `*`/`$` line, and the two
/// bytes after a bulk argument, are skipped without checking they are `\r\n`; and
/// a NUL byte before the end of an inline or header line hides that end, so the
/// line only ends in a "too big" error (redis-server searches lines with strchr).
public struct RESPRequestParser: Sendable {
    public let limits: RESPLimits
    /// False while the client has not authenticated to a password-protected
    /// server. As in redis-server, a multibulk count above 10 or a bulk length
    /// above 16384 is then a protocol error.
    public var authenticated: Bool = true

    /// Received bytes. Everything before `input.readOffset` is consumed; a command
    /// still being received stays in the buffer from its first byte, so that once
    /// complete its arguments can be handed out in place.
    private var input = InputBuffer()
    /// Where the last returned command ends: consumed at the next call, not at once,
    /// so that the `RESPArguments` returned share the buffer instead of copying it.
    private var returnedEnd: Int?
    private var progress = Progress()
    private var failure: RESPProtocolError?

    public init(limits: RESPLimits = .default) {
        self.limits = limits
    }

    /// How many received bytes are not part of a returned command yet (including
    /// the bytes of a partly received command).
    public var bufferedByteCount: Int { input.bytes.count - (returnedEnd ?? input.readOffset) }

    /// Adds bytes read from the client.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        consumeReturned()
        input.append(bytes)
    }

    /// Adds bytes read from the client.
    public mutating func append(_ bytes: [UInt8]) {
        consumeReturned()
        input.append(bytes)
    }

    /// The next complete command as arrays of bytes, or nil when more bytes are needed.
    /// See `nextArguments()`.
    public mutating func next() throws(RESPProtocolError) -> [[UInt8]]? {
        try nextArguments()?.arrays
    }

    /// The next complete command, or nil when more bytes are needed. Empty inline
    /// lines and `*0`/`*-1` multibulks are skipped. Once this throws, it throws the
    /// same error on every later call.
    ///
    /// The arguments of a multibulk are views into the parser's buffer, not copies:
    /// nothing is allocated per command. Keeping them past the next call to the
    /// parser is safe but makes that call copy the buffer.
    public mutating func nextArguments() throws(RESPProtocolError) -> RESPArguments? {
        if let failure { throw failure }
        consumeReturned()
        // The command under way starts at readOffset; `progress` counts from there.
        let origin = input.readOffset
        var state = progress
        progress.spans = []  // keep a single reference so appends do not copy
        state.commandStart = origin
        state.offset += origin
        let limits = self.limits
        let authenticated = self.authenticated
        let outcome: Outcome
        do {
            outcome = try input.bytes.withUnsafeBufferPointer {
                (bytes) throws(RESPProtocolError) -> Outcome in
                try Self.parse(bytes, &state, limits: limits, authenticated: authenticated)
            }
        } catch {
            failure = error
            throw error
        }
        switch outcome {
        case .incomplete:
            // Keep the command under way (all of it) and where its parsing stands.
            input.consume(upTo: state.commandStart)
            state.offset -= state.commandStart
            progress = state
            return nil
        case .multibulk:
            returnedEnd = state.offset
            let arguments = RESPArguments(storage: input.bytes, origin: state.commandStart, spans: state.spans)
            state.offset = 0
            progress = state
            return arguments
        case .inline(let words):
            returnedEnd = state.offset
            progress = Progress()
            return RESPArguments(words)
        }
    }

    private mutating func consumeReturned() {
        if let end = returnedEnd {
            returnedEnd = nil
            input.consume(upTo: end)
        }
    }

    /// Where the parser stands inside the current command.
    private struct Progress: Sendable {
        /// Index of the first byte of the command under way (absolute while parsing).
        var commandStart = 0
        /// Index of the first byte not parsed yet (relative to `commandStart`
        /// between calls, absolute while parsing).
        var offset = 0
        /// Bulk arguments still expected by the current multibulk; 0 between commands.
        var argumentsLeft = 0
        /// Length of the bulk argument whose header was read, or -1.
        var bulkLength = -1
        /// Where the arguments read so far are, relative to `commandStart`.
        var spans: [Range<Int>] = []
    }

    private enum Outcome {
        case incomplete
        /// A multibulk: its arguments are `Progress.spans`.
        case multibulk
        case inline([[UInt8]])
    }

    private static func parse(
        _ bytes: UnsafeBufferPointer<UInt8>,
        _ state: inout Progress,
        limits: RESPLimits,
        authenticated: Bool
    ) throws(RESPProtocolError) -> Outcome {
        let end = bytes.count
        while true {
            if state.argumentsLeft == 0 {
                // At a command boundary.
                let start = state.offset
                state.commandStart = start
                guard start < end else { return .incomplete }
                if bytes[start] != ASCII.star {
                    guard let (arguments, next) = try parseInline(bytes, at: start, limits: limits) else {
                        return try incomplete(bytes, state, limits)
                    }
                    state.offset = next
                    if arguments.isEmpty { continue }
                    return .inline(arguments)
                }
                guard let cr = try findHeaderEnd(bytes, at: start, commandStart: start, limits: limits,
                                                 tooLong: "too big mbulk count string") else {
                    return try incomplete(bytes, state, limits)
                }
                guard let count = bytes.strictInt64(from: start + 1, to: cr),
                      count <= Int64(Int32.max), count <= Int64(limits.maxMultibulkCount) else {
                    if try hiddenByNul(bytes, start, cr, start, limits, tooLong: "too big mbulk count string") {
                        return try incomplete(bytes, state, limits)
                    }
                    throw .protocolError("invalid multibulk length")
                }
                if !authenticated && count > 10 {
                    throw .protocolError("unauthenticated multibulk length")
                }
                state.offset = cr + 2
                if count <= 0 { continue }
                state.argumentsLeft = Int(count)
                state.bulkLength = -1
                state.spans.removeAll(keepingCapacity: true)
                state.spans.reserveCapacity(min(Int(count), 1024))
            }

            while state.argumentsLeft > 0 {
                if state.bulkLength < 0 {
                    let start = state.offset
                    guard let cr = try findHeaderEnd(bytes, at: start, commandStart: state.commandStart,
                                                     limits: limits, tooLong: "too big bulk count string") else {
                        return try incomplete(bytes, state, limits)
                    }
                    guard bytes[start] == ASCII.dollar,
                          let length = bytes.strictInt64(from: start + 1, to: cr),
                          length >= 0, length <= Int64(limits.maxBulkLength) else {
                        if try hiddenByNul(bytes, start, cr, state.commandStart, limits,
                                               tooLong: "too big bulk count string") {
                            return try incomplete(bytes, state, limits)
                        }
                        if bytes[start] != ASCII.dollar {
                            throw .protocolError("expected '$', got '\(printable(bytes[start]))'")
                        }
                        throw .protocolError("invalid bulk length")
                    }
                    if !authenticated && length > 16384 {
                        throw .protocolError("unauthenticated bulk length")
                    }
                    // The command so far, this header, the bulk and its \r\n.
                    if cr + 2 - state.commandStart + Int(length) + 2 > limits.maxQueryBuffer {
                        throw .queryBufferLimit
                    }
                    state.offset = cr + 2
                    state.bulkLength = Int(length)
                }
                let start = state.offset
                guard end - start >= state.bulkLength + 2 else {
                    return try incomplete(bytes, state, limits)
                }
                let relative = start - state.commandStart
                state.spans.append(relative..<relative + state.bulkLength)
                state.offset = start + state.bulkLength + 2
                state.bulkLength = -1
                state.argumentsLeft -= 1
            }
            return .multibulk
        }
    }

    /// Finds the `\r` ending a `*` or `$` header line starting at `start`, and makes
    /// sure one more byte (the `\n`) has arrived. Nil when the line is incomplete.
    @inline(__always)
    private static func findHeaderEnd(
        _ bytes: UnsafeBufferPointer<UInt8>, at start: Int, commandStart: Int, limits: RESPLimits, tooLong: String
    ) throws(RESPProtocolError) -> Int? {
        let end = bytes.count
        let window = start + min(end - start, limits.maxInlineLength + 1)
        guard let cr = bytes.firstIndex(of: ASCII.cr, from: start, to: window) else {
            if end - start > limits.maxInlineLength { throw lineTooLong(start, commandStart, limits, tooLong) }
            return nil
        }
        guard cr + 1 < end else { return nil }
        // Fed byte by byte, the command would have passed the cap before this
        // line's end arrived: that is the error, whatever the line says.
        if cr + 1 - commandStart > limits.maxQueryBuffer { throw .queryBufferLimit }
        return cr
    }

    /// The error for a header line found too long. Fed byte by byte, the stream
    /// would have shown it too long once `maxInlineLength + 1` bytes of it had
    /// arrived, or passed the query buffer cap once `maxQueryBuffer + 1` bytes of
    /// the command had; whichever comes first is the error, however it was split.
    private static func lineTooLong(
        _ start: Int, _ commandStart: Int, _ limits: RESPLimits, _ tooLong: String
    ) -> RESPProtocolError {
        start - commandStart + limits.maxInlineLength > limits.maxQueryBuffer ? .queryBufferLimit : .protocolError(tooLong)
    }

    /// Whether a NUL byte precedes the `\r` of a header line. redis-server finds
    /// that `\r` with strchr, so for it such a line never ends: it waits for more
    /// bytes until the line is too long. Checked only on the error path, since a
    /// valid header has no NUL.
    private static func hiddenByNul(
        _ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ cr: Int, _ commandStart: Int, _ limits: RESPLimits,
        tooLong: String
    ) throws(RESPProtocolError) -> Bool {
        guard bytes.firstIndex(of: ASCII.nul, from: start, to: cr) != nil else { return false }
        if bytes.count - start > limits.maxInlineLength { throw lineTooLong(start, commandStart, limits, tooLong) }
        return true
    }

    /// The byte as it appears in redis-server's error reply, where \r and \n become spaces.
    private static func printable(_ byte: UInt8) -> Character {
        byte == ASCII.cr || byte == ASCII.lf ? " " : Character(Unicode.Scalar(byte))
    }

    /// Returns nil for "need more bytes", unless the incomplete command has
    /// already outgrown the query buffer cap.
    @inline(__always)
    private static func incomplete(
        _ bytes: UnsafeBufferPointer<UInt8>, _ state: Progress, _ limits: RESPLimits
    ) throws(RESPProtocolError) -> Outcome {
        if bytes.count - state.commandStart > limits.maxQueryBuffer {
            throw .queryBufferLimit
        }
        return .incomplete
    }

    /// Reads one inline command line at `start`. Returns its arguments (empty for
    /// a blank line) and the offset after its newline, or nil if the line is incomplete.
    private static func parseInline(
        _ bytes: UnsafeBufferPointer<UInt8>, at start: Int, limits: RESPLimits
    ) throws(RESPProtocolError) -> ([[UInt8]], Int)? {
        let end = bytes.count
        let window = start + min(end - start, limits.maxInlineLength + 1)
        var found = bytes.firstIndex(of: ASCII.lf, from: start, to: window)
        if let newline = found, bytes.firstIndex(of: ASCII.nul, from: start, to: newline) != nil {
            found = nil  // redis-server looks for the newline with strchr: a NUL hides it
        }
        guard let newline = found else {
            if end - start > limits.maxInlineLength {
                throw .protocolError("too big inline request")
            }
            return nil
        }
        var lineEnd = newline
        if lineEnd > start && bytes[lineEnd - 1] == ASCII.cr { lineEnd -= 1 }
        guard let arguments = InlineSplitter.split(bytes, from: start, to: lineEnd) else {
            throw .protocolError("unbalanced quotes in request")
        }
        return (arguments, newline + 1)
    }
}
