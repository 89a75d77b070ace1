/// The server side of HTTP/1.1 (RFC 9112): turns the bytes a client sends into
/// requests, one at a time, with the limits of `HTTPLimits`. Bytes may arrive split
/// anywhere; several pipelined requests may arrive in one read.
///
///     var parser = HTTPRequestParser()
///     parser.append(bytes)
///     while let request = try parser.next() { ... answer it, in order ... }
///
/// What it refuses, and the status to answer before closing the connection:
/// - 400: a malformed request line, header line or chunked body; a bare CR; obsolete
///   line folding; whitespace before a header's colon; a missing Host in HTTP/1.1 or
///   several Host fields; conflicting or invalid Content-Length; Content-Length together
///   with Transfer-Encoding (a request-smuggling vector, refused as RFC 9112 §6.1
///   allows); Transfer-Encoding in HTTP/1.0 or whose last coding is not chunked; a
///   request target that is not origin-form, absolute-form or `*` (OPTIONS only).
/// - 413: a body over `maxBodyBytes`, at once when Content-Length announces it.
/// - 414: a request line over `maxStartLineLength`.
/// - 417: an Expect other than 100-continue.
/// - 431: a header (or trailer) section over `maxHeaderBytes` or `maxHeaderCount`.
/// - 501: a transfer coding other than chunked (gzip, ...).
/// - 505: an HTTP major version other than 1.
///
/// A request without Content-Length or Transfer-Encoding has no body. After a request
/// that does not keep the connection alive (`keepAlive == false`), the parser returns
/// no more requests and drops whatever else arrives.
public struct HTTPRequestParser: Sendable {
    public let limits: HTTPLimits
    private var input = ByteQueue()
    private var state: State
    private var continueRequested = false

    private enum State: Sendable {
        case head(HeadReader)
        case body(HTTPRequest, BodyReader)
        /// The last request did not keep the connection alive.
        case done
        case failed(HTTPParseError)
    }

    public init(limits: HTTPLimits = .server) {
        self.limits = limits
        state = .head(HeadReader(at: 0, isRequest: true, allowObsFold: false))
    }

    /// Bytes received and not yet returned as part of a request.
    public var bufferedByteCount: Int { input.count }

    /// True while part of a request has arrived (for a server: the request timeout
    /// runs, not the idle timeout).
    public var isReceivingRequest: Bool {
        switch state {
        case .head(let reader): return reader.hasStarted(input)
        case .body: return true
        case .done, .failed: return false
        }
    }

    /// True once the last request that may be answered has been returned.
    public var isFinished: Bool {
        if case .done = state { return true }
        return false
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if case .done = state { return }
        input.append(bytes)
    }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if case .done = state { return }
        input.append(bytes)
    }

    /// True once for a request with `Expect: 100-continue` whose head has been read
    /// and whose body has not fully arrived: the server should send
    /// `HTTPEncoder.continueResponse` so the client sends the body.
    public mutating func takeContinueRequest() -> Bool {
        defer { continueRequested = false }
        return continueRequested
    }

    /// The next complete request, or nil when more bytes are needed.
    public mutating func next() throws(HTTPParseError) -> HTTPRequest? {
        do {
            return try step()
        } catch {
            state = .failed(error)
            continueRequested = false
            input.discardAll()
            throw error
        }
    }

    private mutating func step() throws(HTTPParseError) -> HTTPRequest? {
        switch state {
        case .failed(let error):
            throw error
        case .done:
            return nil
        case .head(var reader):
            guard let end = try reader.advance(input, limits: limits) else {
                state = .head(reader)
                return nil
            }
            input.consume(upTo: end)
            let (request, framing, expectsContinue) = try makeRequest(reader)
            let body = BodyReader(framing: framing, at: end, isRequest: true)
            state = .body(request, body)
            let result = try step()
            if result == nil && expectsContinue { continueRequested = true }
            return result
        case .body(var request, var body):
            guard let end = try body.advance(&input, limits: limits) else {
                state = .body(request, body)
                return nil
            }
            input.consume(upTo: end)
            continueRequested = false
            request.body = body.body
            if request.keepAlive {
                state = .head(HeadReader(at: end, isRequest: true, allowObsFold: false))
            } else {
                state = .done
                input.discardAll()
            }
            return request
        }
    }

    private func makeRequest(_ reader: HeadReader) throws(HTTPParseError) -> (HTTPRequest, BodyFraming, Bool) {
        let line = reader.startLine ?? []
        let parts = line.split(separator: ASCII.space, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw .badRequest("malformed request line")
        }
        guard isToken(parts[0]) else { throw .badRequest("invalid method") }
        let version = try parseVersion(parts[2])
        let target = parts[1]
        guard target.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw .badRequest("invalid request target") }
        guard !target.contains(UInt8(ascii: "#")) else { throw .badRequest("fragment in the request target") }
        let method = String(decoding: parts[0], as: UTF8.self)
        let targetText = String(decoding: target, as: UTF8.self)
        if targetText == "*" {
            guard method == "OPTIONS" else { throw .badRequest("asterisk-form target is only for OPTIONS") }
        } else if !targetText.hasPrefix("/") {
            let lower = asciiLowercased(targetText)
            guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
                throw .badRequest("request target must be a path or an absolute URL")
            }
        }
        let headers = HTTPHeaders(reader.fields)

        let hosts = headers.values("host")
        if hosts.count > 1 { throw .badRequest("more than one Host header") }
        if hosts.isEmpty && version == .http1_1 { throw .badRequest("missing Host header") }

        var framing = BodyFraming.none
        let length = try contentLength(headers) { HTTPParseError.badRequest($0) }
        if headers.contains("transfer-encoding") {
            if version == .http1_0 { throw .badRequest("Transfer-Encoding in an HTTP/1.0 request") }
            if length != nil { throw .badRequest("both Content-Length and Transfer-Encoding") }
            let codings = headers.tokens("transfer-encoding")
            guard codings.last == "chunked" else { throw .badRequest("the last transfer coding is not chunked") }
            guard codings.count == 1 else { throw HTTPParseError(status: 501, "unsupported transfer coding") }
            framing = .chunked
        } else if let length {
            if length > limits.maxBodyBytes { throw .tooLarge("body larger than \(limits.maxBodyBytes) bytes") }
            framing = length > 0 ? .length(length) : .none
        }

        var expectsContinue = false
        if headers.contains("expect") {
            guard headers.tokens("expect") == ["100-continue"] else {
                throw HTTPParseError(status: 417, "unsupported expectation")
            }
            // RFC 9110 §10.1.1: ignored in HTTP/1.0.
            expectsContinue = version == .http1_1
        }

        let connection = headers.tokens("connection")
        let keepAlive = version == .http1_1
            ? !connection.contains("close")
            : connection.contains("keep-alive") && !connection.contains("close")
        let request = HTTPRequest(method: method, target: targetText, version: version,
                                  headers: headers, body: [], keepAlive: keepAlive)
        return (request, framing, expectsContinue)
    }

    /// Parses every request in `bytes` at once: the requests before the first error,
    /// and the error. The entry point for fuzzing.
    public static func parseAll(_ bytes: [UInt8], limits: HTTPLimits = .server)
        -> (requests: [HTTPRequest], error: HTTPParseError?) {
        var parser = HTTPRequestParser(limits: limits)
        parser.append(bytes)
        var requests: [HTTPRequest] = []
        do {
            while let request = try parser.next() { requests.append(request) }
        } catch {
            return (requests, error)
        }
        return (requests, nil)
    }
}

/// `HTTP/1.0`, `HTTP/1.1` (1.2 and later minors read as 1.1), otherwise 400, or 505
/// for another major version.
func parseVersion(_ bytes: ArraySlice<UInt8>) throws(HTTPParseError) -> HTTPVersion {
    let b = Array(bytes)
    guard b.count == 8, b[0] == UInt8(ascii: "H"), b[1] == UInt8(ascii: "T"), b[2] == UInt8(ascii: "T"),
          b[3] == UInt8(ascii: "P"), b[4] == UInt8(ascii: "/"), b[6] == UInt8(ascii: "."),
          let major = parseDecimal(b[5...5]), let minor = parseDecimal(b[7...7]) else {
        throw .badRequest("invalid HTTP version")
    }
    guard major == 1 else { throw HTTPParseError(status: 505, "HTTP version not supported") }
    return minor == 0 ? .http1_0 : .http1_1
}
