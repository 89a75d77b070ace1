/// A response read by `HTTPResponseParser`.
public struct HTTPClientResponse: Equatable, Sendable {
    public var version: HTTPVersion
    public var status: Int
    public var reason: String
    public var headers: HTTPHeaders
    /// The body's first `HTTPLimits.maxBodyBytes` bytes.
    public var body: [UInt8]
    /// True when the body was longer than the bytes kept.
    public var bodyTruncated: Bool
    /// Body bytes received in all, kept or not.
    public var bodyByteCount: Int

    public init(version: HTTPVersion = .http1_1, status: Int, reason: String = "", headers: HTTPHeaders = [:],
                body: [UInt8] = [], bodyTruncated: Bool = false, bodyByteCount: Int? = nil) {
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.bodyTruncated = bodyTruncated
        self.bodyByteCount = bodyByteCount ?? body.count
    }

    /// The Retry-After field, if it is valid (delay-seconds or an HTTP-date).
    public var retryAfter: RetryAfter? { headers["retry-after"].flatMap(RetryAfter.init(fieldValue:)) }
}

/// The client side of HTTP/1.1: reads the one response to a request the client sent
/// (it sends one request per connection). Interim 1xx responses (100 Continue) are
/// skipped; 101 is an error. The body is delimited by Content-Length, chunked coding,
/// or the connection closing (`finish()`); a response to HEAD, 204 and 304 have none.
/// Obsolete line folding is replaced by a space (RFC 9112 §5.2). Every error has
/// status 502.
public struct HTTPResponseParser: Sendable {
    public let limits: HTTPLimits
    /// The method of the request this response answers (HEAD responses have no body).
    public let requestMethod: String
    private var input = ByteQueue()
    private var state: State
    private var interimResponses = 0
    private var closed = false

    private enum State: Sendable {
        case head(HeadReader)
        case body(HTTPClientResponse, BodyReader)
        case done
        case failed(HTTPParseError)
    }

    public init(limits: HTTPLimits = .client, requestMethod: String = "POST") {
        self.limits = limits
        self.requestMethod = requestMethod
        state = .head(HeadReader(at: 0, isRequest: false, allowObsFold: true))
    }

    /// The status of the final response once its head has arrived (before the body has).
    public private(set) var status: Int?

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if case .head = state { input.append(bytes) } else if case .body = state { input.append(bytes) }
    }

    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if case .head = state { input.append(bytes) } else if case .body = state { input.append(bytes) }
    }

    /// The peer closed the connection: a body delimited by the close is complete;
    /// anything else incomplete is an error at the next `next()`.
    public mutating func finish() {
        closed = true
    }

    /// The response once it is complete, or nil when more bytes are needed. Returns
    /// it once; nil afterwards.
    public mutating func next() throws(HTTPParseError) -> HTTPClientResponse? {
        do {
            return try step()
        } catch {
            state = .failed(error)
            input.discardAll()
            throw error
        }
    }

    private static func error(_ reason: String) -> HTTPParseError { HTTPParseError(status: 502, reason) }

    private mutating func step() throws(HTTPParseError) -> HTTPClientResponse? {
        switch state {
        case .failed(let error):
            throw error
        case .done:
            return nil
        case .head(var reader):
            guard let end = try reader.advance(input, limits: limits) else {
                state = .head(reader)
                if closed { throw Self.error(reader.hasStarted(input) ? "connection closed in the response head" : "connection closed before any response") }
                return nil
            }
            input.consume(upTo: end)
            let (version, status, reason) = try parseStatusLine(reader.startLine ?? [])
            if (100...199).contains(status) {
                guard status != 101 else { throw Self.error("unexpected 101 Switching Protocols") }
                interimResponses += 1
                guard interimResponses <= limits.maxLeadingEmptyLines else { throw Self.error("too many interim responses") }
                state = .head(HeadReader(at: end, isRequest: false, allowObsFold: true))
                return try step()
            }
            let headers = HTTPHeaders(reader.fields)
            let framing = try framing(status: status, headers: headers)
            self.status = status
            state = .body(HTTPClientResponse(version: version, status: status, reason: reason, headers: headers),
                          BodyReader(framing: framing, at: end, isRequest: false))
            return try step()
        case .body(var response, var body):
            let end = try body.advance(&input, limits: limits)
            if end == nil {
                guard closed else {
                    state = .body(response, body)
                    return nil
                }
                guard body.finishedByClose() else { throw Self.error("connection closed before the end of the body") }
            }
            response.body = body.body
            response.bodyTruncated = body.truncated
            response.bodyByteCount = body.totalBytes
            state = .done
            input.discardAll()
            return response
        }
    }

    private func framing(status: Int, headers: HTTPHeaders) throws(HTTPParseError) -> BodyFraming {
        if requestMethod == "HEAD" || status == 204 || status == 304 { return .none }
        if headers.contains("transfer-encoding") {
            // RFC 9112 §6.3: chunked last, or else the body runs until the close.
            return headers.tokens("transfer-encoding").last == "chunked" ? .chunked : .untilClose
        }
        if let length = try contentLength(headers, error: Self.error) {
            return length == 0 ? .none : .length(length)
        }
        return .untilClose
    }

    /// `HTTP/1.1 200 OK`; the reason phrase may be empty or missing with its space.
    private func parseStatusLine(_ line: [UInt8]) throws(HTTPParseError) -> (HTTPVersion, Int, String) {
        guard line.count >= 12, line[8] == ASCII.space else { throw Self.error("malformed status line") }
        let version: HTTPVersion
        do {
            version = try parseVersion(line[0..<8])
        } catch {
            throw Self.error("invalid HTTP version in the status line")
        }
        guard let status = parseDecimal(line[9..<12]), (100...599).contains(status) else {
            throw Self.error("invalid status code")
        }
        var reason = line[12...]
        if let first = reason.first {
            guard first == ASCII.space else { throw Self.error("malformed status line") }
            reason = reason.dropFirst()
        }
        guard reason.allSatisfy(isFieldValueByte) else { throw Self.error("control character in the reason phrase") }
        return (version, status, String(decoding: reason, as: UTF8.self))
    }

    /// Parses a whole response, as if the peer then closed the connection. The entry
    /// point for fuzzing.
    public static func parse(_ bytes: [UInt8], requestMethod: String = "POST",
                             limits: HTTPLimits = .client) -> Result<HTTPClientResponse, HTTPParseError> {
        var parser = HTTPResponseParser(limits: limits, requestMethod: requestMethod)
        parser.append(bytes)
        parser.finish()
        do {
            guard let response = try parser.next() else { return .failure(error("incomplete response")) }
            return .success(response)
        } catch {
            return .failure(error)
        }
    }
}
