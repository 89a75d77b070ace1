import Foundation
import RESP
import XCTest

@testable import SentinelCore

/// The SENTINEL command surface, checked against replies captured from
/// redis-sentinel 7.0.15 (field names and order, error texts).
final class CommandsTests: XCTestCase {

    // Field names in the order redis-sentinel 7.0.15 printed them (captured live).
    static let redisMasterFields = [
        "name", "ip", "port", "runid", "flags", "link-pending-commands", "link-refcount",
        "last-ping-sent", "last-ok-ping-reply", "last-ping-reply", "down-after-milliseconds",
        "info-refresh", "role-reported", "role-reported-time", "config-epoch", "num-slaves",
        "num-other-sentinels", "quorum", "failover-timeout", "parallel-syncs",
    ]
    static let redisSDownMasterFields = [
        "name", "ip", "port", "runid", "flags", "link-pending-commands", "link-refcount",
        "last-ping-sent", "last-ok-ping-reply", "last-ping-reply", "s-down-time", "down-after-milliseconds",
        "info-refresh", "role-reported", "role-reported-time", "config-epoch", "num-slaves",
        "num-other-sentinels", "quorum", "failover-timeout", "parallel-syncs",
    ]
    static let redisFailoverMasterFields = [
        "name", "ip", "port", "runid", "flags", "link-pending-commands", "link-refcount", "failover-state",
        "last-ping-sent", "last-ok-ping-reply", "last-ping-reply", "down-after-milliseconds",
        "info-refresh", "role-reported", "role-reported-time", "config-epoch", "num-slaves",
        "num-other-sentinels", "quorum", "failover-timeout", "parallel-syncs",
    ]
    static let redisReplicaFields = [
        "name", "ip", "port", "runid", "flags", "link-pending-commands", "link-refcount",
        "last-ping-sent", "last-ok-ping-reply", "last-ping-reply", "down-after-milliseconds",
        "info-refresh", "role-reported", "role-reported-time", "master-link-down-time",
        "master-link-status", "master-host", "master-port", "slave-priority", "slave-repl-offset",
        "replica-announced",
    ]
    static let redisSentinelFields = [
        "name", "ip", "port", "runid", "flags", "link-pending-commands", "link-refcount",
        "last-ping-sent", "last-ok-ping-reply", "last-ping-reply", "down-after-milliseconds",
        "last-hello-message", "voted-leader", "voted-leader-epoch",
    ]
    static let redisDebugNames = [
        "INFO-PERIOD", "PING-PERIOD", "ASK-PERIOD", "PUBLISH-PERIOD", "DEFAULT-DOWN-AFTER",
        "DEFAULT-FAILOVER-TIMEOUT", "TILT-TRIGGER", "TILT-PERIOD", "SLAVE-RECONF-TIMEOUT",
        "MIN-LINK-RECONNECT-PERIOD", "ELECTION-TIMEOUT", "SCRIPT-MAX-RUNTIME", "SCRIPT-RETRY-DELAY",
    ]

    // MARK: - Helpers

    func pairs(_ v: RESPValue, file: StaticString = #filePath, line: UInt = #line) -> [(String, String)] {
        guard case .map(let p) = v else {
            XCTFail("not a map: \(v)", file: file, line: line)
            return []
        }
        return p.map { ($0.key.string ?? "?", $0.value.string ?? "?") }
    }

    func keys(_ v: RESPValue) -> [String] { pairs(v).map(\.0) }

    func field(_ v: RESPValue, _ name: String) -> String? { pairs(v).first { $0.0 == name }?.1 }

    func error(_ r: (reply: RESPValue, effects: [Effect])) -> String? { r.reply.errorText }

    // MARK: - Dispatch and arity

    func testArityAndUnknownSubcommandErrorsMatchRedis() {
        let rig = CoreRig()
        let cases: [([String], String)] = [
            (["SENTINEL"], "ERR wrong number of arguments for 'sentinel' command"),
            (["sentinel", "masters", "x"], "ERR wrong number of arguments for 'sentinel|masters' command"),
            (["sentinel", "MASTER"], "ERR wrong number of arguments for 'sentinel|master' command"),
            (["sentinel", "myid", "x"], "ERR wrong number of arguments for 'sentinel|myid' command"),
            (["sentinel", "help", "x"], "ERR wrong number of arguments for 'sentinel|help' command"),
            (["sentinel", "info-cache"], "ERR wrong number of arguments for 'sentinel|info-cache' command"),
            (["sentinel", "simulate-failure"], "ERR wrong number of arguments for 'sentinel|simulate-failure' command"),
            (["sentinel", "set", "mymaster", "quorum"], "ERR wrong number of arguments for 'sentinel|set' command"),
            (["sentinel", "config"], "ERR wrong number of arguments for 'sentinel|config' command"),
            (["sentinel", "flushconfig", "x"], "ERR wrong number of arguments for 'sentinel|flushconfig' command"),
            (["sentinel", "is-master-down-by-addr", "a", "1", "2"],
             "ERR wrong number of arguments for 'sentinel|is-master-down-by-addr' command"),
            (["sentinel", "foo"], "ERR unknown subcommand 'foo'. Try SENTINEL HELP."),
            (["SeNtInEl", "foo", "bar"], "ERR unknown subcommand 'foo'. Try SENTINEL HELP."),
            (["sentinel", "a\r\nb"], "ERR unknown subcommand 'a  b'. Try SENTINEL HELP."),
        ]
        for (args, expected) in cases {
            let r = rig.command(args)
            XCTAssertEqual(r.reply, .error(expected), "\(args)")
            XCTAssertEqual(r.effects, [], "\(args)")
        }
        let long = String(repeating: "x", count: 200)
        XCTAssertEqual(error(rig.command("sentinel", long)),
                       "ERR unknown subcommand '\(String(repeating: "x", count: 128))'. Try SENTINEL HELP.")
    }

    func testSubcommandsAreCaseInsensitive() {
        let rig = CoreRig()
        XCTAssertEqual(rig.command("sentinel", "MyId").reply, .bulk(CoreRig.myID))
        XCTAssertEqual(rig.command("SENTINEL", "Get-Master-Addr-By-Name", "mymaster").reply,
                       .array([.bulk("127.0.0.1"), .bulk("6379")]))
    }

    func testHelp() {
        let rig = CoreRig()
        guard case .array(let lines?) = rig.command("sentinel", "help").reply else { return XCTFail() }
        XCTAssertEqual(lines.count, 49)
        XCTAssertEqual(lines.first, .simpleString("SENTINEL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"))
        XCTAssertEqual(lines[1], .simpleString("CKQUORUM <master-name>"))
        XCTAssertEqual(Array(lines.suffix(4)), [
            .simpleString("SIMULATE-FAILURE [CRASH-AFTER-ELECTION] [CRASH-AFTER-PROMOTION] [HELP]"),
            .simpleString("    Simulate a Sentinel crash."),
            .simpleString("HELP"), .simpleString("    Prints this help."),
        ])
    }

    // MARK: - Instance maps

    func testMasterMapFieldsAndValues() {
        let rig = CoreRig()
        rig.bringUpMaster()
        let reply = rig.command("SENTINEL", "MASTER", "mymaster").reply
        XCTAssertEqual(keys(reply), Self.redisMasterFields)
        XCTAssertEqual(field(reply, "name"), "mymaster")
        XCTAssertEqual(field(reply, "ip"), "127.0.0.1")
        XCTAssertEqual(field(reply, "port"), "6379")
        XCTAssertEqual(field(reply, "runid"), "810cd714efac6455ef5e64325ea404e23ffbedfc")
        XCTAssertEqual(field(reply, "flags"), "master")
        XCTAssertEqual(field(reply, "link-refcount"), "1")
        XCTAssertEqual(field(reply, "last-ping-sent"), "0")
        XCTAssertEqual(field(reply, "info-refresh"), "0")
        XCTAssertEqual(field(reply, "role-reported"), "master")
        XCTAssertEqual(field(reply, "num-slaves"), "1")
        XCTAssertEqual(field(reply, "num-other-sentinels"), "0")
        XCTAssertEqual(field(reply, "quorum"), "2")
        XCTAssertEqual(field(reply, "down-after-milliseconds"), "5000")
        XCTAssertEqual(field(reply, "failover-timeout"), "180000")
        XCTAssertEqual(field(reply, "parallel-syncs"), "1")
        XCTAssertEqual(rig.command("SENTINEL", "MASTERS").reply, .array([reply]))
        XCTAssertEqual(rig.command("SENTINEL", "MASTER", "nosuch").reply, .error("ERR No such master with that name"))
    }

    func testTimesAreMillisecondsAgo() {
        let rig = CoreRig()
        let l = rig.bringUpMaster()
        let answeredAt = rig.now
        let pingAt = rig.tickUntilPing(on: l.command)  // a PING that stays unanswered
        rig.tick(at: pingAt + 1234)
        let reply = rig.command("SENTINEL", "MASTER", "mymaster").reply
        XCTAssertEqual(field(reply, "last-ping-sent"), "1234")
        XCTAssertEqual(field(reply, "last-ok-ping-reply"), String(rig.now - answeredAt))
        XCTAssertEqual(field(reply, "last-ping-reply"), String(rig.now - answeredAt))
        XCTAssertEqual(field(reply, "info-refresh"), String(rig.now - answeredAt))
        XCTAssertEqual(field(reply, "link-pending-commands"), String(rig.unanswered[l.command]!.count))
    }

    func testConditionalMasterFields() {
        let rig = CoreRig {
            $0.masters[0].notificationScript = "/usr/local/bin/notify.sh"
            $0.masters[0].clientReconfigScript = "/usr/local/bin/reconf.sh"
        }
        rig.tick(until: rig.now + 5001, step: 1000)
        let down = rig.command("SENTINEL", "MASTER", "mymaster").reply
        XCTAssertEqual(keys(down), Self.redisSDownMasterFields + ["notification-script", "client-reconfig-script"])
        XCTAssertEqual(field(down, "flags"), "s_down,master,disconnected")
        XCTAssertEqual(field(down, "s-down-time"), "0")
        XCTAssertEqual(field(down, "notification-script"), "/usr/local/bin/notify.sh")
        XCTAssertEqual(field(down, "client-reconfig-script"), "/usr/local/bin/reconf.sh")
    }

    func testReplicasMapAndUnannouncedReplicasHidden() {
        let rig = CoreRig()
        rig.bringUpMaster()
        rig.bringUpReplica()
        let list = rig.command("SENTINEL", "REPLICAS", "mymaster").reply
        guard case .array(let replicas?) = list, replicas.count == 1 else { return XCTFail("\(list)") }
        let r = replicas[0]
        XCTAssertEqual(keys(r), Self.redisReplicaFields)
        XCTAssertEqual(field(r, "name"), "127.0.0.1:6380")
        XCTAssertEqual(field(r, "runid"), "12c007556c49d2d51e97c2c3fb4a7df1ef2f17cd")
        XCTAssertEqual(field(r, "flags"), "slave")
        XCTAssertEqual(field(r, "role-reported"), "slave")
        XCTAssertEqual(field(r, "master-link-status"), "ok")
        XCTAssertEqual(field(r, "master-host"), "127.0.0.1")
        XCTAssertEqual(field(r, "master-port"), "6379")
        XCTAssertEqual(field(r, "slave-priority"), "100")
        XCTAssertEqual(field(r, "slave-repl-offset"), "135")
        XCTAssertEqual(field(r, "replica-announced"), "1")
        XCTAssertEqual(rig.command("SENTINEL", "SLAVES", "mymaster").reply, list)

        rig.master.replicas[0].replicaAnnounced = false
        XCTAssertEqual(rig.command("SENTINEL", "REPLICAS", "mymaster").reply, .array([]))
        // Still counted where Redis counts it.
        XCTAssertEqual(field(rig.command("SENTINEL", "MASTER", "mymaster").reply, "num-slaves"), "1")
    }

    func testReplicaNeverReachedShowsRedisDefaults() {
        let rig = CoreRig()
        rig.bringUpMaster()
        guard case .array(let replicas?) = rig.command("SENTINEL", "REPLICAS", "mymaster").reply else {
            return XCTFail()
        }
        XCTAssertEqual(field(replicas[0], "flags"), "slave,disconnected")
        XCTAssertEqual(field(replicas[0], "runid"), "")
        XCTAssertEqual(field(replicas[0], "master-host"), "?")
        XCTAssertEqual(field(replicas[0], "master-link-status"), "err")
        XCTAssertEqual(field(replicas[0], "role-reported"), "slave")
    }

    func testSentinelsMap() {
        let rig = CoreRig()
        rig.feed(.hello(peerHello(epoch: 0, configEpoch: 0)))
        rig.tick(at: rig.now + 700)
        let list = rig.command("SENTINEL", "SENTINELS", "mymaster").reply
        guard case .array(let sentinels?) = list, sentinels.count == 1 else { return XCTFail("\(list)") }
        let s = sentinels[0]
        XCTAssertEqual(keys(s), Self.redisSentinelFields)
        XCTAssertEqual(field(s, "name"), CoreRig.peerID)
        XCTAssertEqual(field(s, "runid"), CoreRig.peerID)
        XCTAssertEqual(field(s, "port"), "26380")
        XCTAssertEqual(field(s, "flags"), "sentinel,disconnected")
        XCTAssertEqual(field(s, "last-hello-message"), "700")
        XCTAssertEqual(field(s, "voted-leader"), "?")
        XCTAssertEqual(field(s, "voted-leader-epoch"), "0")
        XCTAssertEqual(rig.command("SENTINEL", "SENTINELS", "x").reply, .error("ERR No such master with that name"))
    }

    // MARK: - Simple queries

    func testMyIDGetMasterAddrRoleAndFlushConfig() {
        let rig = CoreRig()
        XCTAssertEqual(rig.command("SENTINEL", "MYID").reply, .bulk(CoreRig.myID))
        XCTAssertEqual(rig.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nosuch").reply, .array(nil))
        XCTAssertEqual(rig.sentinel.roleReply(), .array([.bulk("sentinel"), .array([.bulk("mymaster")])]))
        XCTAssertEqual(rig.sentinel.masterNames, ["mymaster"])
        let flush = rig.command("SENTINEL", "FLUSHCONFIG")
        XCTAssertEqual(flush.reply, .ok)
        XCTAssertEqual(flush.effects.saves.map(\.evenIfUnchanged), [true])
    }

    func testCKQuorum() {
        let rig = CoreRig()
        XCTAssertEqual(rig.command("SENTINEL", "CKQUORUM", "mymaster").reply, .error(
            "NOQUORUM 1 usable Sentinels. Not enough available Sentinels to reach the specified quorum for this master"))

        rig.feed(.hello(peerHello(epoch: 0, configEpoch: 0)))
        XCTAssertEqual(rig.command("SENTINEL", "CKQUORUM", "mymaster").reply, .simpleString(
            "OK 2 usable Sentinels. Quorum and failover authorization can be reached"))

        rig.feed(.hello(peerHello(from: String(repeating: "e", count: 40), port: 26381,
                                              epoch: 0, configEpoch: 0)))
        rig.master.sentinels.forEach { $0.flags.insert(.sDown) }
        XCTAssertEqual(rig.command("SENTINEL", "CKQUORUM", "mymaster").reply, .error(
            "NOQUORUM 1 usable Sentinels. Not enough available Sentinels to reach the specified quorum for this master. "
                + "Not enough available Sentinels to reach the majority and authorize a failover"))
        rig.master.quorum = 1
        XCTAssertEqual(rig.command("SENTINEL", "CKQUORUM", "mymaster").reply, .error(
            "NOQUORUM 1 usable Sentinels. Not enough available Sentinels to reach the majority and authorize a failover"))
        XCTAssertEqual(rig.command("SENTINEL", "CKQUORUM", "x").reply, .error("ERR No such master with that name"))
    }

    func testInfoCache() {
        let rig = CoreRig()
        XCTAssertEqual(rig.command("SENTINEL", "INFO-CACHE", "mymaster").reply,
                       .array([.bulk("mymaster"), .array([.array([.integer(0), .null])])]))
        rig.bringUpMaster()
        let masterAt = rig.now
        rig.bringUpReplica()
        let replicaAt = rig.now
        rig.tick(at: rig.now + 50)
        let expected = RESPValue.array([.bulk("mymaster"), .array([
            .array([.integer(rig.now - masterAt), .bulk(CapturedInfo.master)]),
            .array([.integer(rig.now - replicaAt), .bulk(CapturedInfo.replica)]),
        ])])
        XCTAssertEqual(rig.command("SENTINEL", "INFO-CACHE", "mymaster", "nosuch", "mymaster").reply, expected)
        XCTAssertEqual(rig.command("SENTINEL", "INFO-CACHE", "nosuch").reply, .array([]))
    }

    func testPendingScripts() {
        let rig = CoreRig { $0.masters[0].notificationScript = "/bin/notify" }
        // Start-up's +monitor is a warning, so it is queued for the notification script.
        let argv = RESPValue.array([.bulk("/bin/notify"), .bulk("+monitor"), .bulk("master mymaster 127.0.0.1 6379 quorum 2")])
        XCTAssertEqual(rig.command("SENTINEL", "PENDING-SCRIPTS").reply, .array([.bulkMapWithArgv(argv, [
            ("flags", "scheduled"), ("pid", "0"), ("run-delay", "0"), ("retry-num", "0"),
        ])]))

        let started = rig.tick(at: rig.now + 100).compactMap { effect -> ScriptID? in
            if case .runScript(let id, "/bin/notify", _) = effect { return id } else { return nil }
        }
        XCTAssertEqual(started.count, 1)
        rig.sentinel.scriptStarted(started[0], pid: 4242)
        rig.tick(at: rig.now + 250)
        XCTAssertEqual(rig.command("SENTINEL", "PENDING-SCRIPTS").reply, .array([.bulkMapWithArgv(argv, [
            ("flags", "running"), ("pid", "4242"), ("run-time", "250"), ("retry-num", "1"),
        ])]))
        rig.feed(.scriptFinished(started[0], exitStatus: 0, signal: 0))
        XCTAssertEqual(rig.command("SENTINEL", "PENDING-SCRIPTS").reply, .array([]))
    }

    // MARK: - INFO and ROLE

    func testInfoSentinelSection() {
        let rig = CoreRig()
        XCTAssertEqual(rig.sentinel.infoSentinelSection(now: rig.now), """
            # Sentinel\r
            sentinel_masters:1\r
            sentinel_tilt:0\r
            sentinel_tilt_since_seconds:-1\r
            sentinel_running_scripts:0\r
            sentinel_scripts_queue_length:0\r
            sentinel_simulate_failure_flags:0\r
            master0:name=mymaster,status=ok,address=127.0.0.1:6379,slaves=0,sentinels=1\r

            """)
        rig.bringUpMaster()
        rig.feed(.hello(peerHello(epoch: 0, configEpoch: 0)))
        _ = rig.command("SENTINEL", "MONITOR", "other", "10.0.0.9", "7000", "1")
        _ = rig.command("SENTINEL", "SET", "other", "down-after-milliseconds", "1000")
        rig.tick(until: rig.now + 7000, step: 1000)
        let text = rig.sentinel.infoSentinelSection(now: rig.now)
        XCTAssertTrue(text.hasSuffix("""
            master0:name=mymaster,status=sdown,address=127.0.0.1:6379,slaves=1,sentinels=2\r
            master1:name=other,status=odown,address=10.0.0.9:7000,slaves=0,sentinels=1\r

            """), text)
        XCTAssertTrue(text.contains("sentinel_masters:2\r\n"))
    }

    // MARK: - CONFIG

    func testConfigGet() {
        let rig = CoreRig()
        XCTAssertEqual(pairs(rig.command("SENTINEL", "CONFIG", "GET", "*").reply).map { "\($0.0)=\($0.1)" }, [
            "resolve-hostnames=no", "announce-hostnames=no", "announce-ip=", "announce-port=0",
            "sentinel-user=", "sentinel-pass=", "loglevel=notice",
            // Warden's own, read at start-up (see ServiceSettingsTests).
            "http-port=0", "http-bind=127.0.0.1", "http-token=", "http-token-reads=no", "http-max-connections=256",
            "http-idle-timeout=60000", "http-request-timeout=10000", "webhook-queue-limit=1000",
        ])
        XCTAssertEqual(keys(rig.command("sentinel", "config", "get", "announce-*").reply),
                       ["announce-hostnames", "announce-ip", "announce-port"])
        XCTAssertEqual(keys(rig.command("sentinel", "config", "get", "LOGLEVEL", "announce-ip", "loglevel").reply),
                       ["loglevel", "announce-ip"])
        XCTAssertEqual(rig.command("sentinel", "config", "get", "nothing-like-this").reply, .map([]))
        XCTAssertEqual(rig.command("sentinel", "config", "get").reply,
                       .error("ERR wrong number of arguments for 'sentinel|config' command"))
        let only = "ERR Only SENTINEL CONFIG GET <param> [<param> <param> ...]/ SET <param> <value> [<param> <value> ...] are supported."
        XCTAssertEqual(rig.command("sentinel", "config", "foo", "bar").reply, .error(only))
        XCTAssertEqual(rig.command("sentinel", "config", "set", "announce-ip").reply, .error(only))
    }

    func testConfigSetAppliesAllPairsOrNone() {
        let rig = CoreRig()
        let ok = rig.command("SENTINEL", "CONFIG", "SET", "announce-ip", "10.1.1.1", "Announce-Port", "26390",
                             "loglevel", "WARNING", "resolve-hostnames", "yes")
        XCTAssertEqual(ok.reply, .ok)
        XCTAssertEqual(ok.effects.withoutSaves, [])
        XCTAssertTrue(ok.effects.savesConfig)
        XCTAssertEqual(rig.sentinel.settings.announceIP, "10.1.1.1")
        XCTAssertEqual(rig.sentinel.settings.announcePort, 26390)
        XCTAssertEqual(rig.sentinel.settings.loglevel, .warning)
        XCTAssertTrue(rig.sentinel.settings.resolveHostnames)
        XCTAssertEqual(field(rig.command("sentinel", "config", "get", "loglevel").reply, "loglevel"), "warning")

        let failures: [([String], String)] = [
            (["announce-ip", "1.2.3.4", "announce-port", "x"], "ERR Invalid value 'x' to SENTINEL CONFIG SET 'announce-port'"),
            (["announce-ip", "1.2.3.4", "announce-port", "65536"], "ERR Invalid value '65536' to SENTINEL CONFIG SET 'announce-port'"),
            (["announce-ip", "1.2.3.4", "foo", "1"], "ERR Invalid argument 'foo' to SENTINEL CONFIG SET"),
            (["announce-ip", "1.2.3.4", "ANNOUNCE-IP", "1"], "ERR Duplicate argument 'ANNOUNCE-IP' to SENTINEL CONFIG SET"),
            (["announce-ip", "1.2.3.4", "loglevel"], "ERR Missing argument 'loglevel' value"),
            (["announce-ip", "1.2.3.4", "loglevel", "loud"], "ERR Invalid value 'loud' to SENTINEL CONFIG SET 'loglevel'"),
            (["announce-ip", "1.2.3.4", "announce-hostnames", "maybe"],
             "ERR Invalid value 'maybe' to SENTINEL CONFIG SET 'announce-hostnames'"),
        ]
        for (pairs, expected) in failures {
            let r = rig.command(["SENTINEL", "CONFIG", "SET"] + pairs)
            XCTAssertEqual(r.reply, .error(expected), "\(pairs)")
            XCTAssertEqual(r.effects, [], "\(pairs)")
            XCTAssertEqual(rig.sentinel.settings.announceIP, "10.1.1.1", "nothing applied: \(pairs)")
        }

        XCTAssertEqual(rig.command("SENTINEL", "CONFIG", "SET", "announce-ip", "").reply, .ok)
        XCTAssertNil(rig.sentinel.settings.announceIP)
    }

    func testConfigSetSentinelCredentialsDropsPeerLinks() {
        let rig = CoreRig()
        rig.feed(.hello(peerHello(epoch: 0, configEpoch: 0)))
        let peer = rig.connectAll(to: Address("127.0.0.1", 26380)).command
        let r = rig.command("SENTINEL", "CONFIG", "SET", "sentinel-user", "u", "sentinel-pass", "p")
        XCTAssertEqual(r.reply, .ok)
        XCTAssertTrue(r.effects.contains(.close(peer)))
        XCTAssertTrue(r.effects.savesConfig)
        XCTAssertEqual(rig.sentinel.settings.sentinelUser, "u")
        // The reconnected link (a reconnect is tried at most once a second)
        // authenticates with them.
        rig.tick(at: rig.now + 1_000)
        let again = rig.links(to: Address("127.0.0.1", 26380))!.command
        XCTAssertEqual(sentCommands(rig.connect(again), on: again).first, ["AUTH", "u", "p"])
    }

    // MARK: - DEBUG

    func testDebug() {
        let rig = CoreRig()
        let shown = pairs(rig.command("SENTINEL", "DEBUG").reply)
        XCTAssertEqual(shown.map(\.0), Self.redisDebugNames)
        XCTAssertEqual(shown.first?.1, "10000")
        XCTAssertEqual(shown[1].1, String(Timing().pingPeriod))

        XCTAssertEqual(rig.command("SENTINEL", "DEBUG", "info-period", "500", "PING-PERIOD", "250").reply, .ok)
        XCTAssertEqual(rig.sentinel.timing.infoPeriod, 500)
        XCTAssertEqual(rig.sentinel.timing.pingPeriod, 250)

        let failures: [([String], String)] = [
            (["info-period"], "ERR Unknown option or number of arguments for SENTINEL DEBUG 'info-period'"),
            (["info-period", "x"], "ERR Invalid argument 'x' for SENTINEL DEBUG 'info-period'"),
            (["info-period", "0"], "ERR Invalid argument '0' for SENTINEL DEBUG 'info-period'"),
            (["info-period", "+5"], "ERR Invalid argument '+5' for SENTINEL DEBUG 'info-period'"),
            (["foo", "1"], "ERR Unknown option or number of arguments for SENTINEL DEBUG 'foo'"),
            (["tilt-period", "1000", "ping-period"], "ERR Unknown option or number of arguments for SENTINEL DEBUG 'ping-period'"),
        ]
        for (args, expected) in failures {
            XCTAssertEqual(rig.command(["SENTINEL", "DEBUG"] + args).reply,
                           .error(expected), "\(args)")
        }
        // As in Redis, the pairs before a bad one were applied.
        XCTAssertEqual(rig.sentinel.timing.tiltPeriod, 1000)
    }

    // MARK: - MONITOR / REMOVE

    func testMonitor() {
        let rig = CoreRig()
        let r = rig.command("SENTINEL", "MONITOR", "other", "10.0.0.9", "7000", "3")
        XCTAssertEqual(r.reply, .ok)
        XCTAssertEqual(r.effects.withoutSaves, [
            .event(Event(level: .warning, name: "+monitor", payload: "master other 10.0.0.9 7000 quorum 3")),
        ])
        XCTAssertTrue(r.effects.savesConfig)
        let m = rig.command("SENTINEL", "MASTER", "other").reply
        XCTAssertEqual(field(m, "quorum"), "3")
        XCTAssertEqual(field(m, "down-after-milliseconds"), "30000")
        XCTAssertEqual(field(m, "failover-timeout"), "180000")
        XCTAssertEqual(rig.sentinel.masterNames, ["mymaster", "other"])
        XCTAssertEqual(rig.sentinel.configSnapshot().masters.map(\.name), ["mymaster", "other"])
        rig.tick(at: rig.now + 100)
        XCTAssertNotNil(rig.links(to: Address("10.0.0.9", 7000)))

        XCTAssertEqual(rig.command("SENTINEL", "MONITOR", "six", "::1", "7001", "1").reply, .ok)
        // Numeric hosts are kept as Redis prints them.
        XCTAssertEqual(rig.command("SENTINEL", "MONITOR", "short", "127.1", "7002", "1").reply, .ok)
        XCTAssertEqual(field(rig.command("SENTINEL", "MASTER", "short").reply, "ip"), "127.0.0.1")
        XCTAssertEqual(rig.command("SENTINEL", "MONITOR", "long6", "0:0::1", "7003", "1").reply, .ok)
        XCTAssertEqual(field(rig.command("SENTINEL", "MASTER", "long6").reply, "ip"), "::1")
        XCTAssertEqual(rig.command("SENTINEL", "MONITOR", "zero", "127.0.0.1", "0", "1").reply, .ok,
                       "redis-sentinel accepts port 0")
    }

    func testMonitorErrorsInRedisOrder() {
        let rig = CoreRig()
        let cases: [([String], String)] = [
            (["t1", "127.0.0.1", "6379", "x"], "ERR Invalid quorum"),
            (["t1", "127.0.0.1", "x", "x"], "ERR Invalid quorum"),
            (["t1", "127.0.0.1", "x", "0"], "ERR Invalid port"),
            (["t1", "127.0.0.1", "0079", "1"], "ERR Invalid port"),
            (["t1", "127.0.0.1", "6379", "0"], "ERR Quorum must be 1 or greater."),
            (["t1", "127.0.0.1", "6379", "-1"], "ERR Quorum must be 1 or greater."),
            (["t1", "notanip", "6379", "1"], "ERR Invalid IP address or hostname specified"),
            (["t1", "1.2.3.4.5", "6379", "1"], "ERR Invalid IP address or hostname specified"),
            (["t1", "127.0.0.1", "70000", "1"], "ERR Invalid port number."),
            (["t1", "127.0.0.1", "-5", "1"], "ERR Invalid port number."),
            (["mymaster", "127.0.0.1", "7000", "1"], "ERR Duplicate master name."),
            (["t1", "127.0.0.1", "6379", "99999999999999999999"], "ERR Invalid quorum"),
        ]
        for (args, expected) in cases {
            let r = rig.command(["SENTINEL", "MONITOR"] + args)
            XCTAssertEqual(r.reply, .error(expected), "\(args)")
            XCTAssertEqual(r.effects, [])
        }
        XCTAssertEqual(rig.sentinel.masterNames, ["mymaster"])

        // With resolve-hostnames, a name is resolved (by the driver) before it is accepted.
        rig.sentinel.settings.resolveHostnames = true
        rig.driver.hosts = ["redis-1.example": "10.0.0.7"]
        let named = rig.command("SENTINEL", "MONITOR", "named", "redis-1.example", "6379", "1")
        XCTAssertEqual(named.reply, .ok)
        XCTAssertTrue(named.effects.contains(.resolve("redis-1.example")))
        XCTAssertEqual(rig.command("SENTINEL", "MONITOR", "gone", "nowhere.example", "6379", "1").reply,
                       .error("ERR Invalid IP address or hostname specified"))
        XCTAssertEqual(rig.command("SENTINEL", "MONITOR", "bad", "no spaces", "6379", "1").reply,
                       .error("ERR Invalid IP address or hostname specified"))
        // Shown by IP unless announce-hostnames.
        XCTAssertEqual(rig.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "named").reply,
                       .array([.bulk("10.0.0.7"), .bulk("6379")]))
        rig.sentinel.settings.announceHostnames = true
        XCTAssertEqual(rig.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "named").reply,
                       .array([.bulk("redis-1.example"), .bulk("6379")]))
    }

    func testRemove() {
        let rig = CoreRig()
        let l = rig.bringUpMaster()
        let r = rig.command("SENTINEL", "REMOVE", "mymaster")
        XCTAssertEqual(r.reply, .ok)
        XCTAssertEqual(eventLines(r.effects), ["-monitor master mymaster 127.0.0.1 6379"])
        XCTAssertTrue(r.effects.contains(.close(l.command)))
        XCTAssertTrue(r.effects.contains(.close(l.pubsub!)))
        XCTAssertTrue(r.effects.savesConfig)
        XCTAssertEqual(rig.sentinel.masterNames, [])
        XCTAssertEqual(rig.command("SENTINEL", "MASTERS").reply, .array([]))
        XCTAssertEqual(rig.command("SENTINEL", "REMOVE", "mymaster").reply, .error("ERR No such master with that name"))
        // Nothing reconnects, and late replies are ignored.
        XCTAssertEqual(rig.tick(at: rig.now + 500).filter { if case .connect = $0 { true } else { false } }, [])
        XCTAssertEqual(rig.feed(.reply(l.command, .simpleString("PONG"))), [])
    }

    // MARK: - SET

    func testSetAppliesOptionsWithEvents() {
        let rig = CoreRig()
        rig.bringUpMaster()
        let r = rig.command("SENTINEL", "SET", "mymaster", "quorum", "3", "down-after-milliseconds", "1000",
                            "failover-timeout", "60000", "parallel-syncs", "2", "master-reboot-down-after-period", "0")
        XCTAssertEqual(r.reply, .ok)
        XCTAssertEqual(eventLines(r.effects), [
            "+set master mymaster 127.0.0.1 6379 quorum 3",
            "+set master mymaster 127.0.0.1 6379 down-after-milliseconds 1000",
            "+set master mymaster 127.0.0.1 6379 failover-timeout 60000",
            "+set master mymaster 127.0.0.1 6379 parallel-syncs 2",
            "+set master mymaster 127.0.0.1 6379 master-reboot-down-after-period 0",
        ])
        XCTAssertTrue(r.effects.savesConfig)
        let m = rig.command("SENTINEL", "MASTER", "mymaster").reply
        XCTAssertEqual(field(m, "quorum"), "3")
        XCTAssertEqual(field(m, "down-after-milliseconds"), "1000")
        XCTAssertEqual(field(m, "failover-timeout"), "60000")
        XCTAssertEqual(field(m, "parallel-syncs"), "2")
        XCTAssertEqual(rig.master.replicas[0].downAfter, 1000, "down-after reaches the replicas")
        let saved = rig.sentinel.configSnapshot().masters[0]
        XCTAssertEqual(saved.quorum, 3)
        XCTAssertEqual(saved.downAfter, 1000)
    }

    func testSetValidatesEverythingBeforeApplying() {
        let rig = CoreRig()
        let cases: [([String], String)] = [
            (["quorum", "3", "failover-timeout", "0"], "ERR Invalid argument '0' for SENTINEL SET 'failover-timeout'"),
            (["quorum", "x"], "ERR Invalid argument 'x' for SENTINEL SET 'quorum'"),
            (["quorum", "0"], "ERR Invalid argument '0' for SENTINEL SET 'quorum'"),
            (["parallel-syncs", "0"], "ERR Invalid argument '0' for SENTINEL SET 'parallel-syncs'"),
            (["down-after-milliseconds", "-1"], "ERR Invalid argument '-1' for SENTINEL SET 'down-after-milliseconds'"),
            (["master-reboot-down-after-period", "-1"],
             "ERR Invalid argument '-1' for SENTINEL SET 'master-reboot-down-after-period'"),
            (["quorum", "1\r\n2"], "ERR Invalid argument '1  2' for SENTINEL SET 'quorum'"),
            (["foo", "1"], "ERR Unknown option or number of arguments for SENTINEL SET 'foo'"),
            (["parallel-syncs", "5", "quorum"], "ERR Unknown option or number of arguments for SENTINEL SET 'quorum'"),
            (["rename-command", "config"], "ERR Unknown option or number of arguments for SENTINEL SET 'rename-command'"),
            (["rename-command", "", "x"], "ERR Invalid argument '' for SENTINEL SET 'rename-command'"),
            (["rename-command", "x", ""], "ERR Invalid argument '' for SENTINEL SET 'rename-command'"),
            (["notification-script", "/bin/true"],
             "ERR Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig configuration directive in your Sentinel configuration"),
            (["client-reconfig-script", ""],
             "ERR Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig configuration directive in your Sentinel configuration"),
        ]
        for (args, expected) in cases {
            let r = rig.command(["SENTINEL", "SET", "mymaster"] + args)
            XCTAssertEqual(r.reply, .error(expected), "\(args)")
            XCTAssertEqual(r.effects, [], "\(args)")
        }
        XCTAssertEqual(rig.master.quorum, 2, "the valid option before a bad one is not applied")
        XCTAssertEqual(rig.command("SENTINEL", "SET", "nosuch", "quorum", "2").reply,
                       .error("ERR No such master with that name"))
    }

    func testSetAuthPassHidesPasswordAndReconnects() {
        let rig = CoreRig()
        let l = rig.bringUpMaster()
        let r = rig.command("SENTINEL", "SET", "mymaster", "auth-pass", "s3cret", "auth-user", "app")
        XCTAssertEqual(r.reply, .ok)
        XCTAssertEqual(eventLines(r.effects), [
            "+set master mymaster 127.0.0.1 6379 auth-pass ******",
            "+set master mymaster 127.0.0.1 6379 auth-user app",
        ])
        XCTAssertTrue(r.effects.contains(.close(l.command)))
        XCTAssertTrue(r.effects.contains(.close(l.pubsub!)))
        // Reconnected a second after the last attempt, as Redis does.
        rig.tick(at: rig.now + 1_000)
        let again = rig.links(to: CoreRig.masterAddress)!.command
        XCTAssertEqual(sentCommands(rig.connect(again), on: again).first, ["AUTH", "app", "s3cret"])

        let cleared = rig.command("SENTINEL", "SET", "mymaster", "auth-pass", "")
        XCTAssertEqual(eventLines(cleared.effects), ["+set master mymaster 127.0.0.1 6379 auth-pass ******"])
        XCTAssertNil(rig.master.settings.authPass)
    }

    func testSetRenameCommand() {
        let rig = CoreRig()
        let r = rig.command("SENTINEL", "SET", "mymaster", "rename-command", "CONFIG", "MYCONFIG")
        XCTAssertEqual(r.reply, .ok)
        XCTAssertEqual(eventLines(r.effects), ["+set master mymaster 127.0.0.1 6379 rename-command CONFIG MYCONFIG"])
        XCTAssertEqual(rig.master.settings.renamedCommands.map { "\($0.original)>\($0.renamed)" }, ["config>MYCONFIG"])
        XCTAssertEqual(rig.sentinel.mapped(rig.master, "CONFIG"), "MYCONFIG")
        _ = rig.command("SENTINEL", "SET", "mymaster", "rename-command", "config", "Config")
        XCTAssertTrue(rig.master.settings.renamedCommands.isEmpty, "renaming to itself removes the entry")
    }

    func testSetScriptsWhenAllowed() {
        let rig = CoreRig { $0.denyScriptsReconfig = false }
        rig.driver.notExecutable = ["/bin/missing"]
        XCTAssertEqual(rig.command("SENTINEL", "SET", "mymaster", "notification-script", "/bin/missing").reply,
                       .error("ERR Notification script seems non existing or non executable"))
        XCTAssertEqual(rig.command("SENTINEL", "SET", "mymaster", "client-reconfig-script", "/bin/missing").reply,
                       .error("ERR Client reconfiguration script seems non existing or non executable"))
        XCTAssertEqual(rig.command("SENTINEL", "SET", "mymaster", "notification-script", "/bin/ok.sh",
                                   "client-reconfig-script", "/bin/ok.sh").reply, .ok)
        XCTAssertEqual(rig.master.settings.notificationScript, "/bin/ok.sh")
        XCTAssertEqual(field(rig.command("SENTINEL", "MASTER", "mymaster").reply, "client-reconfig-script"), "/bin/ok.sh")
        XCTAssertEqual(rig.command("SENTINEL", "SET", "mymaster", "notification-script", "").reply, .ok)
        XCTAssertNil(rig.master.settings.notificationScript)
    }

    // MARK: - RESET

    func testReset() {
        let rig = CoreRig()
        let l = rig.bringUpMaster()
        rig.feed(.hello(peerHello(epoch: 0, configEpoch: 0)))
        XCTAssertEqual(rig.command("SENTINEL", "RESET", "nomatch*").reply, .integer(0))
        XCTAssertEqual(rig.command("SENTINEL", "RESET", "MYMASTER").reply, .integer(0), "glob is case-sensitive")

        let r = rig.command("SENTINEL", "RESET", "my?aster")
        XCTAssertEqual(r.reply, .integer(1))
        XCTAssertEqual(eventLines(r.effects), ["+reset-master master mymaster 127.0.0.1 6379"])
        XCTAssertTrue(r.effects.contains(.close(l.command)))
        XCTAssertTrue(r.effects.savesConfig)
        XCTAssertTrue(rig.master.replicas.isEmpty)
        XCTAssertTrue(rig.master.sentinels.isEmpty)
        XCTAssertEqual(rig.master.runID, nil)

        _ = rig.command("SENTINEL", "MONITOR", "other", "10.0.0.9", "7000", "1")
        XCTAssertEqual(rig.command("SENTINEL", "RESET", "*").reply, .integer(2))
    }

    // MARK: - IS-MASTER-DOWN-BY-ADDR

    func testIsMasterDownByAddr() {
        let rig = CoreRig()
        let notInteger = RESPValue.error("ERR value is not an integer or out of range")
        XCTAssertEqual(rig.command("SENTINEL", "is-master-down-by-addr", "127.0.0.1", "x", "0", "*").reply, notInteger)
        XCTAssertEqual(rig.command("SENTINEL", "is-master-down-by-addr", "127.0.0.1", "6379", "1.5", "*").reply, notInteger)
        XCTAssertEqual(rig.command("SENTINEL", "is-master-down-by-addr", "127.0.0.1", "99999999999999999999", "0", "*").reply,
                       notInteger)
        XCTAssertEqual(rig.command("SENTINEL", "is-master-down-by-addr", "127.0.0.1", "6379", "0", "*").reply,
                       .array([.integer(0), .bulk("*"), .integer(0)]))

        // A vote request: the vote is saved before it is announced (or replied).
        let vote = rig.command("SENTINEL", "is-master-down-by-addr", "127.0.0.1", "6379", "3", CoreRig.peerID)
        XCTAssertEqual(vote.reply, .array([.integer(0), .bulk(CoreRig.peerID), .integer(3)]))
        XCTAssertLessThan(vote.effects.firstSave!, vote.effects.firstEvent("+vote-for-leader")!)
        XCTAssertEqual(eventLines(vote.effects), ["+new-epoch 3", "+vote-for-leader \(CoreRig.peerID) 3"])
        // One vote per epoch.
        let second = rig.command("SENTINEL", "is-master-down-by-addr", "127.0.0.1", "6379", "3", String(repeating: "e", count: 40))
        XCTAssertEqual(second.reply, .array([.integer(0), .bulk(CoreRig.peerID), .integer(3)]))
        // Looked up by address only.
        XCTAssertEqual(rig.command("SENTINEL", "is-master-down-by-addr", "127.0.0.1", "6390", "4", CoreRig.peerID).reply,
                       .array([.integer(0), .bulk("*"), .integer(0)]))

        rig.tick(until: rig.now + 5001, step: 1000)
        XCTAssertEqual(rig.command("SENTINEL", "is-master-down-by-addr", "127.0.0.1", "6379", "0", "*").reply,
                       .array([.integer(1), .bulk("*"), .integer(0)]))
    }

    // MARK: - FAILOVER

    func testForcedFailover() {
        let rig = CoreRig()
        XCTAssertEqual(rig.command("SENTINEL", "FAILOVER", "nosuch").reply, .error("ERR No such master with that name"))
        XCTAssertEqual(rig.command("SENTINEL", "FAILOVER", "mymaster").reply,
                       .error("NOGOODSLAVE No suitable replica to promote"))

        rig.bringUpMaster()
        let r = rig.bringUpReplica().command
        let failover = rig.command("SENTINEL", "FAILOVER", "mymaster")
        XCTAssertEqual(failover.reply, .ok)
        let slave = "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379"
        XCTAssertEqual(eventLines(failover.effects), [
            "+new-epoch 1",
            "+try-failover master mymaster 127.0.0.1 6379",
            "+vote-for-leader \(CoreRig.myID) 1",
            "+elected-leader master mymaster 127.0.0.1 6379",
            "+failover-state-select-slave master mymaster 127.0.0.1 6379",
            "+selected-slave \(slave)",
            "+failover-state-send-slaveof-noone \(slave)",
            "+failover-state-wait-promotion \(slave)",
        ])
        XCTAssertEqual(sentCommands(failover.effects, on: r), [
            ["MULTI"], ["SLAVEOF", "NO", "ONE"], ["CONFIG", "REWRITE"],
            ["CLIENT", "KILL", "TYPE", "normal"], ["CLIENT", "KILL", "TYPE", "pubsub"], ["EXEC"], ["INFO"],
        ])
        let m = rig.command("SENTINEL", "MASTER", "mymaster").reply
        XCTAssertEqual(keys(m), Self.redisFailoverMasterFields)
        XCTAssertEqual(field(m, "flags"), "master,failover_in_progress,force_failover")
        XCTAssertEqual(field(m, "failover-state"), "wait_promotion")
        XCTAssertEqual(rig.command("SENTINEL", "FAILOVER", "mymaster").reply,
                       .error("INPROG Failover already in progress"))
        XCTAssertEqual(rig.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster").reply,
                       .array([.bulk("127.0.0.1"), .bulk("6379")]))

        // The replica reports itself master: clients are sent to it from now on.
        let promoted = CapturedInfo.replica.replacingOccurrences(of: "role:slave", with: "role:master")
        let e = rig.answer(r) { args in
            switch args[0] {
            case "INFO": return .bulk(promoted)
            case "EXEC": return .array([.ok, .ok, .ok, .integer(0), .integer(0)])
            default: return .simpleString("QUEUED")
            }
        }
        XCTAssertTrue(eventLines(e).contains("+promoted-slave \(slave)"))
        XCTAssertEqual(rig.command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster").reply,
                       .array([.bulk("127.0.0.1"), .bulk("6380")]))
    }

    // MARK: - SIMULATE-FAILURE

    func testSimulateFailure() {
        let rig = CoreRig()
        XCTAssertEqual(rig.command("SENTINEL", "SIMULATE-FAILURE", "help").reply,
                       .array([.bulk("crash-after-election"), .bulk("crash-after-promotion")]))
        XCTAssertEqual(rig.command("SENTINEL", "SIMULATE-FAILURE", "crash").reply,
                       .error("ERR Unknown failure simulation specified"))
        XCTAssertEqual(rig.command("SENTINEL", "SIMULATE-FAILURE", "CRASH-AFTER-ELECTION", "crash-after-promotion").reply, .ok)
        XCTAssertTrue(rig.sentinel.infoSentinelSection(now: rig.now).contains("sentinel_simulate_failure_flags:3\r\n"))
        XCTAssertEqual(rig.command("SENTINEL", "SIMULATE-FAILURE", "crash-after-promotion").reply, .ok)
        XCTAssertEqual(rig.sentinel.simulateFailure, .crashAfterPromotion)

        // Elected with crash-after-election: the process is told to exit.
        rig.bringUpMaster()
        rig.bringUpReplica()
        _ = rig.command("SENTINEL", "SIMULATE-FAILURE", "crash-after-election")
        let e = rig.command("SENTINEL", "FAILOVER", "mymaster").effects
        XCTAssertTrue(e.contains(.exit(code: 99)))
    }

    // MARK: - Wire form

    /// Replies in RESP2, compared with the bytes redis-sentinel 7.0.15 sent for
    /// the same commands (captured live; DEBUG with Redis's timing values).
    func testRESP2BytesMatchCapturedRedisSentinel() {
        let rig = CoreRig()
        rig.feed(.hello(peerHello(epoch: 0, configEpoch: 0)))
        _ = rig.command("SENTINEL", "DEBUG", "ping-period", "1000", "ask-period", "1000")
        let captured: [([String], String)] = [
            (["SENTINEL", "DEBUG"],
             "*26\r\n$11\r\nINFO-PERIOD\r\n$5\r\n10000\r\n$11\r\nPING-PERIOD\r\n$4\r\n1000\r\n$10\r\nASK-PERIOD\r\n$4\r\n1000\r\n"
                + "$14\r\nPUBLISH-PERIOD\r\n$4\r\n2000\r\n$18\r\nDEFAULT-DOWN-AFTER\r\n$5\r\n30000\r\n$24\r\nDEFAULT-FAILOVER-TIMEOUT\r\n"
                + "$6\r\n180000\r\n$12\r\nTILT-TRIGGER\r\n$4\r\n2000\r\n$11\r\nTILT-PERIOD\r\n$5\r\n30000\r\n$20\r\nSLAVE-RECONF-TIMEOUT\r\n"
                + "$5\r\n10000\r\n$25\r\nMIN-LINK-RECONNECT-PERIOD\r\n$5\r\n15000\r\n$16\r\nELECTION-TIMEOUT\r\n$5\r\n10000\r\n"
                + "$18\r\nSCRIPT-MAX-RUNTIME\r\n$5\r\n60000\r\n$18\r\nSCRIPT-RETRY-DELAY\r\n$5\r\n30000\r\n"),
            (["sentinel", "is-master-down-by-addr", "127.0.0.1", "6379", "0", "*"], "*3\r\n:0\r\n$1\r\n*\r\n:0\r\n"),
            (["sentinel", "get-master-addr-by-name", "nosuch"], "*-1\r\n"),
            (["sentinel", "get-master-addr-by-name", "mymaster"], "*2\r\n$9\r\n127.0.0.1\r\n$4\r\n6379\r\n"),
            (["sentinel", "simulate-failure", "help"], "*2\r\n$20\r\ncrash-after-election\r\n$21\r\ncrash-after-promotion\r\n"),
            (["sentinel", "pending-scripts"], "*0\r\n"),
            (["sentinel", "reset", "nomatch*"], ":0\r\n"),
            (["sentinel", "ckquorum", "mymaster"], "+OK 2 usable Sentinels. Quorum and failover authorization can be reached\r\n"),
            (["sentinel", "master", "nosuch"], "-ERR No such master with that name\r\n"),
            (["sentinel", "debug", "info-period", "x"], "-ERR Invalid argument 'x' for SENTINEL DEBUG 'info-period'\r\n"),
            (["sentinel", "config", "set", "announce-port", "x"], "-ERR Invalid value 'x' to SENTINEL CONFIG SET 'announce-port'\r\n"),
        ]
        for (args, bytes) in captured {
            XCTAssertEqual(Self.resp2(rig.command(args).reply), bytes, "\(args)")
        }
        XCTAssertEqual(Self.resp2(rig.sentinel.roleReply()), "*2\r\n$8\r\nsentinel\r\n*1\r\n$8\r\nmymaster\r\n")
    }

    /// RESP2 as redis-server writes it (maps flattened, nulls as `$-1` / `*-1`),
    /// enough for the replies above.
    static func resp2(_ v: RESPValue) -> String {
        switch v {
        case .simpleString(let s): return "+\(s)\r\n"
        case .error(let s): return "-\(s)\r\n"
        case .integer(let n): return ":\(n)\r\n"
        case .bulkString(let b?): return "$\(b.count)\r\n" + String(decoding: b, as: UTF8.self) + "\r\n"
        case .bulkString(nil), .null: return "$-1\r\n"
        case .array(nil): return "*-1\r\n"
        case .array(let a?): return "*\(a.count)\r\n" + a.map(resp2).joined()
        case .map(let p): return "*\(p.count * 2)\r\n" + p.map { resp2($0.key) + resp2($0.value) }.joined()
        default: return "(not used by SENTINEL replies: \(v))"
        }
    }

    // MARK: - Integer parsing

    func testIntegersParseLikeRedis() {
        XCTAssertEqual(Sentinel.parseInteger("0"), 0)
        XCTAssertEqual(Sentinel.parseInteger("-12"), -12)
        XCTAssertEqual(Sentinel.parseInteger("9223372036854775807"), Int64.max)
        XCTAssertEqual(Sentinel.parseInteger("-9223372036854775808"), Int64.min)
        for bad in ["", "-", "+1", "01", "-0", " 1", "1 ", "1.0", "9223372036854775808", "1e3", "0x10"] {
            XCTAssertNil(Sentinel.parseInteger(bad), bad)
        }
    }
}

extension RESPValue {
    /// A PENDING-SCRIPTS entry: `argv` first, then bulk-string fields.
    static func bulkMapWithArgv(_ argv: RESPValue, _ fields: [(String, String)]) -> RESPValue {
        .map([RESPPair(.bulk("argv"), argv)] + fields.map { RESPPair(.bulk($0.0), .bulk($0.1)) })
    }
}
