import RESP
import SentinelCore

/// The knobs of a simulated world. Every random choice within them comes from
/// the world's seed.
public struct WorldOptions: Sendable {
    public var sentinels = 3
    /// Redis nodes besides the initial master.
    public var replicas = 2
    public var quorum = 2
    public var masterName = "mymaster"
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
}

/// A sentinel process in the world: its core while it runs, and its "disk" (the
/// last persisted config snapshot) that a restart loads.
public final class SentinelProcess {
    public let index: Int
    public let address: Address
    /// The running core; nil while crashed.
    public internal(set) var core: Sentinel?
    /// The config as last persisted (`.persist` effect).
    public internal(set) var disk: SentinelConfig
    /// This sentinel's clock minus the world's.
    public internal(set) var skew: Millis = 0
    /// Bumped at each crash: stale ticks and links of a dead incarnation are ignored.
    var generation = 0
    public internal(set) var restarts = 0
    var links: [LinkID: Conn] = [:]
    /// Epoch of the last `+new-epoch` event, and of the failover begun after it.
    var lastNewEpoch: UInt64 = 0
    var failoverEpoch: UInt64 = 0
    var maxCurrentEpoch: UInt64 = 0
    var maxConfigEpoch: [String: UInt64] = [:]
    var lastEpochCheck: Millis = 0
    /// Fault: crash right after the next vote is cast (on disk, not yet sent),
    /// and restart this long after.
    var crashAfterVote: Millis?
    /// Fault: saves fail until this time...
    var diskFailsUntil: Millis = 0
    /// ...or take until this time to complete (a hung disk).
    var diskHangsUntil: Millis = 0
    /// Requests from peers waiting for the core's reply, and the connection each
    /// came on; a connection's next command waits for the reply to the previous.
    var pendingRequests: [RequestID: Conn] = [:]
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

        var nodes: [FakeRedis] = []
        let masterAddress = Address(Self.localHost, 6379)
        for i in 0...options.replicas {
            let address = Address(Self.localHost, 6379 + i)
            let role: FakeRedis.Role = i == 0 ? .master : .replica(of: masterAddress)
            nodes.append(FakeRedis(index: i, address: address, runID: "", role: role, now: options.startTime))
        }
        redis = nodes
        var procs: [SentinelProcess] = []
        for j in 0..<options.sentinels {
            var config = SentinelConfig()
            config.port = 26379 + j
            var m = MasterConfig(name: options.masterName, address: masterAddress, quorum: options.quorum)
            m.downAfter = options.downAfter
            m.failoverTimeout = options.failoverTimeout
            m.parallelSyncs = options.parallelSyncs
            config.masters = [m]
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
                checkEpochs(s, s.core!.configSnapshot())
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
            if ok {
                s.disk = request.config
                checkEpochs(s, s.disk)
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

    private func boot(_ s: SentinelProcess, firstTick: Millis?) {
        let core = Sentinel(config: s.disk, seed: sentinelSeed(s.index, restart: s.restarts), now: localTime(s))
        s.core = core
        s.lastNewEpoch = 0
        s.failoverEpoch = 0
        checkEpochs(s, s.disk)
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
                let ok = now >= s.diskFailsUntil
                let done = max(now + random(options.diskDelay), s.diskHangsUntil)
                queue.schedule(.saveDone(sentinel: s.index, generation: generation, request, ok: ok), at: done)
            case .reply(let id, let value):
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

    private func observe(_ event: Event, from s: SentinelProcess, core: Sentinel) {
        observations.events.append(.init(time: elapsed, sentinel: s.index, event: event))
        switch event.name {
        case "+new-epoch":
            s.lastNewEpoch = UInt64(event.payload) ?? s.lastNewEpoch
        case "+try-failover":
            s.failoverEpoch = s.lastNewEpoch
        case "+vote-for-leader":
            let parts = event.payload.split(separator: " ")
            if parts.count == 2, let epoch = UInt64(parts[1]) {
                observations.recordVote(.init(time: elapsed, voter: s.index, voterID: core.myID,
                                              candidate: String(parts[0]), epoch: epoch))
            }
            if let delay = s.crashAfterVote {
                s.crashAfterVote = nil
                crashSentinel(s.index)
                queue.schedule(.restartSentinel(s.index), at: now + delay)
            }
        case "+elected-leader":
            observations.recordElection(.init(time: elapsed, sentinel: s.index, sentinelID: core.myID,
                                              epoch: s.failoverEpoch))
        default:
            break
        }
    }

    /// Invariant (d): epochs only move forward on a sentinel, across restarts too.
    private func checkEpochs(_ s: SentinelProcess, _ config: SentinelConfig) {
        if config.currentEpoch < s.maxCurrentEpoch {
            observations.violations.append("t=\(elapsed): sentinel\(s.index) current epoch went back from \(s.maxCurrentEpoch) to \(config.currentEpoch)")
        }
        s.maxCurrentEpoch = max(s.maxCurrentEpoch, config.currentEpoch)
        for m in config.masters {
            let before = s.maxConfigEpoch[m.name] ?? 0
            if m.configEpoch < before {
                observations.violations.append("t=\(elapsed): sentinel\(s.index) config epoch of \(m.name) went back from \(before) to \(m.configEpoch)")
            }
            s.maxConfigEpoch[m.name] = max(before, m.configEpoch)
        }
    }

    /// The process dies: its links drop, peers see their links to it drop.
    private func stopSentinel(_ s: SentinelProcess) {
        s.core = nil
        s.generation += 1
        s.links = [:]
        s.pendingRequests = [:]
        for c in conns {
            if c.owner == s.index { c.closedByClient = true }
            if c.target == .sentinel(s.index) { serverCloses(c) }
        }
    }

    // MARK: - Network

    func partitionGroup(_ n: NodeID) -> Int { group[n] ?? 0 }

    func separated(_ a: NodeID, _ b: NodeID) -> Bool { partitionGroup(a) != partitionGroup(b) }

    func isCut(_ c: Conn) -> Bool { separated(.sentinel(c.owner), c.target) }

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
        if isCut(c) {
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
        if isCut(c) || !c.stalledToServer.isEmpty {
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
        if isCut(c) || !c.stalledToClient.isEmpty {
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
    private func flushStalled(_ c: Conn) {
        guard !isCut(c) else { return }
        while !c.stalledToServer.isEmpty && !c.isDead {
            process(c.stalledToServer.removeFirst(), on: c)
        }
        c.stalledToServer = []
        while !c.stalledToClient.isEmpty && !c.closedByClient {
            hand(c.stalledToClient.removeFirst(), to: c)
        }
        c.stalledToClient = []
    }

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
    public func masterAddress(askedOf sentinel: Int) -> Address? {
        guard let reply = command(sentinel, ["SENTINEL", "get-master-addr-by-name", options.masterName]),
              let parts = reply.elements, parts.count == 2,
              let host = parts[0].string, let port = parts[1].string.flatMap({ Int($0) }) else { return nil }
        return Address(host, port)
    }

    // MARK: - Faults

    /// Kills a Redis node: its connections drop and new ones are refused.
    public func killRedis(_ i: Int) {
        let n = redis[i]
        guard n.state != .killed else { return }
        observations.trace.append("t=\(elapsed) kill redis\(i)")
        n.state = .killed
        n.pausedInbox = []
        n.busy = false
        for c in conns where c.target == .redis(i) { serverCloses(c) }
    }

    /// Restarts a killed Redis node with its configured role and a new run id.
    public func restartRedis(_ i: Int) {
        let n = redis[i]
        guard n.state == .killed else { return }
        observations.trace.append("t=\(elapsed) restart redis\(i) as \(n.configuredRole)")
        n.state = .running
        n.runID = randomRunID()
        n.role = n.configuredRole
        n.startedAt = now
        n.linkUp = false
        n.linkDownSince = nil
        if !n.isMaster { n.syncingUntil = now + random(options.syncDelay) }
    }

    /// SIGSTOP: connections are accepted, nothing is answered.
    public func pauseRedis(_ i: Int) {
        guard redis[i].state == .running else { return }
        observations.trace.append("t=\(elapsed) pause redis\(i)")
        redis[i].state = .paused
    }

    /// SIGCONT: everything received meanwhile is answered, in order.
    public func resumeRedis(_ i: Int) {
        let n = redis[i]
        guard n.state == .paused else { return }
        observations.trace.append("t=\(elapsed) resume redis\(i)")
        n.state = .running
        let inbox = n.pausedInbox
        n.pausedInbox = []
        for (c, command) in inbox where !c.isDead {
            redisReceives(n, c, command)
        }
    }

    /// The node gets stuck in a script: -BUSY to everything until SCRIPT KILL.
    public func makeBusy(_ i: Int) {
        guard redis[i].state != .killed else { return }
        observations.trace.append("t=\(elapsed) redis\(i) busy in a script")
        redis[i].busy = true
    }

    /// Splits the network: nodes in different groups cannot talk. Nodes in no
    /// group form one more group together.
    public func partition(_ groups: [[NodeID]]) {
        observations.trace.append("t=\(elapsed) partition \(groups)")
        group = [:]
        for (g, nodes) in groups.enumerated() {
            for n in nodes { group[n] = g + 1 }
        }
    }

    /// Heals every partition: what was held back is delivered.
    public func healPartition() {
        guard !group.isEmpty else { return }
        observations.trace.append("t=\(elapsed) heal partition")
        group = [:]
        for c in conns where !c.stalledToServer.isEmpty || !c.stalledToClient.isEmpty {
            queue.schedule(.flushStalled(c), at: now + random(networkDelay))
        }
    }

    /// Crashes a sentinel (as kill -9): what it did not persist is lost.
    public func crashSentinel(_ j: Int) {
        let s = sentinels[j]
        guard let core = s.core else { return }
        observations.trace.append("t=\(elapsed) crash sentinel\(j)")
        // Everything it exposed so far had to be on disk: sample it now so a
        // restart from an older disk shows up as an epoch going back.
        checkEpochs(s, core.configSnapshot())
        stopSentinel(s)
    }

    /// Restarts a crashed sentinel from its last persisted config.
    public func restartSentinel(_ j: Int) {
        let s = sentinels[j]
        guard s.core == nil else { return }
        s.restarts += 1
        boot(s, firstTick: nil)
    }

    /// Replaces what a crashed sentinel will load when it restarts (a lost or
    /// stale disk, to check that the checkers notice).
    public func replaceDisk(of j: Int, with config: SentinelConfig) {
        precondition(sentinels[j].core == nil, "only the disk of a crashed sentinel can be replaced")
        observations.trace.append("t=\(elapsed) sentinel\(j) disk replaced")
        sentinels[j].disk = config
    }

    /// Crashes the sentinel right after it next casts a vote: the vote is on its
    /// disk but the reply carrying it is never sent. It restarts `delay` ms later.
    public func crashAfterNextVote(sentinel j: Int, restartAfter delay: Millis) {
        observations.trace.append("t=\(elapsed) sentinel\(j) will crash after its next vote")
        sentinels[j].crashAfterVote = delay
    }

    /// Moves one sentinel's clock (forwards or backwards).
    public func jumpClock(sentinel j: Int, by delta: Millis) {
        observations.trace.append("t=\(elapsed) clock of sentinel\(j) jumps \(delta) ms")
        sentinels[j].skew += delta
    }
}
