import RESP
import XCTest

@testable import SentinelCore

/// SENTINEL FORGET-SENTINEL / FORGET-REPLICA on one core: checks, tombstones,
/// confirmation, the majority, hellos and votes of a forgotten peer, expiry.
final class ForgetTests: XCTestCase {
    static let peerA = String(repeating: "a", count: 40)
    static let peerB = String(repeating: "b", count: 40)
    static let peerC = String(repeating: "c", count: 40)

    /// A core that knows peers A, B and C (never reached, so s_down after down-after).
    func rig(peers: [String] = [peerA, peerB, peerC]) -> CoreRig {
        CoreRig { c in
            c.masters[0].knownSentinels = peers.enumerated().map { i, id in
                KnownSentinel(address: Address("127.0.0.1", 26380 + i), runID: id)
            }
        }
    }

    func events(_ effects: [Effect], _ name: String) -> [Event] {
        effects.compactMap { if case .event(let e) = $0, e.name == name { return e } else { return nil } }
    }

    func hello(from runID: String, port: Int) -> Input {
        .hello("127.0.0.1,\(port),\(runID),0,mymaster,127.0.0.1,6379,0")
    }

    func testChecks() {
        let r = rig()
        XCTAssertEqual(r.command("SENTINEL", "FORGET-SENTINEL", "mymaster").reply,
                       .error("ERR wrong number of arguments for 'sentinel|forget-sentinel' command"))
        XCTAssertEqual(r.command("SENTINEL", "FORGET-SENTINEL", "mymaster", Self.peerA, Self.peerB, "x").reply,
                       .error("ERR wrong number of arguments for 'sentinel|forget-sentinel' command"))
        XCTAssertEqual(r.command("SENTINEL", "FORGET-SENTINEL", "nosuch", Self.peerA).reply,
                       .error("ERR No such master with that name"))
        XCTAssertEqual(r.command("SENTINEL", "FORGET-SENTINEL", "mymaster", "abc").reply, .error("ERR Invalid run id"))
        XCTAssertEqual(r.command("SENTINEL", "FORGET-SENTINEL", "mymaster", CoreRig.myID).reply,
                       .error("ERR A sentinel cannot forget itself"))
        XCTAssertEqual(r.command("SENTINEL", "FORGET-SENTINEL", "mymaster", String(repeating: "d", count: 40)).reply,
                       .error("ERR No such sentinel for this master"))
        // Not down yet: refused.
        guard case .error(let busy) = r.command("SENTINEL", "FORGET-SENTINEL", "mymaster", Self.peerA).reply else {
            return XCTFail()
        }
        XCTAssertTrue(busy.hasPrefix("BUSY Sentinel \(Self.peerA) is reachable"), busy)
        XCTAssertEqual(r.command("SENTINEL", "FORGET-REPLICA", "mymaster", "127.0.0.1", "6390").reply,
                       .error("ERR No such replica for this master"))
        XCTAssertEqual(r.command("SENTINEL", "FORGET-REPLICA", "mymaster", "127.0.0.1", "0").reply,
                       .error("ERR Invalid replica address"))
        XCTAssertEqual(r.command("SENTINEL", "FORGET-REPLICA", "mymaster", "not an ip", "6390").reply,
                       .error("ERR Invalid replica address"))
    }

    func testForgetIsCountedUntilEveryPeerConfirms() {
        let r = rig()
        r.tick(until: r.now + 6_000)
        XCTAssertEqual(r.command("SENTINEL", "CKQUORUM", "mymaster").reply,
                       .error("NOQUORUM 1 usable Sentinels. Not enough available Sentinels to reach the specified quorum for this master. Not enough available Sentinels to reach the majority and authorize a failover"))
        let (reply, effects) = r.command("SENTINEL", "FORGET-SENTINEL", "mymaster", Self.peerA)
        XCTAssertEqual(reply, .ok)
        XCTAssertEqual(events(effects, "+forget-sentinel").map(\.payload),
                       ["sentinel \(Self.peerA) 127.0.0.1 26380 @ mymaster 127.0.0.1 6379"])
        XCTAssertEqual(r.sentinel.master(named: "mymaster")!.sentinels.count, 2)
        // Not confirmed: the majority is still counted over four.
        XCTAssertEqual(r.sentinel.electorate(r.sentinel.master(named: "mymaster")!), 4)
        let saved = r.driver.saved.last!.masters[0]
        XCTAssertEqual(saved.knownSentinels.map(\.runID), [Self.peerB, Self.peerC])
        XCTAssertEqual(saved.forgetting.sentinels,
                       [ForgottenSentinel(runID: Self.peerA, address: Address("127.0.0.1", 26380),
                                          awaiting: [Self.peerB, Self.peerC], until: 0)])
        // Again: OK, nothing new.
        XCTAssertEqual(r.command("SENTINEL", "FORGET-SENTINEL", "mymaster", Self.peerA).reply, .ok)
        // B tells us it applied it; then C.
        XCTAssertEqual(r.command("SENTINEL", "FORGET-SENTINEL", "mymaster", Self.peerA, Self.peerB).reply, .ok)
        XCTAssertEqual(r.sentinel.electorate(r.sentinel.master(named: "mymaster")!), 4)
        let last = r.command("SENTINEL", "FORGET-SENTINEL", "mymaster", Self.peerA, Self.peerC)
        XCTAssertEqual(last.reply, .ok)
        XCTAssertEqual(events(last.effects, "+forget-confirmed").count, 1)
        XCTAssertEqual(r.sentinel.electorate(r.sentinel.master(named: "mymaster")!), 3)
        XCTAssertEqual(r.driver.saved.last!.masters[0].forgetting.sentinels[0].until,
                       r.now + ForgetSettings.sentinelTombstoneLifetime)
    }

    func testConfirmationsAreInOrder() {
        let r = rig()
        r.tick(until: r.now + 6_000)
        XCTAssertEqual(r.command("SENTINEL", "FORGET-SENTINEL", "mymaster", Self.peerA).reply, .ok)
        XCTAssertEqual(r.command("SENTINEL", "FORGET-SENTINEL", "mymaster", Self.peerB).reply, .ok)
        let m = r.sentinel.master(named: "mymaster")!
        XCTAssertEqual(r.sentinel.electorate(m), 4)
        // The second forget awaits only C, the first awaits B (forgotten since) and C.
        XCTAssertEqual(r.command("SENTINEL", "FORGET-SENTINEL", "mymaster", Self.peerB, Self.peerC).reply, .ok)
        XCTAssertEqual(r.command("SENTINEL", "FORGET-SENTINEL", "mymaster", Self.peerA, Self.peerC).reply, .ok)
        // A's forget still waits for B, which never comes: neither counts as confirmed.
        XCTAssertEqual(r.sentinel.electorate(m), 4)
        // The last other sentinel cannot be forgotten.
        XCTAssertEqual(r.command("SENTINEL", "FORGET-SENTINEL", "mymaster", Self.peerC).reply,
                       .error("ERR Cannot forget the last other sentinel of this master"))
    }

    func testForgottenSentinelIsNotReaddedAndGetsNoVote() {
        let r = rig()
        r.tick(until: r.now + 6_000)
        XCTAssertEqual(r.command("SENTINEL", "FORGET-SENTINEL", "mymaster", Self.peerA).reply, .ok)
        let effects = r.feed(hello(from: Self.peerA, port: 26380))
        XCTAssertEqual(events(effects, "+sentinel").count, 0)
        XCTAssertEqual(r.sentinel.master(named: "mymaster")!.sentinels.count, 2)
        let vote = r.command("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "6379", "5", Self.peerA).reply
        XCTAssertEqual(vote, .array([.integer(1), .bulk("*"), .integer(0)]))
        // Another candidate still gets our vote.
        let other = r.command("SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", "6379", "5", Self.peerB).reply
        XCTAssertEqual(other.elements?[1], .bulk(Self.peerB))
        // Confirmed, then expired: a hello brings it back.
        XCTAssertEqual(r.command("SENTINEL", "FORGET-SENTINEL", "mymaster", Self.peerA, Self.peerB).reply, .ok)
        XCTAssertEqual(r.command("SENTINEL", "FORGET-SENTINEL", "mymaster", Self.peerA, Self.peerC).reply, .ok)
        r.tick(until: r.now + ForgetSettings.sentinelTombstoneLifetime + 1_000, step: 1_000)
        XCTAssertEqual(r.sentinel.master(named: "mymaster")!.settings.forgetting.sentinels, [])
        XCTAssertEqual(events(r.feed(hello(from: Self.peerA, port: 26380)), "+sentinel").count, 1)
    }

    func testResetClearsTombstones() {
        let r = rig()
        r.tick(until: r.now + 6_000)
        XCTAssertEqual(r.command("SENTINEL", "FORGET-SENTINEL", "mymaster", Self.peerA).reply, .ok)
        XCTAssertEqual(r.command("SENTINEL", "RESET", "mymaster").reply, .integer(1))
        XCTAssertEqual(r.driver.saved.last!.masters[0].forgetting, ForgetSettings())
    }

    func testAutomaticForgetOnlyWhenOnePeerIsDown() {
        let r = CoreRig { c in
            c.masters[0].knownSentinels = [Self.peerA, Self.peerB, Self.peerC].enumerated().map { i, id in
                KnownSentinel(address: Address("127.0.0.1", 26380 + i), runID: id)
            }
            c.masters[0].forgetting.autoForgetAfter = 20_000
        }
        // All three down (as when this sentinel is the one cut off): nobody is forgotten.
        let effects = r.tick(until: r.now + 60_000, step: 500)
        XCTAssertEqual(events(effects, "+forget-sentinel").count, 0)
        XCTAssertEqual(r.sentinel.master(named: "mymaster")!.sentinels.count, 3)
    }

    func testSetAutoForgetAfter() {
        let r = rig()
        XCTAssertEqual(r.command("SENTINEL", "SET", "mymaster", "auto-forget-after", "60000").reply, .ok)
        XCTAssertEqual(r.driver.saved.last!.masters[0].forgetting.autoForgetAfter, 60_000)
        XCTAssertEqual(r.command("SENTINEL", "SET", "mymaster", "auto-forget-after", "10").reply,
                       .error("ERR Invalid argument '10' for SENTINEL SET 'auto-forget-after'"))
        XCTAssertEqual(r.command("SENTINEL", "SET", "mymaster", "auto-forget-after", "0").reply, .ok)
        XCTAssertEqual(r.driver.saved.last!.masters[0].forgetting.autoForgetAfter, 0)
    }
}
