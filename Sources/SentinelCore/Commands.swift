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
        /// After the driver has resolved these names; then run again.
        case resolve([String])
    }

    static let saveFailed = RESPValue.error("ERR Failed to save config file. Check server logs.")

    /// `Input.command`: SENTINEL and PUBLISH. `raw` is the whole argv as bytes
    /// (passwords are kept as these exact bytes); `executable` holds the driver's
    /// answers for script paths, once asked.
    func command(_ id: RequestID, _ raw: [[UInt8]], executable: [String: Bool]) {
        // The command clients send most (on every connect, some before every
        // command), answered without turning every argument into a string.
        if raw.count == 3, Self.isGetMasterAddr(raw[1]), Self.equalsIgnoringCase(raw[0], "sentinel") {
            out.append(.reply(id, masterAddressReply(String(decoding: raw[2], as: UTF8.self))))
            return
        }
        let args = raw.map { String(decoding: $0, as: UTF8.self) }
        let result: CommandResult
        switch args.first?.lowercased() {
        case "sentinel": result = dispatchSentinelCommand(args, raw: raw, executable: executable)
        case "publish": result = .reply(publishCommand(args))
        case "config": result = configSetTLS(args)
        default: result = .reply(Self.error("ERR unknown command '\(Self.clip(args.first ?? ""))'"))
        }
        switch result {
        case .reply(let value):
            out.append(.reply(id, value))
        case .afterSave(let n, let value, let otherwise):
            afterSave(n, .reply(id, value), otherwise: .reply(id, otherwise))
        case .check(let paths):
            awaitingFacts[id] = AwaitingFacts(args: raw, executable: executable, paths: paths, hosts: [])
            out.append(.checkExecutable(id, paths))
        case .resolve(let hosts):
            awaitingFacts[id] = AwaitingFacts(args: raw, executable: executable, paths: [], hosts: hosts)
            hosts.forEach(requestResolution)
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

    // MARK: - Dispatch

    /// Each subcommand's arity as Redis's command table declares it: positive is
    /// exact, negative is a minimum (both counting SENTINEL and the subcommand).
    private static let subcommandArity: [String: Int] = [
        "ckquorum": 3, "config": -3, "debug": -2, "failover": 3, "flushconfig": 2,
        "get-master-addr-by-name": 3, "help": 2, "info-cache": -3, "is-master-down-by-addr": 6,
        "master": 3, "masters": 2, "monitor": 6, "myid": 2, "pending-scripts": 2, "remove": 3,
        "replicas": 3, "reset": 3, "sentinels": 3, "set": -5, "simulate-failure": -3, "slaves": 3,
    ]

    /// Valkey 8's names for four subcommands, answered as Redis's.
    static let valkeyNames = [
        "get-primary-addr-by-name": "get-master-addr-by-name", "primary": "master",
        "primaries": "masters", "is-primary-down-by-addr": "is-master-down-by-addr",
    ]

    func dispatchSentinelCommand(_ args: [String], raw: [[UInt8]], executable: [String: Bool]) -> CommandResult {
        guard args.count >= 2 else {
            return .reply(Self.error("ERR wrong number of arguments for 'sentinel' command"))
        }
        let typed = args[1].lowercased()
        let sub = Self.valkeyNames[typed] ?? typed
        guard let arity = Self.subcommandArity[sub] else {
            return .reply(Self.error("ERR unknown subcommand '\(Self.clip(args[1]))'. Try \(args[0].uppercased()) HELP."))
        }
        if (arity > 0 && args.count != arity) || args.count < -arity {
            return .reply(Self.error("ERR wrong number of arguments for 'sentinel|\(sub)' command"))
        }
        switch sub {
        case "is-master-down-by-addr": return isMasterDownCommand(args)
        case "config": return configCommand(args, raw: raw)
        case "monitor": return monitorCommand(args)
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
    func readOnlySentinelCommand(_ sub: String, _ args: [String]) -> RESPValue {
        switch sub {
        case "help": return helpReply(args[0])
        case "masters": return .array(masters.map(instanceReply))
        case "master": return withMaster(args[2]) { instanceReply($0) }
        case "replicas", "slaves":
            return withMaster(args[2]) { m in .array(m.replicas.filter(\.replicaAnnounced).map(instanceReply)) }
        case "sentinels": return withMaster(args[2]) { m in .array(m.sentinels.map(instanceReply)) }
        case "myid": return .bulk(myID)
        case "get-master-addr-by-name": return masterAddressReply(args[2])
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

    /// SENTINEL GET-MASTER-ADDR-BY-NAME: the address clients should use now.
    func masterAddressReply(_ name: String) -> RESPValue {
        guard let a = masterAddress(named: name) else { return .array(nil) }
        return .array([.bulk(announced(a.host)), .bulk(String(a.port))])
    }

    /// Whether `word` is GET-MASTER-ADDR-BY-NAME or Valkey's GET-PRIMARY-ADDR-BY-NAME,
    /// in any case.
    static func isGetMasterAddr(_ word: [UInt8]) -> Bool {
        equalsIgnoringCase(word, "get-master-addr-by-name") || equalsIgnoringCase(word, "get-primary-addr-by-name")
    }

    /// ASCII case-insensitive comparison of bytes with a lowercase literal.
    static func equalsIgnoringCase(_ bytes: [UInt8], _ lower: StaticString) -> Bool {
        guard bytes.count == lower.utf8CodeUnitCount else { return false }
        let literal = UnsafeBufferPointer(start: lower.utf8Start, count: lower.utf8CodeUnitCount)
        for (b, l) in zip(bytes, literal) where b != l && (b < 0x41 || b > 0x5A || b | 0x20 != l) {
            return false
        }
        return true
    }

    func withMaster(_ name: String, _ body: (Master) -> RESPValue) -> RESPValue {
        guard let m = master(named: name) else { return Self.error("ERR No such master with that name") }
        return body(m)
    }

    /// A reply to a command that changed the configuration: sent once saved (an
    /// error reply changed nothing and goes at once).
    func savedReply(_ reply: RESPValue) -> CommandResult {
        reply.isError ? .reply(reply) : .afterSave(changed(), reply, otherwise: Self.saveFailed)
    }

    func withMaster(_ name: String, _ body: (Master) -> CommandResult) -> CommandResult {
        guard let m = master(named: name) else { return .reply(Self.error("ERR No such master with that name")) }
        return body(m)
    }

    func instanceReply(_ ri: Instance) -> RESPValue {
        .bulkMap(instanceFields(ri, now: now))
    }

    // MARK: - Subcommands

    func helpReply(_ command: String) -> RESPValue {
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

    func isMasterDownCommand(_ args: [String]) -> CommandResult {
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

    func checkQuorum(_ m: Master) -> RESPValue {
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
    func infoCacheReply(_ names: [String]) -> RESPValue {
        var chosen: [Master] = []
        for name in names {
            if let m = master(named: name), !chosen.contains(where: { $0 === m }) { chosen.append(m) }
        }
        var reply: [RESPValue] = []
        for m in chosen {
            reply.append(.bulk(m.name))
            let nodes: [DataNode] = [m] + m.replicas
            reply.append(.array(nodes.map { node -> RESPValue in
                let age: Int64 = node.infoRefresh != 0 ? elapsed(since: node.infoRefresh) : 0
                return .array([.integer(age), node.cachedInfo.map { .bulk($0) } ?? .null])
            }))
        }
        return .array(reply)
    }

    func simulateFailureCommand(_ options: [String]) -> RESPValue {
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

    func forcedFailoverCommand(_ m: Master) -> RESPValue {
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
