import Foundation
import XCTest
@testable import Configuration
import SentinelCore
import WardenACL

/// The redis-server directive table: every directive redis-server 7.0.15 accepts loads,
/// with Redis's checks and error texts (taken from redis-sentinel 7.0.15 on the same
/// lines), and the directives that mean something to a sentinel are applied.
final class DirectiveTableTests: XCTestCase {
    /// Tests/fixtures, next to this test's directory.
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("fixtures")

    private func load(_ text: String, environment: ConfigEnvironment = .pure) throws(ConfigError) -> LoadedConfig {
        try ConfigParser.load(text, file: "t.conf", environment: environment)
    }

    private func reason(_ text: String, environment: ConfigEnvironment = .pure) -> String? {
        do throws(ConfigError) {
            _ = try load(text, environment: environment)
            return nil
        } catch {
            return error.reason
        }
    }

    /// Directives the fixture leaves out because they act on the process; each is
    /// covered by a test below.
    static let coveredHere: Set<String> = [
        "port", "bind", "dir", "logfile", "pidfile", "daemonize", "unixsocket", "aclfile", "requirepass",
    ]

    func testFixtureLoadsAndCoversEveryDirective() throws {
        let text = try String(contentsOf: Self.fixtures.appendingPathComponent("redis-directives.conf"), encoding: .utf8)
        XCTAssertNoThrow(try load(text))
        var named = Set<String>()
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            if let first = line.split(separator: " ").first { named.insert(first.lowercased()) }
        }
        for spec in ConfigParser.directiveList {
            for name in [spec.name] + (spec.alias.map { [$0] } ?? []) {
                XCTAssertTrue(named.contains(name) || Self.coveredHere.contains(name), "fixture lacks \(name)")
            }
        }
        XCTAssertEqual(ConfigParser.directiveList.count, 178, "redis-server 7.0.15 has 178 (TLS build)")
    }

    /// Redis 7.0.15's own redis.conf and sentinel.conf when the redis/redis mirror is
    /// at hand (REDIS_MIRROR), and Debian's installed files when present.
    func testRealFilesLoad() throws {
        var files: [(String, String)] = []
        for path in ["/etc/redis/redis.conf", "/etc/redis/sentinel.conf"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8) { files.append((path, text)) }
        }
        if let mirror = ProcessInfo.processInfo.environment["REDIS_MIRROR"] {
            for name in ["redis.conf", "sentinel.conf"] {
                let git = Process()
                git.executableURL = URL(fileURLWithPath: "/usr/bin/git")
                git.arguments = ["-C", mirror, "show", "7.0.15:\(name)"]
                let pipe = Pipe()
                git.standardOutput = pipe
                try git.run()
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                git.waitUntilExit()
                if git.terminationStatus == 0 { files.append(("7.0.15:\(name)", String(decoding: data, as: UTF8.self))) }
            }
        }
        if files.isEmpty { throw XCTSkip("neither /etc/redis nor REDIS_MIRROR has the files") }
        for (name, text) in files {
            XCTAssertNoThrow(try ConfigParser.load(text, file: name), name)
        }
    }

    func testErrorsAsRedisWordsThem() {
        let cases: [(String, String)] = [
        ("daemonize maybe", "argument must be 'yes' or 'no'"),
        ("rdbcompression 1", "argument must be 'yes' or 'no'"),
        ("databases 0", "argument must be between 1 and 2147483647 inclusive"),
        ("databases abc", "argument couldn't be parsed into an integer"),
        ("databases 01", "argument couldn't be parsed into an integer"),
        ("port 65536", "argument must be between 0 and 65535 inclusive"),
        ("port -1", "argument must be between 0 and 65535 inclusive"),
        ("maxclients 0", "argument must be between 1 and 4294967295 inclusive"),
        ("maxclients -1", "argument must be between 1 and 4294967295 inclusive"),
        ("maxmemory 1tb", "argument must be a memory value"),
        ("maxmemory -1", "argument must be a memory value"),
        ("maxmemory 1.5gb", "argument must be a memory value"),
        ("maxmemory-clients 101%", "percentage argument must be less or equal to 100"),
        ("maxmemory-clients -5", "argument must be a memory or percent value"),
        ("maxmemory-clients x%", "argument must be a memory or percent value"),
        ("unixsocketperm 999", "argument couldn't be parsed as an octal number"),
        ("unixsocketperm 1000", "argument must be between 0 and 777 inclusive"),
        ("timeout -1", "argument must be between 0 and 2147483647 inclusive"),
        ("hz x", "argument couldn't be parsed into an integer"),
        ("slowlog-log-slower-than -2", "argument must be between -1 and 9223372036854775807 inclusive"),
        ("slowlog-max-len -1", "argument must be between 0 and 9223372036854775807 inclusive"),
        ("proto-max-bulk-len 1000", "argument must be between 1048576 and 9223372036854775807 inclusive"),
        ("loglevel loud", "argument(s) must be one of the following: debug, verbose, notice, warning, nothing"),
        ("supervised maybe", "argument(s) must be one of the following: upstart, systemd, auto, no"),
        ("shutdown-on-sigint save nosave", "shutdown options SAVE and NOSAVE can't be used simultaneously"),
        ("shutdown-on-sigint loud", "argument(s) must be one of the following: default, save, nosave, now, force"),
        ("appendfsync", "wrong number of arguments"),
        ("appendfsync a b", "wrong number of arguments"),
        ("dbfilename a/b", "dbfilename can't be a path, just a filename"),
        ("appendfilename \"\"", "appendfilename can't be empty"),
        ("appendfilename a/b", "appendfilename can't be a path, just a filename"),
        ("appenddirname \"\"", "appenddirname can't be empty"),
        ("appenddirname a/b", "appenddirname can't be a path, just a dirname"),
        ("cluster-announce-hostname a_b", "Hostnames may only contain alphanumeric characters, hyphens or dots"),
        ("proc-title-template \"{title}\"", "template format is invalid or contains unknown variables"),
        ("proc-title-template \"{nope}\"", "template format is invalid or contains unknown variables"),
        ("proc-title-template \"{title\"", "template format is invalid or contains unknown variables"),
        ("save 1", "Invalid save parameters"),
        ("save 0 1", "Invalid save parameters"),
        ("save 10 -1", "Invalid save parameters"),
        ("save x 1", "Invalid save parameters"),
        ("client-output-buffer-limit normal 0 0", "Wrong number of arguments in buffer limit configuration."),
        ("client-output-buffer-limit master 0 0 0", "Invalid client class specified in buffer limit configuration."),
        ("client-output-buffer-limit normal x 0 0", "Error in hard, soft or soft_seconds setting in buffer limit configuration."),
        ("client-output-buffer-limit normal 0 0 -1", "Error in hard, soft or soft_seconds setting in buffer limit configuration."),
        ("oom-score-adj-values 0 200", "wrong number of arguments"),
        ("oom-score-adj-values 0 200 3000", "Invalid oom-score-adj-values, elements must be between -2000 and 2000."),
        ("notify-keyspace-events Q", "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."),
        ("notify-keyspace-events a b", "wrong number of arguments"),
        ("replicaof 127.0.0.1", "wrong number of arguments"),
        ("replicaof 127.0.0.1 x", "Invalid master port"),
        ("latency-tracking-info-percentiles x", "Invalid latency-tracking-info-percentiles parameters"),
        ("latency-tracking-info-percentiles 101", "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"),
        ("bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", "Too many bind addresses specified."),
        ("rename-command nope x", "No such command in rename-command"),
        ("rename-command ping auth", "Target command name already exists"),
        ("rename-command ping", "Bad directive or wrong number of arguments"),
        ("include", "Bad directive or wrong number of arguments"),
        ("user", "Bad directive or wrong number of arguments"),
        ("user a b c #abc", "Error in user declaration 'a': Syntax error"),
        ("user alice on >p (+ping", "Error in user declaration 'alice': Unmatched parenthesis in acl selector"),
        ("loadmodule", "Bad directive or wrong number of arguments"),
        ("a.b", "Module config specified without value"),
        ("list-max-ziplist-entries 1 2", "Bad directive or wrong number of arguments"),
        ("lua-replicate-commands", "Bad directive or wrong number of arguments"),
        ("tcp-backlog -1", "argument must be between 0 and 2147483647 inclusive"),
        ("io-threads 129", "argument must be between 1 and 128 inclusive"),
        ("active-expire-effort 11", "argument must be between 1 and 10 inclusive"),
        ]
        for (line, expected) in cases {
            XCTAssertEqual(reason(line + "\nsentinel monitor m 127.0.0.1 1 2"), expected, line)
        }
    }

    func testMisspelledDirectiveFailsWithFileAndLine() {
        do throws(ConfigError) {
            _ = try ConfigParser.load("port 26379\nmaxmemroy 1gb\n", file: "s.conf")
            XCTFail("accepted a misspelled directive")
        } catch {
            XCTAssertEqual(error.description, "s.conf:2: Bad directive or wrong number of arguments")
        }
    }

    func testMemoryUnitsAndNumberForms() throws {
        typealias P = ConfigParser
        XCTAssertEqual(P.memoryValue("1gb"), 1 << 30)
        XCTAssertEqual(P.memoryValue("1G"), 1_000_000_000)
        XCTAssertEqual(P.memoryValue("100mb"), 100 << 20)
        XCTAssertEqual(P.memoryValue("5k"), 5000)
        XCTAssertEqual(P.memoryValue("5KB"), 5120)
        XCTAssertEqual(P.memoryValue("7b"), 7)
        XCTAssertNil(P.memoryValue("gb"), "Redis takes this as 0; Warden refuses it")
        XCTAssertNil(P.memoryValue(""))
        XCTAssertNil(P.memoryValue("99999999999999999999gb"), "overflow is refused")
        XCTAssertEqual(P.strictInteger("-5"), -5)
        XCTAssertNil(P.strictInteger("+5"))
        XCTAssertNil(P.strictInteger("-0"))
        XCTAssertNil(P.strictInteger(" 5"))
        XCTAssertEqual(P.octalValue("0777"), 0o777)
        XCTAssertNil(P.octalValue(""))
        XCTAssertEqual(reason("maxmemory 18446744073709551615"), nil)
        XCTAssertEqual(reason("maxmemory 18446744073709551616"), "argument must be a memory value")
        XCTAssertEqual(reason("maxclients 4294967296"), "argument must be between 1 and 4294967295 inclusive")
        XCTAssertEqual(reason("unixsocketperm -1"), "argument must be between 0 and 777 inclusive")
        XCTAssertEqual(reason("slowlog-max-len 9223372036854775808"), "argument couldn't be parsed into an integer")
    }

    func testAppliedServerSettings() throws {
        let loaded = try load("""
            timeout 30
            tcp-keepalive 0
            tcp-backlog 128
            unixsocket /tmp/warden.sock
            unixsocketperm 770
            client-output-buffer-limit pubsub 1mb 256kb 5 normal 64mb 0 0
            client-output-buffer-limit slave 1gb 512mb 120
            enable-debug-command local
            enable-protected-configs yes
            acllog-max-len 7
            acl-pubsub-default allchannels
            maxclients 50
            rename-command ping hello2
            rename-command role ""
            rename-command hello2 ping2
            bind "127.0.0.1 -::1"
            """)
        let s = loaded.server
        XCTAssertEqual(s.timeout, 30)
        XCTAssertEqual(s.tcpKeepalive, 0)
        XCTAssertEqual(s.tcpBacklog, 128)
        XCTAssertEqual(s.unixSocket, "/tmp/warden.sock")
        XCTAssertEqual(s.unixSocketPerm, 0o770)
        XCTAssertEqual(s.outputBufferLimits[.pubsub], OutputBufferLimit(hard: 1 << 20, soft: 256 << 10, softSeconds: 5))
        XCTAssertEqual(s.outputBufferLimits[.normal], OutputBufferLimit(hard: 64 << 20, soft: 0, softSeconds: 0))
        XCTAssertEqual(s.outputBufferLimits[.replica], OutputBufferLimit(hard: 1 << 30, soft: 512 << 20, softSeconds: 120))
        XCTAssertEqual(s.enableDebugCommand, .local)
        XCTAssertEqual(s.enableProtectedConfigs, .yes)
        XCTAssertEqual(s.acllogMaxLen, 7)
        XCTAssertTrue(s.aclPubsubDefaultAllChannels)
        XCTAssertEqual(loaded.sentinel.maxclients, 50)
        XCTAssertEqual(s.commandNames["ping2"], "ping")
        XCTAssertNil(s.commandNames["ping"])
        XCTAssertNil(s.commandNames["hello2"])
        XCTAssertFalse(s.commandNames.values.contains("role"))
        XCTAssertEqual(s.commandNames["sentinel"], "sentinel")
        XCTAssertTrue(s.renamesCommands)
        XCTAssertEqual(loaded.sentinel.bind, ["127.0.0.1", "-::1"])
        XCTAssertEqual(ServerSettings().outputBufferLimits[.pubsub],
                       OutputBufferLimit(hard: 32 << 20, soft: 8 << 20, softSeconds: 60))
        XCTAssertFalse(ServerSettings().renamesCommands)
        XCTAssertEqual(reason("rename-command ping x\nrename-command ping y"), "No such command in rename-command")
        XCTAssertEqual(reason("rename-command config x"), "No such command in rename-command",
                           "CONFIG is not a command of redis-sentinel")
    }

    func testServerDirectivesOfTheSentinelModel() throws {
        let loaded = try load("""
            port 26390
            daemonize yes
            pidfile ""
            logfile /var/log/w.log
            requirepass "p w"
            protected-mode yes
            bind ""
            """)
        XCTAssertEqual(loaded.sentinel.port, 26390)
        XCTAssertTrue(loaded.sentinel.daemonize)
        XCTAssertNil(loaded.sentinel.pidfile)
        XCTAssertEqual(loaded.sentinel.logfile, "/var/log/w.log")
        XCTAssertEqual(loaded.sentinel.requirepass?.bytes, Array("p w".utf8))
        XCTAssertTrue(loaded.sentinel.protectedMode)
        XCTAssertEqual(loaded.sentinel.bind, [])
    }

    func testUsersAndACLFile() throws {
        let loaded = try load("""
            user alice on >secret ~* &* +@all
            user bob off
            """)
        XCTAssertEqual(loaded.server.users.map(\.name), ["alice", "bob"])
        XCTAssertEqual(loaded.server.users[0].rules.map { String(decoding: $0, as: UTF8.self) },
                       ["on", ">secret", "~*", "&*", "+@all"])
        XCTAssertEqual(reason("user alice on\nuser alice off"),
                       "Error in user declaration 'alice': Duplicate user found. A user can only be defined once in config files")
        XCTAssertEqual(reason("user alice +nope"),
                       "Error in user declaration 'alice': Unknown command or category name in ACL")
        XCTAssertEqual(try load("aclfile /etc/users.acl").server.aclfile, "/etc/users.acl")
        do throws(ConfigError) {
            _ = try load("aclfile /etc/users.acl\nport 1\nuser alice on")
            XCTFail("users and an ACL file together")
        } catch {
            XCTAssertEqual(error.line, 3)
            XCTAssertTrue(error.reason.hasPrefix("Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid."))
        }
    }

    func testPasswordsStayOutOfErrorReports() {
        for (text, shown) in [("requirepass \"secret", "requirepass (hidden)"),
                              ("masterauth a b", "masterauth (hidden)"),
                              ("sentinel sentinel-pass secret extra", "sentinel sentinel-pass (hidden)"),
                              ("user alice on >secret #bad", "user alice on >... #bad")] {
            do throws(ConfigError) {
                _ = try load(text)
                XCTFail("accepted \(text)")
            } catch {
                XCTAssertEqual(error.lineText, shown)
                XCTAssertFalse(error.redisStyleReport.contains("secret"), error.redisStyleReport)
            }
        }
    }

    func testModulesAndLaterDirectives() {
        XCTAssertEqual(reason("loadmodule /x.so"), "Warden does not load Redis modules")
        XCTAssertEqual(reason("mymodule.option 5"),
                       "Module Configuration detected without loadmodule directive or no ApplyConfig call: aborting")
        XCTAssertNil(reason("locale-collate \"\""), "7.2's locale-collate loads")
        XCTAssertEqual(reason("cluster-enabled yes\nreplicaof 127.0.0.1 6379"),
                       "replicaof directive not allowed in cluster mode")
    }

    /// `dir` takes effect when it is read: later includes (and, in the second pass,
    /// scripts) resolve from the new directory.
    func testDirChangesDirectoryAsItIsRead() throws {
        final class World {
            var cwd = "/start"
            var calls: [String] = []
            func resolve(_ path: String) -> String { path.hasPrefix("/") ? path : cwd + "/" + path }
        }
        let world = World()
        let env = ConfigEnvironment(
            isExecutable: { world.calls.append("x " + world.resolve($0)); return world.resolve($0) == "/data/notify.sh" },
            readFile: { path in
                world.calls.append("read " + world.resolve(path))
                return world.resolve(path) == "/data/extra.conf" ? .success("tcp-keepalive 5\n") : .failure(ConfigFileFailure("No such file or directory"))
            },
            changeDirectory: { path in
                world.calls.append("cd " + path)
                world.cwd = world.resolve(path)
                return nil
            })
        let loaded = try load("""
            sentinel monitor m 127.0.0.1 6379 2
            sentinel notification-script m notify.sh
            dir /data
            include extra.conf
            """, environment: env)
        XCTAssertEqual(world.calls, ["cd /data", "read /data/extra.conf", "x /data/notify.sh"])
        XCTAssertEqual(loaded.sentinel.dir, "/data")
        XCTAssertEqual(loaded.server.tcpKeepalive, 5)
        XCTAssertEqual(loaded.sentinel.masters[0].notificationScript, "notify.sh")
        let failing = ConfigEnvironment(changeDirectory: { _ in "No such file or directory" })
        XCTAssertEqual(reason("dir /nope", environment: failing), "No such file or directory")
    }

    func testIncludes() throws {
        let files = ["a.conf": "port 1\ninclude b.conf\n", "b.conf": "maxclients 7\nbogus 1\n",
                     "loop.conf": "include loop.conf\n", "conf.d/1.conf": "timeout 9\n"]
        let env = ConfigEnvironment(
            readFile: { files[$0].map { .success($0) } ?? .failure(ConfigFileFailure("No such file or directory")) },
            glob: { pattern in pattern == "conf.d/*.conf" ? ["conf.d/1.conf"] : [] })
        do throws(ConfigError) {
            _ = try load("include a.conf", environment: env)
            XCTFail("the included error was missed")
        } catch {
            XCTAssertEqual(error.description, "b.conf:2: Bad directive or wrong number of arguments",
                           "errors name the included file and its line")
        }
        XCTAssertEqual(try load("include conf.d/*.conf", environment: env).server.timeout, 9)
        XCTAssertEqual(try load("include none.d/*.conf", environment: env).server.timeout, 0,
                       "a pattern that matches nothing includes nothing")
        XCTAssertEqual(reason("include missing.conf", environment: env),
                       "Fatal error, can't open config file 'missing.conf': No such file or directory")
        XCTAssertEqual(reason("include loop.conf", environment: env), "include nesting deeper than 16 files")
    }

    func testMultiArgumentDirectivesTakeOneQuotedArgument() throws {
        XCTAssertNil(reason("save \"900 1 300 10\""))
        XCTAssertEqual(reason("save \"900 1 300\""), "Invalid save parameters")
        XCTAssertEqual(try load("client-output-buffer-limit \"pubsub 1mb 1mb 1\"").server.outputBufferLimits[.pubsub],
                       OutputBufferLimit(hard: 1 << 20, soft: 1 << 20, softSeconds: 1))
        XCTAssertNil(reason("shutdown-on-sigterm \"nosave now\""))
    }
}
