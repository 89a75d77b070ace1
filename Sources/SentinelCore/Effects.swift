import RESP

/// Everything that can happen to a sentinel, handed to `Sentinel.handle(_:now:)`:
/// the only way in. Some inputs answer an effect (`.saved` answers `.save`,
/// `.scriptStarted` answers `.runScript`, ...).
public enum Input: Sendable {
    /// The periodic timer (the driver calls it every `Timing.tickInterval`, with jitter).
    case tick
    /// A link asked for with `Effect.connect` is up. `localHost` is our end of the
    /// socket, which hellos announce unless announce-ip is set.
    case connected(LinkID, localHost: String)
    /// A link failed to connect, timed out, or was closed by either side.
    case disconnected(LinkID)
    /// One reply (or, on a Pub/Sub link, one message) read from a link.
    case reply(LinkID, RESPValue)
    /// A client's command on the sentinel port that the protocol answers: SENTINEL
    /// and PUBLISH (of a hello). Answered by `Effect.reply` with the same id, at once
    /// or, when the reply reveals something that must be on disk first, after the
    /// `.save` it waits for. The driver keeps a client's replies in order by not
    /// reading its next command until the reply came.
    case command(RequestID, [[UInt8]])
    /// The answer to `Effect.checkExecutable`: one flag per path, in order.
    case executableChecked(RequestID, [Bool])
    /// The answer to `Effect.save`: whether the configuration is on disk.
    case saved(SaveID, ok: Bool)
    /// The answer to `Effect.resolve`: an IP the name resolves to, or nil.
    case resolved(String, ip: String?)
    /// The answers to `Effect.runScript`: the process started...
    case scriptStarted(ScriptID, pid: Int32)
    /// ...or could not be started at all...
    case scriptCouldNotStart(ScriptID)
    /// ...and, once it started, ended (exit status, or the signal that killed it).
    case scriptFinished(ScriptID, exitStatus: Int32, signal: Int32)
}

/// What the sentinel wants done. The driver carries effects out in the order given;
/// none of them has to wait for another. Whatever must be durable before others
/// learn of it (a vote, a changed setting) is held back by the core itself until
/// the `.save` that covers it has been answered `.saved(ok: true)`, so a driver
/// cannot reveal a vote that is not on disk, however it schedules the writes.
public enum Effect: Equatable, Sendable {
    /// Open a TCP connection; answer with `.connected` or `.disconnected`.
    case connect(LinkID, Address)
    /// Send one command on a link. Each command gets exactly one reply, in order.
    case send(LinkID, RESPCommand)
    /// Close a link. No `.disconnected` input follows for it.
    case close(LinkID)
    /// Publish an event to local Pub/Sub subscribers and the log.
    case event(Event)
    /// The reply to an `Input.command`.
    case reply(RequestID, RESPValue)
    /// Write this configuration to disk (atomically), then answer `.saved`. The
    /// core never has more than one save outstanding.
    case save(SaveRequest)
    /// Say whether each path names a file this process may execute (access X_OK);
    /// answer `.executableChecked`. The command waits for it.
    case checkExecutable(RequestID, [String])
    /// Resolve a host name (off the loop thread, with a timeout); answer `.resolved`.
    case resolve(String)
    /// Run a user script (notification-script, client-reconfig-script); answer
    /// `.scriptStarted` or `.scriptCouldNotStart`, then `.scriptFinished`.
    case runScript(ScriptID, path: String, args: [String])
    /// Kill a running script that exceeded its time limit.
    case killScript(ScriptID)
    /// A log line that is not an event.
    case log(LogLevel, String)
    /// Exit the process now (SENTINEL SIMULATE-FAILURE crash points).
    case exit(code: Int32)
}

/// The configuration to write, and whether to write it even if the file would not
/// change (SENTINEL FLUSHCONFIG: recreates a deleted file, reports an unwritable one).
public struct SaveRequest: Equatable, Sendable {
    public let id: SaveID
    public let config: SentinelConfig
    public let evenIfUnchanged: Bool
}

/// A Pub/Sub event such as `+sdown`: published on the channel named `name`.
public struct Event: Equatable, Sendable, CustomStringConvertible {
    public var level: LogLevel
    public var name: String
    public var payload: String
    public init(level: LogLevel, name: String, payload: String) {
        self.level = level
        self.name = name
        self.payload = payload
    }
    /// `+sdown master mymaster 127.0.0.1 6379`, the form Redis logs.
    public var description: String { "\(name) \(payload)" }
}

/// Identifies one client command; chosen by the driver, echoed by `Effect.reply`.
public struct RequestID: Hashable, Sendable, CustomStringConvertible {
    public let raw: UInt64
    public init(_ raw: UInt64) { self.raw = raw }
    public var description: String { "request#\(raw)" }
}

public struct SaveID: Hashable, Sendable, CustomStringConvertible {
    public let raw: Int
    public init(_ raw: Int) { self.raw = raw }
    public var description: String { "save#\(raw)" }
}

public struct ScriptID: Hashable, Sendable, CustomStringConvertible {
    public let raw: Int
    public init(_ raw: Int) { self.raw = raw }
    public var description: String { "script#\(raw)" }
}
