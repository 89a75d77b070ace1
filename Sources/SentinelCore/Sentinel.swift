import RESP

/// The sentinel: every rule of the protocol, as a deterministic state machine.
///
/// It owns no socket, clock or random source. The driver feeds it `Input`s with
/// the current time and carries out the `Effect`s it returns, in order. Given the
/// same seed, config and inputs it always returns the same effects, which is what
/// lets the tests and the simulation drive it through any interleaving.
///
/// The code follows Redis's sentinel.c in meaning, not in shape:
/// - Sentinel.swift (this file): identity, entry points, the timer, links, the
///   periodic PING / INFO / hello, and the replies to them.
/// - Monitoring.swift: SDOWN, ODOWN, TILT, INFO and hello processing, discovery.
/// - Failover.swift: votes, leader election and the failover state machine.
/// - Commands.swift: the client command surface (SENTINEL ..., INFO, ROLE).
public final class Sentinel {
    public internal(set) var myID: String
    public internal(set) var currentEpoch: UInt64
    /// Monitored masters, in the order they were added.
    public internal(set) var masters: [Instance] = []
    /// Server and global settings (the per-master part lives in each master's `settings`).
    public internal(set) var settings: SentinelConfig
    public internal(set) var timing = Timing()

    public internal(set) var tilt = false
    var tiltStartTime: Millis = 0
    var previousTickTime: Millis
    var simulateFailure = SimulatedFailure()
    var scripts = ScriptQueue()

    var rng: SplitMix64
    var nextLinkNumber = 0
    var linkOwners: [LinkID: LinkOwner] = [:]
    /// Effects gathered during the current call; handed back and cleared at its end.
    var out: [Effect] = []
    var now: Millis = 0
    var needsMyIDPersist = false
    /// Whether a path names an executable file: `SENTINEL SET notification-script`
    /// and `client-reconfig-script` refuse others. The driver installs the real
    /// check (access(2) with X_OK); the core itself does no I/O.
    public var scriptIsExecutable: (String) -> Bool = { _ in true }

    struct LinkOwner {
        unowned let instance: Instance
        let isPubSub: Bool
    }

    public struct SimulatedFailure: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let crashAfterElection = SimulatedFailure(rawValue: 1)
        public static let crashAfterPromotion = SimulatedFailure(rawValue: 2)
    }

    /// `seed` drives every random choice (myid, election back-off); `now` is the
    /// current wall-clock time in milliseconds.
    public init(config: SentinelConfig, seed: UInt64, now: Millis) {
        self.settings = config
        self.rng = SplitMix64(seed: seed)
        self.currentEpoch = config.currentEpoch
        self.previousTickTime = now
        self.now = now
        if let id = config.myid {
            myID = id
        } else {
            myID = ""
            myID = randomHexID()
            needsMyIDPersist = true
        }
        for m in config.masters {
            _ = addMaster(m)
        }
        settings.masters = []
    }

    /// Effects to carry out at start-up: persisting a newly generated myid.
    public func start(now: Millis) -> [Effect] {
        self.now = now
        if needsMyIDPersist {
            needsMyIDPersist = false
            log(.notice, "Sentinel new configuration saved on disk")
            out.append(.persist)
        }
        log(.warning, "Sentinel ID is \(myID)")
        for m in masters {
            emit(.warning, "+monitor", m, extra: " quorum \(m.quorum)")
        }
        return takeEffects()
    }

    /// Feeds one input; returns what to do, in order.
    public func handle(_ input: Input, now: Millis) -> [Effect] {
        self.now = now
        switch input {
        case .tick:
            timerTick()
        case .connected(let id, let localHost):
            linkConnected(id, localHost: localHost)
        case .disconnected(let id):
            linkDropped(id)
        case .reply(let id, let value):
            linkReply(id, value)
        case .helloPublished(let payload):
            processHello(payload)
        case .scriptFinished(let id, let status, let signal):
            scriptFinished(id, exitStatus: status, signal: signal)
        }
        return takeEffects()
    }

    func takeEffects() -> [Effect] {
        defer { out.removeAll(keepingCapacity: true) }
        return out
    }

    // MARK: - Lookup

    public func master(named name: String) -> Instance? {
        masters.first { $0.name == name }
    }

    func masterSettings(_ m: Instance) -> MasterConfig { m.settings! }

    // MARK: - Timer

    func timerTick() {
        checkTilt()
        for m in masters {
            handleInstance(m)
            for r in m.replicas { handleInstance(r) }
            for s in m.sentinels { handleInstance(s) }
            if m.failoverState == .updateConfig {
                switchToPromotedReplica(m)
            }
        }
        runPendingScripts()
        killTimedOutScripts()
    }

    /// One instance, once per tick: the monitoring half always, the acting half
    /// only outside TILT.
    func handleInstance(_ ri: Instance) {
        reconnect(ri)
        sendPeriodicCommands(ri)
        if tilt {
            if now - tiltStartTime < timing.tiltPeriod { return }
            tilt = false
            emitGlobal(.warning, "-tilt", "#tilt mode exited")
        }
        checkSubjectivelyDown(ri)
        if ri.isMaster {
            actOnMaster(ri)
        }
    }

    /// The acting half for a master: ODOWN, failover start, the failover state
    /// machine, asking peers. Also run straight away when a peer's answer arrives,
    /// so agreement never waits for the next tick.
    func actOnMaster(_ m: Instance) {
        checkObjectivelyDown(m)
        if startFailoverIfNeeded(m) {
            askMasterStateToOtherSentinels(m, forced: true)
        }
        failoverStateMachine(m)
        askMasterStateToOtherSentinels(m, forced: false)
    }

    // MARK: - Links

    func newLink(for ri: Instance, pubsub: Bool) -> LinkID {
        nextLinkNumber += 1
        let id = LinkID(nextLinkNumber)
        linkOwners[id] = LinkOwner(instance: ri, isPubSub: pubsub)
        return id
    }

    /// Opens whichever links of the instance are down, at most once per reconnect period.
    func reconnect(_ ri: Instance) {
        guard ri.address.port != 0 else { return }
        let needsCommand = ri.commandLink.id == nil
        let needsPubSub = !ri.isSentinel && ri.pubsubLink.id == nil
        guard needsCommand || needsPubSub else { return }
        guard now - ri.commandLink.lastReconnectAttempt >= timing.reconnectPeriod else { return }
        ri.commandLink.lastReconnectAttempt = now
        if needsCommand {
            let id = newLink(for: ri, pubsub: false)
            ri.commandLink.id = id
            ri.commandLink.pending = []
            out.append(.connect(id, ri.address))
        }
        if needsPubSub {
            let id = newLink(for: ri, pubsub: true)
            ri.pubsubLink.id = id
            out.append(.connect(id, ri.address))
        }
    }

    func linkConnected(_ id: LinkID, localHost: String) {
        guard let owner = linkOwners[id] else { return }
        let ri = owner.instance
        if owner.isPubSub {
            ri.pubsubLink.connected = true
            ri.pubsubLink.connectedAt = now
            ri.pubsubLink.lastActivity = now
            ri.pubsubLink.localHost = localHost
            sendAuthIfNeeded(ri, id, pubsub: true)
            send(ri, id, [mapped(ri, "CLIENT"), "SETNAME", clientName(pubsub: true)], expect: .discard, pubsub: true)
            send(ri, id, [mapped(ri, "SUBSCRIBE"), helloChannel], expect: .discard, pubsub: true)
        } else {
            ri.commandLink.connected = true
            ri.commandLink.connectedAt = now
            ri.commandLink.localHost = localHost
            sendAuthIfNeeded(ri, id, pubsub: false)
            send(ri, id, [mapped(ri, "CLIENT"), "SETNAME", clientName(pubsub: false)], expect: .discard)
            sendPing(ri)
        }
        if ri.commandLink.connected && (ri.isSentinel || ri.pubsubLink.connected) {
            ri.flags.remove(.disconnected)
        }
    }

    func linkDropped(_ id: LinkID) {
        guard let owner = linkOwners.removeValue(forKey: id) else { return }
        let ri = owner.instance
        if owner.isPubSub {
            ri.pubsubLink = LinkState(lastReconnectAttempt: ri.pubsubLink.lastReconnectAttempt)
        } else {
            ri.commandLink = LinkState(lastReconnectAttempt: ri.commandLink.lastReconnectAttempt)
        }
        ri.flags.insert(.disconnected)
    }

    /// Closes both links of an instance (they are reopened by the next tick).
    func closeLinks(_ ri: Instance) {
        closeLink(ri, pubsub: false)
        closeLink(ri, pubsub: true)
    }

    func closeLink(_ ri: Instance, pubsub: Bool) {
        let link = pubsub ? ri.pubsubLink : ri.commandLink
        guard let id = link.id else { return }
        linkOwners[id] = nil
        out.append(.close(id))
        if pubsub {
            ri.pubsubLink = LinkState(lastReconnectAttempt: link.lastReconnectAttempt)
        } else {
            ri.commandLink = LinkState(lastReconnectAttempt: link.lastReconnectAttempt)
        }
        ri.flags.insert(.disconnected)
    }

    /// Forgets an instance entirely: its links are closed and never reported again.
    func releaseInstance(_ ri: Instance) {
        closeLinks(ri)
        if ri.isMaster {
            ri.replicas.forEach(releaseInstance)
            ri.sentinels.forEach(releaseInstance)
        }
    }

    func clientName(pubsub: Bool) -> String {
        "sentinel-\(myID.prefix(8))-\(pubsub ? "pubsub" : "cmd")"
    }

    /// A command name as the instance knows it (rename-command of its master).
    func mapped(_ ri: Instance, _ command: String) -> String {
        // Commands to peer sentinels are never renamed.
        guard !ri.isSentinel, let s = ri.owningMaster.settings else { return command }
        let lower = command.lowercased()
        for r in s.renamedCommands where r.original == lower {
            return r.renamed
        }
        return command
    }

    func sendAuthIfNeeded(_ ri: Instance, _ id: LinkID, pubsub: Bool) {
        let user: String?
        let pass: String?
        if ri.isSentinel {
            user = settings.sentinelUser
            pass = settings.sentinelPass
        } else {
            user = ri.owningMaster.settings?.authUser
            pass = ri.owningMaster.settings?.authPass
        }
        guard let pass else { return }
        var args = [mapped(ri, "AUTH")]
        if let user { args.append(user) }
        args.append(pass)
        send(ri, id, args, expect: .discard, pubsub: pubsub)
    }

    /// Sends a command on the instance's command link (or the given Pub/Sub link)
    /// and remembers what its reply will answer. Returns false when the link is down.
    @discardableResult
    func send(_ ri: Instance, _ args: [String], expect: PendingReply) -> Bool {
        guard let id = ri.commandLink.id, ri.commandLink.connected else { return false }
        send(ri, id, args, expect: expect)
        return true
    }

    func send(_ ri: Instance, _ id: LinkID, _ args: [String], expect: PendingReply, pubsub: Bool = false) {
        if !pubsub { ri.commandLink.pending.append(expect) }
        out.append(.send(id, args))
    }

    // MARK: - Periodic commands

    static let maxPendingCommands = 100
    let helloChannel = "__sentinel__:hello"

    func sendPeriodicCommands(_ ri: Instance) {
        guard ri.commandLink.connected else { return }
        guard ri.pendingCommands < Self.maxPendingCommands else { return }

        if !ri.isSentinel {
            var period = ri.isReplica ? timing.replicaInfoPeriod : timing.infoPeriod
            if !ri.flags.isDisjoint(with: [.reconfSent, .reconfInProgress]) {
                period = min(period, timing.reconfInfoPeriod)
            }
            if ri.infoRefresh == 0 || now - ri.infoRefresh > period {
                requestInfo(ri)
            }
        }
        let pingPeriod = min(ri.downAfter, timing.pingPeriod)
        if now - ri.lastPongTime > pingPeriod && now - ri.lastPingTime > pingPeriod / 2 {
            sendPing(ri)
        }
        if now - ri.lastHelloSentTime > timing.publishPeriod
            && !ri.commandLink.pending.contains(.publishHello) {
            sendHello(ri)
        }
    }

    /// Sends INFO now unless one is already on its way (Warden polls out of period
    /// when a failover is waiting for news from an instance).
    func requestInfo(_ ri: Instance) {
        guard ri.commandLink.connected, !ri.commandLink.pending.contains(.info) else { return }
        send(ri, [mapped(ri, "INFO")], expect: .info)
    }

    func sendPing(_ ri: Instance) {
        guard send(ri, [mapped(ri, "PING")], expect: .ping) else { return }
        ri.lastPingTime = now
        if ri.activePingTime == 0 { ri.activePingTime = now }
    }

    /// PUBLISHes our hello (who we are, our epoch, and our view of the master) to
    /// the instance: masters and replicas relay it on `__sentinel__:hello`, peer
    /// sentinels process it directly.
    @discardableResult
    func sendHello(_ ri: Instance) -> Bool {
        guard ri.commandLink.connected else { return false }
        guard let ip = settings.announceIP ?? ri.commandLink.localHost else { return false }
        let m = ri.owningMaster
        let masterAddr = currentMasterAddress(m)
        let hello = Hello(
            sentinelAddress: Address(ip, settings.helloPort),
            runID: myID, currentEpoch: currentEpoch, masterName: m.name,
            masterAddress: masterAddr, masterConfigEpoch: m.configEpoch)
        return send(ri, [mapped(ri, "PUBLISH"), helloChannel, hello.payload], expect: .publishHello)
    }

    /// Makes the next tick send hellos for this master to every instance at once
    /// (after a promotion or a configuration change).
    func forceHelloUpdate(_ m: Instance) {
        m.lastHelloSentTime = 0
        for r in m.replicas { r.lastHelloSentTime = 0 }
        for s in m.sentinels { s.lastHelloSentTime = 0 }
    }

    /// Sends hellos for this master to every peer and instance right now.
    func broadcastHello(_ m: Instance) {
        forceHelloUpdate(m)
        for ri in [m] + m.replicas + m.sentinels where !ri.commandLink.pending.contains(.publishHello) {
            sendHello(ri)
        }
    }

    // MARK: - Replies

    func linkReply(_ id: LinkID, _ value: RESPValue) {
        guard let owner = linkOwners[id] else { return }
        let ri = owner.instance
        if owner.isPubSub {
            ri.pubsubLink.lastActivity = now
            receivePubSub(ri, value)
            return
        }
        guard !ri.commandLink.pending.isEmpty else { return }
        let what = ri.commandLink.pending.removeFirst()
        switch what {
        case .discard, .exec:
            break
        case .ping:
            pingReply(ri, value)
        case .info:
            if let text = value.string {
                refreshInfo(ri, text)
            }
        case .publishHello:
            if !value.isError { ri.lastHelloSentTime = now }
        case .isMasterDown(let masterName):
            isMasterDownReply(from: ri, masterName: masterName, value)
        }
    }

    func pingReply(_ ri: Instance, _ value: RESPValue) {
        let text: String
        switch value {
        case .simpleString(let s): text = s
        case .error(let s): text = s
        default:
            ri.lastPongTime = now
            return
        }
        if text.hasPrefix("PONG") || text.hasPrefix("LOADING") || text.hasPrefix("MASTERDOWN") {
            ri.lastAvailableTime = now
            ri.activePingTime = 0
            if ri.flags.contains(.masterReboot) && text.hasPrefix("PONG") {
                ri.flags.remove(.masterReboot)
            }
        } else if text.hasPrefix("BUSY") && ri.flags.contains(.sDown) && !ri.flags.contains(.scriptKillSent) {
            // The instance is stuck in a script: one SCRIPT KILL per SDOWN period.
            send(ri, [mapped(ri, "SCRIPT"), "KILL"], expect: .discard)
            ri.flags.insert(.scriptKillSent)
        }
        ri.lastPongTime = now
    }

    /// A message on a Pub/Sub link: only hellos from other sentinels matter.
    func receivePubSub(_ ri: Instance, _ value: RESPValue) {
        guard let parts = value.elements, parts.count == 3,
              parts[0].string == "message", let payload = parts[2].string else { return }
        if payload.contains(myID) { return }
        processHello(payload)
    }

    // MARK: - Helpers

    /// The master's address as clients should see it: the promoted replica's once
    /// the failover has reached reconfiguring the other replicas.
    public func currentMasterAddress(_ m: Instance) -> Address {
        if m.flags.contains(.failoverInProgress), let p = m.promotedReplica, m.failoverState >= .reconfSlaves {
            return p.address
        }
        return m.address
    }

    func randomHexID() -> String {
        let hex = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(40)
        while bytes.count < 40 {
            var r = rng.next()
            for _ in 0..<16 where bytes.count < 40 {
                bytes.append(hex[Int(r & 0xf)])
                r >>= 4
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func log(_ level: LogLevel, _ text: String) {
        out.append(.log(level, text))
    }

    /// Requests a config save (deduplicated when nothing happened in between).
    func persist() {
        if out.last != .persist { out.append(.persist) }
    }
}

/// A small, fast, seedable PRNG (SplitMix64): the only source of randomness in
/// SentinelCore, so a seed reproduces a run.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension LinkState {
    init(lastReconnectAttempt: Millis) {
        self.init()
        self.lastReconnectAttempt = lastReconnectAttempt
    }
}
