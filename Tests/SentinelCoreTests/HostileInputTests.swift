import RESP
import WardenCrypto
import XCTest

@testable import SentinelCore
import Configuration

/// Each value here once trapped warden (a Swift runtime trap on overflow or a
/// failed integer conversion) or was compared as a String where Redis compares
/// bytes. Every test drives the core the way the daemon does and checks that it
/// answers, keeps its invariants and can still fail over.
final class HostileInputTests: XCTestCase {
    let m = FailoverRig.masterAddress

    // MARK: - Epochs from outside

    func testNegativeEpochInAVoteRequestIsAnsweredWithoutAVote() {
        let rig = FailoverRig()
        rig.warmUp()
        let tooFar = String(Epoch.freeRange + Epoch.maxStep + 1)
        for epoch in ["-1", "-9223372036854775808", "9223372036854775807", tooFar] {
            let (reply, _) = rig.command(["SENTINEL", "is-master-down-by-addr", "127.0.0.1", "6379", epoch, "abc"])
            XCTAssertEqual(reply, .array([.integer(0), .bulk("*"), .integer(0)]), epoch)
        }
        XCTAssertEqual(rig.sentinel.currentEpoch, 0)
        XCTAssertTrue(rig.events(named: "+vote-for-leader").isEmpty)
        // Logged once, with the count, not once per message.
        let logs = rig.effects.compactMap { e -> String? in
            if case .log(_, let text) = e, text.contains("epoch above") { return text } else { return nil }
        }
        XCTAssertEqual(logs.count, 1)
        // The largest adoptable epoch still gets a vote, and so does the next one,
        // a step further: legitimate epochs move one at a time.
        let limit = Epoch.freeRange + Epoch.maxStep
        var (reply, _) = rig.command(["SENTINEL", "is-master-down-by-addr", "127.0.0.1", "6379", String(limit), "abc"])
        XCTAssertEqual(reply, .array([.integer(0), .bulk("abc"), .integer(Int64(limit))]))
        (reply, _) = rig.command(["SENTINEL", "is-master-down-by-addr", "127.0.0.1", "6379", String(limit + 1), "abc"])
        XCTAssertEqual(reply, .array([.integer(0), .bulk("abc"), .integer(Int64(limit + 1))]))
        // But not a jump of more than a step beyond the free range.
        let jump = String(limit + 1 + Epoch.maxStep + 1)
        (reply, _) = rig.command(["SENTINEL", "is-master-down-by-addr", "127.0.0.1", "6379", jump, "abc"])
        XCTAssertEqual(reply, .array([.integer(0), .bulk("*"), .integer(0)]))
    }

    func testPoisonedHelloEpochIsIgnoredAndFailoversGoOn() {
        let rig = FailoverRig()
        rig.warmUp()
        let poisoned = peerHello(from: FailoverRig.peerID(0), port: 26380, epoch: UInt64.max,
                                 master: m, configEpoch: UInt64.max)
        rig.feed(.hello(poisoned))
        XCTAssertEqual(rig.sentinel.currentEpoch, 0)
        XCTAssertEqual(rig.master.configEpoch, 0)

        // Just above the limit, in either epoch field: ignored too.
        let limit = Epoch.freeRange + Epoch.maxStep
        rig.feed(.hello(peerHello(from: FailoverRig.peerID(0), port: 26380,
                                           epoch: limit + 1, master: m, configEpoch: 0)))
        rig.feed(.hello(peerHello(from: FailoverRig.peerID(0), port: 26380,
                                           epoch: 0, master: m, configEpoch: limit + 1)))
        XCTAssertEqual(rig.sentinel.currentEpoch, 0)

        // The largest adoptable epoch is adopted, and failovers still run after it:
        // the peers' vote requests, one epoch further each time, are accepted.
        rig.feed(.hello(peerHello(from: FailoverRig.peerID(0), port: 26380,
                                           epoch: limit, master: m, configEpoch: 0)))
        XCTAssertEqual(rig.sentinel.currentEpoch, limit)
        rig.applyReplicaOf()
        rig.silenceMaster()
        XCTAssertTrue(rig.advance(until: { !rig.events(named: "+switch-master").isEmpty }, limit: 10_000))
        XCTAssertEqual(rig.sentinel.currentEpoch, limit + 1)
        XCTAssertEqual(rig.master.configEpoch, limit + 1)
    }

    func testAtTheLargestEpochAFailoverIsRefusedNotTrapped() {
        var c = SentinelConfig()
        c.myid = FailoverRig.myID
        c.currentEpoch = Epoch.max
        c.masters = [MasterConfig(name: "mymaster", address: m, quorum: 1)]
        let core = Sentinel(config: c, seed: 1, now: 1_000)
        _ = core.start(now: 1_000)
        var driver = SyncDriver()
        let (reply, _) = driver.command(core, ["SENTINEL", "failover", "mymaster"], now: 1_000)
        // No replica yet: NOGOODSLAVE comes first, as in Redis.
        XCTAssertEqual(reply, .error("NOGOODSLAVE No suitable replica to promote"))
        // Master never reached: SDOWN, ODOWN with quorum 1, then the refusal.
        var logs: [String] = []
        for t in stride(from: Millis(1_100), through: 40_000, by: 100) {
            for e in driver.handle(core, .tick, now: t) { if case .log(_, let s) = e { logs.append(s) } }
        }
        XCTAssertTrue(logs.contains { $0.contains("is the largest there is") })
        XCTAssertEqual(core.currentEpoch, Epoch.max)
    }

    func testEpochsInSentinelConfBeyondTheRangeAreRefusedWithTheirLine() {
        let text = "sentinel monitor mymaster 127.0.0.1 6379 2\nsentinel current-epoch 18446744073709551615\n"
        XCTAssertThrowsError(try ConfigParser.parse(text, file: "s.conf")) { error in
            XCTAssertEqual("\(error)", "s.conf:2: Invalid current-epoch '18446744073709551615': epochs go up to 9223372036854775807.")
        }
        let configEpoch = "sentinel monitor mymaster 127.0.0.1 6379 2\nsentinel config-epoch mymaster 9223372036854775808\n"
        XCTAssertThrowsError(try ConfigParser.parse(configEpoch, file: "s.conf"))
        XCTAssertEqual(try ConfigParser.parse("sentinel current-epoch 9223372036854775807\n", file: "s.conf").currentEpoch,
                       Epoch.max)
    }

    // MARK: - Huge settings

    func testHugeDownAfterThenForcedFailover() {
        let rig = FailoverRig()
        rig.warmUp()
        XCTAssertEqual(rig.command(["SENTINEL", "SET", "mymaster", "down-after-milliseconds", "1000000000000000000"]).reply, .ok)
        XCTAssertEqual(rig.command(["SENTINEL", "SET", "mymaster", "down-after-milliseconds", "9223372036854775807"]).reply, .ok)
        rig.applyReplicaOf()
        XCTAssertEqual(rig.command(["SENTINEL", "FAILOVER", "mymaster"]).reply, .ok)
        XCTAssertTrue(rig.advance(until: { !rig.events(named: "+switch-master").isEmpty }, limit: 10_000))
    }

    func testHugeFailoverTimeoutStillLetsTheFirstFailoverStart() {
        let rig = FailoverRig { $0.failoverTimeout = Millis.max }
        rig.warmUp()
        rig.applyReplicaOf()
        rig.silenceMaster()
        XCTAssertTrue(rig.advance(until: { !rig.events(named: "+try-failover").isEmpty }, limit: 10_000))
        // The next attempt is delayed "forever", without trapping...
        XCTAssertEqual(rig.master.failoverNotBefore, Millis.max)
        // ...and this one completes (the switch resets the delay, as in Redis).
        XCTAssertTrue(rig.advance(until: { !rig.events(named: "+switch-master").isEmpty }, limit: 10_000))
    }

    func testHugeDebugTimingsDoNotTrap() {
        let rig = FailoverRig()
        rig.warmUp()
        let names = Timing.debugNames.map(\.0)
        var args = ["SENTINEL", "DEBUG"]
        for n in names { args += [n, "9223372036854775807"] }
        XCTAssertEqual(rig.command(args).reply, .ok)
        rig.silenceMaster()
        rig.advance(30_000, step: 500)
        rig.setClock(rig.now + 10_000_000)
        rig.advance(1_000)
        XCTAssertEqual(rig.command(["SENTINEL", "DEBUG", "publish-period", "1"]).reply, .ok)
        rig.advance(1_000)
    }

    func testHugeScriptRetryDelayDoesNotTrap() {
        var c = SentinelConfig()
        c.myid = FailoverRig.myID
        var mc = MasterConfig(name: "mymaster", address: m, quorum: 1)
        mc.notificationScript = "/bin/false"
        c.masters = [mc]
        let core = Sentinel(config: c, seed: 1, now: 1_000)
        var driver = SyncDriver()
        _ = driver.command(core, ["SENTINEL", "DEBUG", "script-retry-delay", "9223372036854775807"], now: 1_000)
        var t: Millis = 1_000
        var scripts = 0
        // The never-reached master goes SDOWN: a warning event queues the script;
        // it fails with status 1 and is retried, each delay doubling (saturated).
        while t < 60_000 {
            t += 100
            for e in driver.handle(core, .tick, now: t) {
                if case .runScript(let id, _, _) = e {
                    scripts += 1
                    _ = driver.handle(core, .scriptFinished(id, exitStatus: 1, signal: 0), now: t)
                }
            }
        }
        XCTAssertGreaterThan(scripts, 0)
    }

    // MARK: - INFO from Redis

    func testHugeMasterLinkDownSinceIsSaturatedAndTheReplicaSkipped() {
        let rig = FailoverRig(replicas: 2)
        rig.setReplica(0, linkDownSeconds: Int.max)
        rig.warmUp()
        XCTAssertEqual(rig.replica(0).masterLinkDownTime, Millis.max)
        XCTAssertEqual(rig.sentinel.selectReplica(rig.master)?.address, FailoverRig.replicaAddress(1))
    }

    func testOutOfRangeMasterPortInInfoIsIgnored() {
        let info = "# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:99999999999999999999\r\n"
        XCTAssertNil(InfoReport.parse(info).masterPort)
        XCTAssertNil(InfoReport.parse("master_port:-1\r\n").masterPort)
        XCTAssertNil(InfoReport.parse("master_port:65536\r\n").masterPort)
        XCTAssertEqual(InfoReport.parse("master_port:6379\r\n").masterPort, 6379)
    }

    // MARK: - Passwords are bytes

    func testPasswordsInSentinelConfAreKeptAsBytes() throws {
        let text = """
            requirepass "caf\\xc3\\xa9"
            sentinel monitor mymaster 127.0.0.1 6379 2
            sentinel auth-pass mymaster "\\xff\\xfe"
            sentinel sentinel-pass "\\x00a\\xc3"

            """
        let c = try ConfigParser.parse(text, file: "s.conf")
        XCTAssertEqual(c.requirepass?.bytes, [0x63, 0x61, 0x66, 0xc3, 0xa9])
        XCTAssertFalse(c.requirepass!.matches(Array("cafe\u{301}".utf8)))
        XCTAssertEqual(c.masters[0].authPass?.bytes, [0xff, 0xfe])
        XCTAssertEqual(c.sentinelPass?.bytes, [0x00, 0x61, 0xc3])
        // The rewrite escapes them and reads back the same bytes.
        let rewritten = ConfigRewriter.rewrite(original: text, config: c)
        XCTAssertTrue(rewritten.contains(#"sentinel auth-pass mymaster "\xff\xfe""#), rewritten)
        let again = try ConfigParser.parse(rewritten, file: "s.conf")
        XCTAssertEqual(again.masters[0].authPass?.bytes, [0xff, 0xfe])
        XCTAssertEqual(again.sentinelPass?.bytes, [0x00, 0x61, 0xc3])
    }

    func testAuthPassSetAtRunTimeIsSentAsItsBytes() {
        let rig = FailoverRig()
        rig.warmUp()
        let password: [UInt8] = [0xff, 0xfe, 0x00, 0x41]
        let args: [[UInt8]] = [Array("SENTINEL".utf8), Array("SET".utf8), Array("mymaster".utf8),
                               Array("auth-pass".utf8), password]
        let (reply, effects) = rig.command(raw: args)
        XCTAssertEqual(reply, .ok)
        XCTAssertTrue(effects.contains(.event(Event(level: .warning, name: "+set",
                                                    payload: "master mymaster 127.0.0.1 6379 auth-pass ******"))))
        XCTAssertEqual(rig.master.settings.authPass?.bytes, password)
        // The links are dropped and reopened: AUTH carries the exact bytes.
        var auths: [RESPCommand] = []
        let before = rig.effects.count
        rig.advance(2_000)
        for e in rig.effects[before...] {
            if case .send(_, let c) = e, c.name == "auth" { auths.append(c) }
        }
        XCTAssertFalse(auths.isEmpty)
        XCTAssertTrue(auths.allSatisfy { $0.arguments.last == password })
        XCTAssertEqual(auths.first?.description, "AUTH ******")
    }
}
