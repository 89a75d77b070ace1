/// One command (or subcommand) of the sentinel port, as COMMAND reports it and as
/// ACL rules name it.
public struct CommandSpec: Sendable {
    /// Index in `CommandTable.commands`: the command's bit in ACL selectors.
    public let id: Int
    /// The lower-case name; for a subcommand, the part after `|`.
    public let name: String
    /// `name`, or `parent|name` for a subcommand.
    public let fullName: String
    /// Redis's arity: positive is exact, negative is a minimum (command name included;
    /// for a subcommand the container's name and the subcommand both count).
    public let arity: Int
    /// COMMAND INFO flags, in Redis's order.
    public let flags: [String]
    public let categories: ACLCategorySet
    /// COMMAND INFO tips.
    public let tips: [String]
    /// Which arguments are Pub/Sub channels that ACL channel rules apply to.
    public let channels: ChannelArguments
    /// COMMAND DOCS: a one-line summary (Warden's words), the Redis version that
    /// introduced the command, and its documentation group.
    public let summary: String
    public let since: String
    public let group: String
    public let parentID: Int?
    public internal(set) var subcommandIDs: [Int]
    /// The command whose ACL permission this one uses: itself, except for the few
    /// commands Warden answers beyond redis-sentinel 7.0, which COMMAND does not list.
    public internal(set) var aclID: Int
    /// Not listed by COMMAND, ACL CAT or ACL descriptions (a Warden extra).
    public var isHidden: Bool { aclID != id }

    /// Runs before authentication (AUTH, HELLO): Redis's `no_auth` flag.
    public var allowedBeforeAuth: Bool { flags.contains("no_auth") }
    public var isContainer: Bool { !subcommandIDs.isEmpty }
}

/// Where a command names Pub/Sub channels (Redis's channel specs of the commands
/// redis-sentinel has).
public enum ChannelArguments: Sendable, Equatable {
    case none
    /// PUBLISH: argument 1 is a channel.
    case publishFirst
    /// SUBSCRIBE: every argument from 1 is a channel.
    case subscribeAll
    /// PSUBSCRIBE: every argument from 1 is a pattern.
    case subscribePatterns
    /// UNSUBSCRIBE / PUNSUBSCRIBE: channels that ACL rules do not restrict.
    case unsubscribe
}

/// What a request names, looked up the way redis-server's `lookupCommand` does.
public enum CommandLookup: Equatable, Sendable {
    /// The command (a subcommand when the container has subcommands and one was named).
    case found(Int)
    /// The first word names no command.
    case unknownCommand
    /// A container command with an unknown subcommand word.
    case unknownSubcommand(container: Int)
}

/// The command set of redis-sentinel 7.0.15 (sentinel mode): 15 commands and 57
/// subcommands, with their arity, flags, ACL categories and tips as its COMMAND
/// reports them. The table is the one source of truth for COMMAND, the dispatch
/// checks (unknown command, unknown subcommand, arity) and ACL rules.
public struct CommandTable: Sendable {
    /// Every command and subcommand; `commands[i].id == i`.
    public let commands: [CommandSpec]
    /// Top-level commands in COMMAND's order.
    public let topLevel: [Int]
    /// Top-level Warden extras that COMMAND does not list (they take the ACL
    /// permission of the subcommand named by their `checkedAs`).
    public let hiddenTopLevel: [Int]
    private let topByName: [String: Int]
    private let subByName: [Int: [String: Int]]
    /// Extra subcommand names that resolve to an existing subcommand without being
    /// listed by COMMAND (container id → alias → subcommand id).
    private let aliases: [Int: [String: Int]]

    /// The table built from `entries` (top-level commands with their subcommands);
    /// `aliases` maps `container|alias` to `container|name` (both full names).
    public init(_ entries: [Entry], aliases: [String: String] = [:]) {
        var commands: [CommandSpec] = []
        var top: [Int] = []
        var hiddenTop: [Int] = []
        var topByName: [String: Int] = [:]
        var subByName: [Int: [String: Int]] = [:]
        for entry in entries {
            let id = commands.count
            commands.append(entry.spec(id: id, parent: nil))
            if entry.checkedAs == nil { top.append(id) } else { hiddenTop.append(id) }
            topByName[entry.name] = id
            var subs: [String: Int] = [:]
            for sub in entry.subcommands {
                let subID = commands.count
                commands.append(sub.spec(id: subID, parent: (id, entry.name)))
                if sub.checkedAs == nil { commands[id].subcommandIDs.append(subID) }
                subs[sub.name] = subID
            }
            if !subs.isEmpty { subByName[id] = subs }
        }
        // Hidden extras take the permission of the command they name.
        func target(_ proxy: String) -> Int? {
            let parts = proxy.split(separator: "|").map(String.init)
            guard parts.count == 2 else { return nil }
            return topByName[parts[0]].flatMap { subByName[$0]?[parts[1]] }
        }
        for entry in entries {
            if let proxy = entry.checkedAs, let id = topByName[entry.name], let t = target(proxy) {
                commands[id].aclID = t
            }
            for sub in entry.subcommands {
                guard let proxy = sub.checkedAs, let subID = subByName[topByName[entry.name] ?? -1]?[sub.name],
                      let parts = Optional(proxy.split(separator: "|").map(String.init)), parts.count == 2,
                      let target = topByName[parts[0]].flatMap({ subByName[$0]?[parts[1]] }) else { continue }
                commands[subID].aclID = target
            }
        }
        var aliasMap: [Int: [String: Int]] = [:]
        for (alias, target) in aliases {
            let a = alias.split(separator: "|").map(String.init)
            let t = target.split(separator: "|").map(String.init)
            guard a.count == 2, t.count == 2, a[0] == t[0], let container = topByName[a[0]],
                  let subID = subByName[container]?[t[1]] else { continue }
            aliasMap[container, default: [:]][a[1]] = subID
        }
        self.commands = commands
        self.topLevel = top
        self.hiddenTopLevel = hiddenTop
        self.topByName = topByName
        self.subByName = subByName
        self.aliases = aliasMap
    }

    /// A top-level command by lower-case name.
    public func command(named name: String) -> CommandSpec? {
        topByName[name].map { commands[$0] }
    }

    /// A command or subcommand by full name (`ping`, `sentinel|masters`), any case.
    public func command(fullName: String) -> CommandSpec? {
        let lower = fullName.lowercased()
        guard let bar = lower.firstIndex(of: "|") else { return command(named: lower) }
        guard let parent = topByName[String(lower[..<bar])] else { return nil }
        let sub = String(lower[lower.index(after: bar)...])
        return (subByName[parent]?[sub] ?? aliases[parent]?[sub]).map { commands[$0] }
    }

    /// Resolves a request: `name` is the first word in lower case, `subcommand` the
    /// second word (any case) when there is one.
    public func lookup(name: String, subcommand: String?) -> CommandLookup {
        guard let id = topByName[name] else { return .unknownCommand }
        guard let subs = subByName[id], let word = subcommand else { return .found(id) }
        let lower = word.lowercased()
        if let subID = subs[lower] ?? aliases[id]?[lower] { return .found(subID) }
        return .unknownSubcommand(container: id)
    }

    /// Every listed command and subcommand in `category`, in table order (ACL CAT).
    public func members(of category: ACLCategory) -> [CommandSpec] {
        commands.filter { !$0.isHidden && $0.categories.contains(category) }
    }

    /// Every command COMMAND lists (not the hidden extras).
    public var listedCount: Int { commands.filter { !$0.isHidden }.count }

    /// A table entry before ids are assigned.
    public struct Entry: Sendable {
        var name: String
        var arity: Int
        var flags: [String]
        var categories: [ACLCategory]
        var tips: [String] = []
        var channels: ChannelArguments = .none
        var summary: String
        var since: String
        var group: String
        var subcommands: [Entry] = []
        /// For a hidden Warden extra: the subcommand (`container|name`) whose ACL
        /// permission it uses.
        var checkedAs: String?

        public init(_ name: String, _ arity: Int, flags: [String], _ categories: [ACLCategory],
                    tips: [String] = [], channels: ChannelArguments = .none,
                    since: String, group: String, _ summary: String, subcommands: [Entry] = [],
                    checkedAs: String? = nil) {
            self.checkedAs = checkedAs
            self.name = name
            self.arity = arity
            self.flags = flags
            self.categories = categories
            self.tips = tips
            self.channels = channels
            self.summary = summary
            self.since = since
            self.group = group
            self.subcommands = subcommands
        }

        func spec(id: Int, parent: (id: Int, name: String)?) -> CommandSpec {
            CommandSpec(
                id: id, name: name, fullName: parent.map { "\($0.name)|\(name)" } ?? name,
                arity: arity, flags: flags, categories: ACLCategorySet(categories), tips: tips,
                channels: channels, summary: summary, since: since, group: group,
                parentID: parent?.id, subcommandIDs: [], aclID: id)
        }
    }
}

extension CommandTable {
    /// redis-sentinel 7.0.15's commands (what its COMMAND replies), in the order of
    /// its COMMAND LIST on one run (Redis's own order is a hash table's, so any order
    /// is as right as another).
    ///
    /// Warden extras, not listed by COMMAND: `CONFIG GET/SET tls-*` (TLS reload, with
    /// SENTINEL CONFIG's permission), SENTINEL FORGET-SENTINEL / FORGET-REPLICA (with
    /// SENTINEL RESET's) and Valkey 8's names for SENTINEL subcommands.
    public static let sentinel = CommandTable(sentinelEntries + wardenExtras, aliases: [
        "sentinel|get-primary-addr-by-name": "sentinel|get-master-addr-by-name",
        "sentinel|primary": "sentinel|master",
        "sentinel|primaries": "sentinel|masters",
        "sentinel|is-primary-down-by-addr": "sentinel|is-master-down-by-addr",
    ])

    static let wardenExtras: [Entry] = [
        Entry("config", -2, flags: ["admin", "noscript", "loading", "stale"], [.admin, .slow, .dangerous],
              since: "2.0.0", group: "server", "The tls-* settings at run time (Warden)",
              checkedAs: "sentinel|config"),
    ]

    private static let adminSub = ["admin", "noscript", "loading", "stale"]
    private static let plainSub = ["noscript", "loading", "stale"]
    private static let helpFlags = ["loading", "stale"]

    private static func clientSub(_ name: String, _ arity: Int, admin: Bool = false, tips: [String] = [],
                                  since: String, _ summary: String) -> Entry {
        Entry(name, arity, flags: admin ? adminSub : plainSub,
              admin ? [.admin, .slow, .dangerous, .connection] : [.slow, .connection],
              tips: tips, since: since, group: "connection", summary)
    }

    private static func aclSub(_ name: String, _ arity: Int, admin: Bool = true,
                               since: String = "6.0.0", _ summary: String) -> Entry {
        Entry(name, arity, flags: admin ? adminSub : plainSub,
              admin ? [.admin, .slow, .dangerous] : [.slow], since: since, group: "server", summary)
    }

    private static func commandSub(_ name: String, _ arity: Int, tips: [String] = [],
                                   since: String, _ summary: String) -> Entry {
        Entry(name, arity, flags: helpFlags, [.slow, .connection], tips: tips,
              since: since, group: "server", summary)
    }

    private static func sentinelSub(_ name: String, _ arity: Int, since: String = "2.8.4",
                                    _ summary: String) -> Entry {
        Entry(name, arity, flags: ["admin"], [.admin, .slow, .dangerous], since: since,
              group: "sentinel", summary)
    }

    private static let unorderedOutput = ["nondeterministic_output_order"]

    static let sentinelEntries: [Entry] = [
        Entry("client", -2, flags: [], [.slow], since: "2.4.0", group: "connection",
              "Commands about client connections", subcommands: [
            clientSub("unpause", 2, admin: true, since: "6.2.0", "Let paused clients run again"),
            clientSub("getname", 2, since: "2.6.9", "The name of this connection"),
            clientSub("unblock", -3, admin: true, since: "5.0.0", "Wake a client blocked in a command"),
            clientSub("caching", 3, since: "6.0.0", "Tracking hint for the next command"),
            clientSub("pause", -3, admin: true, since: "2.9.50", "Hold the processing of commands from clients"),
            clientSub("reply", 3, since: "3.2.0", "Turn replies to this connection on or off"),
            clientSub("no-evict", 3, admin: true, since: "7.0.0", "Exempt this connection from client eviction"),
            clientSub("kill", -3, admin: true, since: "2.4.0", "Close client connections"),
            clientSub("setname", 3, since: "2.6.9", "Name this connection"),
            clientSub("info", 2, tips: ["nondeterministic_output"], since: "6.2.0", "About this connection"),
            clientSub("getredir", 2, since: "6.0.0", "Where tracking notifications of this connection go"),
            clientSub("trackinginfo", 2, since: "6.2.0", "Key tracking state of this connection"),
            Entry("help", 2, flags: helpFlags, [.slow, .connection], since: "5.0.0", group: "connection",
                  "The CLIENT subcommands"),
            clientSub("id", 2, since: "5.0.0", "The id of this connection"),
            clientSub("list", -2, admin: true, tips: ["nondeterministic_output"], since: "2.4.0",
                      "Every client connection"),
            clientSub("tracking", -3, since: "6.0.0", "Key tracking for this connection"),
            // Redis 7.2's CLIENT SETINFO, which redis-py sends; not listed, permitted as SETNAME.
            Entry("setinfo", 4, flags: plainSub, [.slow, .connection], since: "7.2.0", group: "connection",
                  "Library name and version of this connection", checkedAs: "client|setname"),
        ]),
        Entry("acl", -2, flags: [], [.slow], since: "6.0.0", group: "server",
              "Access control: users and their permissions", subcommands: [
            aclSub("cat", -2, admin: false, "ACL categories, or the commands in one"),
            aclSub("list", 2, "Every user as a rule line"),
            aclSub("dryrun", -4, since: "7.0.0", "Whether a user may run a command"),
            aclSub("getuser", 3, "One user's rules"),
            aclSub("genpass", -2, admin: false, "A random password"),
            aclSub("users", 2, "The user names"),
            aclSub("whoami", 2, admin: false, "The user of this connection"),
            aclSub("setuser", -3, "Create or change a user"),
            aclSub("log", -2, "Recent refusals"),
            aclSub("load", 2, "Read the users from the ACL file"),
            Entry("help", 2, flags: helpFlags, [.slow], since: "6.0.0", group: "server", "The ACL subcommands"),
            aclSub("deluser", -3, "Delete users"),
            aclSub("save", 2, "Write the users to the ACL file"),
        ]),
        Entry("punsubscribe", -1, flags: ["pubsub", "noscript", "loading", "stale"], [.pubsub, .slow],
              channels: .unsubscribe, since: "2.0.0", group: "pubsub", "Stop receiving messages for patterns"),
        Entry("shutdown", -1, flags: ["admin", "noscript", "loading", "stale", "no_multi", "allow_busy"],
              [.admin, .slow, .dangerous], since: "1.0.0", group: "server", "Save the state and exit"),
        Entry("info", -1, flags: ["loading", "stale"], [.slow, .dangerous],
              tips: ["nondeterministic_output", "request_policy:all_shards", "response_policy:special"],
              since: "1.0.0", group: "server", "Server information and statistics"),
        Entry("command", -1, flags: ["loading", "stale"], [.slow, .connection], tips: unorderedOutput,
              since: "2.8.13", group: "server", "The commands of this server", subcommands: [
            commandSub("docs", -2, tips: unorderedOutput, since: "7.0.0", "Documentation of commands"),
            commandSub("getkeysandflags", -4, since: "7.0.0", "The keys of a command and how it uses them"),
            commandSub("help", 2, since: "5.0.0", "The COMMAND subcommands"),
            commandSub("count", 2, since: "2.8.13", "How many commands there are"),
            commandSub("getkeys", -4, since: "2.8.13", "The keys of a command"),
            commandSub("list", -2, tips: unorderedOutput, since: "7.0.0", "The command names"),
            commandSub("info", -2, tips: unorderedOutput, since: "2.8.13", "Details of commands"),
        ]),
        Entry("sentinel", -2, flags: ["admin"], [.admin, .slow, .dangerous], since: "2.8.4",
              group: "sentinel", "Sentinel commands", subcommands: [
            sentinelSub("remove", 3, "Stop monitoring a master"),
            sentinelSub("myid", 2, since: "6.2.0", "The id of this sentinel"),
            sentinelSub("monitor", 6, "Start monitoring a master"),
            sentinelSub("info-cache", -3, since: "3.2.0", "The last INFO of masters and replicas"),
            sentinelSub("is-master-down-by-addr", 6, "Ask for a vote and whether a master is down"),
            Entry("help", 2, flags: helpFlags, [.slow], since: "6.2.0", group: "sentinel",
                  "The SENTINEL subcommands"),
            sentinelSub("masters", 2, "Every monitored master and its state"),
            sentinelSub("debug", -2, since: "7.0.0", "Timing parameters, for tests"),
            sentinelSub("replicas", 3, since: "5.0.0", "The replicas of a master"),
            sentinelSub("ckquorum", 3, "Whether the quorum can be reached"),
            sentinelSub("flushconfig", 2, "Write the state to the config file"),
            sentinelSub("reset", 3, "Forget the replicas and sentinels of masters"),
            sentinelSub("get-master-addr-by-name", 3, "The address of a master"),
            sentinelSub("slaves", 3, since: "2.8.0", "The replicas of a master (old name)"),
            sentinelSub("sentinels", 3, "The other sentinels of a master"),
            sentinelSub("simulate-failure", -3, since: "3.2.0", "Crash at a chosen point, for tests"),
            sentinelSub("master", 3, "One master and its state"),
            sentinelSub("config", -3, since: "6.2.0", "Global sentinel settings"),
            sentinelSub("failover", 3, "Fail over now, without agreement"),
            sentinelSub("pending-scripts", 2, "Scripts queued and running"),
            sentinelSub("set", -5, "Change the settings of a master"),
            // Warden extras (not listed by COMMAND): SENTINEL RESET's permission.
            Entry("forget-sentinel", -4, flags: ["admin"], [.admin, .slow, .dangerous], since: "7.0.0",
                  group: "sentinel", "Forget a peer sentinel that is down, on every sentinel (Warden)",
                  checkedAs: "sentinel|reset"),
            Entry("forget-replica", -5, flags: ["admin"], [.admin, .slow, .dangerous], since: "7.0.0",
                  group: "sentinel", "Forget a replica that is down, on every sentinel (Warden)",
                  checkedAs: "sentinel|reset"),
        ]),
        Entry("auth", -2, flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
              [.fast, .connection], since: "1.0.0", group: "connection", "Authenticate this connection"),
        Entry("subscribe", -2, flags: ["pubsub", "noscript", "loading", "stale"], [.pubsub, .slow],
              channels: .subscribeAll, since: "2.0.0", group: "pubsub", "Receive the messages of channels"),
        Entry("unsubscribe", -1, flags: ["pubsub", "noscript", "loading", "stale"], [.pubsub, .slow],
              channels: .unsubscribe, since: "2.0.0", group: "pubsub", "Stop receiving messages of channels"),
        Entry("psubscribe", -2, flags: ["pubsub", "noscript", "loading", "stale"], [.pubsub, .slow],
              channels: .subscribePatterns, since: "2.0.0", group: "pubsub",
              "Receive the messages of channels matching patterns"),
        Entry("role", 1, flags: ["noscript", "loading", "stale", "fast"], [.admin, .fast, .dangerous],
              since: "2.8.12", group: "server", "The replication role of this server"),
        Entry("ping", -1, flags: ["fast"], [.fast, .connection],
              tips: ["request_policy:all_shards", "response_policy:all_succeeded"],
              since: "1.0.0", group: "connection", "Check that the server answers"),
        Entry("publish", 3, flags: ["pubsub", "loading", "stale", "fast"], [.pubsub, .fast],
              channels: .publishFirst, since: "2.0.0", group: "pubsub", "Send a message to a channel"),
        Entry("hello", -1, flags: ["noscript", "loading", "stale", "fast", "no_auth", "allow_busy"],
              [.fast, .connection], since: "6.0.0", group: "connection",
              "Choose the protocol, authenticate, name the connection"),
    ]
}
