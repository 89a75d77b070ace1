import RESP
import SentinelCore
import Simulation
import XCTest

/// Disks that fail or hang, in the simulated world: a vote is handed out only
/// once it is saved, and a restart, from the last successful save only, never
/// votes twice in one epoch. The world's checkers (Invariants.swift) watch too.
final class DiskFaultTests: XCTestCase {
    let warmUp: Millis = 5_000

    func askVote(_ w: World, _ voter: Int, epoch: UInt64, for candidate: Int) -> RESPValue? {
        let id = w.sentinels[candidate].core!.myID
        return w.command(voter, ["SENTINEL", "is-master-down-by-addr", "127.0.0.1", "6379", String(epoch), id])
    }

    func testFailedSaveHandsOutNoVote() {
        let w = World(seed: 81)
        w.run(for: warmUp)
        w.failSaves(sentinel: 2, until: w.now + 5_000)
        let reply = askVote(w, 2, epoch: 4, for: 0)
        XCTAssertEqual(reply?.elements?[1], .bulk("*"), "a vote whose save failed was handed out: \(String(describing: reply))")
        XCTAssertEqual(w.sentinels[2].disk.masters[0].leaderEpoch, 0)
        XCTAssertTrue(w.observations.votes.filter { $0.voter == 2 }.isEmpty)
        XCTAssertTrue(w.observations.events(named: "+vote-for-leader", by: 2).isEmpty)

        // The disk works again: the vote (for whoever asks first now) is saved, then handed out.
        w.run(for: 5_000)
        XCTAssertEqual(askVote(w, 2, epoch: 4, for: 1)?.elements?[1], .bulk(w.sentinels[1].core!.myID))
        XCTAssertEqual(w.sentinels[2].disk.masters[0].leaderEpoch, 4)
        XCTAssertEqual(askVote(w, 2, epoch: 4, for: 0)?.elements?[1], .bulk(w.sentinels[1].core!.myID))
        XCTAssertEqual(w.observations.violations, [])
    }

    func testSaveHungUntilCrashThenRestartVotesOnce() {
        let w = World(seed: 82)
        w.run(for: warmUp)
        w.hangSavesUntilCrash(sentinel: 2)
        XCTAssertNil(askVote(w, 2, epoch: 6, for: 0), "the vote's save never completes: no reply")
        XCTAssertNil(askVote(w, 2, epoch: 6, for: 0))
        // The process is killed and restarts from the disk it had: the vote never existed.
        w.repairDisk(sentinel: 2)
        XCTAssertEqual(w.sentinels[2].restarts, 1)
        XCTAssertEqual(w.sentinels[2].disk.masters[0].leaderEpoch, 0)
        w.run(for: 1_000)
        let ids = (0..<2).map { w.sentinels[$0].core!.myID }
        XCTAssertEqual(askVote(w, 2, epoch: 6, for: 1)?.elements?[1], .bulk(ids[1]))
        // Crashed and restarted again, from the save that holds the vote: no second vote.
        w.crashSentinel(2)
        w.restartSentinel(2)
        w.run(for: 1_000)
        let again = askVote(w, 2, epoch: 6, for: 0)
        XCTAssertNotEqual(again?.elements?[1], .bulk(ids[0]), "voted twice in epoch 6")
        XCTAssertEqual(again?.elements?[2], .integer(6))
        XCTAssertEqual(w.observations.votes.filter { $0.voter == 2 }.map(\.candidate), [ids[1]])
        XCTAssertEqual(w.observations.violations, [])
    }

    /// The checkers catch a vote handed out before it is on disk: here a disk
    /// replaced by an older one after the vote, as a lost write would do.
    func testVoteAheadOfDiskIsDetected() {
        let w = World(seed: 83)
        w.run(for: warmUp)
        XCTAssertEqual(askVote(w, 2, epoch: 4, for: 0)?.elements?[2], .integer(4))
        w.crashSentinel(2)
        var lost = w.sentinels[2].disk
        lost.masters[0].leaderEpoch = 0
        w.replaceDisk(of: 2, with: lost)
        w.restartSentinel(2)
        XCTAssertTrue(w.observations.violations.contains { $0.contains("restarted with leader-epoch 0 for mymaster, behind the vote it revealed in epoch 4") },
                      "\(w.observations.violations)")
    }
}
