/// Writes responses (server) and requests (client) in HTTP/1.1 wire form.
///
/// Framing is the encoder's job: any Content-Length, Transfer-Encoding or Connection
/// field given by the caller is dropped and the right one written. Header names that
/// are not tokens are dropped, and CR, LF and NUL in values (and in the reason
/// phrase) become spaces, so no caller can split a response.
public enum HTTPEncoder {
    /// The interim response to `Expect: 100-continue`.
    public static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// A whole response. `keepAlive`: whether the connection stays open after it
    /// (false writes `Connection: close`; true for an HTTP/1.0 request writes
    /// `Connection: keep-alive`). `headRequest`: the response to HEAD, written with
    /// the Content-Length of the body but without it. `date`: an IMF-fixdate for the
    /// Date field (`HTTPDate.format`), omitted when nil.
    public static func encode(_ response: HTTPResponse, keepAlive: Bool, requestVersion: HTTPVersion = .http1_1,
                              headRequest: Bool = false, date: String? = nil) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + response.body.count)
        let status = (100...599).contains(response.status) ? response.status : 500
        writeStatusLine(status: status, reason: response.reason, into: &out)
        if let date { writeField("Date", date, into: &out) }
        writeFields(response.headers, into: &out, skipDate: date != nil)
        let bodyAllowed = !(100...199).contains(status) && status != 204 && status != 304
        if bodyAllowed { writeField("Content-Length", String(response.body.count), into: &out) }
        writeConnection(keepAlive: keepAlive, requestVersion: requestVersion, into: &out)
        out.append(contentsOf: [ASCII.cr, ASCII.lf])
        if bodyAllowed && !headRequest { out.append(contentsOf: response.body) }
        return out
    }

    /// The head of a response whose body follows in pieces (Server-Sent Events): with
    /// `chunked`, `Transfer-Encoding: chunked` (send each piece with `chunk(_:)` and end
    /// with `lastChunk`); without (for HTTP/1.0 clients), the body runs until the
    /// connection closes and `Connection: close` is written.
    public static func encodeStreamHead(status: Int, headers: HTTPHeaders, chunked: Bool, date: String? = nil) -> [UInt8] {
        var out: [UInt8] = []
        writeStatusLine(status: (100...599).contains(status) ? status : 500, reason: nil, into: &out)
        if let date { writeField("Date", date, into: &out) }
        writeFields(headers, into: &out, skipDate: date != nil)
        if chunked {
            writeField("Transfer-Encoding", "chunked", into: &out)
        } else {
            writeField("Connection", "close", into: &out)
        }
        out.append(contentsOf: [ASCII.cr, ASCII.lf])
        return out
    }

    /// One chunk of a chunked body; an empty input gives no bytes (an empty chunk
    /// would end the body).
    public static func chunk(_ bytes: [UInt8]) -> [UInt8] {
        guard !bytes.isEmpty else { return [] }
        var out = Array(String(bytes.count, radix: 16).utf8)
        out += [ASCII.cr, ASCII.lf]
        out += bytes
        out += [ASCII.cr, ASCII.lf]
        return out
    }

    /// The end of a chunked body (no trailer).
    public static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)

    /// A request with `Connection: close` and a Content-Length (also 0 for a POST
    /// without body; none for GET and HEAD without body). `authority` is the Host
    /// field ("example.com", "[::1]:8080").
    public static func encodeRequest(method: String, target: String, authority: String,
                                     headers: HTTPHeaders, body: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + body.count)
        out += isToken(method) ? Array(method.utf8) : Array("GET".utf8)
        out.append(ASCII.space)
        out += target.utf8.map { $0 > 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "_") }
        out += Array(" HTTP/1.1\r\n".utf8)
        writeField("Host", authority, into: &out)
        var fields = headers
        fields.remove("host")
        writeFields(fields, into: &out, skipDate: false)
        if !body.isEmpty || !(method == "GET" || method == "HEAD") {
            writeField("Content-Length", String(body.count), into: &out)
        }
        writeField("Connection", "close", into: &out)
        out.append(contentsOf: [ASCII.cr, ASCII.lf])
        out += body
        return out
    }

    private static func writeStatusLine(status: Int, reason: String?, into out: inout [UInt8]) {
        out += Array("HTTP/1.1 ".utf8)
        out += Array(String(status).utf8)
        out.append(ASCII.space)
        out += sanitized(reason ?? httpReasonPhrase(status))
        out += [ASCII.cr, ASCII.lf]
    }

    private static func writeConnection(keepAlive: Bool, requestVersion: HTTPVersion, into out: inout [UInt8]) {
        if !keepAlive {
            writeField("Connection", "close", into: &out)
        } else if requestVersion == .http1_0 {
            writeField("Connection", "keep-alive", into: &out)
        }
    }

    private static let framingFields = ["content-length", "transfer-encoding", "connection"]

    private static func writeFields(_ headers: HTTPHeaders, into out: inout [UInt8], skipDate: Bool) {
        for field in headers {
            let lower = asciiLowercased(field.name)
            if framingFields.contains(lower) || (skipDate && lower == "date") || !isToken(field.name) { continue }
            writeField(field.name, field.value, into: &out)
        }
    }

    private static func writeField(_ name: String, _ value: String, into out: inout [UInt8]) {
        out += Array(name.utf8)
        out += [ASCII.colon, ASCII.space]
        out += sanitized(trimOWS(value))
        out += [ASCII.cr, ASCII.lf]
    }

    /// CR, LF and NUL (and other controls but HTAB) replaced by spaces.
    static func sanitized(_ text: String) -> [UInt8] {
        text.utf8.map { isFieldValueByte($0) ? $0 : ASCII.space }
    }
}
