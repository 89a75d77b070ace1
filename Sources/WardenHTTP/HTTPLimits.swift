/// Size limits of the HTTP/1.1 parsers, so that no peer can make Warden buffer or
/// allocate without bound. Every limit is on bytes actually held in memory or on a
/// count; time limits (slow or idle peers) belong to the server and the client.
///
/// The defaults suit Warden's API: every request it serves is a small GET or a POST
/// with a JSON body of a few hundred bytes, and a webhook receiver's reply is only
/// read for its status line and headers.
public struct HTTPLimits: Sendable, Equatable {
    /// The longest request line (`GET /v1/masters HTTP/1.1`) or status line, without
    /// its line ending. Longer: 414 URI Too Long for a request, an error for a response.
    public var maxStartLineLength: Int
    /// The most bytes of the header section (every field line and its line ending,
    /// not the start line), and separately of a chunked body's trailer section.
    /// More: 431 Request Header Fields Too Large.
    public var maxHeaderBytes: Int
    /// The most header fields (and, separately, trailer fields). More: 431.
    public var maxHeaderCount: Int
    /// The most body bytes kept. A request whose body is larger is refused with 413
    /// Content Too Large (at once when Content-Length announces it). A response's
    /// body beyond it is read and thrown away (`HTTPClientResponse.bodyTruncated`).
    public var maxBodyBytes: Int
    /// The longest chunk-size line of a chunked body, extensions included. Longer: 400.
    public var maxChunkLineLength: Int
    /// The most empty lines skipped before a request line (RFC 9112 §2.2) or the most
    /// 1xx interim responses skipped before a final response.
    public var maxLeadingEmptyLines: Int

    public init(
        maxStartLineLength: Int = 8 * 1024,
        maxHeaderBytes: Int = 16 * 1024,
        maxHeaderCount: Int = 64,
        maxBodyBytes: Int = 64 * 1024,
        maxChunkLineLength: Int = 1024,
        maxLeadingEmptyLines: Int = 8
    ) {
        self.maxStartLineLength = maxStartLineLength
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
        self.maxChunkLineLength = maxChunkLineLength
        self.maxLeadingEmptyLines = maxLeadingEmptyLines
    }

    /// Warden's API server: 8 KiB request line, 16 KiB of headers in at most 64 fields,
    /// 64 KiB bodies.
    public static let server = HTTPLimits()
    /// The webhook client: the same head limits, and the first 16 KiB of a reply's body kept.
    public static let client = HTTPLimits(maxBodyBytes: 16 * 1024)
}
