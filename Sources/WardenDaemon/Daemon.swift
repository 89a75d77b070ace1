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
import WardenHTTP

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
    /// The HTTP API (nil when http-port is 0) and the webhooks.
    var http: HTTPAPI?
    var webhooks: WebhookService?
    /// Recent events and event streams, failovers seen, and counters, for the API and /metrics.
    let eventFeed = EventFeed()
    var failovers = FailoverLog()
    var counters = DaemonCounters()
    /// SENTINEL commands the HTTP API handed to the core, and what to do with each reply.
    var httpReplies: [RequestID: (RESPValue) -> Void] = [:]
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
        self.core.serviceValidator = ServiceDirectives.validator
        self.webhookSeed = seedSource.next()
    }

    let webhookSeed: UInt64

    /// The webhook queue file, under `dir` (the working directory): one per sentinel port,
    /// so that sentinels sharing a directory keep theirs apart.
    var webhookQueuePath: String {
        let port = core.settings.port != 0 ? core.settings.port : core.settings.tls.port
        return "warden-\(port)-webhooks.queue"
    }

    /// Sets up TLS, opens the listening sockets and starts the timer. Throws `StartupError`
    /// when TLS cannot be configured or nothing is to be listened on, `SocketError` when a
    /// port can't be bound.
    public func start() throws {
        try configureTLS()
        server = ClientServer(daemon: self, acl: initialUsers)
        try server.listen()
        let settings = core.settings
        if settings.http.port != 0 {
            let api = HTTPAPI(daemon: self, settings: settings.http)
            do {
                try api.listen(settings.http)
            } catch {
                server.closeAll()
                throw error
            }
            http = api
        }
        let service = WebhookService(daemon: self, settings: settings, queuePath: webhookQueuePath, seed: webhookSeed)
        webhooks = service
        service.start(settings.webhooks)
        let tlsPort = settings.tls.port != 0 ? ", tls-port \(settings.tls.port)" : ""
        let httpPort = settings.http.port != 0 ? ", http-port \(settings.http.port)" : ""
        logger.log(.notice, "Warden \(WardenVersion.string) (redis-sentinel compatible) started, port \(settings.port)\(tlsPort)\(httpPort), pid \(getpid())")
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
        var configChanged = false
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
                if event.level != .debug { observe(event) }
            case .reply(let id, let value):
                deliverReply(id, value)
            case .save(let request):
                configChanged = true
                let ok = saveConfig(request.config, evenIfUnchanged: request.evenIfUnchanged)
                feed(.saved(request.id, ok: ok))
            case .resolve(let name):
                lookUp(name) { [unowned self] ip in self.feed(.resolved(name, ip: ip)) }
            case .checkExecutable(let id, let paths):
                feed(.executableChecked(id, paths.map { access($0, X_OK) == 0 }))
            case .runScript(let id, let path, let args):
                if let pid = scripts.spawn(id, path: path, args: args) {
                    counters.scriptsStarted &+= 1
                    feed(.scriptStarted(id, pid: pid))
                } else {
                    counters.scriptsNotStarted &+= 1
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
        // SENTINEL CONFIG SET may have changed the log level or the webhooks (the HTTP
        // token is read by every request). Every change of a setting is saved, so
        // only a call that saved needs the (whole-struct) look at the settings.
        guard configChanged else { return }
        logger.level = core.settings.loglevel
        if let webhooks, webhooks.applied != core.settings.webhooks { webhooks.configure(core.settings.webhooks) }
    }

    /// An event for the HTTP API (recent events, streams, failover timelines), the
    /// metrics and the webhooks.
    func observe(_ event: Event) {
        let now = EventLoop.wallClockMs()
        let facts = EventFacts.parse(name: event.name, payload: event.payload, masters: core.masterNames)
        let record = eventFeed.record(name: event.name, payload: event.payload, master: facts.master, timeMs: now)
        counters.count(record, facts: facts)
        let view = facts.master.flatMap { core.masterView(named: $0, now: now) }
        if let outcome = failovers.observe(record, facts: facts, view: view) { counters.count(outcome) }
        if event.name == "-monitor", let master = facts.master {
            failovers.forget(master)
            counters.forget(master)
        }
        webhooks?.publish(record, facts: facts, view: view, summary: core.summary(now: now))
    }

    /// Hands a SENTINEL command from the HTTP API to the core; `completion` gets its reply.
    func submitHTTP(_ args: [[UInt8]], completion: @escaping (RESPValue) -> Void) {
        nextRequest += 1
        let id = RequestID(nextRequest)
        httpReplies[id] = completion
        feed(.command(id, args))
    }

    /// Sends a reply to the session that asked, and lets it go on reading.
    func deliverReply(_ id: RequestID, _ value: RESPValue) {
        if let completion = httpReplies.removeValue(forKey: id) { return completion(value) }
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
        webhooks?.stop()
        http?.close()
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
