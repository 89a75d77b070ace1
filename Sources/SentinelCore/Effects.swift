import RESP

/// Everything that can happen to a sentinel, handed to `Sentinel.handle(_:now:)`.
public enum Input: Sendable {
    /// The periodic timer (the driver calls it about ten times a second, with jitter).
    case tick
    /// A link asked for with `Effect.connect` is up. `localHost` is our end of the
    /// socket, which hellos announce unless announce-ip is set.
    case connected(LinkID, localHost: String)
    /// A link failed to connect, timed out, or was closed by either side.
    case disconnected(LinkID)
    /// One reply (or, on a Pub/Sub link, one message) read from a link.
    case reply(LinkID, RESPValue)
    /// A client ran `PUBLISH __sentinel__:hello <payload>` on our port: a peer's hello.
    case helloPublished(String)
    /// A script started with `Effect.runScript` ended (exit status, or the signal that killed it).
    case scriptFinished(ScriptID, exitStatus: Int32, signal: Int32)
}

/// What the sentinel wants done, in order. The driver must carry effects out in the
/// order given: in particular `.persist` is synchronous (written and fsynced) before
/// anything after it, so a vote is on disk before the reply that casts it is sent.
public enum Effect: Equatable, Sendable {
    /// Open a TCP connection; answer with `.connected` or `.disconnected`.
    case connect(LinkID, Address)
    /// Send one command on a link. Each command gets exactly one reply, in order.
    case send(LinkID, RESPCommand)
    /// Close a link. No `.disconnected` input follows for it.
    case close(LinkID)
    /// Publish an event to local Pub/Sub subscribers and the log.
    case event(Event)
    /// Write the configuration (`Sentinel.configSnapshot()`) to disk now. The
    /// driver may skip the write when the file would not change.
    case persist
    /// Write the configuration to disk now even if it did not change (SENTINEL
    /// FLUSHCONFIG: recreates a deleted file, reports an unwritable one).
    case persistAlways
    /// Run a user script (notification-script, client-reconfig-script).
    case runScript(ScriptID, path: String, args: [String])
    /// Kill a running script that exceeded its time limit.
    case killScript(ScriptID)
    /// A log line that is not an event.
    case log(LogLevel, String)
    /// Exit the process now (SENTINEL SIMULATE-FAILURE crash points).
    case exit(code: Int32)
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

public struct ScriptID: Hashable, Sendable, CustomStringConvertible {
    public let raw: Int
    public init(_ raw: Int) { self.raw = raw }
    public var description: String { "script#\(raw)" }
}
