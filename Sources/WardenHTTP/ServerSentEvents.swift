/// One Server-Sent Event (the WHATWG HTML "server-sent events" stream format).
public struct ServerSentEvent: Equatable, Sendable {
    /// `id:`; a client reconnecting sends the last one in `Last-Event-ID`.
    public var id: String?
    /// `event:`, the event type; nil is the default type "message".
    public var event: String?
    /// `data:`, one line per line of the text. An event whose data is empty is not
    /// dispatched by browsers' EventSource (the spec drops it), so give every event data.
    public var data: String
    /// `retry:`, the reconnection time the client should use, in milliseconds.
    public var retryMs: Int?

    public init(id: String? = nil, event: String? = nil, data: String, retryMs: Int? = nil) {
        self.id = id
        self.event = event
        self.data = data
        self.retryMs = retryMs
    }

    /// The event in stream form, ending with the empty line that dispatches it. Data
    /// lines are split at CRLF, CR and LF (the stream's line endings); in `id` and
    /// `event`, which must be one line, CR and LF become spaces and NUL is removed from
    /// `id` (a client ignores an id containing NUL).
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        if let id { field("id", oneLine(id).filter { $0 != 0 }, into: &out) }
        if let event { field("event", oneLine(event), into: &out) }
        if let retryMs, retryMs >= 0 { field("retry", Array(String(retryMs).utf8), into: &out) }
        for line in Self.lines(data) { field("data", line, into: &out) }
        out.append(ASCII.lf)
        return out
    }

    /// A comment line (`: text`), ignored by clients: keeps idle connections alive.
    public static func comment(_ text: String) -> [UInt8] {
        var out: [UInt8] = [ASCII.colon, ASCII.space]
        out += oneLineStatic(text)
        out += [ASCII.lf, ASCII.lf]
        return out
    }

    /// The media type of an event stream.
    public static let contentType = "text/event-stream"

    private func field(_ name: String, _ value: [UInt8], into out: inout [UInt8]) {
        out += Array(name.utf8)
        out += [ASCII.colon, ASCII.space]
        out += value
        out.append(ASCII.lf)
    }

    private func oneLine(_ text: String) -> [UInt8] { Self.oneLineStatic(text) }

    private static func oneLineStatic(_ text: String) -> [UInt8] {
        text.utf8.map { $0 == ASCII.cr || $0 == ASCII.lf ? ASCII.space : $0 }
    }

    private static func lines(_ text: String) -> [[UInt8]] {
        var lines: [[UInt8]] = [[]]
        var previousCR = false
        for c in text.utf8 {
            if c == ASCII.lf && previousCR {
                previousCR = false
                continue
            }
            previousCR = c == ASCII.cr
            if c == ASCII.cr || c == ASCII.lf {
                lines.append([])
            } else {
                lines[lines.count - 1].append(c)
            }
        }
        return lines
    }
}
