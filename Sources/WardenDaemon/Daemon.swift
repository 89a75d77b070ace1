#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import EventLoop
import RESP
import SentinelCore
import WardenHTTPIO
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
    /// Host names, resolved on threads of their own (never on the loop thread).
    lazy var resolver = HostResolver(loop: loop)
    /// Links to a host name whose address is being looked up before connecting.
    var resolvingLinks: Set<LinkID> = []
    /// How long a name lookup may take before it counts as failed.
    static let resolveTimeoutMs: Int64 = 5_000
    /// TLS contexts for the TLS port and for links (`tls-replication`).
    let tls: TLSMaterial
    let startTime: Millis
    /// The server's own run id (INFO run_id), distinct from the sentinel id.
    let serverRunID: String
    var tickTimer: TimerID?
    /// Timer jitter; seeded once (SystemRandomNumberGenerator would cost a syscall per tick).
    var random: SplitMix64
    /// Client commands handed to the core and not answered yet: the session of each.
    var requests: [RequestID: UInt64] = [:]
    var nextRequest: UInt64 = 0
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
        self.serverRunID = idGen.hexID()
        self.random = SplitMix64(seed: seedSource.next())
        self.scripts = ScriptRunner()
        self.tls = TLSMaterial(config: config.tls)
    }

    /// Sets up TLS, opens the listening sockets and starts the timer. Throws `StartupError`
    /// when TLS cannot be configured or nothing is to be listened on, `SocketError` when a
    /// port can't be bound.
    public func start() throws {
        try configureTLS()
        server = ClientServer(daemon: self, acl: initialUsers)
        try server.listen()
        let tlsPort = core.settings.tls.port != 0 ? ", tls-port \(core.settings.tls.port)" : ""
        logger.log(.notice, "Warden \(WardenVersion.string) (redis-sentinel compatible) started, port \(core.settings.port)\(tlsPort), pid \(getpid())")
        perform(core.start(now: EventLoop.wallClockMs()))
        scheduleTick()
    }

    func scheduleTick() {
        let delay = random.draw(Timing.tickInterval)
        tickTimer = loop.schedule(afterMs: delay) { [unowned self] in
            self.feed(.tick)
            self.scripts.reap { id, status, signal in
                self.feed(.scriptFinished(id, exitStatus: status, signal: signal))
            }
            if !self.shuttingDown { self.scheduleTick() }
        }
    }

    /// Hands one input to the core and carries out what it returns.
    func feed(_ input: Input) {
        perform(core.handle(input, now: EventLoop.wallClockMs()))
    }

    /// Hands a client's SENTINEL or PUBLISH command to the core; the reply comes
    /// back as `Effect.reply` (during this call, since saves here are synchronous).
    func submit(_ s: ClientSession, _ args: [[UInt8]]) {
        nextRequest += 1
        let id = RequestID(nextRequest)
        requests[id] = s.id
        s.awaiting = id
        feed(.command(id, args))
    }

    // MARK: - Effects

    /// Carries out effects in order. Answers to effects (`.saved`, `.scriptStarted`,
    /// ...) are fed back at once; what they produce is carried out before the rest.
    func perform(_ effects: [Effect]) {
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
                resolvingLinks.remove(id)
                if let link = links.removeValue(forKey: id) {
                    link.connection.onClose = nil
                    link.connection.close()
                }
            case .event(let event):
                if event.level != .debug {
                    server.publish(channel: event.name, message: event.payload)
                }
                logger.log(event.level, event.description)
            case .reply(let id, let value):
                deliverReply(id, value)
            case .save(let request):
                let ok = saveConfig(request.config, evenIfUnchanged: request.evenIfUnchanged)
                feed(.saved(request.id, ok: ok))
            case .resolve(let name):
                lookUp(name) { [unowned self] ip in self.feed(.resolved(name, ip: ip)) }
            case .checkExecutable(let id, let paths):
                feed(.executableChecked(id, paths.map { access($0, X_OK) == 0 }))
            case .runScript(let id, let path, let args):
                if let pid = scripts.spawn(id, path: path, args: args) {
                    feed(.scriptStarted(id, pid: pid))
                } else {
                    feed(.scriptCouldNotStart(id))
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
        // SENTINEL CONFIG SET may have changed the log level.
        logger.level = core.settings.loglevel
    }

    /// Sends a reply to the session that asked, and lets it go on reading.
    func deliverReply(_ id: RequestID, _ value: RESPValue) {
        guard let sid = requests.removeValue(forKey: id), let s = server.sessions[sid] else { return }
        s.reply(value)
        s.awaiting = nil
        if !s.processing { server.process(s) }
    }

    /// An IP for `name` (the first getaddrinfo gives), or nil if the lookup fails or
    /// takes longer than `resolveTimeoutMs`; `completion` runs once, on the loop thread.
    func lookUp(_ name: String, completion: @escaping (String?) -> Void) {
        var done = false
        let timer = loop.schedule(afterMs: Self.resolveTimeoutMs) {
            guard !done else { return }
            done = true
            completion(nil)
        }
        resolver.resolve(name) { [unowned self] result in
            guard !done else { return }
            done = true
            self.loop.cancel(timer)
            if case .failure(let error) = result {
                self.logger.log(.verbose, "Failed to resolve hostname '\(name)': \(error)")
            }
            completion(try? result.get().first)
        }
    }

    /// Opens a link; a host name is resolved first, at every attempt (it may have moved).
    func connect(_ id: LinkID, _ address: Address) {
        guard IPAddress.normalizeNumericHost(address.host) == nil else {
            connect(id, address, ip: address.host)
            return
        }
        resolvingLinks.insert(id)
        lookUp(address.host) { [unowned self] ip in
            // The core may have given up on the link meanwhile.
            guard self.resolvingLinks.remove(id) != nil else { return }
            if let ip {
                self.connect(id, address, ip: ip)
            } else {
                self.feed(.disconnected(id))
            }
        }
    }

    private func connect(_ id: LinkID, _ address: Address, ip: String) {
        let c = loop.connect(host: ip, port: address.port, timeoutMs: Self.connectTimeoutMs,
                             tls: tls.linkContext)
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
        c.onClose = { [unowned self, unowned c] reason in
            self.logTLSClose(reason, of: c, outgoing: true)
            if self.links.removeValue(forKey: id) != nil {
                self.feed(.disconnected(id))
            }
        }
    }

    // MARK: - Config

    /// Rewrites sentinel.conf with `config` (skipped when the text is the one last
    /// written, unless `evenIfUnchanged`). On failure the old file is left as it
    /// was and the error is logged.
    func saveConfig(_ config: SentinelConfig, evenIfUnchanged: Bool = false) -> Bool {
        let text = ConfigRewriter.rewrite(original: configText, config: config)
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
        if !saveConfig(core.configSnapshot()) {
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
