/// An HTTP version as it appears on the wire; Warden speaks 1.0 and 1.1.
public struct HTTPVersion: Hashable, Sendable, CustomStringConvertible {
    public let major: Int
    public let minor: Int

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    public static let http1_0 = HTTPVersion(major: 1, minor: 0)
    public static let http1_1 = HTTPVersion(major: 1, minor: 1)

    public var description: String { "HTTP/\(major).\(minor)" }
}

/// One header field: the name as received or given, and the value without
/// surrounding whitespace. Values are decoded as UTF-8 (invalid bytes, which HTTP
/// calls obs-text, become U+FFFD).
public struct HTTPField: Equatable, Sendable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// Header fields in the order received or added. Lookups ignore ASCII case.
public struct HTTPHeaders: Equatable, Sendable, ExpressibleByDictionaryLiteral, Sequence {
    public private(set) var fields: [HTTPField] = []

    public init() {}

    public init(_ fields: [HTTPField]) {
        self.fields = fields
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        fields = elements.map { HTTPField($0.0, $0.1) }
    }

    public var count: Int { fields.count }
    public var isEmpty: Bool { fields.isEmpty }

    public func makeIterator() -> IndexingIterator<[HTTPField]> { fields.makeIterator() }

    /// Appends a field (keeping any with the same name).
    public mutating func add(_ name: String, _ value: String) {
        fields.append(HTTPField(name, value))
    }

    /// Replaces every field of this name by one with `value`.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        add(name, value)
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { asciiCaseInsensitiveEqual($0.name, name) }
    }

    /// The value of the first field of this name.
    public subscript(_ name: String) -> String? {
        fields.first { asciiCaseInsensitiveEqual($0.name, name) }?.value
    }

    /// The values of every field of this name, in order.
    public func values(_ name: String) -> [String] {
        fields.filter { asciiCaseInsensitiveEqual($0.name, name) }.map(\.value)
    }

    /// The comma-separated list elements of every field of this name, trimmed and
    /// lowercased, empty elements dropped (for Connection, Transfer-Encoding, Accept...).
    public func tokens(_ name: String) -> [String] {
        values(name).flatMap { value in
            value.split(separator: ",").map { asciiLowercased(trimOWS(String($0))) }.filter { !$0.isEmpty }
        }
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }
}

/// A complete request, as returned by `HTTPRequestParser`.
public struct HTTPRequest: Equatable, Sendable {
    /// The method token, case-sensitive as HTTP requires ("GET", "POST").
    public var method: String
    /// The request target as received ("/v1/masters?x=1", or an absolute URL).
    public var target: String
    /// The path of the target, still percent-encoded ("/v1/masters/my%20master").
    public var path: String
    /// What follows the first "?" of the target, without it; nil when there is no "?".
    public var query: String?
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Whether the connection may carry another request after this one's response:
    /// HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
    public var keepAlive: Bool

    public init(method: String, target: String, version: HTTPVersion = .http1_1,
                headers: HTTPHeaders = [:], body: [UInt8] = [], keepAlive: Bool = true) {
        self.method = method
        self.target = target
        let (path, query) = splitTarget(target)
        self.path = path
        self.query = query
        self.version = version
        self.headers = headers
        self.body = body
        self.keepAlive = keepAlive
    }
}

/// A response to encode with `HTTPEncoder`, or one received by the client.
public struct HTTPResponse: Equatable, Sendable {
    public var status: Int
    /// The reason phrase; nil writes the standard one for `status`.
    public var reason: String?
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: Int, reason: String? = nil, headers: HTTPHeaders = [:], body: [UInt8] = []) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
    }

    /// A response with a text body and its Content-Type.
    public init(status: Int, contentType: String, body: String, headers: HTTPHeaders = [:]) {
        self.init(status: status, headers: headers, body: Array(body.utf8))
        self.headers.set("Content-Type", contentType)
    }
}

/// Splits a request target at its first "?": the part before (the path, or the
/// whole absolute URL's path) and the part after.
func splitTarget(_ target: String) -> (path: String, query: String?) {
    var path = Substring(target)
    var query: String?
    if let mark = path.firstIndex(of: "?") {
        query = String(path[path.index(after: mark)...])
        path = path[..<mark]
    }
    // absolute-form: http://authority/path -> /path
    if !path.hasPrefix("/"), let colon = path.firstIndex(of: ":"), path[colon...].hasPrefix("://") {
        let afterAuthority = path[path.index(colon, offsetBy: 3)...]
        if let slash = afterAuthority.firstIndex(of: "/") {
            path = afterAuthority[slash...]
        } else {
            path = "/"
        }
    }
    return (String(path), query)
}

/// The standard reason phrases (RFC 9110 §15) for the statuses Warden writes.
public func httpReasonPhrase(_ status: Int) -> String {
    switch status {
    case 100: return "Continue"
    case 101: return "Switching Protocols"
    case 200: return "OK"
    case 201: return "Created"
    case 202: return "Accepted"
    case 204: return "No Content"
    case 301: return "Moved Permanently"
    case 302: return "Found"
    case 304: return "Not Modified"
    case 400: return "Bad Request"
    case 401: return "Unauthorized"
    case 403: return "Forbidden"
    case 404: return "Not Found"
    case 405: return "Method Not Allowed"
    case 406: return "Not Acceptable"
    case 408: return "Request Timeout"
    case 409: return "Conflict"
    case 410: return "Gone"
    case 411: return "Length Required"
    case 413: return "Content Too Large"
    case 414: return "URI Too Long"
    case 415: return "Unsupported Media Type"
    case 417: return "Expectation Failed"
    case 422: return "Unprocessable Content"
    case 429: return "Too Many Requests"
    case 431: return "Request Header Fields Too Large"
    case 500: return "Internal Server Error"
    case 501: return "Not Implemented"
    case 502: return "Bad Gateway"
    case 503: return "Service Unavailable"
    case 504: return "Gateway Timeout"
    case 505: return "HTTP Version Not Supported"
    default: return ""
    }
}
