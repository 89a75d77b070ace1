import Foundation
import SentinelCore
import Simulation
import XCTest

/// Randomized runs with random faults, checking the safety invariants and
/// convergence (see ChaosRun and Invariants.swift). Each failure prints its seed
/// and trace. The seeds are spread over the cores.
///
/// - `WARDEN_SIM_SEED=<seed>` replays one seed (and prints its trace; or run
///   `warden-sim --seed <seed>`);
/// - `WARDEN_SIM_SEEDS=<n>` sweeps n seeds (default 1000);
/// - `WARDEN_SIM_FIRST_SEED=<seed>` starts the sweep elsewhere (default 1).
final class ChaosSweepTests: XCTestCase {
    func testRandomFaultSweep() {
        let env = ProcessInfo.processInfo.environment
        if let one = env["WARDEN_SIM_SEED"].flatMap({ UInt64($0) }) {
            let r = ChaosRun.run(seed: one)
            print(r.report)
            XCTAssertTrue(r.passed, r.report)
            return
        }
        let count = max(1, env["WARDEN_SIM_SEEDS"].flatMap { UInt64($0) } ?? 1000)
        let first = env["WARDEN_SIM_FIRST_SEED"].flatMap { UInt64($0) } ?? 1
        let summary = Sweep.run(first...(first + count - 1), jobs: ProcessInfo.processInfo.activeProcessorCount) { r, _ in
            if !r.passed { print(r.report) }
        }
        print("chaos sweep: \(count) seeds from \(first), \(summary.promotions) promotions, \(String(format: "%.1f", summary.seconds)) s on \(summary.jobs) thread(s) (\(String(format: "%.1f", summary.seedsPerSecond)) seeds/s), failing seeds: \(summary.failed)")
        XCTAssertEqual(summary.runs, Int(count))
        XCTAssertEqual(summary.failed, [], "failing seeds (replay with warden-sim --seed <seed>)")
        // The sweep has to exercise failovers, not only quiet runs.
        XCTAssertGreaterThan(summary.promotions, Int(count) / 4)
    }

    /// One seed, one run: everything observed is identical when run again.
    func testSameSeedSameRun() {
        for seed: UInt64 in [7, 8] {
            let a = ChaosRun.run(seed: seed), b = ChaosRun.run(seed: seed)
            XCTAssertEqual(a.trace, b.trace)
            XCTAssertEqual(a.duration, b.duration)

            let w1 = World(seed: seed), w2 = World(seed: seed)
            for w in [w1, w2] {
                w.run(for: 5_000)
                w.killRedis(0)
                w.run(for: 10_000)
            }
            XCTAssertEqual(w1.observations.events.map(\.description), w2.observations.events.map(\.description))
            XCTAssertFalse(w1.observations.events.isEmpty)
        }
        XCTAssertNotEqual(ChaosRun.run(seed: 7).trace, ChaosRun.run(seed: 8).trace)
    }

    /// The checkers catch what they are meant to: a sentinel restarted from a
    /// disk that lost its vote votes again, and that is reported.
    func testDoubleVoteIsDetected() {
        let w = World(seed: 3)
        w.run(for: 5_000)
        let candidates = (0..<2).map { w.sentinels[$0].core!.myID }
        func ask(_ candidate: String) {
            w.command(2, ["SENTINEL", "is-master-down-by-addr", "127.0.0.1", "6379", "4", candidate])
        }
        ask(candidates[0])
        XCTAssertEqual(w.observations.violations, [])
        // Restart sentinel 2 from a disk from before the vote.
        var lostDisk = w.sentinels[2].disk
        lostDisk.currentEpoch = 0
        lostDisk.masters[0].leaderEpoch = 0
        w.crashSentinel(2)
        w.replaceDisk(of: 2, with: lostDisk)
        w.restartSentinel(2)
        ask(candidates[1])
        // (The second vote is seen twice, in its reply and in +vote-for-leader.)
        XCTAssertEqual(Set(w.observations.violations).count, 3, "\(w.observations.violations)")
        XCTAssertTrue(w.observations.violations.contains { $0.contains("voted twice in epoch 4") })
        XCTAssertTrue(w.observations.violations.contains { $0.contains("saved current epoch went back from 4 to 0") })
        XCTAssertTrue(w.observations.violations.contains { $0.contains("restarted with leader-epoch 0") })
    }
}
