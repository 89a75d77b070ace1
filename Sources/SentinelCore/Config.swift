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
    /// rename-command: lower-cased original name → name to send, in file order.
    public var renamedCommands: [(original: String, renamed: String)] = []
    public var configEpoch: UInt64 = 0
    /// The epoch of the last vote this sentinel cast for this master.
    public var leaderEpoch: UInt64 = 0
    public var knownReplicas: [Address] = []
    public var knownSentinels: [KnownSentinel] = []

    public init(name: String, address: Address, quorum: Int) {
        self.name = name
        self.address = address
        self.quorum = quorum
    }

    public static func == (a: MasterConfig, b: MasterConfig) -> Bool {
        a.name == b.name && a.address == b.address && a.quorum == b.quorum
            && a.downAfter == b.downAfter && a.failoverTimeout == b.failoverTimeout
            && a.parallelSyncs == b.parallelSyncs && a.notificationScript == b.notificationScript
            && a.clientReconfigScript == b.clientReconfigScript && a.authPass == b.authPass
            && a.authUser == b.authUser
            && a.masterRebootDownAfterPeriod == b.masterRebootDownAfterPeriod
            && a.renamedCommands.elementsEqual(b.renamedCommands, by: { $0 == $1 })
            && a.configEpoch == b.configEpoch && a.leaderEpoch == b.leaderEpoch
            && a.knownReplicas == b.knownReplicas && a.knownSentinels == b.knownSentinels
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

    public init() {}
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
