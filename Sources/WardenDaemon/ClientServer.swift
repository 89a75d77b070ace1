#if canImport(Glibc)
import Glibc
#endif
import EventLoop
import Configuration
import RESP
import SentinelCore
import WardenACL

/// One client connected to the sentinel port.
final class ClientSession {
    let id: UInt64
    let connection: any ClientTransport
    var parser: RESPRequestParser
    var version: RESPVersion = .resp2
    /// AUTH or HELLO AUTH succeeded (Redis's `c->authenticated`). Without it, a client
    /// may run commands only while the default user is `on` and `nopass`.
    var authenticated = false
    /// The ACL user the client runs commands as, and a copy of its rules, refreshed
    /// when `ClientServer.aclGeneration` moves on.
    var userName = "default"
    var user: ACLUser
    var aclGeneration: Int
    /// When the output buffer first went over the soft limit of its class (0: it is not over).
    var softLimitSince: Millis = 0
    /// The client class whose output limits are applied (nil before the first).
    var limitClass: ClientClass?
    var name: String?
    var libName: String?
    var libVersion: String?
    var channels: Set<String> = []
    var patterns: [String] = []
    let createdAt: Millis
    var lastCommandAt: Millis
    var lastCommand = "NULL"
    /// The last command name resolved (see `ResolvedName`).
    var lastResolved: ResolvedName?
    /// Replies are encoded here during a read and written in one go (or in pieces of
    /// `ClientServer.replyBatchBytes` when a pipeline's replies are big).
    var out: [UInt8] = []
    var closing = false
    /// A command SentinelCore answers (SENTINEL, PUBLISH) whose reply has not come
    /// yet: the session reads no further command until it has, so replies keep
    /// their order. (The daemon saves synchronously, so in practice the reply
    /// always comes before `execute` returns.)
    var awaiting: RequestID?
    /// Inside `process`: a reply that arrives now is picked up by the loop.
    var processing = false

    var subscriptionCount: Int { channels.count + patterns.count }

    init(id: UInt64, connection: any ClientTransport, needsAuth: Bool, defaultUser: ACLUser, aclGeneration: Int, now: Millis) {
        self.id = id
        self.connection = connection
        self.parser = RESPRequestParser()
        // As redis-server: until AUTH, big multibulks and bulks are protocol errors.
        self.parser.authenticated = !needsAuth
        // As redis-server: a new client is authenticated when the default user needs no password.
        self.authenticated = !needsAuth
        self.user = defaultUser
        self.aclGeneration = aclGeneration
        self.createdAt = now
        self.lastCommandAt = now
    }

    func reply(_ value: RESPValue) {
        RESPEncoder.encode(value, version: version, into: &out)
    }
}

/// The sentinel port: accepts clients, parses requests, runs commands, and keeps
/// the Pub/Sub subscriptions that events are published to.
final class ClientServer {
    /// The daemon, or what stands in for it in the tests.
    unowned let daemon: any ClientServerHost
    /// Listeners and the idle timer run on it; nil when the tests drive the server
    /// through in-memory transports (then `listen` throws).
    let loop: EventLoop?
    /// The clock of client ages, idle times and the soft output limit.
    var wallClock: () -> Millis = { EventLoop.wallClockMs() }
    var listeners: [Listener] = []
    /// The `tls-port` listeners.
    var tlsListeners: [Listener] = []
    var sessions: [UInt64: ClientSession] = [:]
    var channelSubscribers: [String: [ClientSession]] = [:]
    var patternSubscribers: [ClientSession] = []
    var nextClientID: UInt64 = 2
    var stats = Stats()

    /// Output buffer caps: Redis's pubsub class hard limit, and a cap for normal clients.
    static let pubsubOutputLimit = 32 * 1024 * 1024
    static let normalOutputLimit = 64 * 1024 * 1024
    /// Replies gathered during one read are handed to the connection whenever they reach
    /// this size, so the output limit is checked along a pipeline, not only at its end.
    static let replyBatchBytes = 64 * 1024
    /// ACL users, the ACL log, and a counter that moves on at every ACL change (sessions
    /// refresh their copy of their user when it does).
    var acl: ACLUserStore
    var aclLog: ACLLog
    var aclGeneration = 0
    /// Whether clients that did not AUTH must do so: the default user is not
    /// `nopass`, or is `off` (Redis's `authRequired`).
    var defaultUserRequiresAuth = false
    /// The idle-client timer (timeout), when one is running.
    var idleTimer: TimerID?

    /// Output cap for normal clients when client-output-buffer-limit sets none (Redis
    /// has no cap there; Warden keeps one).
    static let normalOutputSafetyLimit = 64 * 1024 * 1024

    struct Stats {
        var connectionsReceived = 0
        var commandsProcessed = 0
        var rejectedConnections = 0
        var netInputBytes = 0
        var netOutputBytes = 0
    }

    init(host: any ClientServerHost, loop: EventLoop?, server: ServerSettings, acl: ACLUserStore) {
        self.daemon = host
        self.loop = loop
        self.server = server
        self.acl = acl
        self.aclLog = ACLLog(maxLength: server.acllogMaxLen)
        aclChanged()
    }

    convenience init(daemon: Daemon, acl: ACLUserStore) {
        self.init(host: daemon, loop: daemon.loop, server: daemon.serverSettings, acl: acl)
    }

    var settings: SentinelConfig { daemon.core.settings }
    /// The redis-server directives in force (they do not change while running).
    let server: ServerSettings

    /// Opens `port` (unless 0) and `tls-port` (unless 0) on every bind address.
    func listen() throws(StartupError) {
        guard settings.port != 0 || settings.tls.port != 0 else {
            throw StartupError("Configured to not listen anywhere, exiting.")
        }
        if settings.port != 0 {
            listeners = try openListeners(port: settings.port, tls: nil)
        }
        if settings.tls.port != 0 {
            tlsListeners = try openListeners(port: settings.tls.port, tls: daemon.tls.serverSettings)
        }
        if let path = server.unixSocket {
            let loop = try eventLoop()
            do {
                listeners.append(try loop.listenUnix(path: path, permissions: server.unixSocketPerm,
                                                     backlog: Int32(clamping: server.tcpBacklog)) { [unowned self] c in
                    self.accept(c)
                })
            } catch {
                throw StartupError("Failed opening Unix socket \(path): \(error)")
            }
            daemon.logger.log(.notice, "The server is now ready to accept connections at \(path)")
        }
        startIdleTimer()
    }

    /// Listeners on `port` for every bind address; on failure none stays open.
    func openListeners(port: Int, tls: TLSServerSettings?) throws(StartupError) -> [Listener] {
        let loop = try eventLoop()
        var opened: [Listener] = []
        let hosts = settings.bind.isEmpty ? ["0.0.0.0", "::"] : settings.bind
        let backlog = Int32(clamping: server.tcpBacklog)
        let keepAlive = Int32(clamping: server.tcpKeepalive)
        for host in hosts {
            // A leading '-' (Redis: "bind -::*") marks an optional address.
            let optional = host.hasPrefix("-") || settings.bind.isEmpty && host == "::"
            let h = host.hasPrefix("-") ? String(host.dropFirst()) : host
            let addr = h == "*" ? "0.0.0.0" : h == "::*" ? "::" : h
            do {
                opened.append(try loop.listen(host: addr, port: port, tls: tls, backlog: backlog,
                                              keepAliveSeconds: keepAlive) { [unowned self] c in
                    self.accept(c)
                })
            } catch {
                if optional { continue }
                for listener in opened { listener.close() }
                throw StartupError("Could not create server TCP listening socket \(addr):\(port): \(error)\n"
                    + "Failed listening on port \(port) (\(tls == nil ? "TCP" : "TLS")), aborting.")
            }
        }
        return opened
    }

    /// The loop listeners are opened on.
    func eventLoop() throws(StartupError) -> EventLoop {
        guard let loop else { throw StartupError("No event loop to listen on") }
        return loop
    }

    func accept(_ c: any ClientTransport) {
        let now = wallClock()
        // As redis-server: a refused connection counts in rejected_connections only.
        if sessions.count >= settings.maxclients {
            refuse(c, Self.maxClientsError)
            return
        }
        if refusedByProtectedMode(c) {
            refuse(c, Self.protectedModeError)
            return
        }
        stats.connectionsReceived += 1
        let s = ClientSession(id: nextClientID, connection: c, needsAuth: defaultUserRequiresAuth,
                              defaultUser: acl.defaultUser, aclGeneration: aclGeneration, now: now)
        nextClientID += 1
        sessions[s.id] = s
        applyOutputLimit(s)
        c.onRead = { [unowned self, unowned s] bytes in
            self.stats.netInputBytes += bytes.count
            self.read(s, bytes)
        }
        c.onClose = { [unowned self, unowned s] reason in
            if s.connection.isTLS { self.daemon.logTLSClose(reason, of: s.connection, outgoing: false) }
            if reason == .outputLimit {
                // Redis's warning, in the wording of its immediate (not deferred) close.
                self.daemon.logger.log(.warning, "Client id=\(s.id) addr=\(self.addr(s)) name=\(s.name ?? "") closed for overcoming of output buffer limits.")
            }
            self.forget(s)
        }
    }

    func refuse(_ c: any ClientTransport, _ error: [UInt8]) {
        stats.rejectedConnections += 1
        c.write(error)
        c.closeAfterWriting()
    }

    static let maxClientsError = Array("-ERR max number of clients reached\r\n".utf8)

    /// Protected mode as redis-sentinel 7.0 has it: with `protected-mode yes` (off by
    /// default in sentinel mode) and no password for the default user, only clients from
    /// 127.0.0.1 or ::1 are served. The bind addresses play no part (they did before
    /// Redis 7.0). An IPv4-mapped peer is formatted as IPv4 by the listener.
    func refusedByProtectedMode(_ c: any ClientTransport) -> Bool {
        guard settings.protectedMode, settings.requirepass == nil else { return false }
        return c.remoteHost != "127.0.0.1" && c.remoteHost != "::1"
    }

    /// redis-server's reply to a client refused by protected mode, word for word
    /// (clients and operators search for it), sent before the connection is closed.
    static let protectedModeError = Array((
        "-DENIED Redis is running in protected mode because protected mode is enabled and "
        + "no password is set for the default user. In this mode connections are only accepted "
        + "from the loopback interface. If you want to connect from external computers to Redis "
        + "you may adopt one of the following solutions: 1) Just disable protected mode sending "
        + "the command 'CONFIG SET protected-mode no' from the loopback interface by connecting "
        + "to Redis from the same host the server is running, however MAKE SURE Redis is not "
        + "publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change "
        + "permanent. 2) Alternatively you can just disable the protected mode by editing the "
        + "Redis configuration file, and setting the protected mode option to 'no', and then "
        + "restarting the server. 3) If you started the server manually just for testing, restart "
        + "it with the '--protected-mode no' option. 4) Setup a an authentication password for "
        + "the default user. NOTE: You only need to do one of the above things in order for the "
        + "server to start accepting connections from the outside.\r\n").utf8)

    func forget(_ s: ClientSession) {
        unsubscribeAll(s)
        sessions[s.id] = nil
    }

    func read(_ s: ClientSession, _ bytes: UnsafeRawBufferPointer) {
        s.parser.append(bytes)
        process(s)
    }

    /// Runs the commands buffered in the session's parser, until it is empty, the
    /// session closes or waits for a reply.
    func process(_ s: ClientSession) {
        // The parser is moved out of the session while a pipeline is processed:
        // one exclusive access instead of one per command.
        var parser = RESPRequestParser()
        swap(&parser, &s.parser)
        s.processing = true
        defer {
            swap(&parser, &s.parser)
            s.processing = false
        }
        // One clock reading per read: a pipeline of commands shares it.
        let now = wallClock()
        var commands = 0
        while !s.closing && s.awaiting == nil {
            let args: RESPArguments?
            do {
                args = try parser.nextArguments()
            } catch {
                if let text = error.replyText {
                    s.reply(.error(text))
                }
                daemon.logger.log(.verbose, "Protocol error from client id=\(s.id) addr=\(s.connection.remoteHost):\(s.connection.remotePort): \(error)")
                s.closing = true
                break
            }
            guard let args, !args.isEmpty else { break }
            commands += 1
            execute(s, args, now: now)
            parser.authenticated = !authRequired(s)
            if s.out.count >= Self.replyBatchBytes {
                writeReplies(s)
                // Over its output limit: the rest of the pipeline is not run.
                guard s.connection.isConnected else { break }
            }
        }
        stats.commandsProcessed += commands
        s.lastCommandAt = now
        flush(s)
    }

    func flush(_ s: ClientSession) {
        writeReplies(s)
        checkSoftOutputLimit(s)
        if s.closing {
            s.connection.closeAfterWriting()
        }
    }

    /// Hands the encoded replies to the connection; a big reply buffer is not kept.
    private func writeReplies(_ s: ClientSession) {
        guard !s.out.isEmpty else { return }
        stats.netOutputBytes += s.out.count
        s.connection.write(s.out)
        s.out.removeAll(keepingCapacity: s.out.capacity <= 2 * Self.replyBatchBytes)
    }

    // MARK: - Pub/Sub

    func subscribe(_ s: ClientSession, _ channel: String) {
        if s.channels.insert(channel).inserted {
            channelSubscribers[channel, default: []].append(s)
        }
        applyOutputLimit(s)
        s.reply(pushOrArray(s, [.bulk("subscribe"), .bulk(channel), .integer(Int64(s.subscriptionCount))]))
    }

    func unsubscribe(_ s: ClientSession, _ channel: String) {
        if s.channels.remove(channel) != nil {
            channelSubscribers[channel]?.removeAll { $0 === s }
            if channelSubscribers[channel]?.isEmpty == true { channelSubscribers[channel] = nil }
        }
        if s.subscriptionCount == 0 { applyOutputLimit(s) }
        s.reply(pushOrArray(s, [.bulk("unsubscribe"), .bulk(channel), .integer(Int64(s.subscriptionCount))]))
    }

    func psubscribe(_ s: ClientSession, _ pattern: String) {
        if !s.patterns.contains(pattern) {
            s.patterns.append(pattern)
            if !patternSubscribers.contains(where: { $0 === s }) { patternSubscribers.append(s) }
        }
        applyOutputLimit(s)
        s.reply(pushOrArray(s, [.bulk("psubscribe"), .bulk(pattern), .integer(Int64(s.subscriptionCount))]))
    }

    func punsubscribe(_ s: ClientSession, _ pattern: String) {
        s.patterns.removeAll { $0 == pattern }
        if s.patterns.isEmpty { patternSubscribers.removeAll { $0 === s } }
        if s.subscriptionCount == 0 { applyOutputLimit(s) }
        s.reply(pushOrArray(s, [.bulk("punsubscribe"), .bulk(pattern), .integer(Int64(s.subscriptionCount))]))
    }

    func unsubscribeAll(_ s: ClientSession) {
        for ch in s.channels {
            channelSubscribers[ch]?.removeAll { $0 === s }
            if channelSubscribers[ch]?.isEmpty == true { channelSubscribers[ch] = nil }
        }
        s.channels = []
        s.patterns = []
        patternSubscribers.removeAll { $0 === s }
    }

    /// Pub/Sub messages are pushes in RESP3 and plain arrays in RESP2.
    func pushOrArray(_ s: ClientSession, _ items: [RESPValue]) -> RESPValue {
        s.version == .resp3 ? .push(items) : .array(items)
    }

    /// Delivers an event to subscribers. A subscriber whose output buffer is over
    /// its limit is disconnected by the connection itself.
    @discardableResult
    func publish(channel: String, message: String) -> Int {
        var receivers = 0
        for s in channelSubscribers[channel] ?? [] {
            s.reply(pushOrArray(s, [.bulk("message"), .bulk(channel), .bulk(message)]))
            flush(s)
            receivers += 1
        }
        for s in patternSubscribers {
            for p in s.patterns where Glob.match(p, channel) {
                s.reply(pushOrArray(s, [.bulk("pmessage"), .bulk(p), .bulk(channel), .bulk(message)]))
                receivers += 1
            }
            flush(s)
        }
        return receivers
    }

    func closeAll() {
        if let idleTimer { loop?.cancel(idleTimer) }
        idleTimer = nil
        for l in listeners + tlsListeners { l.close() }
        listeners = []
        tlsListeners = []
        for (_, s) in sessions {
            s.connection.onClose = nil
            s.connection.close()
        }
        sessions = [:]
        channelSubscribers = [:]
        patternSubscribers = []
    }
}
