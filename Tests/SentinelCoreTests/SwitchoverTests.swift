import XCTest
import RESP
@testable import Configuration
@testable import SentinelCore

/// The coordinated switchover (SENTINEL FAILOVER <name> COORDINATED) and the lag guard
/// (max-promotion-lag), driven through the core's inputs with FailoverRig's fake
/// instances and peers.
final class SwitchoverTests: XCTestCase {
    let m = FailoverRig.masterAddress
    let r0 = FailoverRig.replicaAddress(0)
    let r1 = FailoverRig.replicaAddress(1)
    static let masterRunID = String(repeating: "0", count: 40)

    // MARK: - Fakes

    /// A master's INFO with `master_failover_state`.
    static func masterInfo(state: String, replicas: [Address], offset: Int64 = 1000) -> String {
        FailoverRig.masterInfo(runID: masterRunID, replicas: replicas, offset: offset)
            + "master_failover_state:\(state)\r\n"
    }

    /// The old master once it handed over: a replica of `to`.
    static func demotedInfo(to: Address) -> String {
        FailoverRig.replicaInfo(runID: masterRunID, master: to) + "master_failover_state:no-failover\r\n"
    }

    /// A rig whose peers vote but do not see the master down, warmed up.
    func makeRig(replicas: Int = 2, configure: (inout MasterConfig) -> Void = { _ in }) -> FailoverRig {
        let rig = FailoverRig(replicas: replicas, configure: configure)
        for p in rig.peers.values { p.seesDown = false }
        rig.warmUp()
        return rig
    }

    /// The master accepts FAILOVER in a transaction (MULTI/FAILOVER/EXEC answered
    /// `[OK]`) and reports `waiting-for-sync` from then on; `answer` replaces that.
    func acceptFailover(_ rig: FailoverRig, answer: RESPValue? = nil) {
        let replicas = (0..<rig.master.replicas.count).map(FailoverRig.replicaAddress)
        rig.onExec = { [m] node, commands in
            guard node == m, commands.contains(where: { $0.first == "FAILOVER" }) else { return nil }
            if let answer { return answer }
            rig.nodes[m]?.info = Self.masterInfo(state: "waiting-for-sync", replicas: replicas)
            return .array([.ok])
        }
    }

    /// The hand-over completes: the old master follows `to`, which reports role:master.
    func completeHandOver(_ rig: FailoverRig, to target: Address) {
        rig.nodes[m]?.info = Self.demotedInfo(to: target)
        rig.nodes[target]?.info = FailoverRig.masterInfo(
            runID: String(repeating: "\(target.port - 6379)", count: 40), replicas: [m])
    }

    func coordinated(_ rig: FailoverRig, _ extra: String...) -> RESPValue {
        rig.command(["SENTINEL", "FAILOVER", "mymaster", "COORDINATED"] + extra).reply
    }

    func failoverCommands(_ rig: FailoverRig) -> [[String]] {
        rig.commands(to: m).filter { $0.first == "FAILOVER" }
    }

    // MARK: - The request

    func testTheLeaderIsElectedThenSendsTheFailoverTransactionToTheMaster() {
        let rig = makeRig()
        acceptFailover(rig)
        rig.forgetHistory()
        XCTAssertEqual(coordinated(rig), .ok)
        XCTAssertTrue(rig.master.flags.contains(.failoverInProgress))
        XCTAssertFalse(rig.master.flags.contains(.forceFailover), "a switchover is elected, never forced")
        // Votes are asked for with the master up (it is not SDOWN).
        XCTAssertFalse(rig.master.flags.contains(.sDown))
        let voteRequests = rig.sent.filter { $0.args.first == "SENTINEL" && $0.args.last == FailoverRig.myID }
        XCTAssertEqual(voteRequests.count, 2, "one vote request per peer")
        rig.advance(until: { rig.master.failoverState == .waitPromotion }, limit: 2_000)
        XCTAssertEqual(rig.eventNames(from: "+new-epoch").prefix(6), [
            "+new-epoch", "+try-failover", "+vote-for-leader", "+elected-leader",
            "+failover-state-select-slave", "+selected-slave",
        ])
        // MULTI, FAILOVER TO <replica> TIMEOUT <switchover-timeout>, EXEC, in that order.
        let toMaster = rig.commands(to: m)
        guard let multi = toMaster.lastIndex(where: { $0 == ["MULTI"] }) else { return XCTFail("no MULTI") }
        XCTAssertEqual(Array(toMaster[multi...].prefix(3)), [
            ["MULTI"], ["FAILOVER", "TO", "127.0.0.1", "6380", "TIMEOUT", "5000"], ["EXEC"],
        ])
        // Never SLAVEOF NO ONE: the master hands over itself.
        XCTAssertFalse(rig.sent.contains { $0.args.first == "SLAVEOF" && $0.args.dropFirst().first == "NO" })
        XCTAssertTrue(rig.master.switchover?.phase == .following)
        XCTAssertEqual(rig.events(named: "+switchover-accepted").count, 1)
        XCTAssertEqual(rig.master.failoverState.redisName, "wait_promotion")
    }

    func testSuccessSwitchesMasterWithTheNewConfigEpochAndLeavesTheOldMasterAReplica() {
        let rig = makeRig()
        rig.applyReplicaOf()
        acceptFailover(rig)
        XCTAssertEqual(coordinated(rig), .ok)
        rig.advance(until: { rig.master.switchover?.phase == .following }, limit: 2_000)
        rig.advance(500)
        XCTAssertTrue(rig.master.flags.contains(.failoverInProgress), "waiting-for-sync goes on")
        XCTAssertTrue(rig.events(named: "-failover-abort-switchover-failed").isEmpty)
        let epoch = rig.master.failoverEpoch
        completeHandOver(rig, to: r0)
        XCTAssertTrue(rig.advance(until: { !rig.events(named: "+switch-master").isEmpty }, limit: 15_000))
        XCTAssertEqual(rig.events(named: "+promoted-slave").first?.payload.hasPrefix("slave 127.0.0.1:6380"), true)
        XCTAssertEqual(rig.events(named: "+switch-master").first?.payload, "mymaster 127.0.0.1 6379 127.0.0.1 6380")
        XCTAssertEqual(rig.master.address, r0)
        XCTAssertEqual(rig.master.configEpoch, epoch)
        XCTAssertNil(rig.master.switchover)
        // The old master is a replica of the new one now, its config rewritten and its
        // clients told to reconnect; the new one has its config rewritten.
        XCTAssertNotNil(rig.sentinel.lookupReplica(rig.master, m))
        let old = rig.commands(to: m)
        guard let last = old.lastIndex(where: { $0 == ["MULTI"] }) else { return XCTFail() }
        XCTAssertEqual(Array(old[last...].prefix(5)), [
            ["MULTI"], ["CONFIG", "REWRITE"], ["CLIENT", "KILL", "TYPE", "normal"],
            ["CLIENT", "KILL", "TYPE", "pubsub"], ["EXEC"],
        ])
        XCTAssertTrue(rig.commands(to: r0).contains(["CONFIG", "REWRITE"]))
        // The other replica was re-pointed as in any failover.
        XCTAssertTrue(rig.commands(to: r1).contains(["SLAVEOF", "127.0.0.1", "6380"]))
        XCTAssertTrue(failoverCommands(rig).allSatisfy { $0[1] == "TO" }, "no FAILOVER ABORT on success")
    }

    // MARK: - Aborts

    func testFailoverRefusedInsideTheTransaction() {
        let rig = makeRig()
        acceptFailover(rig, answer: .array([.error("ERR FAILOVER target HOST and PORT is not a replica.")]))
        XCTAssertEqual(coordinated(rig), .ok)
        XCTAssertTrue(rig.advance(until: { !rig.master.flags.contains(.failoverInProgress) }, limit: 2_000))
        XCTAssertEqual(rig.events(named: "-failover-abort-switchover-refused").count, 1)
        XCTAssertEqual(rig.events(named: "-failover-abort-switchover-refused").first?.payload, "master mymaster 127.0.0.1 6379")
        XCTAssertNil(rig.master.switchover)
        XCTAssertEqual(rig.master.address, m, "the master keeps its role")
        XCTAssertFalse(failoverCommands(rig).contains(["FAILOVER", "ABORT"]), "nothing was started")
        XCTAssertTrue(rig.events(named: "+promoted-slave").isEmpty)
        // A refused switchover does not hold back the next one.
        acceptFailover(rig)
        XCTAssertEqual(coordinated(rig), .ok)
    }

    func testExecErrorIsRefusedAndAbortsWhateverMayHaveStarted() {
        let rig = makeRig()
        acceptFailover(rig, answer: .error("EXECABORT Transaction discarded because of previous errors."))
        XCTAssertEqual(coordinated(rig), .ok)
        XCTAssertTrue(rig.advance(until: { !rig.master.flags.contains(.failoverInProgress) }, limit: 2_000))
        XCTAssertEqual(rig.events(named: "-failover-abort-switchover-refused").count, 1)
        XCTAssertTrue(failoverCommands(rig).contains(["FAILOVER", "ABORT"]))
    }

    func testMasterThatGivesUpIsFailed() {
        let rig = makeRig()
        // FAILOVER accepted, but the next INFO shows the master back to no-failover
        // (the replica never caught up within TIMEOUT).
        acceptFailover(rig)
        XCTAssertEqual(coordinated(rig), .ok)
        rig.advance(until: { rig.master.switchover?.phase == .following }, limit: 2_000)
        rig.nodes[m]?.info = Self.masterInfo(state: "no-failover", replicas: [r0, r1])
        XCTAssertTrue(rig.advance(until: { !rig.master.flags.contains(.failoverInProgress) }, limit: 2_000))
        XCTAssertEqual(rig.events(named: "-failover-abort-switchover-failed").count, 1)
        XCTAssertFalse(failoverCommands(rig).contains(["FAILOVER", "ABORT"]))
        XCTAssertEqual(rig.master.address, m)
        XCTAssertFalse(rig.replica(0).flags.contains(.promoted))
    }

    func testNoPromotionWithinTheTimeoutSendsFailoverAbort() {
        let rig = makeRig { $0.switchoverTimeout = 3_000 }
        acceptFailover(rig)
        XCTAssertEqual(coordinated(rig), .ok)
        rig.advance(until: { rig.master.switchover?.phase == .following }, limit: 2_000)
        let requested = rig.master.switchover!.requestedAt
        XCTAssertEqual(failoverCommands(rig).first, ["FAILOVER", "TO", "127.0.0.1", "6380", "TIMEOUT", "3000"])
        // Still in progress at the timeout: the master's own TIMEOUT gets a grace second.
        rig.advance(until: { rig.now >= requested + 3_000 + Switchover.grace }, limit: 10_000)
        XCTAssertTrue(rig.master.flags.contains(.failoverInProgress))
        XCTAssertTrue(rig.advance(until: { !rig.master.flags.contains(.failoverInProgress) }, limit: 500))
        XCTAssertEqual(rig.events(named: "-failover-abort-switchover-timeout").count, 1)
        XCTAssertEqual(failoverCommands(rig).last, ["FAILOVER", "ABORT"])
        XCTAssertEqual(rig.master.address, m)
        XCTAssertLessThanOrEqual(rig.master.failoverNotBefore, rig.now, "an ordinary failover is not held back")
    }

    func testNotElectedAbortsAsAnyFailover() {
        let rig = makeRig()
        for p in rig.peers.values { p.votes = false }
        XCTAssertEqual(coordinated(rig), .ok)
        XCTAssertTrue(rig.advance(until: { !rig.master.flags.contains(.failoverInProgress) }, limit: 15_000))
        XCTAssertEqual(rig.events(named: "-failover-abort-not-elected").count, 1)
        XCTAssertNil(rig.master.switchover)
        XCTAssertTrue(failoverCommands(rig).isEmpty)
    }

    // MARK: - Refusals

    func testRefusedWhenTheMasterIsDown() {
        let rig = makeRig()
        rig.silenceMaster()
        rig.advance(until: { rig.master.flags.contains(.sDown) }, limit: 3_000)
        // Keep it from failing over on its own: the peers do not agree.
        guard case .error(let text) = coordinated(rig) else { return XCTFail("accepted with the master down") }
        XCTAssertTrue(text.hasPrefix("NOGOODMASTER "), text)
        XCTAssertTrue(text.contains("without COORDINATED"), text)
        XCTAssertFalse(rig.master.flags.contains(.failoverInProgress))
        // The ordinary forced failover is what works then.
        XCTAssertEqual(rig.command(["SENTINEL", "FAILOVER", "mymaster"]).reply, .ok)
    }

    func testInProgressAndSyntax() {
        let rig = makeRig()
        acceptFailover(rig)
        for bad in [["nope"], ["COORDINATED", "TO", "127.0.0.1"], ["COORDINATED", "FORCE"], ["FORCE", "COORDINATED"],
                    ["COORDINATED", "TO", "127.0.0.1", "6380", "x"]] {
            guard case .error(let text) = rig.command(["SENTINEL", "FAILOVER", "mymaster"] + bad).reply else {
                return XCTFail("accepted \(bad)")
            }
            XCTAssertTrue(text.hasPrefix("ERR syntax error"), text)
        }
        XCTAssertEqual(coordinated(rig, "TO", "127.0.0.1", "99999"), .error("ERR Invalid port number."))
        XCTAssertEqual(coordinated(rig, "TO", "127.0.0.1", "x"), .error("ERR Invalid port number."))
        XCTAssertEqual(coordinated(rig, "TO", "not an ip", "6380"), .error("ERR No such replica not an ip:6380 of master 'mymaster'"))
        XCTAssertEqual(coordinated(rig, "TO", "a\r\nb", "6380"), .error("ERR No such replica a  b:6380 of master 'mymaster'"))
        XCTAssertEqual(rig.command(["SENTINEL", "FAILOVER", "nosuch", "COORDINATED"]).reply,
                       .error("ERR No such master with that name"))
        XCTAssertEqual(coordinated(rig), .ok)
        XCTAssertEqual(coordinated(rig), .error("INPROG Failover already in progress"))
        XCTAssertEqual(rig.command(["SENTINEL", "FAILOVER", "mymaster"]).reply, .error("INPROG Failover already in progress"))
    }

    func testTargetReplica() {
        let rig = makeRig(replicas: 3)
        acceptFailover(rig)
        XCTAssertEqual(coordinated(rig, "TO", "127.0.0.1", "7000"),
                       .error("ERR No such replica 127.0.0.1:7000 of master 'mymaster'"))
        rig.setReplica(2, priority: 0)
        rig.advance(10_100)
        guard case .error(let refused) = coordinated(rig, "TO", "127.0.0.1", "6382") else { return XCTFail() }
        XCTAssertTrue(refused.hasPrefix("NOGOODSLAVE "), refused)
        // 127.1 is 127.0.0.1, as Redis reads it; not the best replica, but the one asked for.
        XCTAssertEqual(coordinated(rig, "TO", "127.1", "6381"), .ok)
        rig.advance(until: { rig.master.failoverState == .waitPromotion }, limit: 2_000)
        XCTAssertEqual(failoverCommands(rig).first, ["FAILOVER", "TO", "127.0.0.1", "6381", "TIMEOUT", "5000"])
        XCTAssertEqual(rig.master.promotedReplica?.address, r1)
    }

    // MARK: - switchover-timeout

    func testHugeSwitchoverTimeoutNeitherTrapsNorReachesTheServerUnbounded() {
        let rig = makeRig()
        acceptFailover(rig)
        XCTAssertEqual(rig.command(["SENTINEL", "SET", "mymaster", "switchover-timeout", String(Int64.max)]).reply, .ok)
        XCTAssertEqual(rig.master.settings.switchoverTimeout, Int64.max)
        XCTAssertEqual(coordinated(rig), .ok)
        rig.advance(until: { rig.master.switchover?.phase == .following }, limit: 2_000)
        XCTAssertEqual(failoverCommands(rig).first, ["FAILOVER", "TO", "127.0.0.1", "6380", "TIMEOUT", String(Int32.max)])
        rig.advance(30_000, step: 1_000)
        XCTAssertTrue(rig.master.flags.contains(.failoverInProgress), "the deadline saturates, it does not wrap")
        // A clock far in the future does not trap either.
        rig.setClock(Int64.max - 10)
        rig.tick()
    }

    func testSwitchoverTimeoutAndLagSettings() {
        let rig = makeRig()
        func set(_ option: String, _ value: String) -> RESPValue {
            rig.command(["SENTINEL", "SET", "mymaster", option, value]).reply
        }
        for bad in ["0", "-1", "abc", "1.5", "99999999999999999999"] {
            XCTAssertEqual(set("switchover-timeout", bad),
                           .error("ERR Invalid argument '\(bad)' for SENTINEL SET 'switchover-timeout'"), bad)
        }
        for bad in ["-1", "x", "99999999999999999999"] {
            XCTAssertEqual(set("max-promotion-lag", bad),
                           .error("ERR Invalid argument '\(bad)' for SENTINEL SET 'max-promotion-lag'"), bad)
        }
        // Defaults: not in SENTINEL MASTER (its fields stay redis-sentinel's).
        let fields = { rig.sentinel.instanceFields(rig.master, now: rig.now).map(\.0) }
        XCTAssertFalse(fields().contains("switchover-timeout"))
        XCTAssertFalse(fields().contains("max-promotion-lag"))
        XCTAssertEqual(set("switchover-timeout", "7000"), .ok)
        XCTAssertEqual(set("max-promotion-lag", "1048576"), .ok)
        let shown = Dictionary(rig.sentinel.instanceFields(rig.master, now: rig.now), uniquingKeysWith: { a, _ in a })
        XCTAssertEqual(shown["switchover-timeout"], "7000")
        XCTAssertEqual(shown["max-promotion-lag"], "1048576")
        XCTAssertTrue(rig.events(named: "+set").contains { $0.payload.hasSuffix("switchover-timeout 7000") })
        // Saved with the rest of the master's settings.
        let saved = rig.saved.last?.masters.first
        XCTAssertEqual(saved?.switchoverTimeout, 7000)
        XCTAssertEqual(saved?.maxPromotionLag, 1_048_576)
        XCTAssertEqual(set("max-promotion-lag", "0"), .ok)
        XCTAssertFalse(fields().contains("max-promotion-lag"))
    }

    // MARK: - Directives

    func testDirectivesParseRewriteAndRefuseBadValues() throws {
        let monitor = "sentinel monitor m 127.0.0.1 6379 2\n"
        let config = try ConfigParser.parse(monitor + "sentinel switchover-timeout m 7000\nsentinel max-promotion-lag m 65536\n",
                                            file: "t.conf")
        XCTAssertEqual(config.masters[0].switchoverTimeout, 7000)
        XCTAssertEqual(config.masters[0].maxPromotionLag, 65536)
        let defaults = try ConfigParser.parse(monitor, file: "t.conf")
        XCTAssertEqual(defaults.masters[0].switchoverTimeout, 5000)
        XCTAssertEqual(defaults.masters[0].maxPromotionLag, 0)

        let rewritten = ConfigRewriter.rewrite(original: monitor, config: config)
        XCTAssertTrue(rewritten.contains("sentinel switchover-timeout m 7000\n"), rewritten)
        XCTAssertTrue(rewritten.contains("sentinel max-promotion-lag m 65536\n"), rewritten)
        XCTAssertEqual(try ConfigParser.parse(rewritten, file: "t.conf").masters, config.masters)
        XCTAssertEqual(ConfigRewriter.rewrite(original: rewritten, config: config), rewritten, "idempotent")
        // Back to the defaults: the lines go.
        let back = ConfigRewriter.rewrite(original: rewritten, config: defaults)
        XCTAssertFalse(back.contains("switchover-timeout"), back)
        XCTAssertFalse(back.contains("max-promotion-lag"), back)

        func refused(_ line: String, _ reason: String) {
            do {
                _ = try ConfigParser.parse(monitor + line, file: "t.conf")
                XCTFail("accepted: \(line)")
            } catch {
                XCTAssertEqual(error.line, 2, line)
                XCTAssertEqual(error.reason, reason, line)
            }
        }
        refused("sentinel switchover-timeout m 0", "negative or zero time parameter.")
        refused("sentinel switchover-timeout m -5", "negative or zero time parameter.")
        refused("sentinel switchover-timeout m soon",
                "Invalid switchover-timeout 'soon': a number of milliseconds is expected.")
        refused("sentinel switchover-timeout m 99999999999999999999",
                "Invalid switchover-timeout '99999999999999999999': a number of milliseconds is expected.")
        refused("sentinel max-promotion-lag m -1", "negative byte count.")
        refused("sentinel max-promotion-lag m 1k", "Invalid max-promotion-lag '1k': a number of bytes is expected.")
        refused("sentinel max-promotion-lag nosuch 1", "No such master with specified name.")
        refused("sentinel max-promotion-lag m", "Wrong number of arguments for 'sentinel max-promotion-lag': "
                + "expected 'sentinel max-promotion-lag <master-name> <bytes>'.")
    }

    // MARK: - The lag guard

    func testLagGuardPassesOverALaggingReplicaWhileACaughtUpOneExists() {
        let rig = FailoverRig(replicas: 2) { $0.maxPromotionLag = 100 }
        // Replica 0 is preferred (priority 10) but 500 bytes behind the master's 1000.
        rig.setReplica(0, offset: 500, priority: 10)
        rig.setReplica(1, offset: 1000, priority: 100)
        rig.warmUp()
        XCTAssertEqual(rig.master.lastMasterReplOffset, 1000)
        XCTAssertEqual(rig.sentinel.selectReplica(rig.master)?.address, r1)
        // Within the limit it is preferred again; with the guard off too.
        rig.master.settings.maxPromotionLag = 500
        XCTAssertEqual(rig.sentinel.selectReplica(rig.master)?.address, r0)
        rig.master.settings.maxPromotionLag = 0
        XCTAssertEqual(rig.sentinel.selectReplica(rig.master)?.address, r0)
        rig.master.settings.maxPromotionLag = 100
        // And in a real failover, the caught-up one is promoted.
        rig.silenceMaster()
        rig.advance(until: { rig.master.failoverState == .waitPromotion }, limit: 5_000)
        XCTAssertEqual(rig.master.promotedReplica?.address, r1)
        XCTAssertTrue(rig.events(named: "+failover-wait-lagging-slaves").isEmpty)
        XCTAssertTrue(rig.events(named: "+selected-lagging-slave").isEmpty)
    }

    func testLagIsMeasuredAgainstTheFurthestKnownOffset() {
        let rig = FailoverRig(replicas: 2) { $0.maxPromotionLag = 100 }
        rig.setReplica(0, offset: 5000, priority: 100)
        rig.setReplica(1, offset: 1000, priority: 10)
        rig.warmUp()
        // The master's last INFO said 1000, but replica 0 has 5000: replica 1 lags.
        XCTAssertEqual(rig.sentinel.selectReplica(rig.master)?.address, r0)
        // Without any master offset (never INFO'd), the replicas are the yardstick.
        rig.master.lastMasterReplOffset = nil
        XCTAssertEqual(rig.sentinel.selectReplica(rig.master)?.address, r0)
        // Offsets from INFO may be anything: no overflow.
        rig.replica(0).replicaReplOffset = Int64.max
        rig.replica(1).replicaReplOffset = Int64.min
        rig.master.lastMasterReplOffset = Int64.min
        XCTAssertEqual(rig.sentinel.selectReplica(rig.master)?.address, r0)
        XCTAssertEqual(Sentinel.promotionLag(rig.replica(1), Int64.max), Int64.max)
        XCTAssertEqual(Sentinel.promotionLag(rig.replica(0), Int64.min), 0)
    }

    func testNoReplicaWithinTheGuardWaitsThenAborts() {
        let rig = FailoverRig(replicas: 2) { $0.maxPromotionLag = 100 }
        rig.setReplica(0, offset: 200)
        rig.setReplica(1, offset: 300)
        rig.warmUp()
        XCTAssertNil(rig.sentinel.selectReplica(rig.master))
        // The plain SENTINEL FAILOVER refuses at once and names FORCE.
        guard case .error(let text) = rig.command(["SENTINEL", "FAILOVER", "mymaster"]).reply else { return XCTFail() }
        XCTAssertTrue(text.hasPrefix("NOGOODSLAVE ") && text.contains("FORCE"), text)
        rig.silenceMaster()
        XCTAssertTrue(rig.advance(until: { !rig.events(named: "+failover-wait-lagging-slaves").isEmpty }, limit: 5_000))
        XCTAssertEqual(rig.master.failoverState, .selectSlave)
        let waitingSince = rig.master.failoverStateChangeTime
        // Waits (saying so once) until failover-timeout (6 s in the rig), then aborts.
        rig.advance(until: { rig.now > waitingSince + 5_900 }, limit: 7_000)
        XCTAssertTrue(rig.master.flags.contains(.failoverInProgress))
        XCTAssertEqual(rig.events(named: "+failover-wait-lagging-slaves").count, 1)
        XCTAssertTrue(rig.advance(until: { !rig.events(named: "-failover-abort-lagging-slaves").isEmpty }, limit: 1_000))
        XCTAssertFalse(rig.master.flags.contains(.failoverInProgress))
        XCTAssertTrue(rig.events(named: "+selected-slave").isEmpty)
        XCTAssertTrue(rig.events(named: "-failover-abort-no-good-slave").isEmpty)
        XCTAssertFalse(rig.sent.contains { $0.args.first == "SLAVEOF" })
    }

    func testACaughtUpReplicaEndsTheWait() {
        let rig = FailoverRig(replicas: 2) { $0.maxPromotionLag = 100 }
        rig.setReplica(0, offset: 200)
        rig.setReplica(1, offset: 300)
        rig.warmUp()
        rig.silenceMaster()
        XCTAssertTrue(rig.advance(until: { !rig.events(named: "+failover-wait-lagging-slaves").isEmpty }, limit: 5_000))
        // Replica 1 gets the rest of the stream (its INFO is polled every second now).
        rig.setReplica(1, offset: 1000)
        XCTAssertTrue(rig.advance(until: { rig.master.failoverState == .waitPromotion }, limit: 3_000))
        XCTAssertEqual(rig.master.promotedReplica?.address, r1)
        XCTAssertTrue(rig.events(named: "+selected-lagging-slave").isEmpty)
    }

    func testForcePromotesALaggingReplicaAndSaysSo() {
        let rig = FailoverRig(replicas: 2) { $0.maxPromotionLag = 100 }
        rig.setReplica(0, offset: 200)
        rig.setReplica(1, offset: 300)
        rig.warmUp()
        XCTAssertEqual(rig.command(["SENTINEL", "FAILOVER", "mymaster", "force"]).reply, .ok)
        XCTAssertEqual(rig.events(named: "+selected-lagging-slave").count, 1)
        XCTAssertEqual(rig.events(named: "+selected-lagging-slave").first?.payload.hasPrefix("slave 127.0.0.1:6381"), true,
                       "the best of the lagging ones")
        XCTAssertEqual(rig.master.promotedReplica?.address, r1)
        // FORCE does not outlive its failover.
        rig.applyReplicaOf()
        rig.advance(until: { !rig.master.flags.contains(.failoverInProgress) }, limit: 20_000)
        XCTAssertFalse(rig.master.allowLaggingPromotion)
    }

    func testCoordinatedWithoutTargetToleratesLagFailoverWaitsForSync() {
        let rig = FailoverRig(replicas: 2) { $0.maxPromotionLag = 100 }
        for p in rig.peers.values { p.seesDown = false }
        rig.setReplica(0, offset: 200)
        rig.setReplica(1, offset: 300)
        rig.warmUp()
        acceptFailover(rig)
        XCTAssertEqual(coordinated(rig), .ok)
        rig.advance(until: { rig.master.failoverState == .waitPromotion }, limit: 2_000)
        XCTAssertEqual(failoverCommands(rig).first, ["FAILOVER", "TO", "127.0.0.1", "6381", "TIMEOUT", "5000"])
    }

    // MARK: - INFO

    func testInfoParsesMasterFailoverState() {
        XCTAssertEqual(InfoReport.parse("role:master\r\nmaster_failover_state:waiting-for-sync\r\n").masterFailoverState,
                       "waiting-for-sync")
        XCTAssertNil(InfoReport.parse("role:master\r\n").masterFailoverState)
        let long = InfoReport.parse("master_failover_state:" + String(repeating: "x", count: 1000) + "\r\n")
        XCTAssertEqual(long.masterFailoverState?.count, 32, "kept short")
    }
}
