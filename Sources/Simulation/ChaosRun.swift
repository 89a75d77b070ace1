import SentinelCore

/// One randomized run: a world shaped by the seed, a few random faults (killed,
/// paused and busy Redis nodes, partitions, sentinel crashes and restarts, clock
/// jumps, latency spikes), then everything healed and time to settle. Checks the
/// safety invariants throughout and convergence at the end.
///
/// The same seed always produces the same run, so a failure is replayed by
/// running its seed again.
public struct ChaosRun {
    public struct Result: Sendable {
        public let seed: UInt64
        /// Safety invariants broken (votes, leaders, epochs).
        public let violations: [String]
        /// Why the world did not converge after healing (empty if it did).
        public let convergenceProblems: [String]
        /// The faults and world actions, in order.
        public let trace: [String]
        public let promotions: Int
        /// Virtual time the run took, in ms.
        public let duration: Millis

        public var passed: Bool { violations.isEmpty && convergenceProblems.isEmpty }

        /// Everything needed to understand a failure.
        public var report: String {
            var s = "seed \(seed) (replay with WARDEN_SIM_SEED=\(seed))\n"
            for v in violations { s += "  violation: \(v)\n" }
            for p in convergenceProblems { s += "  not converged: \(p)\n" }
            s += "  trace:\n"
            for t in trace { s += "    \(t)\n" }
            return s
        }
    }

    /// Faults happen in [warmUp, warmUp + faultWindow); then everything heals.
    public static let warmUp: Millis = 4_000
    public static let faultWindow: Millis = 14_000
    /// After healing, the world has this long to converge...
    public static let settleLimit: Millis = 120_000
    /// ...and must then stay converged this long.
    public static let stableFor: Millis = 10_000

    /// The world options a seed draws.
    public static func options(seed: UInt64) -> WorldOptions {
        var g = SplitMix64(seed: seed ^ 0x0F7A_11E5_5EED_0001)
        var o = WorldOptions()
        o.sentinels = g.next() % 2 == 0 ? 5 : 3
        o.networkDelay = 1...(1 + Millis(g.next() % 40))
        o.replicas = 1 + Int(g.next() % 3)
        let majority = o.sentinels / 2 + 1
        o.quorum = 1 + Int(g.next() % UInt64(majority))
        o.failoverTimeout = 3_000 + Millis(g.next() % 5_000)
        o.parallelSyncs = 1 + Int(g.next() % 2)
        return o
    }

    public static func run(seed: UInt64) -> Result {
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
        // Half the time a Redis fault hits whichever node is master by then.
        func redisTarget(_ w: World, _ draws: (Bool, Int)) -> Int {
            draws.0 ? (w.currentMaster?.index ?? draws.1) : draws.1
        }
        for _ in 0..<(2 + draw(8)) {
            let t = start + draw(0...(faultWindow - 1_000))
            let end = min(healTime, t + draw(300...8_000))
            let target = (draw(2) == 0, draw(redisCount))
            switch draw(9) {
            case 0:
                world.schedule(at: t, { w in
                    let i = redisTarget(w, target)
                    w.killRedis(i)
                    w.schedule(at: end) { $0.restartRedis(i) }
                })
            case 1:
                world.schedule(at: t, { w in
                    let i = redisTarget(w, target)
                    w.pauseRedis(i)
                    w.schedule(at: end) { $0.resumeRedis(i) }
                })
            case 2:
                // Two or three sides.
                var sides: [[NodeID]] = Array(repeating: [], count: 2 + draw(2))
                for i in 0..<redisCount { sides[draw(sides.count)].append(.redis(i)) }
                for j in 0..<sentinelCount { sides[draw(sides.count)].append(.sentinel(j)) }
                world.schedule(at: t, { $0.partition(sides) })
                world.schedule(at: end, { $0.healPartition() })
            case 3:
                let j = draw(sentinelCount)
                world.schedule(at: t, { $0.crashSentinel(j) })
                world.schedule(at: end, { $0.restartSentinel(j) })
            case 4:
                let j = draw(sentinelCount)
                let jump = draw(2_500...20_000) * (draw(2) == 0 ? 1 : -1)
                world.schedule(at: t, { $0.jumpClock(sentinel: j, by: jump) })
            case 5:
                let wide = 1...draw(50...300)
                world.schedule(at: t, { $0.networkDelay = wide })
                world.schedule(at: end, { $0.networkDelay = $0.options.networkDelay })
            case 6:
                world.schedule(at: t, { $0.makeBusy(redisTarget($0, target)) })
            case 7:
                let j = draw(sentinelCount)
                let delay = draw(0...3_000)
                world.schedule(at: t, { $0.crashAfterNextVote(sentinel: j, restartAfter: delay) })
            default:
                let j = draw(sentinelCount)
                let failure = draw(2) == 0 ? "crash-after-election" : "crash-after-promotion"
                world.schedule(at: t, { $0.command(j, ["SENTINEL", "SIMULATE-FAILURE", failure]) })
            }
        }
        world.run(until: healTime)
        world.heal()

        // Converged, and still so `stableFor` later.
        let deadline = world.now + settleLimit
        var problems = world.convergenceProblems()
        var convergedSince: Millis? = problems.isEmpty ? world.now : nil
        while world.now < deadline {
            world.run(for: 1_000)
            problems = world.convergenceProblems()
            if problems.isEmpty {
                let since = convergedSince ?? world.now
                convergedSince = since
                if world.now - since >= stableFor { break }
            } else {
                convergedSince = nil
            }
        }
        return Result(seed: seed, violations: world.observations.violations, convergenceProblems: problems,
                      trace: world.observations.trace, promotions: world.observations.promotions.count,
                      duration: world.elapsed)
    }
}

extension World {
    /// Ends every fault: killed nodes restart, paused ones resume, partitions
    /// heal, crashed sentinels restart, latency returns to normal.
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
            restartSentinel(s.index)
        }
    }
}
