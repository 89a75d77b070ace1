import WardenHTTP

/// One `webhook` directive of sentinel.conf:
///
///     webhook <id> <url> [secret <whsec_...>] [events <glob>[,<glob>...]] [timeout <ms>]
///
/// Options may come in any order, each once, except `secret`, which may be repeated
/// during a key rotation (every secret signs each delivery, the first is the current
/// one). Without `events` an endpoint gets every event.
public struct WebhookConfig: Equatable, Sendable {
    /// Names the endpoint in logs, metrics and the persisted queue: 1-64 of
    /// `[A-Za-z0-9_.-]`.
    public var id: String
    public var url: HTTPURL
    public var secrets: [WebhookSecret]
    public var events: [EventPattern]
    /// The deadline of one attempt: connect, send and the whole response.
    public var timeoutMs: Int

    public static let maxIDLength = 64
    public static let maxSecrets = 4
    public static let maxEvents = 64
    public static let maxPatternLength = 128
    /// 10 s, within the 10-30 s that receivers expect.
    public static let defaultTimeoutMs = 10_000
    public static let timeoutRangeMs = 100...120_000

    public init(id: String, url: HTTPURL, secrets: [WebhookSecret] = [], events: [EventPattern] = [EventPattern("*")],
                timeoutMs: Int = WebhookConfig.defaultTimeoutMs) {
        self.id = id
        self.url = url
        self.secrets = secrets
        self.events = events
        self.timeoutMs = timeoutMs
    }

    /// Whether the endpoint wants this event (`+switch-master`, ...).
    public func wants(_ eventName: String) -> Bool {
        events.contains { $0.matches(eventName) }
    }

    /// Parses the arguments after the word `webhook`.
    public init(arguments: [String]) throws(WebhookConfigError) {
        guard arguments.count >= 2 else {
            throw .init("wrong number of arguments (webhook <id> <url> [secret <whsec_...>] [events <glob>,...] [timeout <ms>])")
        }
        let id = arguments[0]
        guard Self.isValidID(id) else {
            throw .init("invalid webhook id '\(id)' (1-\(Self.maxIDLength) of letters, digits, '_', '.', '-')")
        }
        let url: HTTPURL
        do {
            url = try HTTPURL(parsing: arguments[1])
        } catch {
            throw .init("invalid URL: \(error.reason)")
        }
        var secrets: [WebhookSecret] = []
        var events: [EventPattern]?
        var timeout: Int?
        var index = 2
        while index < arguments.count {
            let option = asciiLowercase(arguments[index])
            guard index + 1 < arguments.count else { throw .init("option '\(arguments[index])' needs a value") }
            let value = arguments[index + 1]
            index += 2
            switch option {
            case "secret":
                guard secrets.count < Self.maxSecrets else { throw .init("at most \(Self.maxSecrets) secrets") }
                secrets.append(try WebhookSecret(parsing: value))
            case "events":
                guard events == nil else { throw .init("option 'events' given twice") }
                events = try Self.parseEvents(value)
            case "timeout":
                guard timeout == nil else { throw .init("option 'timeout' given twice") }
                guard value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), value.utf8.count <= 9, let ms = Int(value),
                      Self.timeoutRangeMs.contains(ms) else {
                    throw .init("invalid timeout '\(value)' (milliseconds, \(Self.timeoutRangeMs.lowerBound)-\(Self.timeoutRangeMs.upperBound))")
                }
                timeout = ms
            default:
                throw .init("unknown option '\(arguments[index - 2])' (secret, events or timeout)")
            }
        }
        self.init(id: id, url: url, secrets: secrets, events: events ?? [EventPattern("*")],
                  timeoutMs: timeout ?? Self.defaultTimeoutMs)
    }

    /// The arguments that `init(arguments:)` reads back to this value, defaults left
    /// out: what CONFIG REWRITE writes after `webhook`. They contain no whitespace or
    /// quotes, so they can be joined with spaces as they are. They include the secrets.
    public var arguments: [String] {
        var out = [id, url.description]
        for secret in secrets { out += ["secret", secret.revealedText] }
        if events.map(\.text) != ["*"] { out += ["events", events.map(\.text).joined(separator: ",")] }
        if timeoutMs != Self.defaultTimeoutMs { out += ["timeout", String(timeoutMs)] }
        return out
    }

    /// The directive line: `webhook <arguments...>`.
    public var directiveLine: String { (["webhook"] + arguments).joined(separator: " ") }

    /// The same line with secrets masked, for logs and `CONFIG GET`-style views.
    public var redactedLine: String {
        var out = ["webhook", id, url.description]
        for secret in secrets { out += ["secret", secret.description] }
        if events.map(\.text) != ["*"] { out += ["events", events.map(\.text).joined(separator: ",")] }
        if timeoutMs != Self.defaultTimeoutMs { out += ["timeout", String(timeoutMs)] }
        return out.joined(separator: " ")
    }

    static func isValidID(_ id: String) -> Bool {
        (1...maxIDLength).contains(id.utf8.count) && id.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D
        }
    }

    /// `+switch-master,+odown`: non-empty patterns of printable ASCII without spaces,
    /// quotes or commas.
    static func parseEvents(_ value: String) throws(WebhookConfigError) -> [EventPattern] {
        let parts = value.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count <= maxEvents else { throw .init("at most \(maxEvents) event patterns") }
        var patterns: [EventPattern] = []
        for part in parts {
            guard !part.isEmpty else { throw .init("empty event pattern in '\(value)'") }
            guard part.utf8.count <= maxPatternLength,
                  part.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x22 && $0 != 0x27 }) else {
                throw .init("invalid event pattern '\(part)' (printable ASCII without spaces or quotes, at most \(maxPatternLength) bytes)")
            }
            patterns.append(EventPattern(String(part)))
        }
        return patterns
    }
}

/// Why a webhook directive (or one of its values) was refused.
public struct WebhookConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

func asciiLowercase(_ text: String) -> String {
    String(decoding: text.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }, as: UTF8.self)
}
