import SentinelCore

/// Why an ACL rule was refused, each with Redis's message.
public enum ACLRuleError: Error, Equatable, Sendable {
    /// A command, subcommand or category that does not exist (Redis's ENOENT).
    case unknownCommand
    /// Not a rule, or a pattern with spaces (EINVAL).
    case syntax
    /// A key pattern after `~*` / `allkeys` (EEXIST).
    case keyPatternAfterAll
    /// A channel pattern after `&*` / `allchannels` (EISDIR).
    case channelPatternAfterAll
    /// `<password` or `!hash` for a password the user does not have (ENODEV).
    case noSuchPassword
    /// `#hash` that is not 64 lower-case hex digits (EBADMSG).
    case badHash
    /// The same user declared twice in config files (EALREADY).
    case duplicateUser
    /// `+container|sub|arg` (ECHILD).
    case firstArgOfSubcommand

    public var message: String {
        switch self {
        case .unknownCommand: return "Unknown command or category name in ACL"
        case .syntax: return "Syntax error"
        case .keyPatternAfterAll:
            return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does "
                + "not have any effect. Try 'resetkeys' to start with an empty list of patterns"
        case .channelPatternAfterAll:
            return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does "
                + "not have any effect. Try 'resetchannels' to start with an empty list of channels"
        case .noSuchPassword: return "The password you are trying to remove from the user does not exist"
        case .badHash:
            return "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
        case .duplicateUser:
            return "Duplicate user found. A user can only be defined once in config files"
        case .firstArgOfSubcommand: return "Allowing first-arg of a subcommand is not supported"
        }
    }
}

/// The commands a selector allows: one bit per command id of a `CommandTable`,
/// plus a last bit that only `+@all` sets (Redis's "future commands" bit, which
/// decides whether ACL LIST describes the user from `+@all` or from `-@all`).
struct CommandBits: Equatable, Sendable {
    private var words: [UInt64]
    let futureBit: Int

    init(commandCount: Int) {
        futureBit = commandCount
        words = Array(repeating: 0, count: commandCount / 64 + 1)
    }

    subscript(id: Int) -> Bool {
        get { id >= 0 && id <= futureBit && words[id / 64] & (1 << UInt64(id % 64)) != 0 }
        set {
            guard id >= 0, id <= futureBit else { return }
            if newValue { words[id / 64] |= 1 << UInt64(id % 64) } else { words[id / 64] &= ~(1 << UInt64(id % 64)) }
        }
    }

    mutating func setAll(_ value: Bool) {
        for i in words.indices { words[i] = value ? ~0 : 0 }
    }

    var allowsFutureCommands: Bool { self[futureBit] }

    /// Equal on the bits of real commands (the future bit aside).
    func sameCommands(as other: CommandBits) -> Bool {
        (0..<futureBit).allSatisfy { self[$0] == other[$0] }
    }
}

/// A key pattern with the access it grants (`~p` both, `%R~p` read, `%W~p` write).
public struct KeyPattern: Equatable, Sendable {
    public var pattern: String
    public var read: Bool
    public var write: Bool

    var description: String {
        (read && write ? "~" : read ? "%R~" : "%W~") + pattern
    }
}

/// One set of permissions of a user: the root selector (rules given outside
/// parentheses) or an extra `(...)` selector. Checked against a `CommandTable`.
public struct ACLSelector: Equatable, Sendable {
    public internal(set) var isRoot: Bool
    /// Redis's ALLCOMMANDS flag: set by `+@all`, cleared by any removal.
    var allCommands = false
    public internal(set) var allKeys = false
    public internal(set) var allChannels = false
    var bits: CommandBits
    /// Allowed first arguments of otherwise denied commands (`+ping|arg`), by command id.
    var firstArgs: [Int: [String]] = [:]
    public internal(set) var keyPatterns: [KeyPattern] = []
    public internal(set) var channels: [String] = []

    init(root: Bool, table: CommandTable, pubsubDefaultAllChannels: Bool) {
        isRoot = root
        bits = CommandBits(commandCount: table.commands.count)
        allChannels = pubsubDefaultAllChannels
    }

    func allows(_ id: Int) -> Bool { bits[id] }

    // MARK: Applying rules

    /// Applies one selector rule (Redis's `ACLSetSelector`).
    mutating func apply(_ op: String, table: CommandTable) throws(ACLRuleError) {
        let lower = op.lowercased()
        let bytes = Array(op.utf8)
        if lower == "allkeys" || op == "~*" {
            allKeys = true
            keyPatterns = []
        } else if lower == "resetkeys" {
            allKeys = false
            keyPatterns = []
        } else if lower == "allchannels" || op == "&*" {
            allChannels = true
            channels = []
        } else if lower == "resetchannels" {
            allChannels = false
            channels = []
        } else if lower == "allcommands" || lower == "+@all" {
            bits.setAll(true)
            allCommands = true
            firstArgs = [:]
        } else if lower == "nocommands" || lower == "-@all" {
            bits.setAll(false)
            allCommands = false
            firstArgs = [:]
        } else if bytes.first == UInt8(ascii: "~") || bytes.first == UInt8(ascii: "%") {
            try addKeyPattern(bytes)
        } else if bytes.first == UInt8(ascii: "&") {
            guard !allChannels else { throw .channelPatternAfterAll }
            let pattern = String(op.dropFirst())
            guard !ACLText.hasSpaces(pattern) else { throw .syntax }
            if !channels.contains(pattern) { channels.append(pattern) }
            allChannels = false
        } else if bytes.count >= 2, bytes[1] == UInt8(ascii: "@"),
                  bytes[0] == UInt8(ascii: "+") || bytes[0] == UInt8(ascii: "-") {
            guard let category = ACLCategory(name: String(op.dropFirst(2))) else { throw .unknownCommand }
            setCategory(category, bytes[0] == UInt8(ascii: "+"), table: table)
        } else if bytes.first == UInt8(ascii: "+") {
            try allow(String(op.dropFirst()), table: table)
        } else if bytes.first == UInt8(ascii: "-") {
            guard let command = table.command(fullName: String(op.dropFirst())) else { throw .unknownCommand }
            change(command, allow: false, table: table)
        } else {
            throw .syntax
        }
    }

    private mutating func addKeyPattern(_ op: [UInt8]) throws(ACLRuleError) {
        guard !allKeys else { throw .keyPatternAfterAll }
        var read = false
        var write = false
        var offset = 1
        if op[0] == UInt8(ascii: "%") {
            while offset < op.count {
                let c = op[offset]
                if (c == UInt8(ascii: "R") || c == UInt8(ascii: "r")) && !read {
                    read = true
                } else if (c == UInt8(ascii: "W") || c == UInt8(ascii: "w")) && !write {
                    write = true
                } else if c == UInt8(ascii: "~") {
                    offset += 1
                    break
                } else {
                    throw .syntax
                }
                offset += 1
            }
        } else {
            read = true
            write = true
        }
        let pattern = String(decoding: op[min(offset, op.count)...], as: UTF8.self)
        guard !ACLText.hasSpaces(pattern) else { throw .syntax }
        if let i = keyPatterns.firstIndex(where: { $0.pattern == pattern }) {
            keyPatterns[i].read = keyPatterns[i].read || read
            keyPatterns[i].write = keyPatterns[i].write || write
        } else {
            keyPatterns.append(KeyPattern(pattern: pattern, read: read, write: write))
        }
        allKeys = false
    }

    /// `+name`, `+container|sub` or `+command|first-arg`.
    private mutating func allow(_ name: String, table: CommandTable) throws(ACLRuleError) {
        guard let bar = name.lastIndex(of: "|") else {
            guard let command = table.command(fullName: name), !name.isEmpty else { throw .unknownCommand }
            change(command, allow: true, table: table)
            return
        }
        let base = String(name[..<bar])
        let sub = String(name[name.index(after: bar)...])
        guard let command = table.command(fullName: base) else { throw .unknownCommand }
        guard command.parentID == nil else { throw .firstArgOfSubcommand }
        guard !sub.isEmpty else { throw .syntax }
        if command.isContainer {
            guard let subcommand = table.command(fullName: name) else { throw .unknownCommand }
            change(subcommand, allow: true, table: table)
        } else {
            var list = firstArgs[command.id] ?? []
            if !list.contains(where: { $0.lowercased() == sub.lowercased() }) { list.append(sub) }
            firstArgs[command.id] = list
        }
    }

    /// Allows or denies a command and, for a container, all its subcommands
    /// (Redis's `ACLChangeSelectorPerm`).
    mutating func change(_ command: CommandSpec, allow: Bool, table: CommandTable) {
        setBit(command.id, allow)
        firstArgs[command.id] = nil
        for sub in command.subcommandIDs { setBit(sub, allow) }
    }

    private mutating func setBit(_ id: Int, _ value: Bool) {
        bits[id] = value
        if !value { allCommands = false }
    }

    /// `+@category` / `-@category`: every command in it; a container in it brings all
    /// its subcommands.
    mutating func setCategory(_ category: ACLCategory, _ allow: Bool, table: CommandTable) {
        for id in table.topLevel {
            let command = table.commands[id]
            if command.categories.contains(category) { change(command, allow: allow, table: table) }
            for sub in command.subcommandIDs where table.commands[sub].categories.contains(category) {
                change(table.commands[sub], allow: allow, table: table)
            }
        }
    }

    // MARK: Checking

    /// Whether this selector lets `command` run with `args` (the whole request,
    /// command name first); the refusal and the index of the argument at fault.
    func check(_ command: CommandSpec, _ args: [[UInt8]], table: CommandTable) -> ACLCheckResult {
        if !allCommands && !command.allowedBeforeAuth && !bits[command.aclID] {
            let index = command.parentID == nil ? 1 : 2
            guard args.count >= 2, index < args.count, let allowed = firstArgs[command.aclID] else {
                return .deniedCommand
            }
            let given = String(decoding: args[index], as: UTF8.self).lowercased()
            guard allowed.contains(where: { $0.lowercased() == given }) else { return .deniedCommand }
        }
        guard !allChannels else { return .allowed }
        switch command.channels {
        case .none, .unsubscribe:
            return .allowed
        case .publishFirst:
            guard args.count > 1 else { return .allowed }
            return channelAllowed(args[1], pattern: false) ? .allowed : .deniedChannel(index: 1)
        case .subscribeAll, .subscribePatterns:
            let pattern = command.channels == .subscribePatterns
            for index in args.indices.dropFirst() where !channelAllowed(args[index], pattern: pattern) {
                return .deniedChannel(index: index)
            }
            return .allowed
        }
    }

    /// A channel (glob-matched against the rules) or a subscription pattern (compared
    /// literally with the rules), as Redis's `ACLCheckChannelAgainstList`.
    func channelAllowed(_ channel: [UInt8], pattern: Bool) -> Bool {
        ACLSelector.channel(channel, pattern: pattern, in: channels)
    }

    static func channel(_ channel: [UInt8], pattern: Bool, in rules: [String]) -> Bool {
        rules.contains { rule in
            pattern ? Array(rule.utf8) == channel : Glob.match(Array(rule.utf8), channel)
        }
    }
}

/// The outcome of an ACL check, ordered as Redis picks among selectors' refusals
/// (channel over command).
public enum ACLCheckResult: Equatable, Sendable {
    case allowed
    case deniedCommand
    /// The request's argument at `index` is a channel the user may not use.
    case deniedChannel(index: Int)

    var rank: Int {
        switch self {
        case .allowed: return 0
        case .deniedCommand: return 1
        case .deniedChannel: return 4
        }
    }
}

/// Small text helpers shared by the ACL code.
enum ACLText {
    /// Redis's `ACLStringHasSpaces`: any C `isspace` byte or NUL.
    static func hasSpaces<S: Sequence>(_ bytes: S) -> Bool where S.Element == UInt8 {
        bytes.contains { $0 == 0 || $0 == 0x20 || ($0 >= 0x09 && $0 <= 0x0D) }
    }

    static func hasSpaces(_ text: String) -> Bool { hasSpaces(text.utf8) }
}
