import RESP
import SentinelCore
import Simulation
import XCTest

/// Forgetting sentinels (SENTINEL FORGET-SENTINEL) in the simulated world: one
/// command on one sentinel shrinks every sentinel's table and, once every remaining
/// member has applied it, the majority; and forgetting never lets a minority elect.
/// See docs/architecture.md, "Forgetting sentinels safely".
final class ForgetScenarioTests: XCTestCase {
    let warmUp: Millis = 6_000

    func seeds(_ defaults: [UInt64]) -> [UInt64] {
        if let s = ProcessInfo.processInfo.environment["WARDEN_SIM_SEED"], let seed = UInt64(s) { return [seed] }
        return defaults
    }

    func fiveSentinels(replicas: Int = 2) -> WorldOptions {
        var o = WorldOptions()
        o.sentinels = 5
        o.replicas = replicas
        o.quorum = 2
        return o
    }

    func runID(_ w: World, _ j: Int) -> String { w.sentinels[j].core!.myID }

    /// SENTINEL SENTINELS of sentinel `j`: each peer's fields.
    func peers(_ w: World, _ j: Int) -> [[String: String]] {
        guard let reply = w.command(j, ["SENTINEL", "SENTINELS", "mymaster"]), let list = reply.elements else { return [] }
        return list.map { entry in
            var fields: [String: String] = [:]
            if case .map(let pairs) = entry {
                for p in pairs { if let k = p.key.string, let v = p.value.string { fields[k] = v } }
            }
            return fields
        }
    }

    func peerIDs(_ w: World, _ j: Int) -> Set<String> { Set(peers(w, j).compactMap { $0["runid"] }) }

    func ckquorum(_ w: World, _ j: Int) -> String {
        switch w.command(j, ["SENTINEL", "CKQUORUM", "mymaster"]) {
        case .simpleString(let s)?: return s
        case .error(let s)?: return s
        default: return "no reply"
        }
    }

    /// Waits until sentinel `j` sees peer `k` as s_down, then forgets it there.
    func forget(_ w: World, on j: Int, peer k: Int, id: String? = nil, file: StaticString = #filePath, line: UInt = #line) {
        let id = id ?? runID(w, k)
        let down = w.run(timeout: 10_000, checkEvery: 100) {
            self.peers(w, j).contains { $0["runid"] == id && ($0["flags"] ?? "").contains("s_down") }
        }
        XCTAssertTrue(down, "seed \(w.seed): sentinel\(j) never saw sentinel\(k) down", file: file, line: line)
        let reply = w.command(j, ["SENTINEL", "FORGET-SENTINEL", "mymaster", id])
        XCTAssertEqual(reply, .ok, "seed \(w.seed)", file: file, line: line)
    }

    func assertSafe(_ w: World, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(w.observations.violations, [], "seed \(w.seed)", file: file, line: line)
    }

    /// Five sentinels; one is removed for good and forgotten with one command on one
    /// sentinel. Every other sentinel drops it, the forget is confirmed everywhere,
    /// and a failover then succeeds with 3 of the 4 (one more is cut off).
    func testOneForgetShrinksEveryTableAndFailoverNeedsThreeOfFour() {
        for seed in seeds([101, 102, 103]) {
            let w = World(seed: seed, options: fiveSentinels())
            w.run(for: warmUp)
            for j in 0..<5 { XCTAssertEqual(peers(w, j).count, 4, "seed \(seed): \(w.observations.events.filter { $0.event.name.contains("forget") || $0.event.name.contains("sentinel") || $0.event.name.contains("sdown") }.suffix(30))") }
            let gone = runID(w, 4)
            w.crashSentinel(4)
            forget(w, on: 0, peer: 4, id: gone)
            let everywhere = w.run(timeout: 20_000, checkEvery: 100) {
                (0..<4).allSatisfy { j in
                    !self.peerIDs(w, j).contains(gone) && self.peers(w, j).count == 3
                        && w.observations.events(named: "+forget-confirmed", by: j).count == 1
                }
            }
            XCTAssertTrue(everywhere, "seed \(seed): \((0..<4).map { peers(w, $0).count })")
            for j in 0..<4 {
                XCTAssertEqual(w.observations.events(named: "+forget-sentinel", by: j).count, 1, "seed \(seed)")
                XCTAssertEqual(ckquorum(w, j), "OK 4 usable Sentinels. Quorum and failover authorization can be reached",
                               "seed \(seed)")
            }
            // Only 3 of the 4 left can take part: the majority of four.
            w.partition([[.sentinel(3)]])
            w.killRedis(0)
            let failedOver = w.run(timeout: 30_000, checkEvery: 250) {
                w.observations.events(named: "+failover-end").count == 1
            }
            XCTAssertTrue(failedOver, "seed \(seed): no failover with 3 of 4\n\(w.observations.trace.joined(separator: "\n"))")
            XCTAssertEqual(w.observations.promotions.count, 1, "seed \(seed)")
            w.healPartition()
            let converged = w.run(timeout: 30_000, checkEvery: 250) { w.convergenceProblems().isEmpty }
            XCTAssertTrue(converged, "seed \(seed): \(w.convergenceProblems())")
            // The forgotten sentinel never came back.
            for j in 0..<4 { XCTAssertFalse(peerIDs(w, j).contains(gone), "seed \(seed)") }
            assertSafe(w)
        }
    }

    /// Where forgetting pays: five sentinels lose two, one after the other, each
    /// forgotten while the rest are up; the majority goes 3 → 3 → 2, and the last two
    /// survivors fail over on their own, which with five known they never could.
    func testForgettingOneAtATimeLetsTheLastTwoFailOver() {
        for seed in seeds([111, 112]) {
            let w = World(seed: seed, options: fiveSentinels())
            w.run(for: warmUp)
            for k in [4, 3] {
                let gone = runID(w, k)
                w.crashSentinel(k)
                forget(w, on: 0, peer: k, id: gone)
                let left = k - 1
                XCTAssertTrue(w.run(timeout: 20_000, checkEvery: 100) {
                    (0..<k).allSatisfy { j in
                        !self.peerIDs(w, j).contains(gone) && self.peers(w, j).count == left
                            && w.observations.events(named: "+forget-confirmed", by: j).count == 5 - k
                    }
                }, "seed \(seed): forget of sentinel\(k) not confirmed everywhere")
            }
            // Three known; one more dies (not forgotten): 2 of 3 usable, majority 2.
            w.crashSentinel(2)
            XCTAssertTrue(w.run(timeout: 10_000, checkEvery: 100) {
                self.ckquorum(w, 0) == "OK 2 usable Sentinels. Quorum and failover authorization can be reached"
            }, "seed \(seed): \(ckquorum(w, 0))")
            w.killRedis(0)
            XCTAssertTrue(w.run(timeout: 30_000, checkEvery: 250) {
                w.observations.events(named: "+failover-end").count == 1
            }, "seed \(seed): the last two did not fail over\n\(w.observations.trace.joined(separator: "\n"))")
            assertSafe(w)
        }
    }

    /// A partition {s0, s1, redis2} | {s2, s3, s4, master, redis1}: on the small side
    /// an operator forgets the three it cannot reach. The tables shrink, but none of
    /// those forgets can be confirmed (the peers that must confirm are across the
    /// cut), so the majority stays three of five: the small side never elects, never
    /// promotes redis2, and CKQUORUM says why; the big side keeps its master.
    /// After the partition heals nothing fails over twice.
    func testForgettingAcrossAPartitionNeverLetsTheMinorityElect() {
        for seed in seeds([121, 122, 123]) {
            let w = World(seed: seed, options: fiveSentinels())
            w.run(for: warmUp)
            w.partition([[.sentinel(0), .sentinel(1), .redis(2)]])
            for k in [2, 3, 4] { forget(w, on: 0, peer: k) }
            XCTAssertEqual(peers(w, 0).count, 1, "seed \(seed)")
            // s1 applied them too (it is on our side).
            XCTAssertTrue(w.run(timeout: 10_000, checkEvery: 100) { self.peers(w, 1).count == 1 },
                          "seed \(seed): \(peers(w, 1).map { ($0["runid"]?.prefix(8) ?? "", $0["flags"] ?? "") }) \(runID(w, 0).prefix(8))")
            XCTAssertEqual(ckquorum(w, 0),
                           "NOQUORUM 2 usable Sentinels. Not enough available Sentinels to reach the majority and authorize a failover",
                           "seed \(seed)")
            w.run(for: 30_000)
            let small = w.observations.elections.filter { $0.sentinel < 2 }
            XCTAssertEqual(small.count, 0, "seed \(seed): the minority elected \(small)")
            XCTAssertFalse(w.redis[2].isMaster, "seed \(seed): the minority promoted redis2")
            XCTAssertTrue(w.redis[0].isMaster, "seed \(seed)")
            XCTAssertEqual(w.observations.events(named: "+forget-confirmed").count, 0, "seed \(seed)")
            w.healPartition()
            w.run(for: 20_000)
            XCTAssertEqual(w.observations.promotions.count, 0, "seed \(seed)")
            assertSafe(w)
        }
    }

    /// A forgotten sentinel that comes back (restarted with its old disk) within the
    /// tombstone's life is not re-added from its hellos and gets no votes.
    func testForgottenSentinelComingBackIsNotReadded() {
        for seed in seeds([131, 132]) {
            let w = World(seed: seed, options: fiveSentinels())
            w.run(for: warmUp)
            let gone = runID(w, 4)
            w.crashSentinel(4)
            forget(w, on: 1, peer: 4, id: gone)
            XCTAssertTrue(w.run(timeout: 20_000, checkEvery: 100) {
                (0..<4).allSatisfy { w.observations.events(named: "+forget-confirmed", by: $0).count == 1 }
            }, "seed \(seed)")
            w.restartSentinel(4)
            w.run(for: 10_000)
            for j in 0..<4 {
                XCTAssertFalse(peerIDs(w, j).contains(gone), "seed \(seed): sentinel\(j) re-added it")
                XCTAssertEqual(w.observations.events(named: "+sentinel", by: j).filter { $0.time > w.now - 10_000 }.count, 0)
            }
            // Asked for a vote, a sentinel that forgot it answers without one.
            let reply = w.command(0, ["SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "6379", "1000", gone])
            XCTAssertEqual(reply?.elements?[1].string, "*", "seed \(seed)")
            assertSafe(w)
        }
    }

    /// Restarts every sentinel with `sentinel auto-forget-after mymaster <ms>`.
    func enableAutoForget(_ w: World, after ms: Millis) {
        for j in 0..<w.sentinels.count {
            w.crashSentinel(j)
            var disk = w.sentinels[j].disk
            disk.masters[0].forgetting.autoForgetAfter = ms
            w.replaceDisk(of: j, with: disk)
            w.restartSentinel(j)
        }
    }

    /// Automatic mode: sentinels die one at a time; each is forgotten by every other
    /// sentinel on its own and confirmed, and the last two fail over.
    func testAutoForgetShrinksTheGroupOneDeadPeerAtATime() {
        for seed in seeds([141, 142]) {
            let w = World(seed: seed, options: fiveSentinels())
            w.run(for: 100)
            enableAutoForget(w, after: 5_000)
            w.run(for: warmUp)
            for k in [4, 3] {
                let gone = runID(w, k)
                w.crashSentinel(k)
                XCTAssertTrue(w.run(timeout: 30_000, checkEvery: 100) {
                    (0..<k).allSatisfy { j in
                        !self.peerIDs(w, j).contains(gone)
                            && w.observations.events(named: "+forget-confirmed", by: j).count >= 5 - k
                    }
                }, "seed \(seed): sentinel\(k) not forgotten everywhere: \((0..<k).map { peers(w, $0).count })")
            }
            for j in 0..<3 { XCTAssertEqual(peers(w, j).count, 2, "seed \(seed)") }
            w.crashSentinel(2)
            w.killRedis(0)
            XCTAssertTrue(w.run(timeout: 40_000, checkEvery: 250) {
                w.observations.events(named: "+failover-end").count == 1
            }, "seed \(seed): the last two did not fail over\n\(w.observations.trace.joined(separator: "\n"))")
            assertSafe(w)
        }
    }

    /// Automatic mode across a long partition {s0, s1, redis2} | the rest: a side that
    /// sees more than one peer down forgets nobody, so the small side never shrinks its
    /// majority and never elects; after the heal nothing fails over.
    func testAutoForgetAcrossAPartitionForgetsNobody() {
        for seed in seeds([151, 152]) {
            let w = World(seed: seed, options: fiveSentinels())
            w.run(for: 100)
            enableAutoForget(w, after: 3_000)
            w.run(for: warmUp)
            w.partition([[.sentinel(0), .sentinel(1), .redis(2)]])
            w.run(for: 40_000)
            XCTAssertEqual(w.observations.events(named: "+forget-sentinel").count, 0, "seed \(seed)")
            XCTAssertEqual(w.observations.elections.filter { $0.sentinel < 2 }.count, 0, "seed \(seed)")
            XCTAssertFalse(w.redis[2].isMaster, "seed \(seed)")
            w.healPartition()
            w.run(for: 20_000)
            XCTAssertEqual(w.observations.promotions.count, 0, "seed \(seed)")
            for j in 0..<5 { XCTAssertEqual(peers(w, j).count, 4, "seed \(seed): \(w.observations.events.filter { $0.event.name.contains("forget") || $0.event.name.contains("sentinel") || $0.event.name.contains("sdown") }.suffix(30))") }
            assertSafe(w)
        }
    }

    /// A small sweep of forgetting under faults: five sentinels, random partitions,
    /// sentinel crashes and restarts, master kills, and FORGET-SENTINEL of a peer
    /// that is down, issued on random sentinels (so forgets race partitions and each
    /// other). Safety (one vote per voter and epoch, one leader per epoch) must hold
    /// throughout. `WARDEN_FORGET_SWEEP=<n>` runs n seeds (default 12).
    func testForgetSweepUnderFaults() {
        let count = ProcessInfo.processInfo.environment["WARDEN_FORGET_SWEEP"].flatMap { UInt64($0) } ?? 12
        var applied = 0
        var confirmed = 0
        var elections = 0
        for seed in seeds(Array(1_000..<(1_000 + count))) {
            var g = SplitMix64(seed: seed ^ 0xF0F0)
            func draw(_ n: Int) -> Int { Int(g.next() % UInt64(n)) }
            var o = fiveSentinels(replicas: 2)
            o.quorum = 1 + draw(3)
            o.failoverTimeout = 3_000 + Millis(draw(4_000))
            let w = World(seed: seed, options: o)
            w.run(for: warmUp)
            for _ in 0..<(6 + draw(6)) {
                switch draw(6) {
                case 0:
                    var groups: [[NodeID]] = [[], []]
                    for j in 0..<5 { groups[draw(2)].append(.sentinel(j)) }
                    for r in 0..<3 { groups[draw(2)].append(.redis(r)) }
                    w.partition(groups)
                case 1:
                    w.healPartition()
                case 2:
                    let j = draw(5)
                    if w.sentinels[j].isRunning { w.crashSentinel(j) } else { w.restartSentinel(j) }
                case 3:
                    if let m = w.currentMaster, draw(3) == 0 { w.killRedis(m.index) }
                default:
                    // On some running sentinel, forget every peer that is down there
                    // (an operator "cleaning up" one side of a partition).
                    let j = draw(5)
                    guard w.sentinels[j].isRunning else { break }
                    let down = peers(w, j).filter { ($0["flags"] ?? "").contains("s_down") }.compactMap { $0["runid"] }
                    for id in down where w.command(j, ["SENTINEL", "FORGET-SENTINEL", "mymaster", id]) == .ok {
                        applied += 1
                    }
                }
                w.run(for: 1_000 + Millis(draw(5_000)))
            }
            w.healPartition()
            for j in 0..<5 { w.restartSentinel(j) }
            w.run(for: 30_000)
            confirmed += w.observations.events(named: "+forget-confirmed").count
            elections += w.observations.elections.count
            XCTAssertEqual(w.observations.violations, [],
                           "seed \(seed)\n\(w.observations.trace.joined(separator: "\n"))")
        }
        print("forget sweep: \(count) seeds, \(applied) forgets applied, \(confirmed) confirmations, \(elections) elections")
        XCTAssertGreaterThan(applied, 0, "the sweep never forgot anyone")
    }
}
