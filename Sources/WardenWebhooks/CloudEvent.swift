import WardenCrypto
import WardenHTTP

/// A CloudEvents 1.0 event in structured mode: the whole event is the JSON body,
/// sent with `Content-Type: application/cloudevents+json`.
public struct CloudEvent: Equatable, Sendable {
    public static let contentType = "application/cloudevents+json; charset=utf-8"
    public static let specVersion = "1.0"

    /// Unique for this `source`; receivers de-duplicate on (source, id). See `stableID`.
    public var id: String
    /// A URI-reference naming the context the event comes from (e.g. `/warden/<cluster>`).
    public var source: String
    /// The event type, reverse-DNS style (`io.warden.switch-master`).
    public var type: String
    /// When the event happened, Unix milliseconds; written in RFC 3339 UTC.
    public var timeMs: Int64?
    /// What the event is about within the source (the master name).
    public var subject: String?
    /// The media type of `data`; `application/json` by default.
    public var dataContentType: String?
    public var data: JSONValue?

    public init(id: String, source: String, type: String, timeMs: Int64? = nil, subject: String? = nil,
                dataContentType: String? = "application/json", data: JSONValue? = nil) {
        self.id = id
        self.source = source
        self.type = type
        self.timeMs = timeMs
        self.subject = subject
        self.dataContentType = dataContentType
        self.data = data
    }

    /// The event as a JSON object, attributes in the spec's order, absent optional
    /// attributes left out (CloudEvents has no null attributes).
    public var json: JSONValue {
        var object: JSONObject = ["specversion": .string(Self.specVersion), "id": .string(id),
                                  "source": .string(source), "type": .string(type)]
        if let timeMs { object["time"] = .string(UTCDateTime.rfc3339(unixMs: timeMs)) }
        if let subject { object["subject"] = .string(subject) }
        if let dataContentType, data != nil { object["datacontenttype"] = .string(dataContentType) }
        if let data { object["data"] = data }
        return .object(object)
    }

    /// The body bytes: the JSON encoding, the same bytes for the same event every time.
    public var body: [UInt8] { json.encoded }

    /// An id that every sentinel computes alike from the same facts, so that receivers
    /// can de-duplicate one failover reported by several sentinels: 32 hex digits of
    /// SHA-256 over the parts, each prefixed by its length (so `("ab","c")` and
    /// `("a","bc")` differ). For example `stableID(["switch-master", master, "\(configEpoch)"])`.
    /// Contains no `.`, as a Standard Webhooks id must not.
    public static func stableID(_ parts: [String]) -> String {
        var input: [UInt8] = []
        for part in parts {
            input += Array("\(part.utf8.count):".utf8)
            input += Array(part.utf8)
        }
        let hex = Array("0123456789abcdef".utf8)
        return String(decoding: SHA256.hash(input).prefix(16).flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] }, as: UTF8.self)
    }
}
