import RESP
import SentinelCore
import Simulation
import XCTest

/// Failover scenarios in the simulated world, each run on a few seeds. A
/// failure message names the seed; `WARDEN_SIM_SEED=<seed>` runs every scenario
/// on that seed only.
final class ScenarioTests: XCTestCase {
    /// Long enough for every sentinel to find the replicas and its peers.
    let warmUp: Millis = 5_000

    func seeds(_ defaults: [UInt64]) -> [UInt64] {
        if let s = ProcessInfo.processInfo.environment["WARDEN_SIM_SEED"], let seed = UInt64(s) { return [seed] }
        return defaults
    }

    func assertSafe(_ w: World, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(w.observations.violations, [], "seed \(w.seed)", file: file, line: line)
    }

    /// Runs until the world has converged (invariant c), failing if it does not in `timeout`.
    func assertConverges(_ w: World, within timeout: Millis = 30_000,
                         file: StaticString = #filePath, line: UInt = #line) {
        let ok = w.run(timeout: timeout, checkEvery: 250) { w.convergenceProblems().isEmpty }
        XCTAssertTrue(ok, "seed \(w.seed): \(w.convergenceProblems())\n\(w.observations.trace.joined(separator: "\n"))",
                      file: file, line: line)
    }

    func testWarmUpDiscoversReplicasAndPeers() {
        for seed in seeds([1, 2]) {
            let w = World(seed: seed)
            w.run(for: warmUp)
            for s in 0..<3 {
                XCTAssertEqual(w.observations.events(named: "+slave", by: s).count, 2, "seed \(seed)")
                XCTAssertEqual(w.observations.events(named: "+sentinel", by: s).count, 2, "seed \(seed)")
                XCTAssertEqual(w.masterAddress(askedOf: s), w.redis[0].address, "seed \(seed)")
            }
            XCTAssertEqual(w.observations.events(named: "+sdown").count, 0, "seed \(seed)")
            XCTAssertEqual(w.convergenceProblems(), [])
        }
    }

    /// 3 sentinels, 2 replicas, quorum 2: the master dies; exactly one replica is
    /// promoted, by one leader, and everyone follows it.
    func testMasterKilled() {
        for seed in seeds([11, 12, 13]) {
            let w = World(seed: seed)
            w.run(for: warmUp)
            w.killRedis(0)
            assertConverges(w)
            w.run(for: 10_000)
            XCTAssertEqual(w.observations.promotions.count, 1, "seed \(seed)")
            XCTAssertEqual(w.observations.elections.count, 1, "seed \(seed)")
            let promoted = w.observations.promotions[0]
            XCTAssertEqual(promoted.by, w.observations.elections[0].sentinel, "seed \(seed)")
            XCTAssertTrue(w.redis[promoted.node].isMaster)
            for s in 0..<3 {
                let switches = w.observations.events(named: "+switch-master", by: s)
                XCTAssertEqual(switches.map(\.event.payload),
                               ["mymaster 127.0.0.1 6379 127.0.0.1 \(6379 + promoted.node)"], "seed \(seed)")
                XCTAssertEqual(w.observations.events(named: "+odown", by: s).count <= 1, true)
            }
            XCTAssertEqual(w.observations.events(named: "+failover-end").count, 1, "seed \(seed)")
            XCTAssertEqual(w.convergenceProblems(), [], "seed \(seed)")
            assertSafe(w)
        }
    }

    /// The master stops answering past down-after, then comes back: it is failed
    /// over, then turned into a replica of the new master, and nothing fails over again.
    func testMasterPausedThenResumed() {
        for seed in seeds([21, 22, 23]) {
            let w = World(seed: seed)
            w.run(for: warmUp)
            w.pauseRedis(0)
            XCTAssertTrue(w.run(timeout: 10_000) { !w.observations.promotions.isEmpty }, "seed \(seed)")
            w.run(for: 1_000)
            w.resumeRedis(0)
            // The old master says role:master again; after the quiet period
            // (4 hello periods) a sentinel converts it.
            XCTAssertTrue(w.run(timeout: 20_000) {
                !w.observations.events(named: "+convert-to-slave").isEmpty
            }, "seed \(seed): \(w.observations.trace)")
            let convert = w.observations.events(named: "+convert-to-slave")[0]
            XCTAssertTrue(convert.event.payload.hasPrefix("slave 127.0.0.1:6379 127.0.0.1 6379 @ mymaster"),
                          convert.event.payload)
            assertConverges(w)
            w.run(for: 15_000)
            XCTAssertEqual(w.observations.promotions.count, 1, "seed \(seed): a second failover")
            XCTAssertEqual(w.observations.events(named: "+try-failover").map(\.sentinel).count,
                           Set(w.observations.events(named: "+try-failover").map(\.sentinel)).count,
                           "seed \(seed): a sentinel tried twice")
            XCTAssertEqual(w.redis[0].role, .replica(of: w.currentMaster!.address), "seed \(seed)")
            XCTAssertEqual(w.convergenceProblems(), [], "seed \(seed)")
            assertSafe(w)
        }
    }

    /// The elected leader crashes right after winning (SIMULATE-FAILURE
    /// crash-after-election): after 2 × failover-timeout another sentinel fails
    /// over in a later epoch.
    func testLeaderCrashesAfterElection() {
        var options = WorldOptions()
        options.failoverTimeout = 3_000
        for seed in seeds([31, 32, 33]) {
            // The world is deterministic: a dry run tells which sentinel wins.
            let dry = World(seed: seed, options: options)
            dry.run(for: warmUp)
            dry.killRedis(0)
            XCTAssertTrue(dry.run(timeout: 10_000) { !dry.observations.elections.isEmpty })
            let leader = dry.observations.elections[0].sentinel

            let w = World(seed: seed, options: options)
            w.run(for: warmUp)
            XCTAssertEqual(w.command(leader, ["SENTINEL", "SIMULATE-FAILURE", "crash-after-election"]), .ok)
            w.killRedis(0)
            XCTAssertTrue(w.run(timeout: 10_000) { !w.observations.exits.isEmpty }, "seed \(seed)")
            XCTAssertEqual(w.observations.exits.map(\.sentinel), [leader])
            XCTAssertEqual(w.observations.elections.map(\.sentinel), [leader])
            XCTAssertFalse(w.sentinels[leader].isRunning)
            XCTAssertTrue(w.observations.promotions.isEmpty)
            let firstEpoch = w.observations.elections[0].epoch

            assertConverges(w, within: 30_000)
            XCTAssertEqual(w.observations.promotions.count, 1, "seed \(seed)")
            let second = w.observations.elections.last!
            XCTAssertNotEqual(second.sentinel, leader)
            XCTAssertGreaterThan(second.epoch, firstEpoch, "seed \(seed)")
            XCTAssertEqual(w.observations.promotions[0].by, second.sentinel)
            // Nobody retried before the 2 × failover-timeout gate.
            let crashTime = w.observations.exits[0].time
            XCTAssertGreaterThanOrEqual(second.time - crashTime, 2 * options.failoverTimeout - 1_000)
            assertSafe(w)
        }
    }

    /// The leader crashes after the promotion, once the others have followed it
    /// but before it has reconfigured the replicas; it restarts from its disk and
    /// must agree with them (its saved config names the promoted replica).
    func testLeaderCrashesWhileReconfiguringReplicas() {
        for seed in seeds([34, 35, 36]) {
            let w = World(seed: seed)
            w.run(for: warmUp)
            w.killRedis(0)
            XCTAssertTrue(w.run(timeout: 10_000) { !w.observations.elections.isEmpty }, "seed \(seed)")
            let leader = w.observations.elections[0].sentinel
            let others = (0..<3).filter { $0 != leader }
            XCTAssertTrue(w.run(timeout: 5_000) {
                others.allSatisfy { !w.observations.events(named: "+switch-master", by: $0).isEmpty }
            }, "seed \(seed)")
            let promoted = w.redis[w.observations.promotions[0].node].address
            // Its save of the promotion has completed (saves take a drawn disk delay).
            XCTAssertTrue(w.run(timeout: 1_000) { w.sentinels[leader].disk.masters[0].address == promoted })
            XCTAssertTrue(w.observations.events(named: "+failover-end", by: leader).isEmpty,
                          "seed \(seed): the leader finished too early for this scenario")
            w.crashSentinel(leader)
            XCTAssertEqual(w.sentinels[leader].disk.masters[0].address, promoted, "seed \(seed)")
            XCTAssertTrue(w.sentinels[leader].disk.masters[0].knownReplicas.contains(w.redis[0].address))
            w.run(for: 1_000)
            w.restartSentinel(leader)
            assertConverges(w)
            XCTAssertEqual(w.masterAddress(askedOf: leader), promoted, "seed \(seed)")
            XCTAssertEqual(w.observations.promotions.count, 1, "seed \(seed)")
            assertSafe(w)
        }
    }

    /// The leader's clock jumps back right after its promotion: TILT freezes its
    /// failover for 30 s. Meanwhile the others follow the promoted replica, the
    /// old master comes back as a replica, the new master dies, and the others
    /// promote the old master again in a later epoch. When the leader wakes up,
    /// the newer configuration must win over its stale failover.
    func testStaleFailoverGivesWayToNewerConfig() {
        for seed in seeds([71, 72]) {
            let w = World(seed: seed)
            w.redis[2].priority = 0
            w.run(for: warmUp)
            w.pauseRedis(0)
            guard w.run(timeout: 10_000, until: { !w.observations.promotions.isEmpty }) else {
                XCTFail("seed \(seed): no promotion: \(w.observations.events.filter { $0.time > 5000 }.map(\.description).joined(separator: "\n"))")
                continue
            }
            let leader = w.observations.promotions[0].by
            XCTAssertEqual(w.observations.promotions[0].node, 1)
            w.jumpClock(sentinel: leader, by: -5_000)
            w.resumeRedis(0)
            XCTAssertTrue(w.run(timeout: 20_000) { w.redis[0].role == .replica(of: w.redis[1].address) && w.redis[0].linkUp },
                          "seed \(seed): \(w.observations.trace)")
            XCTAssertTrue(w.sentinels[leader].core!.tilt)
            w.killRedis(1)
            XCTAssertTrue(w.run(timeout: 2 * w.options.failoverTimeout + 10_000) { w.observations.promotions.count == 2 }, "seed \(seed)")
            XCTAssertEqual(w.observations.promotions[1].node, 0)
            XCTAssertTrue(w.sentinels[leader].core!.tilt, "the scenario needs the leader still in TILT")
            assertConverges(w, within: 60_000)
            w.run(for: 20_000)
            XCTAssertEqual(w.convergenceProblems(), [], "seed \(seed)")
            XCTAssertEqual(w.masterAddress(askedOf: leader), w.redis[0].address, "seed \(seed)")
            assertSafe(w)
        }
    }

    /// Quorum 1, but two of the three sentinels are down: the third sees ODOWN on
    /// its own, yet cannot get a majority, so nobody is elected and nothing promoted.
    func testQuorumOneWithoutMajority() {
        var options = WorldOptions()
        options.quorum = 1
        options.failoverTimeout = 5_000
        for seed in seeds([41, 42]) {
            let w = World(seed: seed, options: options)
            w.run(for: warmUp)
            w.crashSentinel(1)
            w.crashSentinel(2)
            w.killRedis(0)
            w.run(for: 20_000)
            XCTAssertEqual(w.observations.events(named: "+odown", by: 0).map(\.event.payload).first,
                           "master mymaster 127.0.0.1 6379 #quorum 1/1", "seed \(seed)")
            XCTAssertFalse(w.observations.events(named: "+try-failover", by: 0).isEmpty)
            XCTAssertFalse(w.observations.events(named: "-failover-abort-not-elected", by: 0).isEmpty)
            XCTAssertTrue(w.observations.elections.isEmpty, "seed \(seed)")
            XCTAssertTrue(w.observations.promotions.isEmpty, "seed \(seed)")
            XCTAssertEqual(w.masterAddress(askedOf: 0), w.redis[0].address)
            assertSafe(w)
        }
    }

    /// A sentinel that voted, crashed and restarted from disk does not vote for
    /// anyone else in that epoch: the vote was persisted before it was sent.
    func testRestartedVoterDoesNotVoteTwice() {
        let w = World(seed: 51)
        w.run(for: warmUp)
        let ids = (0..<3).map { w.sentinels[$0].core!.myID }
        let ask = { (voter: Int, epoch: UInt64, candidate: String) -> RESPValue? in
            w.command(voter, ["SENTINEL", "is-master-down-by-addr", "127.0.0.1", "6379", String(epoch), candidate])
        }
        XCTAssertEqual(ask(2, 7, ids[0]), .array([.integer(0), .bulk(ids[0]), .integer(7)]))
        // The vote was on disk before the reply carrying it.
        XCTAssertEqual(w.sentinels[2].disk.currentEpoch, 7)
        XCTAssertEqual(w.sentinels[2].disk.masters[0].leaderEpoch, 7)

        w.crashSentinel(2)
        w.run(for: 500)
        w.restartSentinel(2)
        w.run(for: 500)
        let answer = ask(2, 7, ids[1])
        XCTAssertNotEqual(answer?.elements?[1], .bulk(ids[1]), "voted twice in epoch 7")
        XCTAssertEqual(answer?.elements?[2], .integer(7))
        // A later epoch gets a vote.
        XCTAssertEqual(ask(2, 8, ids[1]), .array([.integer(0), .bulk(ids[1]), .integer(8)]))
        XCTAssertEqual(w.observations.votes.filter { $0.voter == 2 }.map(\.epoch), [7, 8])
        assertSafe(w)
    }

    /// Sentinels that see ODOWN at the same moment take turns in run-id order: the
    /// first asks for votes at once, the others wait their turn, get its request
    /// first and vote for it. One try, one election, no split.
    func testSimultaneousODownTakesTurns() {
        var options = WorldOptions()
        options.tickInterval = 100...100
        options.firstTick = 100
        options.networkDelay = 2...2
        for seed in seeds([61, 62, 63]) {
            let w = World(seed: seed, options: options)
            w.run(for: warmUp)
            w.killRedis(0)
            assertConverges(w)
            let odowns = w.observations.events(named: "+odown")
            XCTAssertEqual(Set(odowns.prefix(3).map(\.time)).count, 1, "seed \(seed): not simultaneous")
            let tries = w.observations.events(named: "+try-failover")
            XCTAssertEqual(tries.count, 1, "seed \(seed)")
            let first = (0..<3).min { w.sentinels[$0].core!.myID < w.sentinels[$1].core!.myID }!
            XCTAssertEqual(tries.first?.sentinel, first, "seed \(seed)")
            XCTAssertEqual(tries.first?.time, odowns.first?.time, "seed \(seed): the first waited")
            XCTAssertTrue(w.observations.events(named: "-failover-abort-not-elected").isEmpty)
            XCTAssertEqual(w.observations.elections.map(\.epoch), [1])
            XCTAssertEqual(w.observations.promotions.count, 1)
            assertSafe(w)
        }
    }

    /// The same during a real election: all three become candidates in the same
    /// epoch; the first to vote (for itself) crashes right after and restarts at
    /// once, while the two other candidates keep asking it for its vote in that epoch.
    func testVotersRestartedMidElection() {
        var options = WorldOptions()
        options.tickInterval = 100...100
        options.firstTick = 100
        options.networkDelay = 2...2
        for seed in seeds([52, 53, 54]) {
            let w = World(seed: seed, options: options)
            w.run(for: warmUp)
            w.killRedis(0)
            XCTAssertTrue(w.run(timeout: 10_000) { !w.observations.votes.isEmpty })
            let voter = w.observations.votes[0].voter
            w.crashSentinel(voter)
            w.restartSentinel(voter)
            assertConverges(w)
            let epoch = w.observations.votes[0].epoch
            let votesInEpoch = w.observations.votes.filter { $0.voter == voter && $0.epoch == epoch }
            XCTAssertEqual(votesInEpoch.count, 1, "seed \(seed)")
            XCTAssertEqual(w.sentinels[voter].restarts, 1)
            XCTAssertEqual(w.observations.promotions.count, 1, "seed \(seed)")
            assertSafe(w)
        }
    }

    /// All three sentinels see the master down at the same virtual millisecond and
    /// (with their turns switched off) each votes for itself: the split election
    /// is abandoned and retried after a random back-off, and one of them then wins.
    func testSimultaneousStartsResolveSplitVote() {
        var options = WorldOptions()
        options.tickInterval = 100...100
        options.firstTick = 100
        options.networkDelay = 2...2
        for seed in seeds([61, 62, 63]) {
            let w = World(seed: seed, options: options)
            w.run(for: warmUp)
            for i in 0..<3 {
                XCTAssertEqual(w.command(i, ["SENTINEL", "DEBUG", "candidacy-stagger", "0"]), .simpleString("OK"))
            }
            w.killRedis(0)
            assertConverges(w)
            let tries = w.observations.events(named: "+try-failover")
            XCTAssertGreaterThanOrEqual(tries.count, 3, "seed \(seed)")
            XCTAssertEqual(Set(tries.prefix(3).map(\.time)).count, 1, "seed \(seed): not simultaneous")
            XCTAssertEqual(Set(tries.prefix(3).map(\.sentinel)).count, 3)
            // Everyone voted for itself in epoch 1, and gave up on it.
            let firstVotes = w.observations.votes.filter { $0.epoch == 1 }
            XCTAssertEqual(firstVotes.count, 3)
            for v in firstVotes { XCTAssertEqual(v.voterID, v.candidate) }
            // (With every tick on the same 100 ms grid, a retry may collide again.)
            let aborts = w.observations.events(named: "-failover-abort-not-elected")
            XCTAssertGreaterThanOrEqual(aborts.count, 3, "seed \(seed)")
            XCTAssertEqual(Set(aborts.prefix(3).map(\.sentinel)).count, 3)
            // Resolved well before the election timeout, in a later epoch.
            XCTAssertEqual(w.observations.elections.count, 1)
            XCTAssertGreaterThan(w.observations.elections[0].epoch, 1)
            XCTAssertLessThan(w.observations.elections[0].time - tries[0].time, 2_000)
            XCTAssertEqual(w.observations.promotions.count, 1)
            assertSafe(w)
        }
    }

    /// With down-after-milliseconds 1000: time from the master's death until every
    /// sentinel answers the new address. Warden's target is down-after + 150 ms.
    func testFailoverTime() {
        var times: [Millis] = []
        for seed in UInt64(100)..<UInt64(140) {
            let w = World(seed: seed)
            w.run(for: warmUp + Millis(seed % 100) * 7)
            let old = w.redis[0].address
            w.killRedis(0)
            let start = w.now
            let done = w.run(timeout: 10_000) {
                let answers = (0..<3).map { w.masterAddress(askedOf: $0) }
                return answers.allSatisfy { $0 != nil && $0 != old && $0 == answers[0] }
            }
            XCTAssertTrue(done, "seed \(seed)")
            times.append(w.now - start)
            assertSafe(w)
        }
        times.sort()
        let median = times[times.count / 2]
        print("failover time with down-after 1000 ms over \(times.count) seeds: min \(times.first!) ms, median \(median) ms, p90 \(times[times.count * 9 / 10]) ms, max \(times.last!) ms")
        XCTAssertLessThanOrEqual(median, 1_150)
    }
}
