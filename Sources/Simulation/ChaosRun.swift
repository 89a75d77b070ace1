import SentinelCore

/// The kinds of fault a chaos run may draw (all by default; `warden-sim --faults`
/// narrows them).
public struct FaultMix: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let killRedis = FaultMix(rawValue: 1 << 0)
    public static let pauseRedis = FaultMix(rawValue: 1 << 1)
    public static let busyRedis = FaultMix(rawValue: 1 << 2)
    public static let partition = FaultMix(rawValue: 1 << 3)
    public static let oneWay = FaultMix(rawValue: 1 << 4)
    public static let duplicate = FaultMix(rawValue: 1 << 5)
    public static let latency = FaultMix(rawValue: 1 << 6)
    public static let crashSentinel = FaultMix(rawValue: 1 << 7)
    public static let crashAfterVote = FaultMix(rawValue: 1 << 8)
    public static let simulateFailure = FaultMix(rawValue: 1 << 9)
    public static let clock = FaultMix(rawValue: 1 << 10)
    public static let diskFail = FaultMix(rawValue: 1 << 11)
    public static let diskHang = FaultMix(rawValue: 1 << 12)
    public static let replicaLag = FaultMix(rawValue: 1 << 13)
    public static let all = FaultMix(rawValue: (1 << 14) - 1)

    /// Each kind's name on the command line, in order.
    public static let names: [(String, FaultMix)] = [
        ("kill", .killRedis), ("pause", .pauseRedis), ("busy", .busyRedis), ("partition", .partition),
        ("one-way", .oneWay), ("duplicate", .duplicate), ("latency", .latency), ("crash", .crashSentinel),
        ("crash-after-vote", .crashAfterVote), ("simulate-failure", .simulateFailure), ("clock", .clock),
        ("disk-fail", .diskFail), ("disk-hang", .diskHang), ("lag", .replicaLag),
    ]

    /// `kill,partition,disk-fail` (or `all`); nil if a name is unknown.
    public init?(names list: String) {
        var mix: FaultMix = []
        for name in list.split(separator: ",").map(String.init) {
            if name == "all" {
                mix.formUnion(.all)
            } else if let kind = Self.names.first(where: { $0.0 == name })?.1 {
                mix.formUnion(kind)
            } else {
                return nil
            }
        }
        self = mix
    }

    /// The faults a run may draw (all kinds when nothing is chosen).
    var kinds: [FaultMix] { Self.names.map(\.1).filter { contains($0) } }
}

/// One randomized run: a world shaped by the seed (3 or 5 sentinels, 1-3
/// monitored masters with 1-3 replicas each, replicas that lag), a few random
/// faults (killed, paused and busy Redis nodes; partitions, one-way cuts and
/// messages repeated when they heal; sentinel crashes and restarts from their
/// last save; disks whose saves fail or hang; clock jumps; latency spikes; stalled
/// replicas), then everything healed and time to settle. Checks the safety
/// invariants throughout (Invariants.swift) and convergence at the end.
///
/// The same seed always produces the same run, so a failure is replayed by
/// running its seed again (`warden-sim --seed N`).
public struct ChaosRun {
    public struct Result: Sendable {
        public let seed: UInt64
        /// Safety invariants broken (votes, leaders, epochs, ODOWN).
        public let violations: [String]
        /// Why the world did not converge after healing (empty if it did).
        public let convergenceProblems: [String]
        /// The faults and world actions, in order.
        public let trace: [String]
        /// Every event the sentinels emitted, in order (`t=<ms> s<j> <event>`), if asked for.
        public let events: [String]
        public let promotions: Int
        /// Virtual time the run took, in ms.
        public let duration: Millis
        /// The world's shape: sentinels, masters, replicas per master, quorum.
        public let shape: String

        public var passed: Bool { violations.isEmpty && convergenceProblems.isEmpty }

        /// Everything needed to understand a failure.
        public var report: String {
            var s = "seed \(seed) (\(shape); replay with warden-sim --seed \(seed))\n"
            for v in violations { s += "  violation: \(v)\n" }
            for p in convergenceProblems { s += "  not converged: \(p)\n" }
            s += "  trace:\n"
            for t in trace { s += "    \(t)\n" }
            return s
        }
    }

    /// Faults happen in [warmUp, warmUp + faultWindow); then everything heals.
    public static let warmUp: Millis = 3_000
    public static let faultWindow: Millis = 9_000
    /// After healing, the world has this long to converge...
    public static let settleLimit: Millis = 120_000
    /// ...and must then stay converged this long.
    public static let stableFor: Millis = 3_000
    /// How often convergence is checked after healing.
    public static let checkPeriod: Millis = 500

    /// The world options a seed draws.
    public static func options(seed: UInt64) -> WorldOptions {
        var g = SplitMix64(seed: seed ^ 0x0F7A_11E5_5EED_0001)
        var o = WorldOptions()
        o.sentinels = g.next() % 3 == 0 ? 5 : 3
        o.networkDelay = 1...(1 + Millis(g.next() % 40))
        o.replicas = 1 + Int(g.next() % 3)
        let majority = o.sentinels / 2 + 1
        o.quorum = 1 + Int(g.next() % UInt64(majority))
        o.failoverTimeout = 3_000 + Millis(g.next() % 5_000)
        o.parallelSyncs = 1 + Int(g.next() % 2)
        let shape = g.next()
        o.masters = shape % 20 < 12 ? 1 : (shape % 20 < 17 ? 2 : 3)
        // Several masters are several worlds in one: fewer replicas each.
        if o.masters > 1 { o.replicas = min(o.replicas, 2) }
        // Half the worlds have replicas far apart in offset (up to 50 kB behind).
        if (shape / 10) % 2 == 0 { o.replicaLag = 0...50_000 }
        return o
    }

    /// `keepEvents`: list every event in the result (for a replay; a sweep does
    /// not need them).
    public static func run(seed: UInt64, faults: FaultMix = .all, keepEvents: Bool = false) -> Result {
        let options = options(seed: seed)
        let world = World(seed: seed, options: options)
        world.restartAfterExit = 1_000
        var g = SplitMix64(seed: seed ^ 0x0F7A_11E5_5EED_0002)
        func draw(_ n: Int) -> Int { Int(g.next() % UInt64(n)) }
        func draw(_ r: ClosedRange<Millis>) -> Millis {
            r.lowerBound + Millis(g.next() % UInt64(r.upperBound - r.lowerBound + 1))
        }

        let start = world.now + warmUp
        let healTime = start + faultWindow
        let redisCount = world.redis.count
        let sentinelCount = world.sentinels.count
        let kinds = faults.kinds
        if faults.contains(.duplicate) && draw(2) == 0 {
            world.duplicateOnHealPercent = 10 + draw(40)
            world.observations.trace.append("t=0 messages held by a partition are repeated when it heals (\(world.duplicateOnHealPercent)%)")
        }
        // Half the time a Redis fault hits whichever node is master of a group by then.
        func redisTarget(_ w: World, _ draws: (Bool, Int)) -> Int {
            let group = w.redis[draws.1].group
            return draws.0 ? (w.currentMaster(ofGroup: group)?.index ?? draws.1) : draws.1
        }
        func randomSides() -> [[NodeID]] {
            var sides: [[NodeID]] = Array(repeating: [], count: 2 + draw(2))
            for i in 0..<redisCount { sides[draw(sides.count)].append(.redis(i)) }
            for j in 0..<sentinelCount { sides[draw(sides.count)].append(.sentinel(j)) }
            return sides
        }
        for _ in 0..<(kinds.isEmpty ? 0 : 2 + draw(8)) {
            let t = start + draw(0...(faultWindow - 1_000))
            let end = min(healTime, t + draw(300...8_000))
            let target = (draw(2) == 0, draw(redisCount))
            switch kinds[draw(kinds.count)] {
            case .killRedis:
                world.schedule(at: t, { w in
                    let i = redisTarget(w, target)
                    w.killRedis(i)
                    w.schedule(at: end) { $0.restartRedis(i) }
                })
            case .pauseRedis:
                world.schedule(at: t, { w in
                    let i = redisTarget(w, target)
                    w.pauseRedis(i)
                    w.schedule(at: end) { $0.resumeRedis(i) }
                })
            case .partition, .duplicate:
                // Two or three sides.
                let sides = randomSides()
                world.schedule(at: t, { $0.partition(sides) })
                world.schedule(at: end, { $0.healPartition() })
            case .oneWay:
                // Everything on one side stops hearing from the other side.
                let sides = randomSides()
                world.schedule(at: t, { $0.cutOneWay(from: sides[0], to: sides[1]) })
                world.schedule(at: end, { $0.healPartition() })
            case .crashSentinel:
                let j = draw(sentinelCount)
                world.schedule(at: t, { $0.crashSentinel(j) })
                world.schedule(at: end, { $0.restartSentinel(j) })
            case .clock:
                let j = draw(sentinelCount)
                let jump = draw(2_500...20_000) * (draw(2) == 0 ? 1 : -1)
                world.schedule(at: t, { $0.jumpClock(sentinel: j, by: jump) })
            case .latency:
                let wide = 1...draw(50...300)
                world.schedule(at: t, { $0.networkDelay = wide })
                world.schedule(at: end, { $0.networkDelay = $0.options.networkDelay })
            case .busyRedis:
                world.schedule(at: t, { $0.makeBusy(redisTarget($0, target)) })
            case .crashAfterVote:
                let j = draw(sentinelCount)
                let delay = draw(0...3_000)
                world.schedule(at: t, { $0.crashAfterNextVote(sentinel: j, restartAfter: delay) })
            case .simulateFailure:
                let j = draw(sentinelCount)
                let failure = draw(2) == 0 ? "crash-after-election" : "crash-after-promotion"
                world.schedule(at: t, { $0.command(j, ["SENTINEL", "SIMULATE-FAILURE", failure]) })
            case .diskFail:
                let j = draw(sentinelCount)
                world.schedule(at: t, { $0.failSaves(sentinel: j, until: end) })
            case .diskHang:
                let j = draw(sentinelCount)
                if draw(2) == 0 {
                    world.schedule(at: t, { $0.hangSaves(sentinel: j, until: end) })
                } else {
                    // Hung until the process dies: it is crashed at the end and
                    // restarts from its last completed save.
                    world.schedule(at: t, { $0.hangSavesUntilCrash(sentinel: j) })
                    world.schedule(at: end, { $0.repairDisk(sentinel: j) })
                }
            default:
                world.schedule(at: t, { w in
                    let i = draw(redisCount)
                    w.stallReplica(i, until: end)
                })
            }
        }
        world.run(until: healTime)
        world.heal()

        // Converged, and still so `stableFor` later.
        let deadline = world.now + settleLimit
        var problems = world.convergenceProblems()
        var convergedSince: Millis? = problems.isEmpty ? world.now : nil
        while world.now < deadline {
            world.run(for: checkPeriod)
            problems = world.convergenceProblems()
            if problems.isEmpty {
                let since = convergedSince ?? world.now
                convergedSince = since
                if world.now - since >= stableFor { break }
            } else {
                convergedSince = nil
            }
        }
        let shape = "\(options.sentinels) sentinels, \(options.masters) master(s) with \(options.replicas) replica(s), quorum \(options.quorum)"
        return Result(seed: seed, violations: world.observations.violations, convergenceProblems: problems,
                      trace: world.observations.trace,
                      events: keepEvents ? world.observations.events.map { "t=\($0.time) s\($0.sentinel) \($0.event)" } : [],
                      promotions: world.observations.promotions.count,
                      duration: world.elapsed, shape: shape)
    }
}

extension World {
    /// Ends every fault: killed nodes restart, paused ones resume, partitions and
    /// one-way cuts heal, disks work again (a sentinel stuck on a hung save is
    /// restarted), crashed sentinels restart, replicas catch up, latency returns
    /// to normal.
    public func heal() {
        observations.trace.append("t=\(elapsed) heal everything")
        networkDelay = options.networkDelay
        healPartition()
        for n in redis {
            restartRedis(n.index)
            resumeRedis(n.index)
        }
        for s in sentinels {
            s.crashAfterVote = nil
            repairDisk(sentinel: s.index)
            restartSentinel(s.index)
        }
        for n in redis { n.stalledUntil = 0 }
    }
}
