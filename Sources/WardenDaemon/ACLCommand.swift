#if canImport(Glibc)
import Glibc
#endif
import Configuration
import EventLoop
import RESP
import SentinelCore
import WardenACL

/// The ACL users at start, as redis-sentinel sets them up: the default user gets
/// `requirepass` (or `nopass`), then the `user` lines of the config apply, or the
/// `aclfile` is read (never both: the parser refuses that).
public enum ACLSetup {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func initialUsers(sentinel: SentinelConfig, server: ServerSettings) throws(Failure) -> ACLUserStore {
        var store = ACLUserStore(pubsubDefaultAllChannels: server.aclPubsubDefaultAllChannels)
        store.setDefaultPassword(sentinel.requirepass?.bytes)
        for user in server.users {
            if let error = store.declare(name: user.name, rules: user.rules) {
                throw Failure(description: "\(error)\nCritical error while loading ACLs. Exiting.")
            }
        }
        if !server.aclfile.isEmpty {
            switch SystemFiles.read(server.aclfile) {
            case .failure(let failure):
                throw Failure(description: "Aborting Redis startup because of ACL errors: "
                    + "Error loading ACLs, opening file '\(server.aclfile)': \(failure.reason)")
            case .success(let text):
                if let error = store.load(fileText: text, fileName: server.aclfile) {
                    throw Failure(description: "Aborting Redis startup because of ACL errors: \(error.message)")
                }
            }
        }
        return store
    }
}

/// ACL, as redis-sentinel 7.0 has it.
extension ClientServer {
    func acl(_ s: ClientSession, _ args: [String], _ raw: RESPArguments, now: Millis) {
        let sub = args[1].lowercased()
        switch sub {
        case "setuser":
            let name = args[2]
            let before = acl[name]
            if let error = acl.setUser(name, rules: Array(raw.arrays.dropFirst(3))) {
                s.reply(.error("ERR " + error))
                return
            }
            aclChanged()
            if let before, let after = acl[name], !before.channelRulesContained(in: after) {
                disconnectSubscribersNoLongerAllowed(user: name, rules: after, current: s)
            }
            s.reply(.ok)
        case "deluser":
            switch acl.deleteUsers(Array(args.dropFirst(2))) {
            case .failure(let error):
                s.reply(.error("ERR " + error.message))
            case .success(let count):
                let gone = Set(args.dropFirst(2))
                disconnect(current: s) { gone.contains($0.userName) && $0.userName != "default" }
                aclChanged()
                s.reply(.integer(Int64(count)))
            }
        case "getuser":
            guard let user = acl[args[2]] else {
                s.reply(.null)
                return
            }
            s.reply(userDetails(user))
        case "list", "users":
            guard args.count == 2 else { return syntaxError(s, args) }
            s.reply(.array(acl.names.map { name in
                sub == "users" ? .bulk(name) : .bulk("user \(name) " + (acl[name]?.describe(table: Self.table) ?? ""))
            }))
        case "whoami":
            s.reply(.bulk(s.userName))
        case "load", "save":
            guard !server.aclfile.isEmpty else {
                s.reply(.error("ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration."))
                return
            }
            sub == "load" ? aclLoad(s) : aclSave(s, now: now)
        case "cat":
            guard args.count <= 3 else { return syntaxError(s, args) }
            guard args.count == 3 else {
                s.reply(.array(ACLCategory.allCases.map { .bulk($0.name) }))
                return
            }
            guard let category = ACLCategory(name: args[2]) else {
                s.reply(.error("ERR Unknown category '\(Self.clipped(args[2], 128))'"))
                return
            }
            s.reply(.array(Self.table.members(of: category).map { .bulk($0.fullName) }))
        case "genpass":
            guard args.count <= 3 else { return syntaxError(s, args) }
            var bits: Int64 = 256
            if args.count == 3 {
                guard let n = ConfigParser.strictInteger(args[2]) else {
                    s.reply(.error("ERR value is not an integer or out of range"))
                    return
                }
                bits = n
            }
            guard bits > 0 && bits <= 4096 else {
                s.reply(.error("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"))
                return
            }
            s.reply(.bulk(Self.randomHex(Int((bits + 3) / 4))))
        case "log":
            aclLogCommand(s, args, now: now)
        case "dryrun":
            aclDryRun(s, raw)
        case "help":
            s.reply(.array([
                "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "CAT [<category>]", "    The ACL categories, or the commands in <category>.",
                "DELUSER <username> [<username> ...]", "    Delete users.",
                "DRYRUN <username> <command> [<arg> ...]", "    Whether the user may run the command (nothing runs).",
                "GETUSER <username>", "    The rules of a user.",
                "GENPASS [<bits>]", "    A random password of 256 bits, or of <bits> bits.",
                "LIST", "    Every user, as a line of the ACL file.",
                "LOAD", "    Replace the users with those of the ACL file.",
                "LOG [<count> | RESET]", "    The latest refusals, or clear them.",
                "SAVE", "    Write the users to the ACL file.",
                "SETUSER <username> <attribute> [<attribute> ...]", "    Create a user or change its rules.",
                "USERS", "    The user names.",
                "WHOAMI", "    The user of this connection.",
                "HELP", "    Print this help.",
            ].map { .simpleString($0) }))
        default:
            syntaxError(s, args)
        }
    }

    /// Redis's `addReplySubcommandSyntaxError`.
    func syntaxError(_ s: ClientSession, _ args: [String]) {
        s.reply(.error("ERR unknown subcommand or wrong number of arguments for '\(Self.clipped(args[1], 128))'. Try \(args[0].uppercased()) HELP."))
    }

    /// ACL GETUSER: flags, password hashes, the root selector's commands, keys and
    /// channels, then the other selectors.
    func userDetails(_ user: ACLUser) -> RESPValue {
        func selectorFields(_ selector: ACLSelector) -> [RESPPair] {
            [RESPPair(.bulk("commands"), .bulk(selector.describeCommands(table: Self.table))),
             RESPPair(.bulk("keys"), .bulk(selector.keysDescription)),
             RESPPair(.bulk("channels"), .bulk(selector.channelsDescription))]
        }
        var fields = [
            RESPPair(.bulk("flags"), .set(user.flagNames.map { .bulk($0) })),
            RESPPair(.bulk("passwords"), .array(user.passwordHashes.map { .bulk($0) })),
        ]
        fields += selectorFields(user.selectors[0])
        fields.append(RESPPair(.bulk("selectors"), .array(user.selectors.dropFirst().map { .map(selectorFields($0)) })))
        return .map(fields)
    }

    func aclLoad(_ s: ClientSession) {
        let text: String
        switch SystemFiles.read(server.aclfile) {
        case .failure(let failure):
            s.reply(.error("ERR Error loading ACLs, opening file '\(server.aclfile)': \(failure.reason)"))
            return
        case .success(let t):
            text = t
        }
        if let error = acl.load(fileText: text, fileName: server.aclfile) {
            s.reply(.error("ERR " + error.message))
            return
        }
        // Redis frees every user but default on a load: their clients are disconnected.
        disconnect(current: s) { $0.userName != "default" }
        aclChanged()
        s.reply(.ok)
    }

    func aclSave(_ s: ClientSession, now: Millis) {
        if let failure = SystemFiles.replace(server.aclfile, with: acl.fileText(), now: now) {
            daemon.logger.log(.warning, failure)
            s.reply(.error("ERR There was an error trying to save the ACLs. Please check the server logs for more information"))
        } else {
            s.reply(.ok)
        }
    }

    func aclLogCommand(_ s: ClientSession, _ args: [String], now: Millis) {
        guard args.count <= 3 else { return syntaxError(s, args) }
        var count = 10
        if args.count == 3 {
            if args[2].lowercased() == "reset" {
                aclLog.reset()
                s.reply(.ok)
                return
            }
            guard let n = ConfigParser.strictInteger(args[2]) else {
                s.reply(.error("ERR value is not an integer or out of range"))
                return
            }
            count = Int(clamping: max(n, 0))
        }
        s.reply(.array(aclLog.entries.prefix(count).map { e in
            .map([
                RESPPair(.bulk("count"), .integer(Int64(e.count))),
                RESPPair(.bulk("reason"), .bulk(e.reason.rawValue)),
                RESPPair(.bulk("context"), .bulk(e.context)),
                RESPPair(.bulk("object"), .bulk(e.object)),
                RESPPair(.bulk("username"), .bulk(e.username)),
                RESPPair(.bulk("age-seconds"), .double(Double(now -| e.time) / 1000)),
                RESPPair(.bulk("client-info"), .bulk(e.clientInfo)),
            ])
        }))
    }

    /// ACL DRYRUN user command args...: OK, or why the user may not run it (a bulk
    /// string, as Redis replies).
    func aclDryRun(_ s: ClientSession, _ raw: RESPArguments) {
        let name = String(decoding: raw[2], as: UTF8.self)
        guard let user = acl[name] else {
            s.reply(.error("ERR User '\(name)' not found"))
            return
        }
        let request = Array(raw.arrays.dropFirst(3))
        let typed = String(decoding: request[0], as: UTF8.self)
        let sub = request.count > 1 ? String(decoding: request[1], as: UTF8.self) : nil
        guard let original = liveName(typed),
              case .found(let id) = Self.table.lookup(name: original, subcommand: sub) else {
            s.reply(.error("ERR Command '\(typed)' not found"))
            return
        }
        let spec = Self.table.commands[id]
        if (spec.arity > 0 && request.count != spec.arity) || request.count < -spec.arity {
            s.reply(.error("ERR wrong number of arguments for '\(spec.fullName)' command"))
            return
        }
        switch user.check(spec, request, table: Self.table) {
        case .allowed:
            s.reply(.ok)
        case .deniedCommand:
            s.reply(.bulk("This user has no permissions to run the '\(spec.fullName)' command"))
        case .deniedChannel(let index):
            s.reply(.bulk("This user has no permissions to access the '\(String(decoding: request[index], as: UTF8.self))' channel"))
        }
    }

    /// After a user's channel rules shrank: its Pub/Sub clients holding a subscription
    /// the new rules refuse are disconnected (Redis's `ACLKillPubsubClientsIfNeeded`).
    func disconnectSubscribersNoLongerAllowed(user name: String, rules: ACLUser, current: ClientSession) {
        disconnect(current: current) { s in
            s.userName == name && s.subscriptionCount > 0
                && (s.patterns.contains { !rules.permitsSubscription(Array($0.utf8), pattern: true) }
                    || s.channels.contains { !rules.permitsSubscription(Array($0.utf8), pattern: false) })
        }
    }

    /// Closes the clients `matching` selects; the current client after its reply.
    func disconnect(current: ClientSession, matching: (ClientSession) -> Bool) {
        for s in sessions.values where matching(s) {
            s.authenticated = false
            if s === current {
                s.closing = true
            } else {
                s.connection.close()
            }
        }
    }

    /// `count` random hex digits from the system's generator (getrandom).
    static func randomHex(_ count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = Array("0123456789abcdef".utf8)
        return String(decoding: (0..<count).map { _ in hex[Int(generator.next() % 16)] }, as: UTF8.self)
    }
}
