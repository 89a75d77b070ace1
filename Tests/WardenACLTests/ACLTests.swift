import XCTest
@testable import WardenACL

/// The ACL engine against what redis-sentinel 7.0.15 was seen to answer (ACL LIST,
/// GETUSER, DRYRUN and SETUSER errors on the same rules).
final class ACLTests: XCTestCase {
    let table = CommandTable.sentinel

    private func bytes(_ rules: [String]) -> [[UInt8]] { rules.map { Array($0.utf8) } }

    private func store(_ users: [String: [String]]) throws -> ACLUserStore {
        var store = ACLUserStore()
        for (name, rules) in users.sorted(by: { $0.key < $1.key }) {
            if let error = store.setUser(name, rules: bytes(rules)) { XCTFail(error) }
        }
        return store
    }

    private func describe(_ rules: [String]) throws -> String {
        let s = try store(["u": rules])
        return try XCTUnwrap(s["u"]).describe(table: table)
    }

    private func request(_ words: String...) -> [[UInt8]] { words.map { Array($0.utf8) } }

    private func check(_ user: ACLUser, _ words: [String]) -> ACLCheckResult {
        let sub = words.count > 1 ? words[1] : nil
        guard case .found(let id) = table.lookup(name: words[0].lowercased(), subcommand: sub) else {
            XCTFail("no command \(words)")
            return .deniedCommand
        }
        return user.check(table.commands[id], words.map { Array($0.utf8) }, table: table)
    }

    // MARK: - The command table

    func testTableMatchesRedisSentinelCounts() {
        XCTAssertEqual(table.topLevel.count, 15, "COMMAND COUNT")
        XCTAssertEqual(table.listedCount, 72, "COMMAND LIST (the suite's 00-base checks 72)")
        let setinfo = table.command(fullName: "client|setinfo")
        XCTAssertEqual(setinfo?.isHidden, true, "Warden's extra CLIENT SETINFO is not listed")
        XCTAssertEqual(setinfo?.aclID, table.command(fullName: "client|setname")?.id)
        XCTAssertEqual(table.command(fullName: "SENTINEL|Get-Master-Addr-By-Name")?.arity, 3)
        XCTAssertEqual(table.command(fullName: "sentinel|get-master-addr-by-name")?.fullName,
                       "sentinel|get-master-addr-by-name")
        XCTAssertNil(table.command(fullName: "ping|x"))
        XCTAssertNil(table.command(fullName: "a|b|c"))
        XCTAssertEqual(table.lookup(name: "sentinel", subcommand: nil), .found(table.command(named: "sentinel")!.id))
        XCTAssertEqual(table.lookup(name: "sentinel", subcommand: "nope"),
                       .unknownSubcommand(container: table.command(named: "sentinel")!.id))
        XCTAssertEqual(table.lookup(name: "nope", subcommand: nil), .unknownCommand)
        XCTAssertEqual(table.lookup(name: "ping", subcommand: "anything"), .found(table.command(named: "ping")!.id))
    }

    func testAliasesResolveWithoutBeingListed() {
        let aliased = CommandTable(CommandTable.sentinelEntries,
                                   aliases: ["sentinel|get-primary-addr-by-name": "sentinel|get-master-addr-by-name"])
        XCTAssertEqual(aliased.listedCount, 72)
        XCTAssertEqual(aliased.command(fullName: "sentinel|get-primary-addr-by-name")?.fullName,
                       "sentinel|get-master-addr-by-name")
        XCTAssertEqual(aliased.lookup(name: "sentinel", subcommand: "GET-PRIMARY-ADDR-BY-NAME"),
                       .found(aliased.command(fullName: "sentinel|get-master-addr-by-name")!.id))
    }

    func testCategoriesAsRedisSentinelListsThem() {
        XCTAssertEqual(Set(table.members(of: .pubsub).map(\.fullName)),
                       ["punsubscribe", "subscribe", "unsubscribe", "psubscribe", "publish"])
        let dangerous = Set(table.members(of: .dangerous).map(\.fullName))
        XCTAssertEqual(dangerous.count, 39)
        XCTAssertTrue(dangerous.isSuperset(of: ["info", "role", "shutdown", "sentinel", "client|kill", "acl|list"]))
        XCTAssertFalse(dangerous.contains("sentinel|help"))
        XCTAssertEqual(ACLCategory.allCases.count, 21)
    }

    // MARK: - Rules and descriptions

    func testDefaultUser() {
        let s = ACLUserStore()
        XCTAssertEqual(s.defaultUser.describe(table: table), "on nopass ~* &* +@all")
        XCTAssertEqual(s.names, ["default"])
    }

    func testDescriptionsMatchRedis() throws {
        XCTAssertEqual(try describe(["on", ">pw", "+sentinel|get-master-addr-by-name"]),
                       "on #30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4 resetchannels -@all +sentinel|get-master-addr-by-name")
        XCTAssertEqual(try describe([]), "off resetchannels -@all")
        XCTAssertEqual(try describe(["on", "nopass", "+@all", "-@dangerous", "&foo*", "~k*", "%R~r*", "(+ping ~x)"]),
                       "on nopass ~k* %R~r* resetchannels &foo* +@all -@dangerous (~x resetchannels -@all +ping)")
        XCTAssertEqual(try describe(["on", "nopass", "+@all", "&a*"]), "on nopass resetchannels &a* +@all")
        XCTAssertEqual(try describe(["on", "nopass", "+@all", "-client", "+client|kill", "-sentinel|masters",
                                     "+@pubsub", "-publish"]),
                       "on nopass resetchannels +@all -@connection -client +client|kill +command -sentinel|masters +auth +ping -publish +hello")
        XCTAssertEqual(try describe(["-@all", "+acl", "-acl|setuser", "+ping|x", "+ping|y", "+client|id"]),
                       "off resetchannels -@all +client|id +acl -acl|setuser +ping|x +ping|y")
        XCTAssertEqual(try describe(["%RW~a", "%W~b", "allchannels"]), "off ~a %W~b &* -@all")
    }

    func testCategoryFittingDescribesTheSameBits() throws {
        // Redis lists the single commands in its hash order; the rules must rebuild the
        // same permissions whatever the order.
        let text = try describe(["on", ">x", "-@all", "+@connection", "+sentinel"])
        XCTAssertTrue(text.hasPrefix("on #2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881 resetchannels -@all +@connection +@admin "),
                      text)
        let rules = text.split(separator: " ").map(String.init).filter { $0.hasPrefix("-") || $0.hasPrefix("+") }
        XCTAssertEqual(Set(rules.dropFirst(3)), ["-acl|dryrun", "-acl|getuser", "-acl|users", "-acl|setuser", "-acl|log",
                                                 "-acl|load", "-acl|deluser", "-acl|list", "-acl|save", "-shutdown", "-role"])
        var a = try XCTUnwrap(try store(["u": ["-@all", "+@connection", "+sentinel"]])["u"])
        var b = ACLUser(name: "u", table: table)
        for rule in rules { try b.apply(Array(rule.utf8), table: table, pubsubDefaultAllChannels: false) }
        XCTAssertEqual(a.selectors[0].bits, b.selectors[0].bits)
        a = b
    }

    func testSetUserErrorsAsRedisWordsThem() {
        var s = ACLUserStore()
        XCTAssertEqual(s.setUser("a b", rules: []), "Usernames can't contain spaces or null characters")
        XCTAssertEqual(s.setUser("x", rules: bytes(["(+ping"])), "Unmatched parenthesis in acl selector starting at '(+ping'.")
        XCTAssertEqual(s.setUser("x", rules: bytes(["~*", "~a"])),
                       "Error in ACL SETUSER modifier '~a': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns")
        XCTAssertEqual(s.setUser("x", rules: bytes(["&*", "&a"])),
                       "Error in ACL SETUSER modifier '&a': Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels")
        XCTAssertEqual(s.setUser("x", rules: bytes(["bogus"])), "Error in ACL SETUSER modifier 'bogus': Syntax error")
        XCTAssertEqual(s.setUser("x", rules: bytes(["+sentinel|masters|x"])),
                       "Error in ACL SETUSER modifier '+sentinel|masters|x': Allowing first-arg of a subcommand is not supported")
        XCTAssertEqual(s.setUser("x", rules: bytes(["+ping|"])), "Error in ACL SETUSER modifier '+ping|': Syntax error")
        XCTAssertEqual(s.setUser("x", rules: bytes(["-ping|x"])),
                       "Error in ACL SETUSER modifier '-ping|x': Unknown command or category name in ACL")
        XCTAssertEqual(s.setUser("x", rules: bytes(["+@nope"])),
                       "Error in ACL SETUSER modifier '+@nope': Unknown command or category name in ACL")
        XCTAssertEqual(s.setUser("x", rules: bytes(["+client|x"])),
                       "Error in ACL SETUSER modifier '+client|x': Unknown command or category name in ACL")
        XCTAssertEqual(s.setUser("x", rules: bytes(["#abc"])),
                       "Error in ACL SETUSER modifier '#abc': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")
        XCTAssertEqual(s.setUser("x", rules: bytes(["~a b"])), "Error in ACL SETUSER modifier '~a b': Syntax error")
        XCTAssertNil(s["x"], "a refused SETUSER creates nothing")
        XCTAssertEqual(s.setUser("x", rules: bytes(["on", "bogus"])), "Error in ACL SETUSER modifier 'bogus': Syntax error")
        XCTAssertNil(s["x"], "all rules or none")
    }

    func testPasswordsNeverAppearInErrors() {
        var s = ACLUserStore()
        let error = s.setUser("x", rules: bytes(["<secret-password"]))
        XCTAssertEqual(error, "Error in ACL SETUSER modifier '<...': The password you are trying to remove from the user does not exist")
        XCTAssertFalse(error?.contains("secret") ?? true)
        XCTAssertNil(s.setUser("x", rules: bytes([">secret-password"])))
        XCTAssertFalse(s["x"]!.describe(table: table).contains("secret"))
    }

    func testPasswordsAndFlags() throws {
        var s = try store(["u": ["on", ">one", ">two", ">one"]])
        var u = try XCTUnwrap(s["u"])
        XCTAssertEqual(u.passwordHashes.count, 2)
        XCTAssertTrue(u.accepts(password: Array("one".utf8)))
        XCTAssertTrue(u.accepts(password: Array("two".utf8)))
        XCTAssertFalse(u.accepts(password: Array("three".utf8)))
        XCTAssertNil(s.setUser("u", rules: bytes(["<one"])))
        u = try XCTUnwrap(s["u"])
        XCTAssertFalse(u.accepts(password: Array("one".utf8)))
        XCTAssertNil(s.setUser("u", rules: bytes(["#" + ACLUser.hash(Array("h".utf8))])))
        XCTAssertTrue(s["u"]!.accepts(password: Array("h".utf8)))
        XCTAssertNil(s.setUser("u", rules: bytes(["!" + ACLUser.hash(Array("h".utf8))])))
        XCTAssertFalse(s["u"]!.accepts(password: Array("h".utf8)))
        XCTAssertNil(s.setUser("u", rules: bytes(["off"])))
        XCTAssertFalse(s["u"]!.accepts(password: Array("two".utf8)), "off users can't log in")
        XCTAssertNil(s.setUser("u", rules: bytes(["on", "nopass"])))
        XCTAssertTrue(s["u"]!.accepts(password: Array("anything".utf8)))
        XCTAssertEqual(s["u"]!.flagNames, ["on", "nopass"])
        XCTAssertNil(s.setUser("u", rules: bytes(["reset"])))
        XCTAssertEqual(s["u"]!.describe(table: table), "off sanitize-payload resetchannels -@all")
        // Binary passwords are hashed as bytes.
        XCTAssertNil(s.setUser("b", rules: [[UInt8(ascii: ">"), 0xFF, 0x00, 0x41], Array("on".utf8)]))
        XCTAssertTrue(s["b"]!.accepts(password: [0xFF, 0x00, 0x41]))
    }

    func testDefaultPasswordFromRequirepass() {
        var s = ACLUserStore()
        s.setDefaultPassword(Array("foobared".utf8))
        XCTAssertFalse(s.defaultUser.nopass)
        XCTAssertTrue(s.defaultUser.accepts(password: Array("foobared".utf8)))
        XCTAssertEqual(s.defaultUser.describe(table: table),
                       "on #\(ACLUser.hash(Array("foobared".utf8))) ~* &* +@all")
        s.setDefaultPassword(nil)
        XCTAssertTrue(s.defaultUser.nopass)
    }

    // MARK: - Checks

    func testCommandPermissions() throws {
        let s = try store(["only": ["on", "nopass", "+sentinel|get-master-addr-by-name"],
                           "noadmin": ["on", "nopass", "+@all", "-@dangerous"],
                           "first": ["on", "nopass", "+ping|hello"]])
        let only = try XCTUnwrap(s["only"])
        XCTAssertEqual(check(only, ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "m"]), .allowed)
        XCTAssertEqual(check(only, ["SENTINEL", "MASTERS"]), .deniedCommand)
        XCTAssertEqual(check(only, ["PING"]), .deniedCommand)
        XCTAssertEqual(check(only, ["AUTH", "a", "b"]), .allowed, "no_auth commands are always allowed")
        XCTAssertEqual(check(only, ["HELLO", "3"]), .allowed)
        XCTAssertTrue(only.allowsOutright(table.command(fullName: "sentinel|get-master-addr-by-name")!))
        XCTAssertFalse(only.allowsOutright(table.command(named: "ping")!))
        let noadmin = try XCTUnwrap(s["noadmin"])
        XCTAssertEqual(check(noadmin, ["SENTINEL", "HELP"]), .deniedCommand,
                       "-@dangerous takes the whole container, as in Redis")
        XCTAssertEqual(check(noadmin, ["SENTINEL", "MASTERS"]), .deniedCommand)
        XCTAssertEqual(check(noadmin, ["INFO"]), .deniedCommand)
        XCTAssertEqual(check(noadmin, ["CLIENT", "ID"]), .allowed)
        XCTAssertEqual(check(noadmin, ["CLIENT", "KILL", "x"]), .deniedCommand)
        let first = try XCTUnwrap(s["first"])
        XCTAssertEqual(check(first, ["PING", "HELLO"]), .allowed)
        XCTAssertEqual(check(first, ["PING", "other"]), .deniedCommand)
        XCTAssertEqual(check(first, ["PING"]), .deniedCommand)
    }

    func testChannelPermissions() throws {
        let s = try store(["u": ["on", "nopass", "+@all", "&a*", "&news"]])
        let u = try XCTUnwrap(s["u"])
        XCTAssertEqual(check(u, ["PUBLISH", "abc", "m"]), .allowed)
        XCTAssertEqual(check(u, ["PUBLISH", "zz", "m"]), .deniedChannel(index: 1))
        XCTAssertEqual(check(u, ["SUBSCRIBE", "a1", "news", "b"]), .deniedChannel(index: 3))
        XCTAssertEqual(check(u, ["PSUBSCRIBE", "a*"]), .allowed, "a pattern matches a rule literally")
        XCTAssertEqual(check(u, ["PSUBSCRIBE", "a1"]), .deniedChannel(index: 1))
        XCTAssertEqual(check(u, ["UNSUBSCRIBE", "zz"]), .allowed)
        XCTAssertTrue(u.permitsSubscription(Array("a9".utf8), pattern: false))
        XCTAssertFalse(u.permitsSubscription(Array("b".utf8), pattern: false))
        let none = try XCTUnwrap(try store(["n": ["on", "nopass", "+@all"]])["n"])
        XCTAssertEqual(check(none, ["SUBSCRIBE", "+switch-master"]), .deniedChannel(index: 1),
                       "acl-pubsub-default is resetchannels in 7.0")
        XCTAssertTrue(u.channelRulesContained(in: try XCTUnwrap(try store(["u": ["&a*", "&news", "&more"]])["u"])))
        XCTAssertFalse(u.channelRulesContained(in: try XCTUnwrap(try store(["u": ["&a*"]])["u"])))
    }

    func testSelectorsGiveTheirOwnPermissions() throws {
        let s = try store(["u": ["on", "nopass", "-@all", "(+ping &x)", "(+publish &y)"]])
        let u = try XCTUnwrap(s["u"])
        XCTAssertEqual(check(u, ["PING"]), .allowed)
        XCTAssertEqual(check(u, ["PUBLISH", "y", "m"]), .allowed)
        XCTAssertEqual(check(u, ["PUBLISH", "x", "m"]), .deniedChannel(index: 1),
                       "the channel refusal beats the command refusal")
        XCTAssertEqual(check(u, ["ROLE"]), .deniedCommand)
        var split = ACLUserStore()
        XCTAssertNil(split.setUser("v", rules: bytes(["(+ping", "&x)", "on"])))
        XCTAssertEqual(split["v"]!.selectors.count, 2)
        XCTAssertNil(split.setUser("v", rules: bytes(["clearselectors"])))
        XCTAssertEqual(split["v"]!.selectors.count, 1)
    }

    func testDeleteUsers() throws {
        var s = try store(["a": [], "b": []])
        XCTAssertEqual(s.deleteUsers(["default", "a"]), .failure(ACLStoreError("The 'default' user cannot be removed")))
        XCTAssertNotNil(s["a"])
        XCTAssertEqual(s.deleteUsers(["a", "zz"]), .success(1))
        XCTAssertEqual(s.names, ["b", "default"])
    }

    // MARK: - Config lines and the ACL file

    func testUserDeclarations() {
        XCTAssertNil(ACLUserStore.checkDeclaration(name: "alice", rules: bytes(["on", ">p", "+@all", "~*"])))
        XCTAssertEqual(ACLUserStore.checkDeclaration(name: "alice", rules: bytes(["on", "#abc"])),
                       "Error in user declaration 'alice': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")
        XCTAssertEqual(ACLUserStore.checkDeclaration(name: "alice", rules: bytes(["+nope"])),
                       "Error in user declaration 'alice': Unknown command or category name in ACL")
        var s = ACLUserStore()
        XCTAssertNil(s.declare(name: "default", rules: bytes(["on", ">pw", "+@all", "~*", "&*"])))
        XCTAssertEqual(s.defaultUser.describe(table: table),
                       "on sanitize-payload #\(ACLUser.hash(Array("pw".utf8))) ~* &* +@all",
                       "a `user default` line resets the default user first")
    }

    func testFileRoundTrip() throws {
        var s = try store(["alice": ["on", ">pw", "+@all", "-@dangerous", "&news*"], "bob": ["off"]])
        let text = s.fileText()
        XCTAssertEqual(text, """
            user alice on #\(ACLUser.hash(Array("pw".utf8))) resetchannels &news* +@all -@dangerous
            user bob off resetchannels -@all
            user default on nopass ~* &* +@all

            """)
        var loaded = ACLUserStore()
        XCTAssertNil(loaded.load(fileText: text, fileName: "users.acl"))
        XCTAssertEqual(loaded.fileText(), text)
        XCTAssertEqual(loaded["alice"], s["alice"])
        XCTAssertNil(s.load(fileText: "\n  \n", fileName: "users.acl"))
        XCTAssertEqual(s.names, ["default"], "a file without default gets a fresh default user")
    }

    func testFileErrorsLeaveUsersAlone() throws {
        var s = try store(["keep": ["on"]])
        let error = s.load(fileText: """
            # a comment
            user ok on
            user bad +nope
            user bad2 ~a b
            usr x
            user ok off
            user p (+ping
            """, fileName: "users.acl")
        XCTAssertEqual(error?.message,
            "users.acl:1 should start with user keyword followed by the username. "
            + "users.acl:3: Error in applying operation '+nope': Unknown command or category name in ACL. "
            + "users.acl:4: Syntax error. "
            + "users.acl:5 should start with user keyword followed by the username. "
            + "WARNING: Duplicate user 'ok' found on line 6. "
            + "users.acl:7: Unmatched parenthesis in selector definition."
            + "WARNING: ACL errors detected, no change to the previously active ACL rules was performed")
        XCTAssertNotNil(s["keep"], "nothing changes on an error")
        XCTAssertNil(s["ok"])
    }

    // MARK: - The log

    func testLogGroupsAndTrims() {
        var log = ACLLog(maxLength: 2)
        log.add(reason: .command, object: "ping", username: "u", clientInfo: "c1", now: 1_000)
        log.add(reason: .command, object: "ping", username: "u", clientInfo: "c2", now: 2_000)
        XCTAssertEqual(log.entries.count, 1)
        XCTAssertEqual(log.entries[0].count, 2)
        XCTAssertEqual(log.entries[0].clientInfo, "c2")
        log.add(reason: .command, object: "ping", username: "u", clientInfo: "c3", now: 70_000)
        XCTAssertEqual(log.entries.count, 2, "more than 60 s later: a new entry")
        log.add(reason: .auth, object: "AUTH", username: "x", clientInfo: "c4", now: 70_001)
        XCTAssertEqual(log.entries.map(\.reason), [.auth, .command], "newest first, at most maxLength")
        log.reset()
        XCTAssertTrue(log.entries.isEmpty)
    }
}
