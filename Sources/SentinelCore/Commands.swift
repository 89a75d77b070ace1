import RESP
import WardenCrypto

/// The client command surface: `SENTINEL ...`, the `# Sentinel` section of INFO,
/// and ROLE, with redis-sentinel's reply shapes, field order and error texts.
///
/// Replies are built in their RESP3 form (instance descriptions are maps of bulk
/// strings); the encoder flattens them for RESP2 clients, as Redis does.
/// Commands that change the configuration answer once the change is saved, and
/// `-ERR Failed to save config file. Check server logs.` when the save fails.
///
/// Behaviour is redis-sentinel 7.0's, with two deliberate differences:
/// - `SENTINEL CONFIG GET/SET` take several parameters and know `loglevel`, as
///   from Redis 7.2 (with 7.2's texts); SET validates every pair before applying any.
/// - `SENTINEL SET` validates every option before applying any (Redis applies them
///   one by one and keeps the ones before a bad one). The error texts are the same.
extension Sentinel {

    /// What a command answers, and when.
    enum CommandResult {
        /// At once.
        case reply(RESPValue)
        /// Once change `n` is on disk; `otherwise` if the save fails.
        case afterSave(UInt64, RESPValue, otherwise: RESPValue)
        /// After the driver has said whether these paths are executable; the
        /// command is then run again with the answers.
        case check([String])
    }

    static let saveFailed = RESPValue.error("ERR Failed to save config file. Check server logs.")

    /// `Input.command`: SENTINEL and PUBLISH. `raw` is the whole argv as bytes
    /// (passwords are kept as these exact bytes); `executable` holds the driver's
    /// answers for script paths, once asked.
    func command(_ id: RequestID, _ raw: [[UInt8]], executable: [String: Bool]) {
        let args = raw.map { String(decoding: $0, as: UTF8.self) }
        let result: CommandResult
        switch args.first?.lowercased() {
        case "sentinel": result = dispatchSentinelCommand(args, raw: raw, executable: executable)
        case "publish": result = .reply(publishCommand(args))
        default: result = .reply(Self.error("ERR unknown command '\(Self.clip(args.first ?? ""))'"))
        }
        switch result {
        case .reply(let value):
            out.append(.reply(id, value))
        case .afterSave(let n, let value, let otherwise):
            afterSave(n, .reply(id, value), otherwise: .reply(id, otherwise))
        case .check(let paths):
            awaitingCheck[id] = (raw, paths)
            out.append(.checkExecutable(id, paths))
        }
    }

    /// PUBLISH in sentinel mode: only hellos, which are processed as if they had
    /// arrived on a Redis channel.
    func publishCommand(_ args: [String]) -> RESPValue {
        guard args.count == 3 else { return Self.error("ERR wrong number of arguments for 'publish' command") }
        guard args[1] == Timing.helloChannel else {
            return Self.error("ERR Only HELLO messages are accepted by Sentinel instances.")
        }
        processHello(args[2])
        return .integer(1)
    }

    /// The monitored masters' names, in the order they were added.
    public var masterNames: [String] { masters.map(\.name) }

    /// `ROLE` in sentinel mode: `["sentinel", [master names]]`.
    public func roleReply() -> RESPValue {
        .array([.bulk("sentinel"), .array(masters.map { .bulk($0.name) })])
    }

    /// The `# Sentinel` section of INFO, lines ending in `\r\n`.
    public func infoSentinelSection(now: Millis) -> String {
        var s = "# Sentinel\r\n"
        s += "sentinel_masters:\(masters.count)\r\n"
        s += "sentinel_tilt:\(tilt ? 1 : 0)\r\n"
        s += "sentinel_tilt_since_seconds:\(tilt ? (now -| tiltStartTime) / 1000 : -1)\r\n"
        s += "sentinel_running_scripts:\(scripts.running)\r\n"
        s += "sentinel_scripts_queue_length:\(scripts.jobs.count)\r\n"
        s += "sentinel_simulate_failure_flags:\(simulateFailure.rawValue)\r\n"
        for (i, m) in masters.enumerated() {
            let status = m.flags.contains(.oDown) ? "odown" : m.flags.contains(.sDown) ? "sdown" : "ok"
            s += "master\(i):name=\(m.name),status=\(status),address=\(m.address.host):\(m.address.port),"
            s += "slaves=\(m.replicas.count),sentinels=\(m.sentinels.count + 1)\r\n"
        }
        return s
    }

    /// What `SENTINEL MASTER` / `REPLICAS` / `SENTINELS` show for one instance:
    /// Redis's field names, in Redis's order, with its conditional fields.
    /// Times are "milliseconds ago" as of `now`. Also the source of the HTTP view.
    public func instanceFields(_ ri: Instance, now: Millis) -> [(String, String)] {
        var f: [(String, String)] = [
            ("name", ri.name),
            ("ip", ri.address.host),
            ("port", String(ri.address.port)),
            ("runid", ri.runID ?? ""),
            ("flags", ri.flags.redisNames),
            ("link-pending-commands", String(ri.pendingCommands)),
            // Warden never shares links between masters: one owner per link.
            ("link-refcount", "1"),
        ]
        if ri.flags.contains(.failoverInProgress) {
            f.append(("failover-state", ri.failoverState.redisName))
        }
        f.append(("last-ping-sent", String(ri.activePingTime != 0 ? (now -| ri.activePingTime) : 0)))
        f.append(("last-ok-ping-reply", String(now -| ri.lastAvailableTime)))
        f.append(("last-ping-reply", String(now -| ri.lastPongTime)))
        if ri.flags.contains(.sDown) { f.append(("s-down-time", String(now -| ri.sDownSince))) }
        if ri.flags.contains(.oDown) { f.append(("o-down-time", String(now -| ri.oDownSince))) }
        f.append(("down-after-milliseconds", String(ri.downAfter)))

        if ri.isMaster || ri.isReplica {
            f.append(("info-refresh", String(ri.infoRefresh != 0 ? (now -| ri.infoRefresh) : 0)))
            f.append(("role-reported", ri.roleReported == .master ? "master" : "slave"))
            f.append(("role-reported-time", String(now -| ri.roleReportedTime)))
        }
        if ri.isMaster {
            let s = ri.settings
            f.append(("config-epoch", String(ri.configEpoch)))
            f.append(("num-slaves", String(ri.replicas.count)))
            f.append(("num-other-sentinels", String(ri.sentinels.count)))
            f.append(("quorum", String(ri.quorum)))
            f.append(("failover-timeout", String(s?.failoverTimeout ?? timing.defaultFailoverTimeout)))
            f.append(("parallel-syncs", String(s?.parallelSyncs ?? 1)))
            if let script = s?.notificationScript { f.append(("notification-script", script)) }
            if let script = s?.clientReconfigScript { f.append(("client-reconfig-script", script)) }
        }
        if ri.isReplica {
            f.append(("master-link-down-time", String(ri.masterLinkDownTime)))
            f.append(("master-link-status", ri.replicaMasterLinkUp ? "ok" : "err"))
            f.append(("master-host", ri.replicaMasterHost ?? "?"))
            f.append(("master-port", String(ri.replicaMasterPort)))
            f.append(("slave-priority", String(ri.replicaPriority)))
            f.append(("slave-repl-offset", String(ri.replicaReplOffset)))
            f.append(("replica-announced", ri.replicaAnnounced ? "1" : "0"))
        }
        if ri.isSentinel {
            f.append(("last-hello-message", String(now -| ri.lastHelloReceivedTime)))
            f.append(("voted-leader", ri.leader ?? "?"))
            f.append(("voted-leader-epoch", String(ri.leaderEpoch)))
        }
        return f
    }

    // MARK: - Dispatch

    /// Each subcommand's arity as Redis's command table declares it: positive is
    /// exact, negative is a minimum (both counting SENTINEL and the subcommand).
    private static let subcommandArity: [String: Int] = [
        "ckquorum": 3, "config": -3, "debug": -2, "failover": 3, "flushconfig": 2,
        "get-master-addr-by-name": 3, "help": 2, "info-cache": -3, "is-master-down-by-addr": 6,
        "master": 3, "masters": 2, "monitor": 6, "myid": 2, "pending-scripts": 2, "remove": 3,
        "replicas": 3, "reset": 3, "sentinels": 3, "set": -5, "simulate-failure": -3, "slaves": 3,
    ]

    private func dispatchSentinelCommand(_ args: [String], raw: [[UInt8]], executable: [String: Bool]) -> CommandResult {
        guard args.count >= 2 else {
            return .reply(Self.error("ERR wrong number of arguments for 'sentinel' command"))
        }
        let sub = args[1].lowercased()
        guard let arity = Self.subcommandArity[sub] else {
            return .reply(Self.error("ERR unknown subcommand '\(Self.clip(args[1]))'. Try \(args[0].uppercased()) HELP."))
        }
        if (arity > 0 && args.count != arity) || args.count < -arity {
            return .reply(Self.error("ERR wrong number of arguments for 'sentinel|\(sub)' command"))
        }
        switch sub {
        case "is-master-down-by-addr": return isMasterDownCommand(args)
        case "config": return configCommand(args, raw: raw)
        case "monitor": return savedReply(monitorCommand(args))
        case "remove": return savedReply(withMaster(args[2], removeMaster))
        case "set": return withMaster(args[2]) { setCommand($0, args, raw: raw, executable: executable) }
        case "reset": return resetCommand(pattern: args[2])
        case "flushconfig":
            persistence.forceNext = true
            return .afterSave(changed(), .ok, otherwise: Self.saveFailed)
        default: return .reply(readOnlySentinelCommand(sub, args))
        }
    }

    /// The subcommands that change nothing on disk.
    private func readOnlySentinelCommand(_ sub: String, _ args: [String]) -> RESPValue {
        switch sub {
        case "help": return helpReply(args[0])
        case "masters": return .array(masters.map(instanceReply))
        case "master": return withMaster(args[2]) { instanceReply($0) }
        case "replicas", "slaves":
            return withMaster(args[2]) { m in .array(m.replicas.filter(\.replicaAnnounced).map(instanceReply)) }
        case "sentinels": return withMaster(args[2]) { m in .array(m.sentinels.map(instanceReply)) }
        case "myid": return .bulk(myID)
        case "get-master-addr-by-name":
            guard let a = masterAddress(named: args[2]) else { return .array(nil) }
            return .array([.bulk(a.host), .bulk(String(a.port))])
        case "ckquorum": return withMaster(args[2], checkQuorum)
        case "info-cache": return infoCacheReply(Array(args[2...]))
        case "pending-scripts": return pendingScriptsReply()
        case "debug": return args.count == 2 ? debugReply() : debugSet(args)
        case "failover": return withMaster(args[2], forcedFailoverCommand)
        case "simulate-failure": return simulateFailureCommand(Array(args[2...]))
        default:
            // Every name in the arity table is handled here or in dispatchSentinelCommand.
            preconditionFailure("SENTINEL \(sub) has an arity but no handler")
        }
    }

    private func withMaster(_ name: String, _ body: (Instance) -> RESPValue) -> RESPValue {
        guard let m = master(named: name) else { return Self.error("ERR No such master with that name") }
        return body(m)
    }

    /// A reply to a command that changed the configuration: sent once saved (an
    /// error reply changed nothing and goes at once).
    private func savedReply(_ reply: RESPValue) -> CommandResult {
        reply.isError ? .reply(reply) : .afterSave(changed(), reply, otherwise: Self.saveFailed)
    }

    private func withMaster(_ name: String, _ body: (Instance) -> CommandResult) -> CommandResult {
        guard let m = master(named: name) else { return .reply(Self.error("ERR No such master with that name")) }
        return body(m)
    }

    private func instanceReply(_ ri: Instance) -> RESPValue {
        .bulkMap(instanceFields(ri, now: now))
    }

    // MARK: - Subcommands

    private func helpReply(_ command: String) -> RESPValue {
        let lines = ["\(command.uppercased()) <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"]
            + Self.helpLines + ["HELP", "    Prints this help."]
        return .array(lines.map { .simpleString($0) })
    }

    private static let helpLines = [
        "CKQUORUM <master-name>",
        "    Check if the current Sentinel configuration is able to reach the quorum",
        "    needed to failover a master and the majority needed to authorize the",
        "    failover.",
        "CONFIG SET param value [param value ...]",
        "    Set a global Sentinel configuration parameter.",
        "CONFIG GET <param> [param param param ...]",
        "    Get global Sentinel configuration parameter.",
        "DEBUG [<param> <value> ...]",
        "    Show a list of configurable time parameters and their values (milliseconds).",
        "    Or update current configurable parameters values (one or more).",
        "GET-MASTER-ADDR-BY-NAME <master-name>",
        "    Return the ip and port number of the master with that name.",
        "FAILOVER <master-name>",
        "    Manually failover a master node without asking for agreement from other",
        "    Sentinels",
        "FLUSHCONFIG",
        "    Force Sentinel to rewrite its configuration on disk, including the current",
        "    Sentinel state.",
        "INFO-CACHE <master-name>",
        "    Return last cached INFO output from masters and all its replicas.",
        "IS-MASTER-DOWN-BY-ADDR <ip> <port> <current-epoch> <runid>",
        "    Check if the master specified by ip:port is down from current Sentinel's",
        "    point of view.",
        "MASTER <master-name>",
        "    Show the state and info of the specified master.",
        "MASTERS",
        "    Show a list of monitored masters and their state.",
        "MONITOR <name> <ip> <port> <quorum>",
        "    Start monitoring a new master with the specified name, ip, port and quorum.",
        "MYID",
        "    Return the ID of the Sentinel instance.",
        "PENDING-SCRIPTS",
        "    Get pending scripts information.",
        "REMOVE <master-name>",
        "    Remove master from Sentinel's monitor list.",
        "REPLICAS <master-name>",
        "    Show a list of replicas for this master and their state.",
        "RESET <pattern>",
        "    Reset masters for specific master name matching this pattern.",
        "SENTINELS <master-name>",
        "    Show a list of Sentinel instances for this master and their state.",
        "SET <master-name> <option> <value> [<option> <value> ...]",
        "    Set configuration parameters for certain masters.",
        "SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]",
        "    Simulate a Sentinel crash.",
    ]

    private func isMasterDownCommand(_ args: [String]) -> CommandResult {
        guard let port = Self.parseInteger(args[3]), let epoch = Self.parseInteger(args[4]) else {
            return .reply(Self.error("ERR value is not an integer or out of range"))
        }
        // Redis reads the epoch as a signed number and uses its bits unsigned, so a
        // negative one makes it adopt an epoch near 2^64. Warden votes only in
        // epochs it may adopt (see `Epoch`) and answers any other with no vote.
        var requestEpoch: UInt64?
        if epoch >= 0 && UInt64(epoch) <= Epoch.adoptionLimit(current: currentEpoch) {
            requestEpoch = UInt64(epoch)
        } else if args[5] != "*" {
            refusedEpoch("a vote request from \(Self.clip(args[5]))", epoch: String(epoch))
        }
        return isMasterDownByAddr(host: args[2], port: Int(port), requestEpoch: requestEpoch, runID: args[5])
    }

    private func checkQuorum(_ m: Instance) -> RESPValue {
        let usable = 1 + m.sentinels.filter { $0.flags.isDisjoint(with: [.sDown, .oDown]) }.count
        let voters = m.sentinels.count + 1
        var problems: [String] = []
        if usable < m.quorum {
            problems.append("Not enough available Sentinels to reach the specified quorum for this master")
        }
        if usable < voters / 2 + 1 {
            problems.append("Not enough available Sentinels to reach the majority and authorize a failover")
        }
        if problems.isEmpty {
            return .simpleString("OK \(usable) usable Sentinels. Quorum and failover authorization can be reached")
        }
        return .error("NOQUORUM \(usable) usable Sentinels. " + problems.joined(separator: ". "))
    }

    /// `[name, [[ms since INFO, INFO text or null], ...]]` for each named master
    /// (unknown names are skipped), the master first, then its replicas.
    private func infoCacheReply(_ names: [String]) -> RESPValue {
        var chosen: [Instance] = []
        for name in names {
            if let m = master(named: name), !chosen.contains(where: { $0 === m }) { chosen.append(m) }
        }
        var reply: [RESPValue] = []
        for m in chosen {
            reply.append(.bulk(m.name))
            reply.append(.array(([m] + m.replicas).map { ri in
                .array([.integer(ri.infoRefresh != 0 ? elapsed(since: ri.infoRefresh) : 0),
                        ri.cachedInfo.map { .bulk($0) } ?? .null])
            }))
        }
        return .array(reply)
    }

    private func simulateFailureCommand(_ options: [String]) -> RESPValue {
        simulateFailure = []
        for option in options {
            switch option.lowercased() {
            case "crash-after-election":
                simulateFailure.insert(.crashAfterElection)
                log(.warning, "Failure simulation: this Sentinel will crash after being successfully elected as failover leader")
            case "crash-after-promotion":
                simulateFailure.insert(.crashAfterPromotion)
                log(.warning, "Failure simulation: this Sentinel will crash after promoting the selected replica to master")
            case "help":
                return .array([.bulk("crash-after-election"), .bulk("crash-after-promotion")])
            default:
                return Self.error("ERR Unknown failure simulation specified")
            }
        }
        return .ok
    }

    private func forcedFailoverCommand(_ m: Instance) -> RESPValue {
        if m.flags.contains(.failoverInProgress) {
            return .error("INPROG Failover already in progress")
        }
        if selectReplica(m) == nil {
            return .error("NOGOODSLAVE No suitable replica to promote")
        }
        log(.warning, "Executing user requested FAILOVER of '\(m.name)'")
        guard startFailover(m) else { return Self.error("ERR The current epoch cannot be incremented") }
        m.flags.insert(.forceFailover)
        // No election to wait for: go as far as the state machine can right now
        // (outside TILT, where it would not act at all).
        if mayAct { failoverStateMachine(m) }
        return .ok
    }

    private func resetCommand(pattern: String) -> CommandResult {
        var count: Int64 = 0
        for m in masters where Glob.match(pattern, m.name, caseInsensitive: false) {
            resetMaster(m, event: true)
            count += 1
        }
        // Redis leaves the file alone here; Warden saves so that forgotten
        // sentinels do not come back from sentinel.conf after a restart.
        return count > 0 ? savedReply(.integer(count)) : .reply(.integer(0))
    }

    private func removeMaster(_ m: Instance) -> RESPValue {
        emit(.warning, "-monitor", m)
        releaseInstance(m)
        masters.removeAll { $0 === m }
        return .ok
    }

    private func monitorCommand(_ args: [String]) -> RESPValue {
        let (name, host) = (args[2], args[3])
        guard let quorum = Self.parseInteger(args[5]), quorum <= Int64(Int32.max) else {
            return Self.error("ERR Invalid quorum")
        }
        guard let port = Self.parseInteger(args[4]) else { return Self.error("ERR Invalid port") }
        if quorum <= 0 { return Self.error("ERR Quorum must be 1 or greater.") }
        // A numeric host is kept in the form Redis prints (`127.1` is 127.0.0.1); a
        // name only with resolve-hostnames, and the driver resolves it.
        guard let address = IPAddress.normalizeNumericHost(host)
                ?? (settings.resolveHostnames && Self.isHostname(host) ? host : nil) else {
            return Self.error("ERR Invalid IP address or hostname specified")
        }
        // Redis accepts port 0 (the master is then never reached), so Warden does too.
        if port < 0 || port > 65535 { return Self.error("ERR Invalid port number.") }
        if master(named: name) != nil { return Self.error("ERR Duplicate master name.") }

        var c = MasterConfig(name: name, address: Address(address, Int(port)), quorum: Int(quorum))
        c.downAfter = timing.defaultDownAfter
        c.failoverTimeout = timing.defaultFailoverTimeout
        let m = addMaster(c)
        emit(.warning, "+monitor", m, extra: " quorum \(m.quorum)")
        return .ok
    }

    /// A name DNS could resolve: labels of letters, digits and hyphens.
    private static func isHostname(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 253 else { return false }
        return s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63
                && label.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7a) || $0 == 0x2d }
        }
    }

    // MARK: - SENTINEL SET

    /// One validated `SENTINEL SET` option, ready to apply.
    private enum MasterChange {
        case downAfter(Millis)
        case failoverTimeout(Millis)
        case parallelSyncs(Int)
        case notificationScript(String?)
        case clientReconfigScript(String?)
        case authPass(Secret?)
        case authUser(String?)
        case quorum(Int)
        case renameCommand(from: String, to: String)
        case rebootDownAfter(Millis)
    }

    private func setCommand(_ m: Instance, _ args: [String], raw: [[UInt8]],
                            executable: [String: Bool]) -> CommandResult {
        // Script paths must be executable; the driver is asked first (the core does
        // no I/O), and the command runs again with the answers.
        if !settings.denyScriptsReconfig {
            let scriptOptions: Set<String> = ["notification-script", "client-reconfig-script"]
            let paths = (4..<max(4, args.count)).filter {
                scriptOptions.contains(args[$0 - 1].lowercased()) && !args[$0].isEmpty && executable[args[$0]] == nil
            }.map { args[$0] }
            if !paths.isEmpty { return .check(paths) }
        }
        var changes: [(MasterChange, event: String)] = []
        var j = 3
        while j < args.count {
            let option = args[j]
            let more = args.count - 1 - j
            func invalid(_ value: String) -> CommandResult {
                .reply(Self.error("ERR Invalid argument '\(value)' for SENTINEL SET '\(option)'"))
            }
            /// The next argument as a number of at least `minimum`.
            func number(atLeast minimum: Int64) -> Int64? {
                guard let n = Self.parseInteger(args[j + 1]), n >= minimum else { return nil }
                return n
            }
            let change: MasterChange
            switch option.lowercased() {
            case "down-after-milliseconds" where more > 0:
                guard let n = number(atLeast: 1) else { return invalid(args[j + 1]) }
                change = .downAfter(n)
            case "failover-timeout" where more > 0:
                guard let n = number(atLeast: 1) else { return invalid(args[j + 1]) }
                change = .failoverTimeout(n)
            case "parallel-syncs" where more > 0:
                guard let n = number(atLeast: 1), n <= Int64(Int32.max) else { return invalid(args[j + 1]) }
                change = .parallelSyncs(Int(n))
            case "quorum" where more > 0:
                guard let n = number(atLeast: 1), n <= Int64(Int32.max) else { return invalid(args[j + 1]) }
                change = .quorum(Int(n))
            case "master-reboot-down-after-period" where more > 0:
                guard let n = number(atLeast: 0) else { return invalid(args[j + 1]) }
                change = .rebootDownAfter(n)
            case "notification-script" where more > 0, "client-reconfig-script" where more > 0:
                let path = args[j + 1]
                if settings.denyScriptsReconfig {
                    return .reply(Self.error("ERR Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig configuration directive in your Sentinel configuration"))
                }
                let isNotification = option.lowercased() == "notification-script"
                if !path.isEmpty && executable[path] != true {
                    return .reply(Self.error(isNotification
                        ? "ERR Notification script seems non existing or non executable"
                        : "ERR Client reconfiguration script seems non existing or non executable"))
                }
                let value = path.isEmpty ? nil : path
                change = isNotification ? .notificationScript(value) : .clientReconfigScript(value)
            case "auth-pass" where more > 0:
                change = .authPass(raw[j + 1].isEmpty ? nil : Secret(raw[j + 1]))
            case "auth-user" where more > 0:
                change = .authUser(args[j + 1].isEmpty ? nil : args[j + 1])
            case "rename-command" where more > 1:
                let (from, to) = (args[j + 1], args[j + 2])
                if from.isEmpty || to.isEmpty { return invalid(to.isEmpty ? to : from) }
                changes.append((.renameCommand(from: from, to: to), event: "\(option) \(from) \(to)"))
                j += 3
                continue
            default:
                return .reply(Self.error("ERR Unknown option or number of arguments for SENTINEL SET '\(option)'"))
            }
            let shown: String
            if case .authPass = change { shown = "******" } else { shown = args[j + 1] }
            changes.append((change, event: "\(option) \(shown)"))
            j += 2
        }

        for (change, event) in changes {
            apply(change, to: m)
            emit(.warning, "+set", m, extra: " " + event)
        }
        return savedReply(.ok)
    }

    private func apply(_ change: MasterChange, to m: Instance) {
        switch change {
        case .downAfter(let ms):
            m.downAfter = ms
            m.settings?.downAfter = ms
            for ri in m.replicas + m.sentinels { ri.downAfter = ms }
        case .failoverTimeout(let ms):
            m.settings?.failoverTimeout = ms
        case .parallelSyncs(let n):
            m.settings?.parallelSyncs = n
        case .notificationScript(let path):
            m.settings?.notificationScript = path
        case .clientReconfigScript(let path):
            m.settings?.clientReconfigScript = path
        case .authPass(let pass):
            m.settings?.authPass = pass
            dropDataLinks(m)
        case .authUser(let user):
            m.settings?.authUser = user
            dropDataLinks(m)
        case .quorum(let n):
            m.quorum = n
            m.settings?.quorum = n
        case .renameCommand(let from, let to):
            let original = from.lowercased()
            m.settings?.renamedCommands.removeAll { $0.original == original }
            if original != to.lowercased() {
                m.settings?.renamedCommands.append((original: original, renamed: to))
            }
        case .rebootDownAfter(let ms):
            m.settings?.masterRebootDownAfterPeriod = ms
        }
    }

    /// New credentials: reconnect to the master and its replicas (the next tick does).
    private func dropDataLinks(_ m: Instance) {
        closeLinks(m)
        m.replicas.forEach(closeLinks)
    }

    // MARK: - SENTINEL CONFIG

    private static let configParameters = [
        "resolve-hostnames", "announce-hostnames", "announce-ip", "announce-port",
        "sentinel-user", "sentinel-pass", "loglevel",
    ]

    private func configCommand(_ args: [String], raw: [[UInt8]]) -> CommandResult {
        if args.count < 4 {
            return .reply(Self.error("ERR wrong number of arguments for 'sentinel|config' command"))
        }
        switch args[2].lowercased() {
        case "set" where args.count >= 5: return savedReply(configSet(Array(args[3...]), raw: Array(raw[3...])))
        case "get": return .reply(configGet(Array(args[3...])))
        default:
            return .reply(Self.error("ERR Only SENTINEL CONFIG GET <param> [<param> <param> ...]/ SET <param> <value> [<param> <value> ...] are supported."))
        }
    }

    private func configValue(_ parameter: String) -> RESPValue {
        switch parameter {
        case "resolve-hostnames": return .bulk(settings.resolveHostnames ? "yes" : "no")
        case "announce-hostnames": return .bulk(settings.announceHostnames ? "yes" : "no")
        case "announce-ip": return .bulk(settings.announceIP ?? "")
        case "announce-port": return .bulk(String(settings.announcePort))
        case "sentinel-user": return .bulk(settings.sentinelUser ?? "")
        // As redis-sentinel: CONFIG GET shows the password (to clients allowed to ask).
        case "sentinel-pass": return .bulkString(settings.sentinelPass?.bytes ?? [])
        default: return .bulk(settings.loglevel.rawValue)
        }
    }

    private func configGet(_ patterns: [String]) -> RESPValue {
        var shown: [String] = []
        for pattern in patterns {
            let isGlob = pattern.contains(where: { "*?[".contains($0) })
            if !isGlob && shown.contains(pattern.lowercased()) { continue }
            for p in Self.configParameters
            where !shown.contains(p) && Glob.match(pattern, p, caseInsensitive: true) {
                shown.append(p)
            }
        }
        return .map(shown.map { RESPPair(.bulk($0), configValue($0)) })
    }

    /// One validated `SENTINEL CONFIG SET` pair, ready to apply.
    private enum GlobalChange {
        case resolveHostnames(Bool), announceHostnames(Bool)
        case announceIP(String?), announcePort(Int), loglevel(LogLevel)
        case sentinelUser(String?), sentinelPass(Secret?)
    }

    /// Validates every pair first; applies them only if all are valid.
    private func configSet(_ pairs: [String], raw: [[UInt8]]) -> RESPValue {
        var seen: Set<String> = []
        var updates: [GlobalChange] = []
        var i = 0
        while i < pairs.count {
            let option = pairs[i]
            let key = option.lowercased()
            guard Self.configParameters.contains(key) else {
                return Self.error("ERR Invalid argument '\(option)' to SENTINEL CONFIG SET")
            }
            guard seen.insert(key).inserted else {
                return Self.error("ERR Duplicate argument '\(option)' to SENTINEL CONFIG SET")
            }
            guard i + 1 < pairs.count else {
                return Self.error("ERR Missing argument '\(option)' value")
            }
            let value = pairs[i + 1]
            let change: GlobalChange?
            switch key {
            case "resolve-hostnames": change = Self.yesNo(value).map(GlobalChange.resolveHostnames)
            case "announce-hostnames": change = Self.yesNo(value).map(GlobalChange.announceHostnames)
            case "announce-ip": change = .announceIP(value.isEmpty ? nil : value)
            case "announce-port":
                change = Self.parseInteger(value).flatMap { (0...65535).contains($0) ? .announcePort(Int($0)) : nil }
            case "loglevel": change = LogLevel(rawValue: value.lowercased()).map(GlobalChange.loglevel)
            case "sentinel-user": change = .sentinelUser(value.isEmpty ? nil : value)
            default: change = .sentinelPass(raw[i + 1].isEmpty ? nil : Secret(raw[i + 1]))
            }
            guard let change else {
                return Self.error("ERR Invalid value '\(value)' to SENTINEL CONFIG SET '\(option)'")
            }
            updates.append(change)
            i += 2
        }

        var credentialsChanged = false
        for change in updates {
            switch change {
            case .resolveHostnames(let on): settings.resolveHostnames = on
            case .announceHostnames(let on): settings.announceHostnames = on
            case .announceIP(let ip): settings.announceIP = ip
            case .announcePort(let port): settings.announcePort = port
            case .loglevel(let level): settings.loglevel = level
            case .sentinelUser(let user):
                settings.sentinelUser = user
                credentialsChanged = true
            case .sentinelPass(let pass):
                settings.sentinelPass = pass
                credentialsChanged = true
            }
        }
        if credentialsChanged {
            // Reconnect to the other sentinels with the new credentials.
            for m in masters { m.sentinels.forEach(closeLinks) }
        }
        return .ok
    }

    // MARK: - SENTINEL DEBUG

    private func debugReply() -> RESPValue {
        .bulkMap(Timing.debugNames.map { ($0.0.uppercased(), String(timing[keyPath: $0.1])) })
    }

    /// Sets the named timing parameters one after the other, as Redis does: the
    /// pairs before an invalid one stay applied.
    private func debugSet(_ args: [String]) -> RESPValue {
        var j = 2
        while j < args.count {
            let option = args[j]
            guard j + 1 < args.count,
                  let keyPath = Timing.debugNames.first(where: { $0.0 == option.lowercased() })?.1 else {
                return Self.error("ERR Unknown option or number of arguments for SENTINEL DEBUG '\(option)'")
            }
            guard let ms = Self.parseInteger(args[j + 1]), ms > 0 else {
                return Self.error("ERR Invalid argument '\(args[j + 1])' for SENTINEL DEBUG '\(option)'")
            }
            timing[keyPath: keyPath] = ms
            j += 2
        }
        return .ok
    }

    // MARK: - Parsing and errors, as Redis does them

    /// An integer in Redis's strict form (string2ll): optional `-`, no `+`, no
    /// leading zeros or spaces, within 64 bits.
    static func parseInteger(_ s: String) -> Int64? {
        let b = Array(s.utf8)
        guard !b.isEmpty, b.count < 21 else { return nil }
        if b == [0x30] { return 0 }
        let negative = b[0] == 0x2d
        let digits = negative ? b.dropFirst() : b[...]
        guard let first = digits.first, first >= 0x31, first <= 0x39 else { return nil }
        var v: UInt64 = 0
        for d in digits {
            guard d >= 0x30, d <= 0x39 else { return nil }
            let (times10, o1) = v.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(d - 0x30))
            if o1 || o2 { return nil }
            v = sum
        }
        if negative {
            guard v <= UInt64(Int64.max) + 1 else { return nil }
            return v == UInt64(Int64.max) + 1 ? Int64.min : -Int64(v)
        }
        return v <= UInt64(Int64.max) ? Int64(v) : nil
    }

    /// `yes` / `no`, any case.
    static func yesNo(_ s: String) -> Bool? {
        switch s.lowercased() {
        case "yes": return true
        case "no": return false
        default: return nil
        }
    }

    /// An error reply; like Redis, line breaks in it become spaces so the
    /// reply stays one protocol line.
    static func error(_ text: String) -> RESPValue {
        var scalars = String.UnicodeScalarView()
        for c in text.unicodeScalars { scalars.append(c == "\r" || c == "\n" ? " " : c) }
        return .error(String(scalars))
    }

    /// Redis quotes at most 128 bytes of a user's argument in an error.
    static func clip(_ s: String) -> String {
        s.utf8.count <= 128 ? s : String(decoding: s.utf8.prefix(128), as: UTF8.self)
    }
}

extension Sentinel {
    /// What GET-MASTER-ADDR-BY-NAME answers for `name` (nil: no such master).
    /// The driver's fast path for the most frequent client request uses it.
    public func masterAddress(named name: String) -> Address? {
        master(named: name).map(currentMasterAddress)
    }
}
