/// The Prometheus text exposition format, version 0.0.4: what `/metrics` answers.
///
///     var text = PrometheusText()
///     try text.gauge("redis_sentinel_masters", help: "Masters monitored.", [.init(3)])
///     try text.counter("warden_failovers_total", help: "Failovers by result.",
///                      [.init(1, labels: ["master_name": "mymaster", "result": "ok"])])
///     try text.histogram("warden_failover_duration_seconds", help: "...", [(labels, histogram)])
///     response.body = text.bytes   // Content-Type: PrometheusText.contentType
///
/// Rules enforced (a violation throws `PrometheusError`, a programming error that
/// tests catch): metric names match `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names
/// `[a-zA-Z_][a-zA-Z0-9_]*` without the reserved `__` prefix; a family is written
/// once; counters end in `_total`; no sample repeats a label name; histogram buckets
/// are finite and increasing and their series do not use the label `le`. Label
/// values are any text, escaped (`\` `"` and newline); HELP text escapes `\` and
/// newline. Every family has its `# HELP` and `# TYPE` lines before its samples and
/// the output ends with a newline. Values use base units (seconds, bytes) by the
/// caller's choice of name (`_seconds`, `_bytes`).
public struct PrometheusText: Sendable {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private var out = ""
    private var families = Set<String>()

    public init() {}

    public var text: String { out }
    public var bytes: [UInt8] { Array(out.utf8) }

    public mutating func counter(_ name: String, help: String, _ samples: [PrometheusSample]) throws(PrometheusError) {
        guard name.hasSuffix("_total") else { throw .counterWithoutTotalSuffix(name) }
        try family(name, type: "counter", help: help, samples)
    }

    public mutating func gauge(_ name: String, help: String, _ samples: [PrometheusSample]) throws(PrometheusError) {
        try family(name, type: "gauge", help: help, samples)
    }

    /// A histogram family: for each series, `name_bucket{...,le="..."}` (cumulative,
    /// ending with `le="+Inf"`), `name_sum` and `name_count`.
    public mutating func histogram(_ name: String, help: String,
                                   _ series: [(labels: [(String, String)], histogram: PrometheusHistogram)]) throws(PrometheusError) {
        try header(name, type: "histogram", help: help)
        for (labels, histogram) in series {
            try check(labels, reserved: ["le"])
            var cumulative: UInt64 = 0
            for (bound, count) in zip(histogram.upperBounds, histogram.bucketCounts) {
                cumulative &+= count
                line(name + "_bucket", labels + [("le", Self.format(bound))], Self.format(cumulative))
            }
            line(name + "_bucket", labels + [("le", "+Inf")], Self.format(histogram.count))
            line(name + "_sum", labels, Self.format(histogram.sum))
            line(name + "_count", labels, Self.format(histogram.count))
        }
    }

    private mutating func family(_ name: String, type: String, help: String, _ samples: [PrometheusSample]) throws(PrometheusError) {
        try header(name, type: type, help: help)
        for sample in samples {
            try check(sample.labels, reserved: [])
            line(name, sample.labels, sample.value)
        }
    }

    private mutating func header(_ name: String, type: String, help: String) throws(PrometheusError) {
        guard Self.isMetricName(name) else { throw .invalidMetricName(name) }
        guard families.insert(name).inserted else { throw .duplicateFamily(name) }
        out += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(type)\n"
    }

    private func check(_ labels: [(String, String)], reserved: [String]) throws(PrometheusError) {
        var seen = Set<String>()
        for (name, _) in labels {
            guard Self.isLabelName(name), !reserved.contains(name) else { throw .invalidLabelName(name) }
            guard seen.insert(name).inserted else { throw .duplicateLabel(name) }
        }
    }

    private mutating func line(_ name: String, _ labels: [(String, String)], _ value: String) {
        out += name
        if !labels.isEmpty {
            out += "{"
            out += labels.map { "\($0.0)=\"\(Self.escapeLabelValue($0.1))\"" }.joined(separator: ",")
            out += "}"
        }
        out += " \(value)\n"
    }

    static func isMetricName(_ name: String) -> Bool {
        guard let first = name.utf8.first else { return false }
        return !isDigit(first) && name.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == 0x5F || $0 == 0x3A }
    }

    static func isLabelName(_ name: String) -> Bool {
        guard let first = name.utf8.first, !isDigit(first), !name.hasPrefix("__") else { return false }
        return name.utf8.allSatisfy { isLetter($0) || isDigit($0) || $0 == 0x5F }
    }

    private static func isLetter(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }
    private static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }

    /// `\` and newline escaped, and `"` too in a label value (not in HELP text).
    static func escape(_ text: String, quotes: Bool) -> String {
        var out = ""
        for c in text.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"" where quotes: out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func escapeLabelValue(_ value: String) -> String { escape(value, quotes: true) }
    static func escapeHelp(_ help: String) -> String { escape(help, quotes: false) }

    /// Integral values below 2^53 as integers; others in Swift's shortest round-trip
    /// form (`0.25`, `1e+20`), and `+Inf`, `-Inf`, `NaN`.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 { return String(Int64(value)) }
        return value.description
    }

    public static func format(_ value: UInt64) -> String { String(value) }
    public static func format(_ value: Int64) -> String { String(value) }
}

/// One sample of a counter or gauge family.
public struct PrometheusSample: Sendable {
    public var labels: [(String, String)]
    /// The value, already formatted (`PrometheusText.format`).
    public var value: String

    public init(_ value: Double, labels: KeyValuePairs<String, String> = [:]) {
        self.labels = labels.map { ($0.key, $0.value) }
        self.value = PrometheusText.format(value)
    }

    public init(_ value: Int, labels: KeyValuePairs<String, String> = [:]) {
        self.labels = labels.map { ($0.key, $0.value) }
        self.value = String(value)
    }

    public init(_ value: Int64, labels: [(String, String)]) {
        self.labels = labels
        self.value = String(value)
    }

    public init(_ value: Double, labels: [(String, String)]) {
        self.labels = labels
        self.value = PrometheusText.format(value)
    }
}

/// A histogram accumulated in the process: fixed upper bounds, a count per bucket
/// (not cumulative; `PrometheusText` adds them up), the sum and the count.
public struct PrometheusHistogram: Sendable, Equatable {
    public let upperBounds: [Double]
    public private(set) var bucketCounts: [UInt64]
    public private(set) var sum: Double = 0
    public private(set) var count: UInt64 = 0

    /// Nil unless the bounds are finite and strictly increasing (at least one).
    public init?(upperBounds: [Double]) {
        guard !upperBounds.isEmpty, upperBounds.allSatisfy(\.isFinite),
              zip(upperBounds, upperBounds.dropFirst()).allSatisfy({ $0 < $1 }) else { return nil }
        self.upperBounds = upperBounds
        bucketCounts = Array(repeating: 0, count: upperBounds.count)
    }

    /// Counts `value` in the first bucket whose bound is at least `value` (only in
    /// `+Inf` when above all); NaN is ignored.
    public mutating func observe(_ value: Double) {
        guard !value.isNaN else { return }
        if let index = upperBounds.firstIndex(where: { value <= $0 }) { bucketCounts[index] &+= 1 }
        count &+= 1
        sum += value
    }

    /// Seconds buckets for a failover: 0.1 s to 5 min.
    public static let failoverSeconds = PrometheusHistogram(upperBounds: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180, 300])!
    /// Seconds buckets for a webhook delivery: 5 ms to 30 s.
    public static let deliverySeconds = PrometheusHistogram(upperBounds: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30])!
}

public enum PrometheusError: Error, Equatable, Sendable {
    case invalidMetricName(String)
    case invalidLabelName(String)
    case duplicateFamily(String)
    case duplicateLabel(String)
    case counterWithoutTotalSuffix(String)
}
