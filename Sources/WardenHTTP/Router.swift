/// Percent-decoding of URL components (RFC 3986 §2.1).
public enum PercentEncoding {
    /// The bytes of `text` with every `%XX` decoded; nil for a `%` not followed by two
    /// hex digits. With `plusAsSpace` (query strings), `+` is a space.
    public static func decodeBytes(_ text: Substring, plusAsSpace: Bool = false) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let c = iterator.next() {
            if c == UInt8(ascii: "%") {
                guard let h = iterator.next().flatMap(hexValue), let l = iterator.next().flatMap(hexValue) else { return nil }
                out.append(h << 4 | l)
            } else if plusAsSpace && c == UInt8(ascii: "+") {
                out.append(ASCII.space)
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// The decoded text; nil for a bad `%` escape or bytes that are not UTF-8.
    public static func decode(_ text: Substring, plusAsSpace: Bool = false) -> String? {
        guard let bytes = decodeBytes(text, plusAsSpace: plusAsSpace) else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }

    /// Encodes everything but RFC 3986's unreserved characters (for building paths
    /// such as a `Location` with a master name in it).
    public static func encode(_ text: String) -> String {
        var out = ""
        for c in text.utf8 {
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(c))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%"
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(c >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(c & 15)]))
            }
        }
        return out
    }
}

/// A query string (`lag=10&verbose`) as name/value pairs in order, percent-decoded
/// with `+` as a space. A pair without `=` has an empty value; empty pairs are skipped.
public struct HTTPQuery: Equatable, Sendable {
    public let pairs: [(name: String, value: String)]

    /// Nil for a bad escape or a name or value that is not UTF-8.
    public init?(_ query: String?) {
        var pairs: [(String, String)] = []
        for part in (query ?? "").split(separator: "&") {
            let (rawName, rawValue) = part.firstIndex(of: "=").map { (part[..<$0], part[part.index(after: $0)...]) }
                ?? (part, "")
            guard let name = PercentEncoding.decode(rawName, plusAsSpace: true),
                  let value = PercentEncoding.decode(rawValue, plusAsSpace: true) else { return nil }
            pairs.append((name, value))
        }
        self.pairs = pairs
    }

    /// The value of the first pair with this name.
    public subscript(_ name: String) -> String? { pairs.first { $0.name == name }?.value }

    public static func == (a: HTTPQuery, b: HTTPQuery) -> Bool {
        a.pairs.count == b.pairs.count && zip(a.pairs, b.pairs).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}

/// The outcome of `Router.match`.
public enum RouteMatch<Handler> {
    /// The route and the decoded values of its `{parameters}`.
    case matched(Handler, parameters: [String: String])
    /// The path has routes, none for this method: answer 405 with an `Allow` field.
    case methodNotAllowed(allowed: [String])
    case notFound
    /// A path segment has a bad `%` escape or is not UTF-8 once decoded: answer 400.
    case badPath
}

/// Routes of the form `/v1/masters/{name}/primary`: literal segments compared
/// exactly, `{parameter}` segments matching any one non-empty segment. The request
/// path is split at `/` before percent-decoding, so `%2F` stays inside its segment
/// (a master called `a/b` is `/v1/masters/a%2Fb`). Routes are tried in the order
/// added; a route for GET also answers HEAD. Paths are matched as given: no
/// trailing-slash or `//` folding (`/v1/masters/` is not `/v1/masters`).
public struct Router<Handler> {
    private struct Route {
        let method: String
        let segments: [Segment]
        let handler: Handler
    }

    private enum Segment: Equatable {
        case literal(String)
        case parameter(String)
    }

    private var routes: [Route] = []

    public init() {}

    /// Adds a route. `pattern` starts with `/`; `{name}` segments capture.
    public mutating func add(_ method: String, _ pattern: String, _ handler: Handler) {
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { part -> Segment in
            if part.hasPrefix("{") && part.hasSuffix("}") && part.count > 2 {
                return .parameter(String(part.dropFirst().dropLast()))
            }
            return .literal(String(part))
        }
        routes.append(Route(method: method, segments: segments, handler: handler))
    }

    public func match(method: String, path: String) -> RouteMatch<Handler> {
        guard path.hasPrefix("/") else { return .notFound }
        var segments: [String] = []
        for raw in path.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
            guard let decoded = PercentEncoding.decode(raw) else { return .badPath }
            segments.append(decoded)
        }
        var allowed: [String] = []
        for route in routes {
            guard let parameters = Self.bind(route.segments, segments) else { continue }
            if route.method == method || (method == "HEAD" && route.method == "GET") {
                return .matched(route.handler, parameters: parameters)
            }
            for m in route.method == "GET" ? ["GET", "HEAD"] : [route.method] where !allowed.contains(m) {
                allowed.append(m)
            }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)
    }

    private static func bind(_ pattern: [Segment], _ segments: [String]) -> [String: String]? {
        guard pattern.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (p, s) in zip(pattern, segments) {
            switch p {
            case .literal(let text):
                guard text == s else { return nil }
            case .parameter(let name):
                guard !s.isEmpty else { return nil }
                parameters[name] = s
            }
        }
        return parameters
    }
}

/// Whether an `Accept` field admits `mediaType` ("text/event-stream"): listed
/// exactly, or as `type/*` or `*/*`, with a q-value above 0.
public func httpAccepts(_ accept: String?, _ mediaType: String) -> Bool {
    guard let accept else { return false }
    let wanted = asciiLowercased(mediaType)
    let type = wanted.split(separator: "/").first.map(String.init) ?? wanted
    for element in accept.split(separator: ",") {
        let params = element.split(separator: ";").map { asciiLowercased(trimOWS(String($0))) }
        guard let range = params.first else { continue }
        let q = params.dropFirst().first { $0.hasPrefix("q=") }.map { String($0.dropFirst(2)) }
        if let q, (Double(q) ?? 1) <= 0 { continue }
        if range == wanted || range == type + "/*" || range == "*/*" { return true }
    }
    return false
}
