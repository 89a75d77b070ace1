// The incremental pieces shared by the request and the response parser: reading a
// message head (start line and header fields) and a body (Content-Length, chunked or
// until the connection closes). Both keep their place between calls, so bytes
// arriving one at a time are scanned once, and any split of a stream gives the same
// result.

/// Reads one message head: optional empty lines, the start line, field lines, the
/// empty line. A line ends with CRLF or a bare LF (RFC 9112 §2.2); a CR anywhere
/// else is an error.
struct HeadReader: Sendable {
    /// Whether a field line starting with a space continues the previous field
    /// (obs-fold: replaced by a space, as a user agent must do for responses) or is an
    /// error (as for requests).
    let allowObsFold: Bool
    /// The status of every error: 400 family for requests, 502 for responses.
    let isRequest: Bool
    /// Absolute index (in the ByteQueue) of the line being read.
    private var lineStart = 0
    /// Where the search for the line's LF continues.
    private var scanFrom = 0
    private(set) var startLine: [UInt8]?
    private(set) var fields: [HTTPField] = []
    private var headerBytes = 0
    private var emptyLines = 0

    init(at index: Int, isRequest: Bool, allowObsFold: Bool) {
        self.isRequest = isRequest
        self.allowObsFold = allowObsFold
        lineStart = index
        scanFrom = index
    }

    /// True once any byte of the head has been seen (empty lines included).
    func hasStarted(_ input: ByteQueue) -> Bool {
        startLine != nil || emptyLines > 0 || input.end > lineStart
    }

    private func error(_ status: Int, _ reason: String) -> HTTPParseError {
        HTTPParseError(status: isRequest ? status : 502, reason)
    }

    /// Reads complete lines; returns the absolute index just past the head once the
    /// empty line ending it has arrived, nil when more bytes are needed.
    mutating func advance(_ input: ByteQueue, limits: HTTPLimits) throws(HTTPParseError) -> Int? {
        while true {
            guard let lf = input.firstIndex(of: ASCII.lf, from: scanFrom) else {
                scanFrom = input.end
                try checkIncompleteLine(length: input.end - lineStart, limits: limits)
                return nil
            }
            var lineEnd = lf
            if lineEnd > lineStart && input[absolute: lineEnd - 1] == ASCII.cr { lineEnd -= 1 }
            let line = input.slice(lineStart, lineEnd)
            let consumed = lf + 1 - lineStart
            lineStart = lf + 1
            scanFrom = lf + 1
            if line.contains(ASCII.cr) { throw error(400, "bare CR in the message head") }
            if startLine == nil {
                if line.isEmpty {
                    emptyLines += 1
                    if emptyLines > limits.maxLeadingEmptyLines { throw error(400, "too many empty lines before the start line") }
                    continue
                }
                if line.count > limits.maxStartLineLength { throw startLineTooLong() }
                startLine = Array(line)
                continue
            }
            headerBytes += consumed
            if headerBytes > limits.maxHeaderBytes { throw error(431, "header section larger than \(limits.maxHeaderBytes) bytes") }
            if line.isEmpty { return lf + 1 }
            try addField(line, limits: limits)
        }
    }

    private func startLineTooLong() -> HTTPParseError {
        error(414, (isRequest ? "request" : "status") + " line longer than the limit")
    }

    private func checkIncompleteLine(length: Int, limits: HTTPLimits) throws(HTTPParseError) {
        if startLine == nil {
            // +1: the CR of a CRLF may already be here.
            if length > limits.maxStartLineLength + 1 { throw startLineTooLong() }
        } else if headerBytes + length > limits.maxHeaderBytes {
            throw error(431, "header section larger than \(limits.maxHeaderBytes) bytes")
        }
    }

    private mutating func addField(_ line: ArraySlice<UInt8>, limits: HTTPLimits) throws(HTTPParseError) {
        if let first = line.first, isOWS(first) {
            guard allowObsFold, !fields.isEmpty else { throw error(400, "obsolete line folding in a header field") }
            let more = trimOWS(line)
            guard more.allSatisfy(isFieldValueByte) else { throw error(400, "control character in a header field value") }
            fields[fields.count - 1].value += " " + String(decoding: more, as: UTF8.self)
            return
        }
        guard let colon = line.firstIndex(of: ASCII.colon) else { throw error(400, "header field line without a colon") }
        let name = line[line.startIndex..<colon]
        guard isToken(name) else {
            if let last = name.last, isOWS(last) { throw error(400, "whitespace before the colon of a header field") }
            throw error(400, "invalid header field name")
        }
        let value = trimOWS(line[(colon + 1)...])
        guard value.allSatisfy(isFieldValueByte) else { throw error(400, "control character in a header field value") }
        guard fields.count < limits.maxHeaderCount else { throw error(431, "more than \(limits.maxHeaderCount) header fields") }
        fields.append(HTTPField(String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
    }
}

/// How a message's body is delimited (RFC 9112 §6.3).
enum BodyFraming: Equatable, Sendable {
    case none
    case length(Int)
    case chunked
    /// A response without Content-Length or chunked coding: the body ends when the
    /// connection closes.
    case untilClose
}

/// Reads one body. For a request, a body over `maxBodyBytes` is an error (413); for a
/// response, bytes beyond it are read and dropped.
struct BodyReader: Sendable {
    let framing: BodyFraming
    let isRequest: Bool
    private(set) var body: [UInt8] = []
    /// Body bytes received, kept or not.
    private(set) var totalBytes = 0
    private(set) var truncated = false
    private var chunk = ChunkState.size
    /// Absolute index of the first byte not read yet.
    private var position: Int
    private var trailerBytes = 0
    private var trailerCount = 0

    private enum ChunkState: Sendable {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailer
    }

    init(framing: BodyFraming, at index: Int, isRequest: Bool) {
        self.framing = framing
        self.isRequest = isRequest
        self.position = index
    }

    private func error(_ status: Int, _ reason: String) -> HTTPParseError {
        HTTPParseError(status: isRequest ? status : 502, reason)
    }

    private mutating func keep(_ bytes: ArraySlice<UInt8>, limits: HTTPLimits) throws(HTTPParseError) {
        totalBytes = totalBytes.addingReportingOverflow(bytes.count).overflow ? Int.max : totalBytes + bytes.count
        let room = limits.maxBodyBytes - body.count
        if bytes.count <= room {
            body.append(contentsOf: bytes)
        } else {
            if isRequest { throw error(413, "body larger than \(limits.maxBodyBytes) bytes") }
            body.append(contentsOf: bytes.prefix(max(room, 0)))
            truncated = true
        }
    }

    /// Reads what has arrived; returns the absolute index just past the body when it
    /// is complete, nil when more bytes are needed. Bytes read are consumed at once
    /// (only kept body bytes stay in memory).
    mutating func advance(_ input: inout ByteQueue, limits: HTTPLimits) throws(HTTPParseError) -> Int? {
        switch framing {
        case .none:
            return position
        case .length(let length):
            let wanted = length - totalBytes
            let available = min(wanted, input.end - position)
            if available > 0 {
                try keep(input.slice(position, position + available), limits: limits)
                position += available
                input.consume(upTo: position)
            }
            return totalBytes == length ? position : nil
        case .untilClose:
            if input.end > position {
                try keep(input.slice(position, input.end), limits: limits)
                position = input.end
                input.consume(upTo: position)
            }
            return nil
        case .chunked:
            let done = try advanceChunked(input, limits: limits)
            input.consume(upTo: position)
            return done ? position : nil
        }
    }

    /// The peer closed the connection: completes a body delimited by the close.
    func finishedByClose() -> Bool { framing == .untilClose }

    private mutating func advanceChunked(_ input: ByteQueue, limits: HTTPLimits) throws(HTTPParseError) -> Bool {
        while true {
            switch chunk {
            case .size:
                guard let lf = input.firstIndex(of: ASCII.lf, from: position) else {
                    if input.end - position > limits.maxChunkLineLength + 1 { throw error(400, "chunk size line too long") }
                    return false
                }
                var end = lf
                if end > position && input[absolute: end - 1] == ASCII.cr { end -= 1 }
                let line = input.slice(position, end)
                guard line.count <= limits.maxChunkLineLength else { throw error(400, "chunk size line too long") }
                let size = try chunkSize(line, limits: limits)
                position = lf + 1
                chunk = size == 0 ? .trailer : .data(remaining: size)
            case .data(let remaining):
                let available = min(remaining, input.end - position)
                guard available > 0 else { return false }
                try keep(input.slice(position, position + available), limits: limits)
                position += available
                chunk = remaining == available ? .dataEnd : .data(remaining: remaining - available)
            case .dataEnd:
                guard position < input.end else { return false }
                if input[absolute: position] == ASCII.lf {
                    position += 1
                } else if input[absolute: position] == ASCII.cr {
                    guard position + 1 < input.end else { return false }
                    guard input[absolute: position + 1] == ASCII.lf else { throw error(400, "chunk data not followed by CRLF") }
                    position += 2
                } else {
                    throw error(400, "chunk data not followed by CRLF")
                }
                chunk = .size
            case .trailer:
                guard let lf = input.firstIndex(of: ASCII.lf, from: position) else {
                    if trailerBytes + input.end - position > limits.maxHeaderBytes {
                        throw error(431, "trailer section larger than \(limits.maxHeaderBytes) bytes")
                    }
                    return false
                }
                trailerBytes += lf + 1 - position
                if trailerBytes > limits.maxHeaderBytes { throw error(431, "trailer section larger than \(limits.maxHeaderBytes) bytes") }
                var end = lf
                if end > position && input[absolute: end - 1] == ASCII.cr { end -= 1 }
                let line = input.slice(position, end)
                position = lf + 1
                if line.isEmpty { return true }
                // Trailer fields are checked for shape and then ignored.
                guard !line.contains(ASCII.cr), let colon = line.firstIndex(of: ASCII.colon),
                      isToken(line[line.startIndex..<colon]) else { throw error(400, "invalid trailer field") }
                trailerCount += 1
                if trailerCount > limits.maxHeaderCount { throw error(431, "more than \(limits.maxHeaderCount) trailer fields") }
            }
        }
    }

    /// The hex size before any `;extension`. A size that could not fit the limit
    /// (request) or an Int (response) is refused.
    private func chunkSize(_ line: ArraySlice<UInt8>, limits: HTTPLimits) throws(HTTPParseError) -> Int {
        var size = 0
        var digits = 0
        var index = line.startIndex
        while index < line.endIndex, let digit = hexValue(line[index]) {
            digits += 1
            guard digits <= 15 else { throw error(413, "chunk size too large") }
            size = size << 4 | Int(digit)
            index += 1
        }
        guard digits > 0 else { throw error(400, "invalid chunk size") }
        let rest = trimOWS(line[index...])
        if let first = rest.first {
            guard first == ASCII.semicolon, rest.allSatisfy(isFieldValueByte) else { throw error(400, "invalid chunk size") }
        }
        if isRequest && size > limits.maxBodyBytes - totalBytes {
            throw error(413, "body larger than \(limits.maxBodyBytes) bytes")
        }
        return size
    }
}

/// The Content-Length of a message: every field and every comma-separated element
/// must be the same decimal (RFC 9110 §8.6). nil when there is none.
func contentLength(_ headers: HTTPHeaders, error: (String) -> HTTPParseError) throws(HTTPParseError) -> Int? {
    let values = headers.values("content-length")
    guard !values.isEmpty else { return nil }
    var length: Int?
    for value in values {
        for element in value.split(separator: ",", omittingEmptySubsequences: false) {
            guard let n = parseDecimal(trimOWS(Array(element.utf8)[...]), limit: Int.max / 2) else {
                throw error("invalid Content-Length")
            }
            if let length, length != n { throw error("conflicting Content-Length values") }
            length = n
        }
    }
    return length
}
