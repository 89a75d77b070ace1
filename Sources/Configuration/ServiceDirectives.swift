import SentinelCore
import WardenCrypto
import WardenWebhooks

/// Warden's own server directives, for services redis-sentinel does not have: the HTTP
/// API and webhooks. Kept apart from the redis directives: `ConfigParser` hands a line to
/// `apply` first, and `ConfigRewriter` lets `rewrite` keep these lines.
///
///     http-port <port>                     0 (default): no HTTP API
///     http-bind <addr> [<addr> ...]        default 127.0.0.1
///     http-token <token>                   bearer token for POSTs (and reads, with:)
///     http-token-reads yes|no              default no
///     http-max-connections <n>             default 256
///     http-idle-timeout <ms>               default 60000
///     http-request-timeout <ms>            default 10000
///     webhook <id> <url> [secret <whsec_...>] [events <glob>,...] [timeout <ms>]
///     webhook-queue-limit <n>              deliveries waiting per endpoint, default 1000
public enum ServiceDirectives {
    static let names: Set<String> = [
        "http-port", "http-bind", "http-token", "http-token-reads", "http-max-connections",
        "http-idle-timeout", "http-request-timeout", "webhook", "webhook-queue-limit",
    ]

    /// A token shorter than this is refused: it could be guessed.
    public static let minTokenLength = 16
    public static let maxTokenLength = 1024

    typealias Failure = ConfigParser.Failure

    /// Applies the line if it is one of these directives; false when it is not. Called
    /// from the parser's first pass (server directives), with the arguments after the name.
    static func apply(_ name: String, _ args: [String], raw: [[UInt8]],
                      to config: inout SentinelConfig) throws(ConfigParser.Failure) -> Bool {
        guard names.contains(name) else { return false }
        switch name {
        case "http-port":
            config.http.port = Int(try integer(single(args), in: 0...65535))
        case "http-bind":
            guard !args.isEmpty else { throw Failure("http-bind needs at least one address") }
            guard args.count <= 16 else { throw Failure("Too many bind addresses specified.") }
            var addresses: [String] = []
            for address in args {
                guard let normalized = IPAddress.normalize(address) else {
                    throw Failure("Invalid http-bind address '\(address)': an IPv4 or IPv6 address is expected (0.0.0.0 or :: for all)")
                }
                addresses.append(normalized)
            }
            config.http.bind = addresses
        case "http-token":
            _ = try single(args)
            if raw[0].isEmpty {
                config.http.token = nil
            } else {
                if let reason = tokenProblem(raw[0]) { throw Failure(reason) }
                config.http.token = Secret(raw[0])
            }
        case "http-token-reads":
            config.http.tokenReads = try yesNo(single(args))
        case "http-max-connections":
            config.http.maxConnections = Int(try integer(single(args), in: 1...100_000))
        case "http-idle-timeout":
            config.http.idleTimeoutMs = try integer(single(args), in: 100...86_400_000)
        case "http-request-timeout":
            config.http.requestTimeoutMs = try integer(single(args), in: 100...3_600_000)
        case "webhook-queue-limit":
            config.webhookQueueLimit = Int(try integer(single(args), in: 1...100_000))
        default:
            let setting: WebhookSetting
            do {
                setting = try webhookSetting(arguments: args)
            } catch {
                throw Failure("Invalid webhook: \(error.reason)")
            }
            guard !config.webhooks.contains(where: { $0.id == setting.id }) else {
                throw Failure("Duplicate webhook id '\(setting.id)'")
            }
            guard config.webhooks.count < Sentinel.maxWebhooks else {
                throw Failure("Too many webhooks (at most \(Sentinel.maxWebhooks))")
            }
            config.webhooks.append(setting)
        }
        return true
    }

    // Value checks, with redis-server's texts (kept here so this file depends on nothing of
    // the parser's but `Failure`).

    static func single(_ args: [String]) throws(Failure) -> String {
        guard args.count == 1 else { throw Failure("wrong number of arguments") }
        return args[0]
    }

    static func integer(_ text: String, in range: ClosedRange<Int64>) throws(Failure) -> Int64 {
        guard let value = Int64(text) else { throw Failure("argument couldn't be parsed into an integer") }
        guard range.contains(value) else {
            throw Failure("argument must be between \(range.lowerBound) and \(range.upperBound) inclusive")
        }
        return value
    }

    static func yesNo(_ text: String) throws(Failure) -> Bool {
        switch text.lowercased() {
        case "yes": return true
        case "no": return false
        default: throw Failure("argument must be 'yes' or 'no'")
        }
    }

    /// Why a bearer token is refused, or nil: 16-1024 characters of RFC 6750's b64token
    /// (letters, digits, `-._~+/`, then `=` padding), so it fits an Authorization header as is.
    public static func tokenProblem(_ token: [UInt8]) -> String? {
        guard (minTokenLength...maxTokenLength).contains(token.count) else {
            return "the token must be \(minTokenLength)-\(maxTokenLength) characters long"
        }
        var padding = false
        for byte in token {
            let plain = (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A)
                || "-._~+/".utf8.contains(byte)
            if byte == UInt8(ascii: "=") {
                padding = true
            } else if !plain || padding {
                return "the token may hold letters, digits and -._~+/ (and = at its end) only"
            }
        }
        return nil
    }

    /// A `webhook` line's arguments (after the word) as a setting; throws the reason.
    public static func webhookSetting(arguments: [String]) throws(WebhookConfigError) -> WebhookSetting {
        let parsed = try WebhookConfig(arguments: arguments)
        return WebhookSetting(id: parsed.id, url: parsed.url.description, secrets: parsed.secrets.map(\.text),
                              events: parsed.events.map(\.text),
                              timeoutMs: parsed.timeoutMs == WebhookConfig.defaultTimeoutMs ? nil : parsed.timeoutMs)
    }

    /// The sender's form of a setting (which was checked when it was made).
    public static func webhookConfig(_ setting: WebhookSetting) throws(WebhookConfigError) -> WebhookConfig {
        try WebhookConfig(arguments: [setting.id] + setting.valueArguments)
    }

    /// What the core needs to check SENTINEL CONFIG SET webhook.<id> and http-token.
    public static let validator = ServiceSettingsValidator(
        webhook: { id, value in
            guard let values = ConfigParser.splitArguments(value) else {
                return .failure(ServiceSettingError("unbalanced quotes"))
            }
            do throws(WebhookConfigError) {
                return .success(try webhookSetting(arguments: [id] + values))
            } catch {
                return .failure(ServiceSettingError(error.reason))
            }
        },
        httpToken: { tokenProblem($0) })

    // MARK: - Rewrite

    /// The rewrite slot of a line of these directives: its name, or `webhook <id>`.
    static func slotKey(_ args: [String]) -> String? {
        guard let first = args.first?.lowercased(), names.contains(first) else { return nil }
        if first == "webhook" { return args.count > 1 ? "webhook \(args[1])" : nil }
        return first
    }

    /// Keeps the lines of these directives in step with `config`: a line whose meaning is
    /// the config's stays as written; one that differs is replaced; lines of settings
    /// gone (a webhook removed, a token cleared) and repeated lines are removed; settings
    /// with no line are appended, unless at their default.
    static func rewrite(_ config: SentinelConfig, lines: inout [String?], slots: inout [String: [Int]],
                        appended: inout [String]) {
        let http = config.http
        let defaults = HTTPSettings()
        var wanted: [(key: String, text: String?, isDefault: Bool, matches: ([String]) -> Bool)] = []
        func single(_ name: String, _ value: String, isDefault: Bool) {
            wanted.append((name, "\(name) \(ConfigRewriter.quoteIfNeeded(value))", isDefault, { $0 == [value] }))
        }
        single("http-port", String(http.port), isDefault: http.port == defaults.port)
        wanted.append(("http-bind", (["http-bind"] + http.bind).joined(separator: " "), http.bind == defaults.bind,
                       { $0.map { IPAddress.normalize($0) ?? $0 } == http.bind }))
        if let token = http.token {
            wanted.append(("http-token", "http-token \(ConfigRewriter.quoteIfNeeded(token.bytes))", false,
                           { $0.count == 1 && token.matches(Array($0[0].utf8)) }))
        } else {
            wanted.append(("http-token", nil, true, { _ in false }))
        }
        single("http-token-reads", http.tokenReads ? "yes" : "no", isDefault: http.tokenReads == defaults.tokenReads)
        single("http-max-connections", String(http.maxConnections), isDefault: http.maxConnections == defaults.maxConnections)
        single("http-idle-timeout", String(http.idleTimeoutMs), isDefault: http.idleTimeoutMs == defaults.idleTimeoutMs)
        single("http-request-timeout", String(http.requestTimeoutMs),
               isDefault: http.requestTimeoutMs == defaults.requestTimeoutMs)
        single("webhook-queue-limit", String(config.webhookQueueLimit), isDefault: config.webhookQueueLimit == 1000)
        for webhook in config.webhooks {
            let text = (["webhook", webhook.id] + webhook.valueArguments).map(ConfigRewriter.quoteIfNeeded)
                .joined(separator: " ")
            wanted.append(("webhook \(webhook.id)", text, false,
                           { (try? webhookSetting(arguments: [webhook.id] + $0)) == webhook }))
        }

        var kept = Set<String>()
        for item in wanted {
            kept.insert(item.key)
            if let itemSlots = slots.removeValue(forKey: item.key) {
                let first = itemSlots[0]
                if let text = item.text {
                    let current = lines[first].flatMap { ConfigParser.splitArguments($0) } ?? []
                    let offset = item.key.hasPrefix("webhook ") ? 2 : 1
                    if current.count < offset || !item.matches(Array(current.dropFirst(offset))) { lines[first] = text }
                } else {
                    lines[first] = nil
                }
                for extra in itemSlots.dropFirst() { lines[extra] = nil }
            } else if let text = item.text, !item.isDefault {
                appended.append(text)
            }
        }
        // Webhooks no longer configured.
        for (key, indexes) in slots where key.hasPrefix("webhook ") && !kept.contains(key) {
            for index in indexes { lines[index] = nil }
            slots[key] = nil
        }
    }
}
