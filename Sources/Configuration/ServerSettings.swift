import SentinelCore
import WardenACL

/// What a config file sets besides the sentinel model: the redis-server directives
/// that mean something to a sentinel port and that the daemon applies.
/// Defaults are redis-server 7.0's.
public struct ServerSettings: Equatable, Sendable {
    /// `timeout`: seconds a client may stay idle before it is closed; 0 = never.
    /// Pub/Sub clients are never closed for being idle.
    public var timeout = 0
    /// `tcp-keepalive`: SO_KEEPALIVE idle time of client connections, seconds; 0 = off.
    public var tcpKeepalive = 300
    /// `tcp-backlog`: the listen(2) backlog.
    public var tcpBacklog = 511
    /// `unixsocket`: a Unix domain socket to accept clients on as well.
    public var unixSocket: String? = nil
    /// `unixsocketperm`: the socket file's mode (octal in the file); 0 = leave as created.
    public var unixSocketPerm: UInt32 = 0
    /// `client-output-buffer-limit` for each client class.
    public var outputBufferLimits: [ClientClass: OutputBufferLimit] = ClientClass.defaults
    /// `rename-command`: the name each top-level command answers to now (lower case),
    /// keyed by that name; a command missing here was renamed to "" (disabled).
    public var commandNames: [String: String] = ServerSettings.identityNames
    /// `enable-debug-command` and `enable-protected-configs`.
    public var enableDebugCommand: ProtectedAction = .no
    public var enableProtectedConfigs: ProtectedAction = .no
    /// `aclfile`: "" for none.
    public var aclfile = ""
    /// `acllog-max-len`.
    public var acllogMaxLen = 128
    /// `acl-pubsub-default`: whether new users start with `allchannels`.
    public var aclPubsubDefaultAllChannels = false
    /// `user` lines, in file order: the name and the rules (bytes: they hold passwords).
    public var users: [UserDeclaration] = []

    public init() {}

    /// Whether any `rename-command` line changed the command names.
    public var renamesCommands: Bool { commandNames != Self.identityNames }

    static let identityNames: [String: String] = Dictionary(
        uniqueKeysWithValues: CommandTable.sentinel.topLevel.map {
            (CommandTable.sentinel.commands[$0].name, CommandTable.sentinel.commands[$0].name)
        })
}

/// One `user <name> rules...` line.
public struct UserDeclaration: Equatable, Sendable {
    public var name: String
    public var rules: [[UInt8]]

    public init(name: String, rules: [[UInt8]]) {
        self.name = name
        self.rules = rules
    }
}

/// The client classes of `client-output-buffer-limit` (`slave` is `replica`).
public enum ClientClass: String, Sendable, CaseIterable {
    case normal, replica, pubsub

    /// redis-server's defaults: none for normal clients, 256mb/64mb/60 for replicas,
    /// 32mb/8mb/60 for Pub/Sub clients.
    public static let defaults: [ClientClass: OutputBufferLimit] = [
        .normal: OutputBufferLimit(hard: 0, soft: 0, softSeconds: 0),
        .replica: OutputBufferLimit(hard: 256 << 20, soft: 64 << 20, softSeconds: 60),
        .pubsub: OutputBufferLimit(hard: 32 << 20, soft: 8 << 20, softSeconds: 60),
    ]
}

/// A client is closed when its pending output passes `hard` bytes, or stays above
/// `soft` bytes for more than `softSeconds`. 0 disables a limit.
public struct OutputBufferLimit: Equatable, Sendable {
    public var hard: UInt64
    public var soft: UInt64
    public var softSeconds: Int64

    public init(hard: UInt64, soft: UInt64, softSeconds: Int64) {
        self.hard = hard
        self.soft = soft
        self.softSeconds = softSeconds
    }
}

/// `enable-debug-command` / `enable-protected-configs`.
public enum ProtectedAction: String, Sendable, CaseIterable {
    case no, yes, local
}

/// What the parser produces: the sentinel model and the server settings.
public struct LoadedConfig: Equatable, Sendable {
    public var sentinel: SentinelConfig
    public var server: ServerSettings

    public init(sentinel: SentinelConfig = SentinelConfig(), server: ServerSettings = ServerSettings()) {
        self.sentinel = sentinel
        self.server = server
    }
}

/// What parsing may ask of the outside world. `ConfigEnvironment.pure` answers without
/// touching it (tests); the daemon passes one that does (`include` reads files, `dir`
/// changes the working directory right away, as Redis does, so that later relative
/// paths resolve from there).
public struct ConfigEnvironment {
    /// Whether a notification or reconfiguration script may be run.
    public var isExecutable: (String) -> Bool
    /// The text of an included file, or the reason it can't be read (`strerror`).
    public var readFile: (String) -> Result<String, ConfigFileFailure>
    /// The files an `include` pattern with `*`, `?` or `[` matches, in order.
    public var glob: (String) -> [String]
    /// `dir`: changes the working directory; nil, or the reason it failed.
    public var changeDirectory: (String) -> String?

    public init(isExecutable: @escaping (String) -> Bool = { _ in true },
                readFile: @escaping (String) -> Result<String, ConfigFileFailure> = { _ in
                    .failure(ConfigFileFailure("No such file or directory")) },
                glob: @escaping (String) -> [String] = { _ in [] },
                changeDirectory: @escaping (String) -> String? = { _ in nil }) {
        self.isExecutable = isExecutable
        self.readFile = readFile
        self.glob = glob
        self.changeDirectory = changeDirectory
    }

    /// Touches nothing: includes can't be read, `dir` always succeeds.
    public static var pure: ConfigEnvironment { ConfigEnvironment() }
}

/// Why a file could not be read, as `strerror` words it.
public struct ConfigFileFailure: Error, Equatable, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}
