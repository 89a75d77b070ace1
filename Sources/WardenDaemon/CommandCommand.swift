import RESP
import SentinelCore
import WardenACL

/// COMMAND as redis-sentinel 7.0.15 answers it, from the sentinel-mode command
/// table: the commands as they are named now (rename-command), each described with
/// its original name as Redis does.
extension ClientServer {
    func command(_ s: ClientSession, _ raw: RESPArguments) {
        let args = raw.map { String(decoding: $0, as: UTF8.self) }
        guard args.count > 1 else {
            s.reply(.array(liveCommands.map(commandInfo)))
            return
        }
        switch args[1].lowercased() {
        case "count":
            s.reply(.integer(Int64(liveCommands.count)))
        case "list":
            commandList(s, Array(args.dropFirst(2)))
        case "info":
            if args.count == 2 {
                s.reply(.array(liveCommands.map(commandInfo)))
            } else {
                s.reply(.array(args.dropFirst(2).map { name in liveCommand(named: name).map(commandInfo) ?? .null }))
            }
        case "docs":
            let specs = args.count == 2 ? liveCommands : args.dropFirst(2).compactMap(liveCommand(named:))
            s.reply(.map(specs.map { RESPPair(.bulk($0.fullName), commandDocs($0)) }))
        case "getkeys", "getkeysandflags":
            let named = Self.table.lookup(name: liveName(args[2]) ?? "", subcommand: args.count > 3 ? args[3] : nil)
            if case .found = named {
                s.reply(.error("ERR The command has no key arguments"))
            } else {
                s.reply(.error("ERR Invalid command specified"))
            }
        case "help":
            s.reply(.array([
                "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "(no subcommand)", "    Every command of this server and its details.",
                "COUNT", "    How many commands this server has.",
                "LIST [FILTERBY (MODULE <module>|ACLCAT <category>|PATTERN <pattern>)]",
                "    The names of the commands and subcommands, optionally filtered.",
                "INFO [<command-name> ...]", "    The details of the named commands (all when none is named).",
                "DOCS [<command-name> ...]", "    The documentation of the named commands (all when none is named).",
                "GETKEYS <full-command>", "    The keys a command uses (no sentinel command has any).",
                "GETKEYSANDFLAGS <full-command>", "    The keys a command uses and how.",
                "HELP", "    Print this help.",
            ].map { .simpleString($0) }))
        default:
            s.reply(.error("ERR unknown subcommand '\(Self.clipped(args[1], 128))'. Try COMMAND HELP."))
        }
    }

    /// The top-level commands that answer under some name, in table order.
    var liveCommands: [CommandSpec] {
        let live = Set(server.commandNames.values)
        return Self.table.topLevel.map { Self.table.commands[$0] }.filter { live.contains($0.name) }
    }

    /// The original name of a command as it is called now, or nil.
    func liveName(_ name: String) -> String? {
        server.commandNames[name.lowercased()]
    }

    /// `name` or `name|sub` as COMMAND INFO / DOCS look it up (current names).
    func liveCommand(named name: String) -> CommandSpec? {
        let parts = name.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        guard parts.count <= 2, let original = liveName(parts[0]) else { return nil }
        if parts.count == 1 { return Self.table.command(named: original) }
        guard let spec = Self.table.command(fullName: "\(original)|\(parts[1])"),
              spec.parentID != nil else { return nil }
        return spec
    }

    /// COMMAND LIST [FILTERBY MODULE m | ACLCAT c | PATTERN p]: commands and their
    /// subcommands.
    func commandList(_ s: ClientSession, _ options: [String]) {
        var filter: (CommandSpec) -> Bool = { _ in true }
        var i = 0
        while i < options.count {
            guard options[i].lowercased() == "filterby", options.count - i - 1 == 2 else {
                s.reply(.error("ERR syntax error"))
                return
            }
            let argument = options[i + 2]
            switch options[i + 1].lowercased() {
            case "module":
                filter = { _ in false }
            case "aclcat":
                let category = ACLCategory(name: argument)
                filter = { spec in category.map { spec.categories.contains($0) } ?? false }
            case "pattern":
                filter = { spec in Glob.match(argument, spec.fullName, caseInsensitive: true) }
            default:
                s.reply(.error("ERR syntax error"))
                return
            }
            i += 3
        }
        var names: [RESPValue] = []
        for spec in liveCommands {
            if filter(spec) { names.append(.bulk(spec.fullName)) }
            for sub in spec.subcommandIDs where filter(Self.table.commands[sub]) {
                names.append(.bulk(Self.table.commands[sub].fullName))
            }
        }
        s.reply(.array(names))
    }

    /// One COMMAND INFO entry: name, arity, flags, first/last key and step (always 0:
    /// no sentinel command has keys), ACL categories, tips, key specs, subcommands.
    func commandInfo(_ spec: CommandSpec) -> RESPValue {
        .array([
            .bulk(spec.fullName),
            .integer(Int64(spec.arity)),
            .set(spec.flags.map { .simpleString($0) }),
            .integer(0), .integer(0), .integer(0),
            .set(spec.categories.members.map { .simpleString("@" + $0.name) }),
            .set(spec.tips.map { .bulk($0) }),
            .set([]),
            spec.isContainer ? .array(spec.subcommandIDs.map { commandInfo(Self.table.commands[$0]) }) : .set([]),
        ])
    }

    /// One COMMAND DOCS entry: summary (Warden's words), since, group, and the
    /// subcommands' docs.
    func commandDocs(_ spec: CommandSpec) -> RESPValue {
        var fields = [
            RESPPair(.bulk("summary"), .bulk(spec.summary)),
            RESPPair(.bulk("since"), .bulk(spec.since)),
            RESPPair(.bulk("group"), .bulk(spec.group)),
        ]
        if spec.isContainer {
            fields.append(RESPPair(.bulk("subcommands"), .map(spec.subcommandIDs.map {
                RESPPair(.bulk(Self.table.commands[$0].fullName), commandDocs(Self.table.commands[$0]))
            })))
        }
        return .map(fields)
    }
}
