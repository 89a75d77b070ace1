import RESP
import SentinelCore

/// The knobs of a simulated world. Every random choice within them comes from
/// the world's seed.
public struct WorldOptions: Sendable {
    public var sentinels = 3
    /// Monitored masters: each is a group of Redis nodes (a master and its
    /// replicas) that every sentinel monitors.
    public var masters = 1
    /// Redis nodes besides the initial master, in each group.
    public var replicas = 2
    public var quorum = 2
    /// The first group's master name; the others are this name followed by 2, 3...
    public var masterName = "mymaster"
    /// How far (bytes) each replica may trail its master's offset, drawn per replica.
    public var replicaLag: ClosedRange<Int64> = 500...500
    public var downAfter: Millis = 1000
    public var failoverTimeout: Millis = 10_000
    public var parallelSyncs = 1
    /// One-way latency of each message, drawn per message.
    public var networkDelay: ClosedRange<Millis> = 1...5
    /// Time between two timer ticks of a sentinel, drawn per tick.
    public var tickInterval: ClosedRange<Millis> = Timing.tickInterval
    /// When every sentinel's first tick happens (ms after the start); nil: drawn
    /// from `tickInterval` for each.
    public var firstTick: Millis?
    /// How long a replica takes to sync after SLAVEOF host port.
    public var syncDelay: ClosedRange<Millis> = 50...300
    /// A connection attempt across a partition fails after this long.
    public var connectTimeout: Millis = 1000
    /// A replica whose master is silent (paused, partitioned) drops the link after this long.
    public var replicationTimeout: Millis = 60_000
    /// Wall-clock reading at the start of the run (sentinels see wall-clock times).
    public var startTime: Millis = 1_700_000_000_000
    /// How often each sentinel's epochs are sampled for invariant (d).
    public var epochCheckPeriod: Millis = 500
    /// How long a config save takes (fsync and rename), drawn per save.
    public var diskDelay: ClosedRange<Millis> = 0...2

    public init() {}

    /// The name of group `g`'s master.
    public func masterName(ofGroup g: Int) -> String { g == 0 ? masterName : "\(masterName)\(g + 1)" }
}

/// One monitored master and the Redis nodes that start as its replicas.
public struct MasterGroup: Sendable {
    public let index: Int
    public let name: String
    /// Indices into `World.redis`; the first one starts as master.
    public let nodes: [Int]
}

/// A sentinel process in the world: its core while it runs, and its "disk" (the
/// last persisted config snapshot) that a restart loads.
public final class SentinelProcess {
    public let index: Int
    public let address: Address
    /// The running core; nil while crashed.
    public internal(set) var core: Sentinel?
    /// The config as last saved successfully (`.save` answered ok): all a
    /// restart knows.
    public internal(set) var disk: SentinelConfig
    /// This sentinel's clock minus the world's.
    public internal(set) var skew: Millis = 0
    /// Bumped at each crash: stale ticks and links of a dead incarnation are ignored.
    var generation = 0
    public internal(set) var restarts = 0
    var links: [LinkID: Conn] = [:]
    /// Epoch of the last `+new-epoch` event, and of the failover begun after it, by master.
    var lastNewEpoch: UInt64 = 0
    var failoverEpoch: [String: UInt64] = [:]
    /// Masters this incarnation holds ODOWN (from `+odown` / `-odown`), and those a
    /// client forced a failover of (SENTINEL FAILOVER needs no ODOWN).
    var oDown: Set<String> = []
    var forcedFailover: Set<String> = []
    /// The largest epochs seen on its disk (across restarts), and in the running
    /// core (this incarnation, from what it loaded).
    var durableEpochs = EpochMarks()
    var liveEpochs = EpochMarks()
    /// The latest epoch of a vote this sentinel revealed, by master (kept across restarts).
    var maxRevealedVoteEpoch: [String: UInt64] = [:]
    var lastEpochCheck: Millis = 0
    /// Fault: crash right after the next vote is cast (on disk, not yet sent),
    /// and restart this long after.
    var crashAfterVote: Millis?
    /// Fault: saves fail until this time...
    var diskFailsUntil: Millis = 0
    /// ...or take until this time to complete (a hung disk)...
    var diskHangsUntil: Millis = 0
    /// ...or never complete: the sentinel waits on its save until it crashes.
    var diskHungForever = false
    /// Saves started and not answered (dropped at a crash: they never land).
    var savesInFlight = 0
    /// Requests from peers waiting for the core's reply, and the connection each
    /// came on; a connection's next command waits for the reply to the previous.
    var pendingRequests: [RequestID: Conn] = [:]
    /// The IS-MASTER-DOWN-BY-ADDR requests among them (host, port): their replies
    /// may reveal a vote, which the checkers look at.
    var voteRequests: [RequestID: Address] = [:]
    var nextRequest: UInt64 = 0

    init(index: Int, address: Address, config: SentinelConfig) {
        self.index = index
        self.address = address
        self.disk = config
    }

    public var isRunning: Bool { core != nil }
}

/// A seeded, deterministic world: N sentinel cores, M fake Redis nodes, a
/// simulated network and clock, and faults. One `seed` decides everything, so a
/// failing run is replayed exactly by running the same seed again.
///
/// Time only moves inside `run`: the world pops its agenda in order of virtual
/// time and carries out each action (a tick, a message arriving, ...), feeding the
/// sentinel cores and carrying out their effects as a real driver would.
public final class World {
    public let seed: UInt64
    public let options: WorldOptions
    /// Virtual wall-clock time, in ms.
    public private(set) var now: Millis
    /// When the run began.
    public let startTime: Millis
    public let redis: [FakeRedis]
    /// The monitored masters, each with its nodes.
    public let groups: [MasterGroup]
    public let sentinels: [SentinelProcess]
    public let observations = Observations()
    /// The latency range in force; faults may widen it for a while.
    public var networkDelay: ClosedRange<Millis>
    /// A sentinel that exits (`.exit` effect) is started again this long after,
    /// as a service manager would; nil: it stays down.
    public var restartAfterExit: Millis?

    var rng: SplitMix64
    var queue = EventQueue()
    /// Connections not yet known dead at both ends, in creation order.
    var conns: [Conn] = []
    var connsPruneThreshold = 64
    /// Partition group of each node (absent: group 0).
    var group: [NodeID: Int] = [:]
    /// One-way cuts: messages from the first node to the second are held back
    /// (those the other way pass).
    var oneWayCuts: Set<DirectedPair> = []
    /// Fault: when a partition heals, each held-back message that is safe to
    /// repeat at the application level (a hello, a vote request) is delivered
    /// twice with this probability (percent).
    public var duplicateOnHealPercent = 0
    /// An action is being carried out (`command` then must not run the world).
    var inStep = false
    /// Replies awaited by `command(_:_:)` (the test's own client), by sentinel.
    var clientWaits: [Int: [RequestID: Bool]] = [:]
    var clientReplies: [RequestID: RESPValue] = [:]

    static let localHost = "127.0.0.1"
    static let replicationStepPeriod: Millis = 100

    public init(seed: UInt64, options: WorldOptions = WorldOptions()) {
        self.seed = seed
        self.options = options
        self.rng = SplitMix64(seed: seed)
        self.now = options.startTime
        self.startTime = options.startTime
        self.networkDelay = options.networkDelay

        // The shape of the world (lags) comes from its own generator, so that
        // options left at their defaults draw nothing from `rng`.
        var shape = SplitMix64(seed: seed ^ 0x5A1D_0C0F_FEE0_0003)
        var nodes: [FakeRedis] = []
        var groups: [MasterGroup] = []
        for g in 0..<max(1, options.masters) {
            let first = nodes.count
            let masterAddress = Address(Self.localHost, 6379 + first)
            for i in 0...options.replicas {
                let index = first + i
                let address = Address(Self.localHost, 6379 + index)
                let role: FakeRedis.Role = i == 0 ? .master : .replica(of: masterAddress)
                let n = FakeRedis(index: index, address: address, runID: "", role: role, now: options.startTime)
                n.group = g
                let lag = options.replicaLag
                n.lag = lag.lowerBound + Int64(shape.next() % UInt64(lag.upperBound - lag.lowerBound + 1))
                nodes.append(n)
            }
            groups.append(MasterGroup(index: g, name: options.masterName(ofGroup: g), nodes: Array(first..<nodes.count)))
        }
        redis = nodes
        self.groups = groups
        var procs: [SentinelProcess] = []
        for j in 0..<options.sentinels {
            var config = SentinelConfig()
            config.port = 26379 + j
            config.masters = groups.map { g in
                var m = MasterConfig(name: g.name, address: nodes[g.nodes[0]].address, quorum: options.quorum)
                m.downAfter = options.downAfter
                m.failoverTimeout = options.failoverTimeout
                m.parallelSyncs = options.parallelSyncs
                return m
            }
            procs.append(SentinelProcess(index: j, address: Address(Self.localHost, config.port), config: config))
        }
        sentinels = procs

        for n in redis { n.runID = randomRunID() }
        for s in sentinels { boot(s, firstTick: options.firstTick) }
        queue.schedule(.replicationStep, at: now + Self.replicationStepPeriod)
    }

    /// Milliseconds since the start of the run.
    public var elapsed: Millis { now - startTime }

    // MARK: - Running

    /// Calls `body` when virtual time reaches `time` (a fault, a check, ...).
    public func schedule(at time: Millis, _ body: @escaping (World) -> Void) {
        queue.schedule(.call(body), at: max(time, now))
    }

    /// Runs the world for `ms` milliseconds of virtual time.
    public func run(for ms: Millis) {
        run(until: now + ms)
    }

    /// Runs the world until virtual time `t`.
    public func run(until t: Millis) {
        while let next = queue.nextTime, next <= t {
            step()
        }
        now = max(now, t)
    }

    /// Runs until `condition` holds (checked whenever the clock has moved at least
    /// `checkEvery` ms, after every action of an instant) or `timeout` ms pass.
    /// Returns whether it held.
    @discardableResult
    public func run(timeout: Millis, checkEvery: Millis = 1, until condition: () -> Bool) -> Bool {
        if condition() { return true }
        let deadline = now + timeout
        var lastCheck = now
        while let next = queue.nextTime, next <= deadline {
            step()
            if queue.nextTime != now && now - lastCheck >= checkEvery {
                lastCheck = now
                if condition() { return true }
            }
        }
        now = deadline
        return condition()
    }

    private func step() {
        guard let (time, action) = queue.pop() else { return }
        now = time
        inStep = true
        defer { inStep = false }
        perform(action)
    }

    private func perform(_ action: Action) {
        switch action {
        case .tick(let j, let generation):
            let s = sentinels[j]
            guard s.generation == generation, s.core != nil else { return }
            deliver(.tick, to: s)
            guard s.generation == generation, s.core != nil else { return }
            if now - s.lastEpochCheck >= options.epochCheckPeriod {
                s.lastEpochCheck = now
                checkEpochs(s, s.core!.configSnapshot(), durable: false)
            }
            queue.schedule(.tick(sentinel: j, generation: generation), at: now + random(options.tickInterval))
        case .connectArrives(let c):
            connectArrives(c)
        case .connectFailed(let c):
            guard !c.closedByClient else { return }
            c.closedByClient = true
            let s = sentinels[c.owner]
            guard s.generation == c.ownerGeneration else { return }
            s.links[c.link] = nil
            deliver(.disconnected(c.link), to: s)
        case .toServer(let c, let command):
            serverReceives(c, command)
        case .toClient(let c, let message):
            clientReceives(c, message)
        case .flushStalled(let c):
            flushStalled(c)
        case .replicationStep:
            replicationStep()
            queue.schedule(.replicationStep, at: now + Self.replicationStepPeriod)
        case .call(let body):
            body(self)
        case .restartSentinel(let j):
            restartSentinel(j)
        case .scriptDone(let j, let generation, let id):
            let s = sentinels[j]
            guard s.generation == generation else { return }
            deliver(.scriptFinished(id, exitStatus: 0, signal: 0), to: s)
        case .saveDone(let j, let generation, let request, let ok):
            let s = sentinels[j]
            guard s.generation == generation else { return }
            s.savesInFlight -= 1
            if ok {
                s.disk = request.config
                checkEpochs(s, s.disk, durable: true)
            }
            deliver(.saved(request.id, ok: ok), to: s)
        }
        // Forget connections the client knows are gone (the server side treats
        // them as dead too), once there are twice as many as after the last sweep.
        if conns.count > connsPruneThreshold {
            conns.removeAll { $0.closedByClient }
            connsPruneThreshold = max(64, conns.count * 2)
        }
    }

    // MARK: - Randomness

    func random(_ range: ClosedRange<Millis>) -> Millis {
        range.lowerBound + Millis(rng.next() % UInt64(range.upperBound - range.lowerBound + 1))
    }

    func randomRunID() -> String {
        let hex = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        while bytes.count < 40 {
            bytes.append(hex[Int(rng.next() % 16)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The seed of one incarnation of one sentinel, independent of how much
    /// randomness the world used before.
    func sentinelSeed(_ j: Int, restart: Int) -> UInt64 {
        var g = SplitMix64(seed: seed ^ (UInt64(j + 1) &* 0xA076_1D64_78BD_642F) ^ (UInt64(restart) &* 0xE703_7ED1_A0B4_28DB))
        return g.next()
    }

    // MARK: - Sentinel processes

    /// This sentinel's clock.
    public func localTime(_ s: SentinelProcess) -> Millis { now + s.skew }

    func boot(_ s: SentinelProcess, firstTick: Millis?) {
        let core = Sentinel(config: s.disk, seed: sentinelSeed(s.index, restart: s.restarts), now: localTime(s))
        s.core = core
        s.lastNewEpoch = 0
        s.failoverEpoch = [:]
        s.oDown = []
        s.forcedFailover = []
        checkEpochs(s, s.disk, durable: true)
        s.liveEpochs = EpochMarks()
        checkEpochs(s, s.disk, durable: false)
        checkRestartedVotes(s, core)
        observations.trace.append("t=\(elapsed) sentinel\(s.index) starts as \(core.myID.prefix(8))")
        guard execute(core.start(now: localTime(s)), for: s) else { return }
        let delay = firstTick ?? random(options.tickInterval)
        queue.schedule(.tick(sentinel: s.index, generation: s.generation), at: now + delay)
    }

    /// Feeds one input to a running sentinel and carries out its effects.
    func deliver(_ input: Input, to s: SentinelProcess) {
        guard let core = s.core else { return }
        execute(core.handle(input, now: localTime(s)), for: s)
    }

    /// Carries out effects in order, as the daemon does. Returns false if the
    /// sentinel exited on the way (the rest are then never carried out).
    @discardableResult
    private func execute(_ effects: [Effect], for s: SentinelProcess) -> Bool {
        let generation = s.generation
        for effect in effects {
            guard s.generation == generation, let core = s.core else { return false }
            switch effect {
            case .connect(let link, let address):
                openConnection(from: s, link, to: address)
            case .send(let link, let args):
                if let c = s.links[link] { sendToServer(c, args.strings) }
            case .close(let link):
                if let c = s.links.removeValue(forKey: link) { c.closedByClient = true }
            case .event(let event):
                observe(event, from: s, core: core)
            case .save(let request):
                // The new file replaces the old one when the save completes (rename);
                // a crash before that leaves the old one.
                s.savesInFlight += 1
                if s.diskHungForever {
                    observations.trace.append("t=\(elapsed) sentinel\(s.index) save \(request.id) hangs")
                    break
                }
                let ok = now >= s.diskFailsUntil
                let done = max(now + random(options.diskDelay), s.diskHangsUntil)
                queue.schedule(.saveDone(sentinel: s.index, generation: generation, request, ok: ok), at: done)
            case .reply(let id, let value):
                if let address = s.voteRequests.removeValue(forKey: id) {
                    checkRevealedVote(s, core, master: address, reply: value)
                }
                if clientWaits[s.index]?[id] == true {
                    clientReplies[id] = value
                    break
                }
                guard let c = s.pendingRequests.removeValue(forKey: id) else { break }
                sendToClient(c, .value(value))
                c.awaitingReply = false
                while !c.awaitingReply, !c.serverQueue.isEmpty, s.core != nil {
                    sentinelReceives(s, c, c.serverQueue.removeFirst())
                }
            case .resolve(let name):
                // Every simulated node has an IP address: no name resolves.
                queue.schedule(.call({ w in w.deliver(.resolved(name, ip: nil), to: s) }), at: now)
            case .checkExecutable(let id, let paths):
                queue.schedule(.call({ w in w.deliver(.executableChecked(id, paths.map { _ in true }), to: s) }), at: now)
            case .runScript(let id, _, _):
                queue.schedule(.call({ w in w.deliver(.scriptStarted(id, pid: 1000 + Int32(id.raw % 1000)), to: s) }), at: now)
                queue.schedule(.scriptDone(sentinel: s.index, generation: generation, id), at: now + 10)
            case .killScript, .log:
                break
            case .exit(let code):
                observations.exits.append((elapsed, s.index))
                observations.trace.append("t=\(elapsed) sentinel\(s.index) exits with status \(code)")
                stopSentinel(s)
                if let delay = restartAfterExit {
                    queue.schedule(.restartSentinel(s.index), at: now + delay)
                }
                return false
            }
        }
        return s.generation == generation && s.core != nil
    }

    /// The process dies: its links drop, peers see their links to it drop.
    func stopSentinel(_ s: SentinelProcess) {
        s.core = nil
        s.generation += 1
        s.links = [:]
        s.pendingRequests = [:]
        s.voteRequests = [:]
        s.savesInFlight = 0
        for c in conns {
            if c.owner == s.index { c.closedByClient = true }
            if c.target == .sentinel(s.index) { serverCloses(c) }
        }
    }

    // MARK: - Network

    func partitionGroup(_ n: NodeID) -> Int { group[n] ?? 0 }

    /// Messages from `a` reach `b` (no partition between them, no one-way cut from a to b).
    func canSend(_ a: NodeID, _ b: NodeID) -> Bool {
        partitionGroup(a) == partitionGroup(b) && (oneWayCuts.isEmpty || !oneWayCuts.contains(DirectedPair(from: a, to: b)))
    }

    /// Either direction between `a` and `b` is cut (a TCP handshake or a
    /// replication link needs both).
    func separated(_ a: NodeID, _ b: NodeID) -> Bool { !canSend(a, b) || !canSend(b, a) }

    /// The client's messages do not reach the server.
    func isCutToServer(_ c: Conn) -> Bool { !canSend(.sentinel(c.owner), c.target) }
    /// The server's messages do not reach the client.
    func isCutToClient(_ c: Conn) -> Bool { !canSend(c.target, .sentinel(c.owner)) }

    func node(at address: Address) -> NodeID? {
        guard address.host == Self.localHost else { return nil }
        if let r = redis.first(where: { $0.address.port == address.port }) { return .redis(r.index) }
        if let s = sentinels.first(where: { $0.address.port == address.port }) { return .sentinel(s.index) }
        return nil
    }

    private func openConnection(from s: SentinelProcess, _ link: LinkID, to address: Address) {
        let target = node(at: address)
        // Nobody listens at an unknown address: the attempt just fails, and the
        // placeholder target is never looked at.
        let c = Conn(owner: s.index, ownerGeneration: s.generation, link: link,
                     target: target ?? .redis(-1), startedAt: now)
        s.links[link] = c
        conns.append(c)
        if target == nil {
            queue.schedule(.connectFailed(c), at: now + random(networkDelay))
        } else {
            queue.schedule(.connectArrives(c), at: now + random(networkDelay))
        }
    }

    private func connectArrives(_ c: Conn) {
        guard !c.closedByClient else { return }
        if separated(.sentinel(c.owner), c.target) {
            queue.schedule(.connectFailed(c), at: max(now, c.startedAt + options.connectTimeout))
            return
        }
        let accepting: Bool
        switch c.target {
        case .redis(let i): accepting = redis[i].state != .killed
        case .sentinel(let k): accepting = sentinels[k].core != nil
        }
        guard accepting else {
            queue.schedule(.connectFailed(c), at: now + random(networkDelay))
            return
        }
        c.established = true
        sendToClient(c, .established)
    }

    func sendToServer(_ c: Conn, _ command: [String]) {
        guard !c.isDead else { return }
        let at = max(now + random(networkDelay), c.lastToServer)
        c.lastToServer = at
        queue.schedule(.toServer(c, command), at: at)
    }

    func sendToClient(_ c: Conn, _ message: ClientMessage) {
        guard !c.closedByClient else { return }
        let at = max(now + random(networkDelay), c.lastToClient)
        c.lastToClient = at
        queue.schedule(.toClient(c, message), at: at)
    }

    /// The server end closes the connection; the client learns it after any data
    /// already on its way.
    func serverCloses(_ c: Conn) {
        guard !c.closedByServer else { return }
        c.closedByServer = true
        c.transaction = nil
        c.subscribed = false
        sendToClient(c, .closed)
    }

    private func serverReceives(_ c: Conn, _ command: [String]) {
        guard !c.isDead else { return }
        if isCutToServer(c) || !c.stalledToServer.isEmpty {
            c.stalledToServer.append(command)
            return
        }
        process(command, on: c)
    }

    private func process(_ command: [String], on c: Conn) {
        switch c.target {
        case .redis(let i): redisReceives(redis[i], c, command)
        case .sentinel(let k): sentinelReceives(sentinels[k], c, command)
        }
    }

    private func clientReceives(_ c: Conn, _ message: ClientMessage) {
        guard !c.closedByClient else { return }
        if isCutToClient(c) || !c.stalledToClient.isEmpty {
            c.stalledToClient.append(message)
            return
        }
        hand(message, to: c)
    }

    private func hand(_ message: ClientMessage, to c: Conn) {
        let s = sentinels[c.owner]
        guard s.generation == c.ownerGeneration, s.core != nil, !c.closedByClient else { return }
        switch message {
        case .established:
            deliver(.connected(c.link, localHost: Self.localHost), to: s)
        case .value(let v):
            deliver(.reply(c.link, v), to: s)
        case .closed:
            c.closedByClient = true
            s.links[c.link] = nil
            deliver(.disconnected(c.link), to: s)
        }
    }

    /// After a partition heals: what waited in the connection arrives, in order.
    /// With `duplicateOnHealPercent`, a message that is safe to repeat is handed
    /// twice: a Pub/Sub message, a PUBLISH, a vote request (repeated on a
    /// connection of its own whose reply is lost, as a client's retry would be).
    private func flushStalled(_ c: Conn) {
        if !isCutToServer(c) {
            while !c.stalledToServer.isEmpty && !c.isDead {
                let command = c.stalledToServer.removeFirst()
                process(command, on: c)
                if duplicateOnHealPercent > 0, isRepeatable(command), drawPercent() < duplicateOnHealPercent {
                    observations.trace.append("t=\(elapsed) duplicate \(command.prefix(2).joined(separator: " ")) from sentinel\(c.owner) to \(c.target)")
                    process(command, on: Conn(repeating: c))
                }
            }
            c.stalledToServer = []
        }
        if !isCutToClient(c) {
            while !c.stalledToClient.isEmpty && !c.closedByClient {
                let message = c.stalledToClient.removeFirst()
                hand(message, to: c)
                if duplicateOnHealPercent > 0, case .value(let v) = message, c.subscribed,
                   v.elements?.first?.string == "message", drawPercent() < duplicateOnHealPercent {
                    hand(message, to: c)
                }
            }
            c.stalledToClient = []
        }
    }

    private func isRepeatable(_ command: [String]) -> Bool {
        guard let name = command.first?.uppercased() else { return false }
        return name == "PUBLISH" || (name == "SENTINEL" && command.count > 1
                                     && command[1].lowercased() == "is-master-down-by-addr")
    }

    private func drawPercent() -> Int { Int(rng.next() % 100) }

    // MARK: - Sentinels as servers

    /// A peer's command to a sentinel: the connection-level ones (PING, CLIENT,
    /// AUTH) answered here as redis-sentinel would, SENTINEL and PUBLISH by the
    /// core, whose reply may come later (after a save). Replies keep the order of
    /// the commands: the next command waits for the reply to the previous one.
    private func sentinelReceives(_ s: SentinelProcess, _ c: Conn, _ command: [String]) {
        guard s.core != nil, let name = command.first?.uppercased() else { return }
        if c.awaitingReply {
            c.serverQueue.append(command)
            return
        }
        switch name {
        case "PING":
            sendToClient(c, .value(.simpleString("PONG")))
        case "AUTH", "CLIENT":
            sendToClient(c, .value(.ok))
        default:
            s.nextRequest += 1
            let id = RequestID(s.nextRequest)
            s.pendingRequests[id] = c
            noteVoteRequest(s, id, command)
            c.awaitingReply = true
            deliver(.command(id, command.map { Array($0.utf8) }), to: s)
        }
    }

    // MARK: - Client commands from the test

    /// Runs a client command (`["SENTINEL", ...]`) on a running sentinel now,
    /// carrying out its effects, and returns its reply: at once, or once the world
    /// has run until the reply came (at most `limit` ms, e.g. for a save). Nil if
    /// the sentinel is down or no reply came.
    @discardableResult
    public func command(_ sentinel: Int, _ args: [String], limit: Millis = 1_000) -> RESPValue? {
        let s = sentinels[sentinel]
        guard let core = s.core else { return nil }
        s.nextRequest += 1
        let id = RequestID(s.nextRequest)
        noteVoteRequest(s, id, args)
        noteForcedFailover(s, args)
        var reply: RESPValue?
        let effects = core.handle(.command(id, args.map { Array($0.utf8) }), now: localTime(s))
        for e in effects { if case .reply(id, let v) = e { reply = v } }
        execute(effects, for: s)
        if reply == nil && !inStep {
            // The reply waits for something the world has to do first (a save).
            clientWaits[s.index, default: [:]][id] = true
            run(timeout: limit) { self.clientReplies[id] != nil || s.core == nil }
            clientWaits[s.index]?[id] = nil
            reply = clientReplies.removeValue(forKey: id)
        }
        return reply
    }

    /// `SENTINEL GET-MASTER-ADDR-BY-NAME` asked of one sentinel (nil if it is down
    /// or does not know the master).
    public func masterAddress(askedOf sentinel: Int, master name: String? = nil) -> Address? {
        guard let reply = command(sentinel, ["SENTINEL", "get-master-addr-by-name", name ?? options.masterName]),
              let parts = reply.elements, parts.count == 2,
              let host = parts[0].string, let port = parts[1].string.flatMap({ Int($0) }) else { return nil }
        return Address(host, port)
    }
}
