import WardenCrypto

/// Milliseconds. Every time inside SentinelCore is a wall-clock reading in
/// milliseconds handed in by the caller, as Redis's `mstime()` would be.
public typealias Millis = Int64

/// A host and port. The host is an IP literal unless resolve-hostnames is on.
public struct Address: Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public init(_ host: String, _ port: Int) {
        self.host = host
        self.port = port
    }
    /// `ip:port`, the way Redis names a replica (`[::1]:port` is not used by Redis either).
    public var description: String { "\(host):\(port)" }
}

/// One `sentinel monitor` block of sentinel.conf and everything persisted for it.
public struct MasterConfig: Equatable, Sendable {
    public var name: String
    public var address: Address
    public var quorum: Int
    public var downAfter: Millis = 30_000
    public var failoverTimeout: Millis = 180_000
    public var parallelSyncs: Int = 1
    public var notificationScript: String? = nil
    public var clientReconfigScript: String? = nil
    public var authPass: Secret? = nil
    public var authUser: String? = nil
    /// 0 disables the reboot-is-down rule.
    public var masterRebootDownAfterPeriod: Millis = 0
    /// Warden: `switchover-timeout`, how long a coordinated switchover (SENTINEL FAILOVER
    /// <name> COORDINATED) may take before it is aborted (see Switchover.swift).
    public var switchoverTimeout: Millis = MasterConfig.defaultSwitchoverTimeout
    /// Warden: `max-promotion-lag`, the most bytes of replication a replica may be behind
    /// and still be promoted while one closer exists; 0 turns the guard off.
    public var maxPromotionLag: Int64 = 0
    /// rename-command: lower-cased original name → name to send, in file order.
    public var renamedCommands: [(original: String, renamed: String)] = []
    public var configEpoch: UInt64 = 0
    /// The epoch of the last vote this sentinel cast for this master.
    public var leaderEpoch: UInt64 = 0
    public var knownReplicas: [Address] = []
    public var knownSentinels: [KnownSentinel] = []
    /// auto-forget-after and the tombstones of forgotten peers and replicas.
    public var forgetting = ForgetSettings()

    public init(name: String, address: Address, quorum: Int) {
        self.name = name
        self.address = address
        self.quorum = quorum
    }

    public static let defaultSwitchoverTimeout: Millis = 5_000

    public static func == (a: MasterConfig, b: MasterConfig) -> Bool {
        a.name == b.name && a.address == b.address && a.quorum == b.quorum
            && a.downAfter == b.downAfter && a.failoverTimeout == b.failoverTimeout
            && a.parallelSyncs == b.parallelSyncs && a.notificationScript == b.notificationScript
            && a.clientReconfigScript == b.clientReconfigScript && a.authPass == b.authPass
            && a.authUser == b.authUser
            && a.masterRebootDownAfterPeriod == b.masterRebootDownAfterPeriod
            && a.switchoverTimeout == b.switchoverTimeout && a.maxPromotionLag == b.maxPromotionLag
            && a.renamedCommands.elementsEqual(b.renamedCommands, by: { $0 == $1 })
            && a.configEpoch == b.configEpoch && a.leaderEpoch == b.leaderEpoch
            && a.knownReplicas == b.knownReplicas && a.knownSentinels == b.knownSentinels
            && a.forgetting == b.forgetting
    }
}

public struct KnownSentinel: Equatable, Sendable {
    public var address: Address
    public var runID: String
    public init(address: Address, runID: String) {
        self.address = address
        self.runID = runID
    }
}

/// Everything sentinel.conf (plus command-line overrides) can say.
///
/// Defaults are redis-sentinel's. Parsing lives in the Configuration module (`ConfigParser`), the
/// comment-preserving rewrite in `ConfigRewriter`; both are pure.
public struct SentinelConfig: Equatable, Sendable {
    // Server directives.
    public var port: Int = 26379
    public var bind: [String] = []
    public var dir: String? = nil
    public var logfile: String = ""
    public var pidfile: String? = nil
    public var daemonize: Bool = false
    public var requirepass: Secret? = nil
    public var protectedMode: Bool = false
    public var loglevel: LogLevel = .notice
    public var maxclients: Int = 10_000
    /// The `tls-*` directives.
    public var tls = TLSConfig()

    // Global sentinel directives.
    public var myid: String? = nil
    public var currentEpoch: UInt64 = 0
    public var announceIP: String? = nil
    public var announcePort: Int = 0
    public var resolveHostnames: Bool = false
    public var announceHostnames: Bool = false
    public var denyScriptsReconfig: Bool = true
    public var sentinelUser: String? = nil
    public var sentinelPass: Secret? = nil

    /// In the order of their `sentinel monitor` lines.
    public var masters: [MasterConfig] = []

    // Services of the daemon: the HTTP API and webhooks. The core stores them (they are
    // persisted and changed by SENTINEL CONFIG SET) and knows nothing else of them.
    public var http = HTTPSettings()
    /// In the order of their `webhook` lines; ids are unique.
    public var webhooks: [WebhookSetting] = []
    /// `webhook-queue-limit`: deliveries waiting per endpoint.
    public var webhookQueueLimit: Int = 1000

    public init() {}
}

/// The `http-*` directives: the daemon's HTTP API (JSON, probes, /metrics).
public struct HTTPSettings: Equatable, Sendable {
    /// 0 (the default) turns the API off.
    public var port: Int = 0
    public var bind: [String] = ["127.0.0.1"]
    /// The bearer token POSTs need (and every request with `tokenReads`); nil: POSTs are refused.
    public var token: Secret? = nil
    public var tokenReads: Bool = false
    public var maxConnections: Int = 256
    /// A kept-alive connection with no request is closed after this.
    public var idleTimeoutMs: Int64 = 60_000
    /// A request must arrive whole within this (slow clients are cut off).
    public var requestTimeoutMs: Int64 = 10_000

    public init() {}
}

/// One `webhook <id> <url> [secret ...] [events ...] [timeout ...]` line, already checked
/// (by the Configuration module, or the driver's `ServiceSettingsValidator`).
public struct WebhookSetting: Equatable, Sendable {
    public var id: String
    public var url: String
    /// `whsec_...` texts, the current one first.
    public var secrets: [Secret]
    /// Glob patterns over event names; `["*"]` by default.
    public var events: [String]
    /// nil: the default timeout.
    public var timeoutMs: Int?

    public init(id: String, url: String, secrets: [Secret] = [], events: [String] = ["*"], timeoutMs: Int? = nil) {
        self.id = id
        self.url = url
        self.secrets = secrets
        self.events = events
        self.timeoutMs = timeoutMs
    }

    /// What follows `webhook <id>` in sentinel.conf (secrets included), defaults left out.
    public var valueArguments: [String] {
        var out = [url]
        for secret in secrets { out += ["secret", String(decoding: secret.bytes, as: UTF8.self)] }
        if events != ["*"] { out += ["events", events.joined(separator: ",")] }
        if let timeoutMs { out += ["timeout", String(timeoutMs)] }
        return out
    }

    /// The same with every secret masked, for SENTINEL CONFIG GET and logs.
    public var redactedValue: String {
        var out = [url]
        for _ in secrets { out += ["secret", "whsec_******"] }
        if events != ["*"] { out += ["events", events.joined(separator: ",")] }
        if let timeoutMs { out += ["timeout", String(timeoutMs)] }
        return out.joined(separator: " ")
    }
}

/// Checks the values of settings the core stores for the driver but cannot judge itself
/// (it knows nothing of URLs or webhooks). The driver gives one to the core
/// (`Sentinel.serviceValidator`); without it, SENTINEL CONFIG SET refuses those parameters.
public struct ServiceSettingsValidator: Sendable {
    /// A webhook's value (`<url> [secret ...] [events ...] [timeout ...]`) for endpoint `id`:
    /// the setting, or the reason it is refused.
    public var webhook: @Sendable (_ id: String, _ value: String) -> Result<WebhookSetting, ServiceSettingError>
    /// An `http-token` value: nil when acceptable, else the reason.
    public var httpToken: @Sendable (_ value: [UInt8]) -> String?

    public init(webhook: @escaping @Sendable (String, String) -> Result<WebhookSetting, ServiceSettingError>,
                httpToken: @escaping @Sendable ([UInt8]) -> String?) {
        self.webhook = webhook
        self.httpToken = httpToken
    }
}

public struct ServiceSettingError: Error, Equatable, Sendable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
}

public enum LogLevel: String, Sendable, CaseIterable, Comparable {
    case debug, verbose, notice, warning, nothing

    private var rank: Int {
        switch self {
        case .debug: return 0
        case .verbose: return 1
        case .notice: return 2
        case .warning: return 3
        case .nothing: return 4
        }
    }
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rank < b.rank }
}
