#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import EventLoop
import RESP
import SentinelCore
import Configuration
import WardenACL

/// The running sentinel: drives `SentinelCore.Sentinel` with real sockets, a real
/// clock and a real disk, and serves clients on the sentinel port.
///
/// Everything here runs on the event loop's single thread. The daemon's only
/// decisions are about I/O (what to connect, how to encode, when to tick); every
/// protocol rule lives in SentinelCore.
public final class Daemon: @unchecked Sendable {
    let loop: EventLoop
    let core: Sentinel
    /// The redis-server directives that apply to the sentinel port.
    let serverSettings: ServerSettings
    /// The ACL users at start (ACLSetup.initialUsers).
    let initialUsers: ACLUserStore
    let configFile: ConfigFile
    /// The file text as last read or written, the base of every rewrite.
    var configText: String
    let logger: Logger
    var server: ClientServer!
    var links: [LinkID: OutgoingLink] = [:]
    let scripts: ScriptRunner
    let startTime: Millis
    /// The server's own run id (INFO run_id), distinct from the sentinel id.
    let serverRunID: String
    var tickTimer: TimerID?
    /// Timer jitter; seeded once (SystemRandomNumberGenerator would cost a syscall per tick).
    var random: SplitMix64
    var shuttingDown = false
    var signalSources: [DispatchSourceSignal] = []
    /// Connect timeout for links to instances.
    static let connectTimeoutMs: Int64 = 1000

    /// One outgoing connection asked for by the core.
    final class OutgoingLink {
        let connection: Connection
        var parser = RESPReplyParser()
        init(_ c: Connection) { connection = c }
    }

    public init(config: SentinelConfig, server: ServerSettings = ServerSettings(), users: ACLUserStore? = nil,
                configPath: String, configText: String, loop: EventLoop) {
        self.loop = loop
        self.serverSettings = server
        var defaultUsers = ACLUserStore()
        defaultUsers.setDefaultPassword(config.requirepass?.bytes)
        self.initialUsers = users ?? defaultUsers
        self.configFile = ConfigFile(path: configPath)
        self.configText = configText
        self.logger = Logger(level: config.loglevel, path: config.logfile)
        let now = EventLoop.wallClockMs()
        self.startTime = now
        var seedSource = SystemRandomNumberGenerator()
        self.core = Sentinel(config: config, seed: seedSource.next(), now: now)
        var idGen = SplitMix64(seed: seedSource.next())
        self.serverRunID = (0..<40).map { _ in String(idGen.next() % 16, radix: 16) }.joined()
        self.random = SplitMix64(seed: seedSource.next())
        self.scripts = ScriptRunner()
        core.scriptIsExecutable = { access($0, X_OK) == 0 }
    }

    /// Opens the listening sockets and starts the timer. Throws when the port can't be bound.
    public func start() throws {
        server = ClientServer(daemon: self, acl: initialUsers)
        try server.listen()
        logger.log(.notice, "Warden \(WardenVersion.string) (redis-sentinel compatible) started, port \(core.settings.port), pid \(getpid())")
        perform(core.start(now: EventLoop.wallClockMs()))
        scheduleTick()
    }

    func scheduleTick() {
        // 50–100 ms with jitter so that sentinels started together drift apart,
        // as Redis does by varying its timer frequency.
        let delay = 50 + Int64(random.next() % 51)
        tickTimer = loop.schedule(afterMs: delay) { [unowned self] in
            self.feed(.tick)
            self.scripts.reap { id, status, signal in
                self.feed(.scriptFinished(id, exitStatus: status, signal: signal))
            }
            if !self.shuttingDown { self.scheduleTick() }
        }
    }

    /// Hands one input to the core and carries out what it returns.
    @discardableResult
    func feed(_ input: Input) -> Bool {
        perform(core.handle(input, now: EventLoop.wallClockMs()))
    }

    // MARK: - Effects

    /// Carries out effects in order. Returns false if a config save failed (the
    /// caller of a client command then reports the failure).
    @discardableResult
    func perform(_ effects: [Effect]) -> Bool {
        var saved = true
        for effect in effects {
            switch effect {
            case .connect(let id, let address):
                connect(id, address)
            case .send(let id, let args):
                if let link = links[id] {
                    var bytes: [UInt8] = []
                    RESPEncoder.encodeCommand(args, into: &bytes)
                    link.connection.write(bytes)
                }
            case .close(let id):
                if let link = links.removeValue(forKey: id) {
                    link.connection.onClose = nil
                    link.connection.close()
                }
            case .event(let event):
                if event.level != .debug {
                    server.publish(channel: event.name, message: event.payload)
                }
                logger.log(event.level, event.description)
            case .persist:
                if !saveConfig() { saved = false }
            case .persistAlways:
                if !saveConfig(evenIfUnchanged: true) { saved = false }
            case .runScript(let id, let path, let args):
                if let pid = scripts.spawn(id, path: path, args: args) {
                    core.scriptStarted(id, pid: pid)
                } else {
                    // Like a failed exec in Redis: exit status 2, never retried.
                    loop.schedule(afterMs: 0) { [unowned self] in
                        self.feed(.scriptFinished(id, exitStatus: 2, signal: 0))
                    }
                }
            case .killScript(let id):
                scripts.kill(id)
            case .log(let level, let text):
                logger.log(level, text)
            case .exit(let code):
                logger.log(.warning, "Exiting with status \(code)")
                Glibc.exit(code)
            }
        }
        return saved
    }

    func connect(_ id: LinkID, _ address: Address) {
        let c = loop.connect(host: address.host, port: address.port, timeoutMs: Self.connectTimeoutMs)
        let link = OutgoingLink(c)
        links[id] = link
        c.outputLimit = 16 * 1024 * 1024
        c.onConnect = { [unowned self, unowned c] in
            self.feed(.connected(id, localHost: c.localHost))
        }
        c.onRead = { [unowned self, unowned link] bytes in
            link.parser.append(bytes)
            while true {
                let value: RESPValue?
                do {
                    value = try link.parser.next()
                } catch {
                    self.logger.log(.warning, "Protocol error from \(address): \(error); closing the link")
                    link.connection.close()
                    return
                }
                guard let value else { break }
                self.feed(.reply(id, value))
                // The core may have closed this link while handling the reply.
                if self.links[id] == nil { return }
            }
        }
        c.onClose = { [unowned self] _ in
            if self.links.removeValue(forKey: id) != nil {
                self.feed(.disconnected(id))
            }
        }
    }

    // MARK: - Config

    /// Rewrites sentinel.conf with the core's current state (skipped when the text
    /// is the one last written, unless `evenIfUnchanged`). On failure the old file
    /// is left as it was and the error is logged.
    func saveConfig(evenIfUnchanged: Bool = false) -> Bool {
        let text = ConfigRewriter.rewrite(original: configText, config: core.configSnapshot())
        if text == configText && !evenIfUnchanged { return true }
        do {
            try configFile.save(text)
            configText = text
            return true
        } catch {
            logger.log(.warning, "WARNING: Sentinel was not able to save the new configuration on disk!!!: \(error)")
            return false
        }
    }

    // MARK: - Shutdown

    /// SIGTERM, SIGINT and SHUTDOWN: persist, close links, stop the loop.
    public func shutdown(reason: String) {
        guard !shuttingDown else { return }
        shuttingDown = true
        logger.log(.warning, "\(reason), preparing to shut down Sentinel...")
        if let t = tickTimer { loop.cancel(t) }
        if !saveConfig() {
            logger.log(.warning, "Error trying to save the Sentinel config on shutdown")
        }
        for (_, link) in links {
            link.connection.onClose = nil
            link.connection.close()
        }
        links = [:]
        server.closeAll()
        logger.log(.warning, "Sentinel is now ready to exit, bye bye...")
        loop.stop()
    }
}

public enum WardenVersion {
    public static let string = "0.1.0"
    /// The redis-sentinel version whose behaviour Warden matches (INFO redis_version).
    public static let redisCompatible = "7.0.15"
}
