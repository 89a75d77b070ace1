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
    let connection: Connection
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
    /// Replies are encoded here during a read and written in one go.
    var out: [UInt8] = []
    var closing = false

    var subscriptionCount: Int { channels.count + patterns.count }

    init(id: UInt64, connection: Connection, needsAuth: Bool, defaultUser: ACLUser, aclGeneration: Int, now: Millis) {
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
    unowned let daemon: Daemon
    var listeners: [Listener] = []
    var sessions: [UInt64: ClientSession] = [:]
    var channelSubscribers: [String: [ClientSession]] = [:]
    var patternSubscribers: [ClientSession] = []
    var nextClientID: UInt64 = 2
    var stats = Stats()
    /// GET-MASTER-ADDR-BY-NAME replies by master name, valid while the address is the same.
    var masterAddressReplies: [String: (address: Address, reply: [UInt8])] = [:]
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

    init(daemon: Daemon, acl: ACLUserStore) {
        self.daemon = daemon
        self.server = daemon.serverSettings
        self.sentinelKeepsItsName = daemon.serverSettings.commandNames["sentinel"] == "sentinel"
        self.acl = acl
        self.aclLog = ACLLog(maxLength: daemon.serverSettings.acllogMaxLen)
        aclChanged()
    }

    var settings: SentinelConfig { daemon.core.settings }
    /// The redis-server directives in force (they do not change while running).
    let server: ServerSettings
    /// SENTINEL answers under its own name (no rename-command moved it): the fast path's
    /// precondition.
    let sentinelKeepsItsName: Bool

    func listen() throws {
        let port = settings.port
        let hosts = settings.bind.isEmpty ? ["0.0.0.0", "::"] : settings.bind
        let backlog = Int32(clamping: server.tcpBacklog)
        let keepAlive = Int32(clamping: server.tcpKeepalive)
        for host in hosts {
            // A leading '-' (Redis: "bind -::*") marks an optional address.
            let optional = host.hasPrefix("-") || settings.bind.isEmpty && host == "::"
            let h = host.hasPrefix("-") ? String(host.dropFirst()) : host
            let addr = h == "*" ? "0.0.0.0" : h == "::*" ? "::" : h
            do {
                listeners.append(try daemon.loop.listen(host: addr, port: port, backlog: backlog,
                                                        keepAliveSeconds: keepAlive) { [unowned self] c in
                    self.accept(c)
                })
            } catch {
                if optional { continue }
                throw error
            }
        }
        if let path = server.unixSocket {
            listeners.append(try daemon.loop.listenUnix(path: path, permissions: server.unixSocketPerm,
                                                        backlog: backlog) { [unowned self] c in
                self.accept(c)
            })
            daemon.logger.log(.notice, "The server is now ready to accept connections at \(path)")
        }
        startIdleTimer()
    }

    func accept(_ c: Connection) {
        let now = EventLoop.wallClockMs()
        stats.connectionsReceived += 1
        if sessions.count >= settings.maxclients {
            stats.rejectedConnections += 1
            c.write(Array("-ERR max number of clients reached\r\n".utf8))
            c.closeAfterWriting()
            return
        }
        let s = ClientSession(id: nextClientID, connection: c, needsAuth: defaultUserRequiresAuth,
                              defaultUser: acl.defaultUser, aclGeneration: aclGeneration, now: now)
        nextClientID += 1
        sessions[s.id] = s
        applyOutputLimit(s)
        c.onRead = { [unowned self, unowned s] bytes in
            self.stats.netInputBytes += bytes.count
            self.read(s, bytes)
        }
        c.onClose = { [unowned self, unowned s] _ in
            self.forget(s)
        }
    }

    func forget(_ s: ClientSession) {
        unsubscribeAll(s)
        sessions[s.id] = nil
    }

    func read(_ s: ClientSession, _ bytes: UnsafeRawBufferPointer) {
        // The parser is moved out of the session while a pipeline is processed:
        // one exclusive access instead of one per command.
        var parser = RESPRequestParser()
        swap(&parser, &s.parser)
        defer { swap(&parser, &s.parser) }
        parser.append(bytes)
        // One clock reading per read: a pipeline of commands shares it.
        let now = EventLoop.wallClockMs()
        var commands = 0
        while !s.closing {
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
            if !answerMasterAddressQuickly(s, args) {
                execute(s, args, now: now)
                parser.authenticated = !authRequired(s)
            }
        }
        stats.commandsProcessed += commands
        s.lastCommandAt = now
        flush(s)
    }

    func flush(_ s: ClientSession) {
        if !s.out.isEmpty {
            stats.netOutputBytes += s.out.count
            s.connection.write(s.out)
            s.out.removeAll(keepingCapacity: true)
            checkSoftOutputLimit(s)
        }
        if s.closing {
            s.connection.closeAfterWriting()
        }
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
        if let idleTimer { daemon.loop.cancel(idleTimer) }
        idleTimer = nil
        for l in listeners { l.close() }
        listeners = []
        for (_, s) in sessions {
            s.connection.onClose = nil
            s.connection.close()
        }
        sessions = [:]
        channelSubscribers = [:]
        patternSubscribers = []
    }
}
