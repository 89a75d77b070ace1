import XCTest
@testable import Configuration
import SentinelCore

final class ConfigParserTests: XCTestCase {
    let myid = String(repeating: "a", count: 40)
    let peerID = String(repeating: "b", count: 40)

    private func parse(_ text: String, isExecutable: (String) -> Bool = { _ in true }) throws -> SentinelConfig {
        try ConfigParser.parse(text, file: "test.conf", isExecutable: isExecutable)
    }

    /// Asserts that `text` is refused at `line` with `reason`.
    private func assertError(
        _ text: String, line: Int, _ reason: String,
        isExecutable: (String) -> Bool = { _ in true },
        file: StaticString = #filePath, sourceLine: UInt = #line
    ) {
        do {
            _ = try ConfigParser.parse(text, file: "test.conf", isExecutable: isExecutable)
            XCTFail("expected an error: \(reason)", file: file, line: sourceLine)
        } catch {
            XCTAssertEqual(error.file, "test.conf", file: file, line: sourceLine)
            XCTAssertEqual(error.line, line, "line", file: file, line: sourceLine)
            XCTAssertEqual(error.reason, reason, file: file, line: sourceLine)
        }
    }

    // MARK: - Lexing

    func testSplitArgumentsFollowsSdssplitargs() {
        XCTAssertEqual(ConfigParser.splitArguments("  a  b\tc  "), ["a", "b", "c"])
        XCTAssertEqual(ConfigParser.splitArguments(""), [])
        XCTAssertEqual(ConfigParser.splitArguments("\"a b\" 'c d'"), ["a b", "c d"])
        XCTAssertEqual(ConfigParser.splitArguments(#""\n\r\t\b\a\\\"\x41\x7a\q""#),
                       ["\n\r\t\u{8}\u{7}\\\"Azq"])
        XCTAssertEqual(ConfigParser.splitArguments(#"'it\'s' '\n'"#), ["it's", "\\n"])
        XCTAssertEqual(ConfigParser.splitArguments("ab\"c d\""), ["abc d"], "a quote opens mid-token")
        XCTAssertEqual(ConfigParser.splitArguments("a\\b"), ["a\\b"], "no escapes outside quotes")
        XCTAssertEqual(ConfigParser.splitArguments("\"\""), [""])
        XCTAssertEqual(ConfigParser.splitArguments("\"\\xc3\\xa9\""), ["é"])
        XCTAssertNil(ConfigParser.splitArguments("\"abc"))
        XCTAssertNil(ConfigParser.splitArguments("'abc"))
        XCTAssertNil(ConfigParser.splitArguments("\"abc\"d"), "closing quote must end the token")
        XCTAssertNil(ConfigParser.splitArguments("'abc'd"))
    }

    func testNormalizedIP() {
        XCTAssertEqual(IPAddress.normalizeNumericHost("127.0.0.1"), "127.0.0.1")
        XCTAssertEqual(IPAddress.normalizeNumericHost("0:0::1"), "::1")
        XCTAssertEqual(IPAddress.normalizeNumericHost("FE80::A"), "fe80::a")
        XCTAssertNil(IPAddress.normalizeNumericHost("localhost"))
        XCTAssertNil(IPAddress.normalizeNumericHost("256.1.1.1"))
        XCTAssertNil(IPAddress.normalizeNumericHost(""))
    }

    // MARK: - Defaults and server directives

    func testEmptyFileGivesDefaults() throws {
        let config = try parse("# only a comment\n\n   \n\t# indented comment\n")
        XCTAssertEqual(config, SentinelConfig())
        XCTAssertEqual(config.port, 26379)
        XCTAssertEqual(config.bind, [])
        XCTAssertNil(config.dir)
        XCTAssertEqual(config.logfile, "")
        XCTAssertNil(config.pidfile)
        XCTAssertFalse(config.daemonize)
        XCTAssertNil(config.requirepass)
        XCTAssertEqual(config.loglevel, .notice)
        XCTAssertEqual(config.maxclients, 10_000)
        XCTAssertNil(config.myid)
        XCTAssertEqual(config.currentEpoch, 0)
        XCTAssertNil(config.announceIP)
        XCTAssertEqual(config.announcePort, 0)
        XCTAssertFalse(config.resolveHostnames)
        XCTAssertFalse(config.announceHostnames)
        XCTAssertTrue(config.denyScriptsReconfig)
        XCTAssertNil(config.sentinelUser)
        XCTAssertNil(config.sentinelPass)
        XCTAssertEqual(config.masters, [])
    }

    func testServerDirectives() throws {
        let config = try parse("""
            PORT 26380
            bind 127.0.0.1 ::1
            dir "/var/lib/redis sentinel"
            logfile /var/log/warden.log
            pidfile /run/warden.pid
            daemonize YES
            requirepass "s3cret pass"
            protected-mode no
            LogLevel Verbose
            maxclients 64
            """)
        XCTAssertEqual(config.port, 26380)
        XCTAssertEqual(config.bind, ["127.0.0.1", "::1"])
        XCTAssertEqual(config.dir, "/var/lib/redis sentinel")
        XCTAssertEqual(config.logfile, "/var/log/warden.log")
        XCTAssertEqual(config.pidfile, "/run/warden.pid")
        XCTAssertTrue(config.daemonize)
        XCTAssertEqual(config.requirepass, "s3cret pass")
        XCTAssertFalse(config.protectedMode)
        XCTAssertEqual(config.loglevel, .verbose)
        XCTAssertEqual(config.maxclients, 64)
    }

    func testServerDirectiveDetails() throws {
        XCTAssertEqual(try parse("bind \"127.0.0.1 -::1\"").bind, ["127.0.0.1", "-::1"])
        XCTAssertNil(try parse("requirepass \"\"").requirepass)
        XCTAssertNil(try parse("pidfile \"\"").pidfile)
        XCTAssertEqual(try parse("logfile \"\"").logfile, "")
        XCTAssertEqual(try parse("loglevel nothing").loglevel, .nothing)
        XCTAssertEqual(try parse("port 0").port, 0)
        XCTAssertEqual(try parse("port 1\nport 2").port, 2, "the last line wins")
        XCTAssertEqual(try parse("port 26381\r\n").port, 26381, "CRLF files")
    }

    func testIgnoredDirectivesFromRealFilesAreAccepted() throws {
        let config = try parse("""
            tcp-keepalive 300
            tcp-backlog 511
            timeout 0
            unixsocket /run/redis/sentinel.sock
            unixsocketperm 700
            syslog-enabled no
            syslog-ident redis-sentinel
            always-show-logo no
            set-proc-title yes
            proc-title-template "{title} {listen-addr} {server-mode}"
            locale-collate ""
            enable-debug-command no
            hz 10
            latency-tracking-info-percentiles 50 99 99.9
            save ""
            user default on nopass sanitize-payload ~* &* +@all
            acllog-max-len 128
            supervised systemd
            sentinel
            """)
        XCTAssertEqual(config, SentinelConfig())
    }

    func testStockSentinelConfLoads() throws {
        let config = try parse("""
            # Example sentinel.conf
            protected-mode no
            port 26379
            daemonize no
            pidfile /var/run/redis-sentinel.pid
            loglevel notice
            logfile ""
            dir /tmp
            sentinel monitor mymaster 127.0.0.1 6379 2
            sentinel down-after-milliseconds mymaster 30000
            acllog-max-len 128
            sentinel parallel-syncs mymaster 1
            sentinel failover-timeout mymaster 180000
            sentinel deny-scripts-reconfig yes
            SENTINEL resolve-hostnames no
            SENTINEL announce-hostnames no
            SENTINEL master-reboot-down-after-period mymaster 0
            """)
        XCTAssertEqual(config.masters.map(\.name), ["mymaster"])
        XCTAssertEqual(config.masters[0].address, Address("127.0.0.1", 6379))
        XCTAssertEqual(config.masters[0].quorum, 2)
        XCTAssertEqual(config.dir, "/tmp")
        XCTAssertFalse(config.protectedMode)
    }

    func testFileRewrittenByRedisLoads() throws {
        // Written by redis-sentinel 7.0.15 after discovering a replica and a peer.
        let config = try parse("""
            port 26392
            sentinel monitor mm 127.0.0.1 6391 2
            sentinel down-after-milliseconds mm 2000

            # Generated by CONFIG REWRITE
            protected-mode no
            dir "/tmp/rs"
            latency-tracking-info-percentiles 50 99 99.9
            user default on nopass ~* &* +@all
            sentinel myid 9bdb202c4257c74c9409ce31c51e660b67cd66f6
            sentinel config-epoch mm 0
            sentinel leader-epoch mm 0
            sentinel current-epoch 0

            sentinel known-replica mm 127.0.0.1 6392

            sentinel known-sentinel mm 127.0.0.1 26393 db29cd580f8dfd32b07ef5a0644ae9e2d5bcfa63

            """)
        XCTAssertEqual(config.myid, "9bdb202c4257c74c9409ce31c51e660b67cd66f6")
        XCTAssertEqual(config.dir, "/tmp/rs")
        XCTAssertEqual(config.masters[0].downAfter, 2000)
        XCTAssertEqual(config.masters[0].knownReplicas, [Address("127.0.0.1", 6392)])
        XCTAssertEqual(config.masters[0].knownSentinels,
                       [KnownSentinel(address: Address("127.0.0.1", 26393),
                                      runID: "db29cd580f8dfd32b07ef5a0644ae9e2d5bcfa63")])
    }

    func testServerDirectiveErrors() {
        assertError("port 26379\nfoo bar", line: 2, "Bad directive or wrong number of arguments")
        assertError("include /etc/other.conf", line: 1,
                    "Fatal error, can't open config file '/etc/other.conf': No such file or directory")
        assertError("port", line: 1, "wrong number of arguments")
        assertError("port 1 2", line: 1, "wrong number of arguments")
        assertError("port 26379 # comment", line: 1, "wrong number of arguments")
        assertError("port abc", line: 1, "argument couldn't be parsed into an integer")
        assertError("port 65536", line: 1, "argument must be between 0 and 65535 inclusive")
        assertError("port -1", line: 1, "argument must be between 0 and 65535 inclusive")
        assertError("maxclients 0", line: 1, "argument must be between 1 and 4294967295 inclusive")
        assertError("daemonize maybe", line: 1, "argument must be 'yes' or 'no'")
        assertError("protected-mode 1", line: 1, "argument must be 'yes' or 'no'")
        assertError("loglevel loud", line: 1,
                    "argument(s) must be one of the following: debug, verbose, notice, warning, nothing")
        assertError("bind " + Array(repeating: "127.0.0.1", count: 17).joined(separator: " "),
                    line: 1, "Too many bind addresses specified.")
        assertError("dir \"\"", line: 1, "No such file or directory")
        assertError("timeout", line: 1, "wrong number of arguments")
        assertError("tls-port 1 2", line: 1, "wrong number of arguments")
        assertError("save 1", line: 1, "Invalid save parameters")
        assertError("\n\nrequirepass \"abc", line: 3, "Unbalanced quotes in configuration line")
        assertError("logfile 'a'b", line: 1, "Unbalanced quotes in configuration line")
    }

    func testErrorCarriesTrimmedLineAndFormats() {
        do {
            _ = try ConfigParser.parse("# c\n   port   abc  \r\n", file: "test.conf")
            XCTFail("expected an error")
        } catch {
            XCTAssertEqual(error, ConfigError(file: "test.conf", line: 2, lineText: "port   abc",
                                              reason: "argument couldn't be parsed into an integer"))
            XCTAssertEqual(error.description, "test.conf:2: argument couldn't be parsed into an integer")
            XCTAssertEqual(error.redisStyleReport, """

                *** FATAL CONFIG FILE ERROR ***
                Reading the configuration file, at line 2
                >>> 'port   abc'
                argument couldn't be parsed into an integer

                """)
        }
    }

    // MARK: - Sentinel directives

    func testEverySentinelDirective() throws {
        let config = try parse("""
            sentinel myid \(myid)
            sentinel current-epoch 7
            sentinel announce-ip 10.0.0.9
            sentinel announce-port 26400
            sentinel deny-scripts-reconfig no
            sentinel sentinel-user watcher
            sentinel sentinel-pass "p w"
            sentinel resolve-hostnames yes
            sentinel announce-hostnames yes
            sentinel monitor mymaster 10.0.0.1 6379 2
            sentinel down-after-milliseconds mymaster 5000
            sentinel failover-timeout mymaster 60000
            sentinel parallel-syncs mymaster 3
            sentinel notification-script mymaster /usr/local/bin/notify.sh
            sentinel client-reconfig-script mymaster /usr/local/bin/reconfig.sh
            sentinel auth-pass mymaster masterpw
            sentinel auth-user mymaster admin
            sentinel master-reboot-down-after-period mymaster 12000
            sentinel config-epoch mymaster 5
            sentinel leader-epoch mymaster 6
            sentinel known-replica mymaster 10.0.0.2 6379
            sentinel known-slave mymaster 10.0.0.3 6380
            sentinel known-sentinel mymaster 10.0.0.4 26379 \(peerID)
            sentinel rename-command mymaster CONFIG my-config
            sentinel rename-command mymaster slaveof my-slaveof
            """)
        XCTAssertEqual(config.myid, myid)
        XCTAssertEqual(config.currentEpoch, 7)
        XCTAssertEqual(config.announceIP, "10.0.0.9")
        XCTAssertEqual(config.announcePort, 26400)
        XCTAssertFalse(config.denyScriptsReconfig)
        XCTAssertEqual(config.sentinelUser, "watcher")
        XCTAssertEqual(config.sentinelPass, "p w")
        XCTAssertTrue(config.resolveHostnames)
        XCTAssertTrue(config.announceHostnames)

        XCTAssertEqual(config.masters.count, 1)
        let m = config.masters[0]
        XCTAssertEqual(m.name, "mymaster")
        XCTAssertEqual(m.address, Address("10.0.0.1", 6379))
        XCTAssertEqual(m.quorum, 2)
        XCTAssertEqual(m.downAfter, 5000)
        XCTAssertEqual(m.failoverTimeout, 60000)
        XCTAssertEqual(m.parallelSyncs, 3)
        XCTAssertEqual(m.notificationScript, "/usr/local/bin/notify.sh")
        XCTAssertEqual(m.clientReconfigScript, "/usr/local/bin/reconfig.sh")
        XCTAssertEqual(m.authPass, "masterpw")
        XCTAssertEqual(m.authUser, "admin")
        XCTAssertEqual(m.masterRebootDownAfterPeriod, 12000)
        XCTAssertEqual(m.configEpoch, 5)
        XCTAssertEqual(m.leaderEpoch, 6)
        XCTAssertEqual(m.knownReplicas, [Address("10.0.0.2", 6379), Address("10.0.0.3", 6380)])
        XCTAssertEqual(m.knownSentinels, [KnownSentinel(address: Address("10.0.0.4", 26379), runID: peerID)])
        XCTAssertEqual(m.renamedCommands.map(\.original), ["config", "slaveof"])
        XCTAssertEqual(m.renamedCommands.map(\.renamed), ["my-config", "my-slaveof"])
    }

    func testMasterDefaults() throws {
        let m = try parse("sentinel monitor m 127.0.0.1 6379 1").masters[0]
        XCTAssertEqual(m, MasterConfig(name: "m", address: Address("127.0.0.1", 6379), quorum: 1))
        XCTAssertEqual(m.downAfter, 30_000)
        XCTAssertEqual(m.failoverTimeout, 180_000)
        XCTAssertEqual(m.parallelSyncs, 1)
        XCTAssertNil(m.notificationScript)
        XCTAssertNil(m.clientReconfigScript)
        XCTAssertNil(m.authPass)
        XCTAssertNil(m.authUser)
        XCTAssertEqual(m.masterRebootDownAfterPeriod, 0)
        XCTAssertEqual(m.configEpoch, 0)
        XCTAssertEqual(m.leaderEpoch, 0)
        XCTAssertEqual(m.knownReplicas, [])
        XCTAssertEqual(m.knownSentinels, [])
        XCTAssertTrue(m.renamedCommands.isEmpty)
    }

    func testOrderIndependence() throws {
        let config = try parse("""
            sentinel known-replica b 127.0.0.1 7001
            sentinel config-epoch a 3
            sentinel down-after-milliseconds b 1000
            sentinel monitor a 127.0.0.1 6379 2
            sentinel known-sentinel a 127.0.0.1 26380 \(myid)
            sentinel monitor b 127.0.0.1 7000 1
            sentinel myid \(myid)
            port 26390
            """)
        XCTAssertEqual(config.masters.map(\.name), ["a", "b"], "masters in monitor-line order")
        XCTAssertEqual(config.masters[0].configEpoch, 3)
        XCTAssertEqual(config.masters[1].downAfter, 1000)
        XCTAssertEqual(config.masters[1].knownReplicas, [Address("127.0.0.1", 7001)])
        XCTAssertEqual(config.masters[0].knownSentinels, [], "our own myid is never a peer")
        XCTAssertEqual(config.port, 26390)
        XCTAssertEqual(config.currentEpoch, 3, "a config epoch raises the current epoch")
    }

    func testSentinelSubcommandsAreCaseInsensitiveButNamesAreNot() throws {
        let config = try parse("""
            SENTINEL MONITOR Master 127.0.0.1 6379 2
            Sentinel Down-After-Milliseconds Master 100
            """)
        XCTAssertEqual(config.masters[0].downAfter, 100)
        assertError("sentinel monitor Master 127.0.0.1 6379 2\nsentinel auth-pass master x",
                    line: 2, "No such master with specified name.")
    }

    func testEpochsAndSettingsDetails() throws {
        XCTAssertEqual(try parse("sentinel current-epoch 9\nsentinel current-epoch 4").currentEpoch, 9,
                       "the current epoch only grows")
        XCTAssertNil(try parse("sentinel announce-ip \"\"").announceIP, "empty means unset")
        XCTAssertNil(try parse("sentinel sentinel-user \"\"").sentinelUser)
        XCTAssertNil(try parse("sentinel sentinel-pass \"\"").sentinelPass)
        XCTAssertEqual(try parse("sentinel monitor m ::1 6379 1").masters[0].address, Address("::1", 6379))
        XCTAssertEqual(try parse("sentinel monitor m 0:0::1 6379 1").masters[0].address, Address("::1", 6379))
        XCTAssertEqual(try parse("sentinel monitor \"my master\" 127.0.0.1 6379 1").masters[0].name,
                       "my master")
        XCTAssertEqual(try parse("sentinel monitor m 127.0.0.1 6379 1\nsentinel known-sentinel m 127.0.0.1 26380")
                        .masters[0].knownSentinels, [], "the old form without runid is ignored")
        XCTAssertEqual(try parse("sentinel known-sentinel nosuch 127.0.0.1 26380").masters, [],
                       "the old form is ignored even for an unknown master")
    }

    func testHostnamesNeedResolveHostnames() throws {
        assertError("sentinel monitor m redis-1 6379 2", line: 1, "Can't resolve instance hostname.")
        let config = try parse("""
            sentinel monitor m redis-1.example 6379 2
            sentinel known-replica m redis_2 6379
            sentinel resolve-hostnames yes
            """)
        XCTAssertEqual(config.masters[0].address, Address("redis-1.example", 6379))
        XCTAssertEqual(config.masters[0].knownReplicas, [Address("redis_2", 6379)])
        assertError("sentinel resolve-hostnames yes\nsentinel monitor m bad..name 6379 2",
                    line: 2, "Can't resolve instance hostname.")
    }

    func testScriptsMustBeExecutable() throws {
        let onlyNotify: (String) -> Bool = { $0 == "/bin/notify" }
        let config = try parse("""
            sentinel monitor m 127.0.0.1 6379 2
            sentinel notification-script m /bin/notify
            """, isExecutable: onlyNotify)
        XCTAssertEqual(config.masters[0].notificationScript, "/bin/notify")
        assertError("sentinel monitor m 127.0.0.1 6379 2\nsentinel notification-script m /bin/missing",
                    line: 2, "Notification script seems non existing or non executable.",
                    isExecutable: onlyNotify)
        assertError("sentinel monitor m 127.0.0.1 6379 2\nsentinel client-reconfig-script m /bin/missing",
                    line: 2, "Client reconfiguration script seems non existing or non executable.",
                    isExecutable: onlyNotify)
    }

    func testSentinelErrors() {
        let monitor = "sentinel monitor m 127.0.0.1 6379 2\n"
        assertError("sentinel monitor m 127.0.0.1 6379 0", line: 1, "Quorum must be 1 or greater.")
        assertError("sentinel monitor m 127.0.0.1 6379 -2", line: 1, "Quorum must be 1 or greater.")
        assertError("sentinel monitor m 127.0.0.1 6379 two", line: 1,
                    "Invalid quorum 'two': an integer is expected.")
        assertError("sentinel monitor m 127.0.0.1 65536 2", line: 1, "Invalid port number.")
        assertError("sentinel monitor m 127.0.0.1 0 2", line: 1, "Invalid port number.")
        assertError("sentinel monitor m 127.0.0.1 63x 2", line: 1, "Invalid port number.")
        assertError("sentinel monitor m 999.0.0.1 6379 2", line: 1, "Can't resolve instance hostname.")
        assertError(monitor + "sentinel monitor m 127.0.0.2 6379 2", line: 2, "Duplicate master name.")
        assertError("sentinel monitor m 127.0.0.1 6379", line: 1,
                    "Wrong number of arguments for 'sentinel monitor': expected "
                    + "'sentinel monitor <master-name> <ip> <redis-port> <quorum>'.")
        assertError("sentinel myid abc", line: 1, "Malformed Sentinel id in myid option.")
        assertError("sentinel myid " + myid + "0", line: 1, "Malformed Sentinel id in myid option.")
        assertError("sentinel frobnicate m", line: 1, "Unrecognized sentinel configuration statement.")
        assertError("sentinel down-after-milliseconds nosuch 100", line: 1, "No such master with specified name.")
        assertError(monitor + "sentinel down-after-milliseconds m 0", line: 2, "negative or zero time parameter.")
        assertError(monitor + "sentinel down-after-milliseconds m soon", line: 2,
                    "Invalid down-after-milliseconds 'soon': a number of milliseconds is expected.")
        assertError(monitor + "sentinel failover-timeout m -5", line: 2, "negative or zero time parameter.")
        assertError(monitor + "sentinel parallel-syncs m 0", line: 2, "parallel-syncs must be 1 or greater.")
        assertError(monitor + "sentinel parallel-syncs m x", line: 2,
                    "Invalid parallel-syncs 'x': an integer is expected.")
        assertError(monitor + "sentinel master-reboot-down-after-period m -1", line: 2, "negative time parameter.")
        assertError(monitor + "sentinel config-epoch m -1", line: 2,
                    "Invalid config-epoch '-1': an unsigned integer is expected.")
        assertError(monitor + "sentinel leader-epoch m x", line: 2,
                    "Invalid leader-epoch 'x': an unsigned integer is expected.")
        assertError("sentinel current-epoch x", line: 1,
                    "Invalid current-epoch 'x': an unsigned integer is expected.")
        assertError(monitor + "sentinel known-replica m 127.0.0.1 7000\nsentinel known-slave m 127.0.0.1 7000",
                    line: 3, "Duplicate hostname and port for replica.")
        assertError(monitor + "sentinel known-replica m 127.0.0.1 99999", line: 2, "Invalid port number.")
        assertError(monitor + "sentinel known-sentinel m 127.0.0.1 26380 \(peerID)\n"
                    + "sentinel known-sentinel m 127.0.0.2 26380 \(peerID)",
                    line: 3, "Duplicate runid for sentinel.")
        assertError(monitor + "sentinel rename-command m config a\nsentinel rename-command m CONFIG b",
                    line: 3, "Same command renamed multiple times with rename-command.")
        assertError(monitor + "sentinel auth-pass m", line: 2,
                    "Wrong number of arguments for 'sentinel auth-pass': expected "
                    + "'sentinel auth-pass <master-name> <password>'.")
        assertError("sentinel announce-port 70000", line: 1, "Invalid port number.")
        assertError("sentinel deny-scripts-reconfig maybe", line: 1,
                    "Please specify yes or no for the deny-scripts-reconfig options.")
        assertError("sentinel resolve-hostnames 1", line: 1,
                    "Please specify yes or no for the resolve-hostnames option.")
        assertError("sentinel announce-hostnames 0", line: 1,
                    "Please specify yes or no for the announce-hostnames option.")
    }

    func testErrorsComeInRedisProcessingOrder() {
        // Server directives are read in the first pass, so they fail first.
        assertError("sentinel frobnicate\nport x", line: 2, "argument couldn't be parsed into an integer")
        // Then global sentinel settings, then monitor lines, then the rest.
        assertError("sentinel auth-pass nosuch x\nsentinel monitor m 127.0.0.1 6379 0\nsentinel myid x",
                    line: 3, "Malformed Sentinel id in myid option.")
        assertError("sentinel auth-pass nosuch x\nsentinel monitor m 127.0.0.1 6379 0",
                    line: 2, "Quorum must be 1 or greater.")
    }
}
