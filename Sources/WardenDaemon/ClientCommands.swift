#if canImport(Glibc)
import Glibc
#endif
import Configuration
import EventLoop
import RESP
import SentinelCore

/// The commands redis-sentinel accepts, with Redis's arity (negative: at least).
/// `SENTINEL` itself is answered by SentinelCore; the rest are about the client
/// connection and are answered here.
enum ClientCommand: String, CaseIterable {
    case ping, auth, hello, client, command, info, acl, role
    case subscribe, psubscribe, unsubscribe, punsubscribe, publish, shutdown, sentinel
    /// Not a Redis command in sentinel mode, but every client may end a connection with it.
    case quit
    /// Not in redis-sentinel 7.0: CONFIG GET/SET of the tls-* parameters (ConfigCommand.swift).
    case config

    var arity: Int {
        switch self {
        case .ping, .hello, .command, .info, .unsubscribe, .punsubscribe, .shutdown, .quit: return -1
        case .auth, .client, .acl, .subscribe, .psubscribe, .sentinel, .config: return -2
        case .role: return 1
        case .publish: return 3
        }
    }

    /// Recognises a command name without allocating for the common ones.
    static func lookup(_ name: ArraySlice<UInt8>) -> ClientCommand? {
        guard name.count <= 12 else { return nil }
        var lower = Array(name)
        for i in lower.indices where lower[i] >= 65 && lower[i] <= 90 { lower[i] += 32 }
        return ClientCommand(rawValue: String(decoding: lower, as: UTF8.self))
    }
}

extension ClientServer {

    func execute(_ s: ClientSession, _ raw: RESPArguments, now: Millis) {
        s.lastCommandAt = now
        // Existence (under rename-command names), arity, NOAUTH and ACL, as Redis checks them.
        guard let cmd = admit(s, raw, now: now) else { return }
        // RESP2 subscribers may only manage subscriptions (RESP3 multiplexes).
        if s.version == .resp2 && s.subscriptionCount > 0 {
            switch cmd {
            case .subscribe, .psubscribe, .unsubscribe, .punsubscribe, .ping, .quit: break
            default:
                s.reply(.error("ERR Can't execute '\(s.lastCommand)': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"))
                return
            }
        }
        if cmd == .sentinel || cmd == .publish {
            // Answered by SentinelCore, through `Effect.reply`, under the command's
            // own name (rename-command is the sentinel port's business, not the core's).
            var args = raw.arrays
            args[0] = Array(cmd.rawValue.utf8)
            daemon.submit(s, args)
            return
        }
        let args = raw.map { String(decoding: $0, as: UTF8.self) }
        switch cmd {
        case .sentinel, .publish:
            break
        case .ping:
            if args.count > 2 {
                s.reply(.error("ERR wrong number of arguments for 'ping' command"))
            } else if s.version == .resp2 && s.subscriptionCount > 0 {
                s.reply(.array([.bulk("pong"), .bulk(args.count == 2 ? args[1] : "")]))
            } else if args.count == 2 {
                s.reply(.bulkString(Array(raw[1])))
            } else {
                s.reply(.simpleString("PONG"))
            }
        case .auth:
            auth(s, args, raw, now: now)
        case .hello:
            hello(s, args, raw, now: now)
        case .client:
            client(s, args)
        case .command:
            command(s, raw)
        case .info:
            s.reply(.bulk(info(args.dropFirst().map { $0.lowercased() })))
        case .acl:
            acl(s, args, raw, now: now)
        case .role:
            s.reply(daemon.core.roleReply())
        case .subscribe:
            for ch in args.dropFirst() { subscribe(s, ch) }
        case .psubscribe:
            for p in args.dropFirst() { psubscribe(s, p) }
        case .unsubscribe:
            let list = args.count > 1 ? Array(args.dropFirst()) : s.channels.sorted()
            if list.isEmpty {
                s.reply(pushOrArray(s, [.bulk("unsubscribe"), .null, .integer(Int64(s.subscriptionCount))]))
            }
            for ch in list { unsubscribe(s, ch) }
        case .punsubscribe:
            let list = args.count > 1 ? Array(args.dropFirst()) : s.patterns
            if list.isEmpty {
                s.reply(pushOrArray(s, [.bulk("punsubscribe"), .null, .integer(Int64(s.subscriptionCount))]))
            }
            for p in list { punsubscribe(s, p) }
        case .shutdown:
            shutdownCommand(s, args)
        case .quit:
            s.reply(.ok)
            s.closing = true
        case .config:
            configCommand(s, args)
        }
    }

    // MARK: - AUTH / HELLO

    /// Checks credentials against the ACL users (`nil` user: `default`). On failure
    /// the attempt goes to the ACL log, as in Redis, and the error to reply comes back.
    func authenticate(_ s: ClientSession, user: String?, password: ArraySlice<UInt8>,
                      command: ArraySlice<UInt8>, now: Millis) -> RESPValue? {
        let name = user ?? "default"
        if let account = acl[name], account.accepts(password: password) {
            s.authenticated = true
            s.userName = name
            s.user = account
            s.aclGeneration = aclGeneration
            return nil
        }
        aclLog.add(reason: .auth, object: String(decoding: command, as: UTF8.self), username: name,
                   clientInfo: clientLine(s), now: now)
        return .error("WRONGPASS invalid username-password pair or user is disabled.")
    }

    func auth(_ s: ClientSession, _ args: [String], _ raw: RESPArguments, now: Millis) {
        guard args.count <= 3 else {
            s.reply(.error("ERR syntax error"))
            return
        }
        if args.count == 2 && acl.defaultUser.nopass {
            s.reply(.error("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"))
            return
        }
        let user = args.count == 3 ? args[1] : nil
        s.reply(authenticate(s, user: user, password: raw[raw.count - 1], command: raw[0], now: now) ?? .ok)
    }

    func hello(_ s: ClientSession, _ args: [String], _ raw: RESPArguments, now: Millis) {
        var version = s.version
        var i = 1
        if args.count > 1 {
            guard let v = Int(args[1]) else {
                s.reply(.error("ERR Protocol version is not an integer or out of range"))
                return
            }
            guard v == 2 || v == 3 else {
                s.reply(.error("NOPROTO unsupported protocol version"))
                return
            }
            version = v == 3 ? .resp3 : .resp2
            i = 2
        }
        var name: String?
        while i < args.count {
            let opt = args[i].lowercased()
            if opt == "auth" && i + 2 < args.count {
                if let err = authenticate(s, user: args[i + 1], password: raw[i + 2], command: raw[0], now: now) {
                    s.reply(err)
                    return
                }
                i += 3
            } else if opt == "setname" && i + 1 < args.count {
                name = args[i + 1]
                i += 2
            } else {
                s.reply(.error("ERR Syntax error in HELLO option '\(args[i])'"))
                return
            }
        }
        if authRequired(s) {
            s.reply(.error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"))
            return
        }
        if let name {
            if let err = validClientName(name) {
                s.reply(err)
                return
            }
            s.name = name.isEmpty ? nil : name
        }
        s.version = version
        s.reply(.map([
            RESPPair(.bulk("server"), .bulk("redis")),
            RESPPair(.bulk("version"), .bulk(WardenVersion.redisCompatible)),
            RESPPair(.bulk("proto"), .integer(Int64(version.rawValue))),
            RESPPair(.bulk("id"), .integer(Int64(s.id))),
            RESPPair(.bulk("mode"), .bulk("sentinel")),
            RESPPair(.bulk("modules"), .array([])),
        ]))
    }

    func validClientName(_ name: String) -> RESPValue? {
        if name.utf8.contains(where: { $0 < 33 || $0 > 126 }) {
            return .error("ERR Client names cannot contain spaces, newlines or special characters.")
        }
        return nil
    }

    // MARK: - CLIENT

    func client(_ s: ClientSession, _ args: [String]) {
        let sub = args[1].lowercased()
        switch (sub, args.count) {
        case ("setname", 3):
            if let err = validClientName(args[2]) {
                s.reply(err)
            } else {
                s.name = args[2].isEmpty ? nil : args[2]
                s.reply(.ok)
            }
        case ("getname", 2):
            s.reply(s.name.map { .bulk($0) } ?? .bulkString(nil))
        case ("setinfo", 4):
            let attr = args[2].lowercased()
            if attr == "lib-name" {
                if args[3].contains(" ") || args[3].contains("\n") {
                    s.reply(.error("ERR lib-name cannot contain spaces, newlines or special characters."))
                    return
                }
                s.libName = args[3]
            } else if attr == "lib-ver" {
                s.libVersion = args[3]
            } else {
                s.reply(.error("ERR Unrecognized option '\(args[2])'"))
                return
            }
            s.reply(.ok)
        case ("id", 2):
            s.reply(.integer(Int64(s.id)))
        case ("info", 2):
            s.reply(.verbatim(format: "txt", text: Array((clientLine(s) + "\n").utf8)))
        case ("list", _):
            var listed = sessions.values.sorted { $0.id < $1.id }
            if args.count == 4 && args[2].lowercased() == "type" {
                let type = args[3].lowercased()
                guard ["normal", "master", "slave", "replica", "pubsub"].contains(type) else {
                    s.reply(.error("ERR Unknown client type '\(args[3])'"))
                    return
                }
                listed = listed.filter { type == (outputClass($0) == .pubsub ? "pubsub" : "normal") }
            } else if args.count > 3 && args[2].lowercased() == "id" {
                var ids: [UInt64] = []
                for text in args.dropFirst(3) {
                    guard let id = ConfigParser.strictInteger(text) else {
                        s.reply(.error("ERR Invalid client ID"))
                        return
                    }
                    ids.append(UInt64(bitPattern: id))
                }
                listed = ids.compactMap { sessions[$0] }
            } else if args.count != 2 {
                s.reply(.error("ERR syntax error"))
                return
            }
            s.reply(.verbatim(format: "txt", text: Array(listed.map { clientLine($0) + "\n" }.joined().utf8)))
        case ("kill", _) where args.count >= 3:
            clientKill(s, args)
        case ("help", 2):
            s.reply(.array([
                "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GETNAME", "    Return the name of the current connection.",
                "ID", "    Return the ID of the current connection.",
                "INFO", "    Return information about the current client connection.",
                "KILL <ip:port>", "    Kill connection made from <ip:port>.",
                "KILL <option> <value> [<option> <value> [...]]",
                "    Kill connections. Options are: ID <client-id>, ADDR <ip:port>, LADDR <ip:port>, USER <username>, SKIPME (YES|NO)",
                "LIST [TYPE (NORMAL|PUBSUB)] [ID <id> [<id> ...]]", "    Return information about client connections.",
                "SETNAME <name>", "    Assign the name <name> to the current connection.",
                "SETINFO <option> <value>", "    Set client meta attr (LIB-NAME, LIB-VER).",
                "HELP", "    Print this help.",
            ].map { .simpleString($0) }))
        case ("setname", _), ("getname", _), ("id", _), ("info", _), ("setinfo", _), ("kill", _), ("help", _):
            s.reply(.error("ERR wrong number of arguments for 'client|\(sub)' command"))
        default:
            s.reply(.error("ERR unknown subcommand '\(args[1])'. Try CLIENT HELP."))
        }
    }

    func clientKill(_ s: ClientSession, _ args: [String]) {
        if args.count == 3 {
            // Old form: CLIENT KILL ip:port
            guard let target = sessions.values.first(where: { addr($0) == args[2] }) else {
                s.reply(.error("ERR No such client"))
                return
            }
            kill(target, by: s)
            s.reply(.ok)
            return
        }
        var id: UInt64?
        var address: String?
        var localAddress: String?
        var type: String?
        var user: String?
        var skipMe = true
        var i = 2
        while i + 1 < args.count {
            let opt = args[i].lowercased()
            let val = args[i + 1]
            switch opt {
            case "id":
                guard let v = UInt64(val) else {
                    s.reply(.error("ERR client-id should be greater than 0"))
                    return
                }
                id = v
            case "addr": address = val
            case "laddr": localAddress = val
            case "user":
                guard acl[val] != nil else {
                    s.reply(.error("ERR No such user '\(val)'"))
                    return
                }
                user = val
            case "type": type = val.lowercased()
            case "skipme":
                switch val.lowercased() {
                case "yes": skipMe = true
                case "no": skipMe = false
                default:
                    s.reply(.error("ERR syntax error"))
                    return
                }
            default:
                s.reply(.error("ERR syntax error"))
                return
            }
            i += 2
        }
        if i != args.count {
            s.reply(.error("ERR syntax error"))
            return
        }
        var killed = 0
        for target in sessions.values.sorted(by: { $0.id < $1.id }) {
            if let id, target.id != id { continue }
            if let address, addr(target) != address { continue }
            if let localAddress, laddr(target) != localAddress { continue }
            if let user, target.userName != user { continue }
            if let type {
                let isPubSub = target.subscriptionCount > 0
                if (type == "pubsub") != isPubSub { continue }
            }
            if skipMe && target === s { continue }
            kill(target, by: s)
            killed += 1
        }
        s.reply(.integer(Int64(killed)))
    }

    func kill(_ target: ClientSession, by s: ClientSession) {
        if target === s {
            s.closing = true
        } else {
            target.connection.close()
        }
    }

    func addr(_ s: ClientSession) -> String { "\(s.connection.remoteHost):\(s.connection.remotePort)" }
    func laddr(_ s: ClientSession) -> String { "\(s.connection.localHost):\(s.connection.localPort)" }

    /// One line of CLIENT LIST, with Redis's fields.
    func clientLine(_ c: ClientSession) -> String {
        let now = wallClock()
        let flags = c.subscriptionCount > 0 ? "P" : "N"
        var line = "id=\(c.id) addr=\(addr(c)) laddr=\(laddr(c)) fd=-1 name=\(c.name ?? "")"
        line += " age=\((now - c.createdAt) / 1000) idle=\((now - c.lastCommandAt) / 1000) flags=\(flags) db=0"
        line += " sub=\(c.channels.count) psub=\(c.patterns.count) ssub=0 multi=-1"
        line += " qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0"
        line += " omem=\(c.connection.pendingOutputBytes) tot-mem=0 events=r cmd=\(c.lastCommand) user=\(c.userName) redir=-1 resp=\(c.version.rawValue)"
        if let n = c.libName { line += " lib-name=\(n)" }
        if let v = c.libVersion { line += " lib-ver=\(v)" }
        return line
    }

    // MARK: - SHUTDOWN

    func shutdownCommand(_ s: ClientSession, _ args: [String]) {
        for a in args.dropFirst() {
            switch a.lowercased() {
            case "nosave", "save", "now", "force": continue
            case "abort":
                s.reply(.error("ERR Errors trying to SHUTDOWN. Check logs."))
                return
            default:
                s.reply(.error("ERR syntax error"))
                return
            }
        }
        // No reply on success: the connection closes, as with redis-server.
        daemon.shutdownSoon(reason: "User requested shutdown...")
    }

    // MARK: - INFO

    /// INFO [section ...]: server, clients, cpu, stats, sentinel (what redis-sentinel has).
    func info(_ sections: [String]) -> String {
        let all = ["server", "clients", "stats", "cpu", "sentinel"]
        let wanted: [String]
        if sections.isEmpty || sections.contains(where: { ["default", "all", "everything"].contains($0) }) {
            wanted = all
        } else {
            wanted = all.filter { sections.contains($0) }
        }
        var parts: [String] = []
        for section in wanted {
            switch section {
            case "server": parts.append(serverSection())
            case "clients": parts.append(clientsSection())
            case "stats": parts.append(statsSection())
            case "cpu": parts.append(cpuSection())
            case "sentinel": parts.append(daemon.core.infoSentinelSection(now: wallClock()))
            default: break
            }
        }
        return parts.joined(separator: "\r\n")
    }

    func lines(_ title: String, _ fields: [(String, String)]) -> String {
        "# \(title)\r\n" + fields.map { "\($0.0):\($0.1)\r\n" }.joined()
    }

    func serverSection() -> String {
        let now = wallClock()
        let uptime = (now - daemon.startTime) / 1000
        var uts = utsname()
        uname(&uts)
        let os = [uts.sysname, uts.release, uts.machine].map { field in
            withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        }.joined(separator: " ")
        return lines("Server", [
            ("redis_version", WardenVersion.redisCompatible),
            ("redis_git_sha1", "00000000"),
            ("redis_git_dirty", "0"),
            ("redis_build_id", "0"),
            ("redis_mode", "sentinel"),
            ("warden_version", WardenVersion.string),
            ("os", os),
            ("arch_bits", "64"),
            ("multiplexing_api", "epoll"),
            ("process_id", String(getpid())),
            ("process_supervised", "no"),
            ("run_id", daemon.serverRunID),
            ("tcp_port", String(settings.reportedPort)),
            ("server_time_usec", String(now * 1000)),
            ("uptime_in_seconds", String(uptime)),
            ("uptime_in_days", String(uptime / 86400)),
            ("hz", "10"),
            ("configured_hz", "10"),
            ("executable", CommandLine.arguments.first ?? ""),
            ("config_file", daemon.configFile.path),
        ])
    }

    func clientsSection() -> String {
        lines("Clients", [
            ("connected_clients", String(sessions.count)),
            ("cluster_connections", "0"),
            ("maxclients", String(settings.maxclients)),
            ("blocked_clients", "0"),
            ("tracking_clients", "0"),
        ])
    }

    func statsSection() -> String {
        lines("Stats", [
            ("total_connections_received", String(stats.connectionsReceived)),
            ("total_commands_processed", String(stats.commandsProcessed)),
            ("total_net_input_bytes", String(stats.netInputBytes)),
            ("total_net_output_bytes", String(stats.netOutputBytes)),
            ("rejected_connections", String(stats.rejectedConnections)),
            ("pubsub_channels", String(channelSubscribers.count)),
            ("pubsub_patterns", String(Set(patternSubscribers.flatMap(\.patterns)).count)),
        ])
    }

    func cpuSection() -> String {
        var self_ = rusage()
        var children = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &self_)
        getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &children)
        func secs(_ t: timeval) -> String {
            let us = Int(t.tv_usec)
            let frac = String(us).count < 6 ? String(repeating: "0", count: 6 - String(us).count) + String(us) : String(us)
            return "\(t.tv_sec).\(frac)"
        }
        return lines("CPU", [
            ("used_cpu_sys", secs(self_.ru_stime)),
            ("used_cpu_user", secs(self_.ru_utime)),
            ("used_cpu_sys_children", secs(children.ru_stime)),
            ("used_cpu_user_children", secs(children.ru_utime)),
        ])
    }
}
