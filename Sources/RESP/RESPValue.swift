/// A RESP2 or RESP3 value.
///
/// The same value type is used for requests, replies and pushes. RESP3-only
/// types are downgraded by the encoder when the peer speaks RESP2 (a map becomes a
/// flat key/value array, a double a bulk string, and so on), so code that builds
/// replies writes them once, in their richest form.
public enum RESPValue: Equatable, Sendable {
    /// `+text` — a status reply such as `+OK`.
    case simpleString(String)
    /// `-text` — an error; the text includes its code, e.g. `ERR unknown command`.
    case error(String)
    /// `:n`
    case integer(Int64)
    /// `$n` — binary safe; `nil` is the RESP2 null bulk (`$-1`, `_` in RESP3).
    case bulkString([UInt8]?)
    /// `*n` — `nil` is the RESP2 null array (`*-1`, `_` in RESP3).
    case array([RESPValue]?)
    /// `_` (RESP3). Encoded as `$-1` in RESP2.
    case null
    /// `,` (RESP3). Encoded as a bulk string in RESP2.
    case double(Double)
    /// `#` (RESP3). Encoded as `:1`/`:0` in RESP2.
    case boolean(Bool)
    /// `(` (RESP3). Encoded as a bulk string in RESP2.
    case bigNumber(String)
    /// `=` (RESP3), with its three-letter format (`txt`, `mkd`). A bulk string in RESP2.
    case verbatim(format: String, text: [UInt8])
    /// `%` (RESP3). A flat array of keys and values in RESP2.
    case map([RESPPair])
    /// `~` (RESP3). An array in RESP2.
    case set([RESPValue])
    /// `>` (RESP3). An array in RESP2 (that is how Pub/Sub messages look there).
    case push([RESPValue])
    /// `!` (RESP3). A plain error in RESP2.
    case blobError([UInt8])
}

/// One key/value entry of a RESP3 map.
public struct RESPPair: Equatable, Sendable {
    public var key: RESPValue
    public var value: RESPValue
    public init(_ key: RESPValue, _ value: RESPValue) {
        self.key = key
        self.value = value
    }
}

extension RESPValue {
    /// A bulk string from UTF-8 text.
    @inlinable
    public static func bulk(_ text: String) -> RESPValue { .bulkString(Array(text.utf8)) }

    /// `+OK`
    public static let ok = RESPValue.simpleString("OK")

    /// A map whose keys and values are bulk strings, in the given order — the
    /// shape of every SENTINEL instance reply.
    public static func bulkMap(_ fields: [(String, String)]) -> RESPValue {
        .map(fields.map { RESPPair(.bulk($0.0), .bulk($0.1)) })
    }

    /// The text of a simple string, bulk string or verbatim string.
    public var string: String? {
        switch self {
        case .simpleString(let s): return s
        case .bulkString(let b?): return String(decoding: b, as: UTF8.self)
        case .verbatim(_, let t): return String(decoding: t, as: UTF8.self)
        case .bigNumber(let s): return s
        default: return nil
        }
    }

    /// The elements of an array, set or push.
    public var elements: [RESPValue]? {
        switch self {
        case .array(let a?): return a
        case .set(let a), .push(let a): return a
        default: return nil
        }
    }

    /// The integer value of an integer reply, or of a string holding one.
    public var int: Int64? {
        switch self {
        case .integer(let n): return n
        default: return string.flatMap { Int64($0) }
        }
    }

    public var isError: Bool {
        switch self {
        case .error, .blobError: return true
        default: return false
        }
    }

    /// The text of an error reply.
    public var errorText: String? {
        switch self {
        case .error(let s): return s
        case .blobError(let b): return String(decoding: b, as: UTF8.self)
        default: return nil
        }
    }
}
