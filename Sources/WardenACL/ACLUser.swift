import RESP
import WardenCrypto

/// One ACL user as Redis 7.0 keeps it: flags, SHA-256 password hashes and selectors
/// (the root selector first). Pure value; the rules are checked against a
/// `CommandTable`.
public struct ACLUser: Equatable, Sendable {
    public let name: String
    public internal(set) var enabled = false
    public internal(set) var disabled = true
    public internal(set) var nopass = false
    var skipSanitizePayload = false
    var sanitizePayload = false
    /// Lower-case hex SHA-256 of each password, in the order added.
    public internal(set) var passwordHashes: [String] = []
    public internal(set) var selectors: [ACLSelector]

    /// A new user: disabled, no passwords, no commands (`user <name>` with no rules).
    public init(name: String, table: CommandTable, pubsubDefaultAllChannels: Bool = false) {
        self.name = name
        selectors = [ACLSelector(root: true, table: table, pubsubDefaultAllChannels: pubsubDefaultAllChannels)]
    }

    /// Redis's default user: `on nopass ~* &* +@all`.
    public static func defaultUser(table: CommandTable) -> ACLUser {
        var user = ACLUser(name: "default", table: table)
        for rule in ["+@all", "~*", "&*", "on", "nopass"] {
            try? user.apply(Array(rule.utf8), table: table, pubsubDefaultAllChannels: false)
        }
        return user
    }

    var root: ACLSelector {
        get { selectors[0] }
        set { selectors[0] = newValue }
    }

    // MARK: Rules

    /// Applies one rule (Redis's `ACLSetUser`). `op` is bytes because `>password` may
    /// be any bytes.
    public mutating func apply(_ op: [UInt8], table: CommandTable, pubsubDefaultAllChannels: Bool) throws(ACLRuleError) {
        guard let first = op.first else { return }
        let text = String(decoding: op, as: UTF8.self)
        let lower = text.lowercased()
        switch lower {
        case "on":
            enabled = true
            disabled = false
            return
        case "off":
            disabled = true
            enabled = false
            return
        case "skip-sanitize-payload":
            skipSanitizePayload = true
            sanitizePayload = false
            return
        case "sanitize-payload":
            skipSanitizePayload = false
            sanitizePayload = true
            return
        case "nopass":
            nopass = true
            passwordHashes = []
            return
        case "resetpass":
            nopass = false
            passwordHashes = []
            return
        default:
            break
        }
        switch first {
        case UInt8(ascii: ">"), UInt8(ascii: "#"):
            let hash = first == UInt8(ascii: ">") ? Self.hash(op.dropFirst()) : String(decoding: op.dropFirst(), as: UTF8.self)
            guard first == UInt8(ascii: ">") || Self.isValidHash(op.dropFirst()) else { throw .badHash }
            if !passwordHashes.contains(hash) { passwordHashes.append(hash) }
            nopass = false
        case UInt8(ascii: "<"), UInt8(ascii: "!"):
            guard first == UInt8(ascii: "<") || Self.isValidHash(op.dropFirst()) else { throw .badHash }
            let hash = first == UInt8(ascii: "<") ? Self.hash(op.dropFirst()) : String(decoding: op.dropFirst(), as: UTF8.self)
            guard let index = passwordHashes.firstIndex(of: hash) else { throw .noSuchPassword }
            passwordHashes.remove(at: index)
        case UInt8(ascii: "(") where op.last == UInt8(ascii: ")"):
            var selector = ACLSelector(root: false, table: table, pubsubDefaultAllChannels: pubsubDefaultAllChannels)
            let inner = Array(op.dropFirst().dropLast())
            for rule in ACLText.split(inner) ?? [] {
                try selector.apply(String(decoding: rule, as: UTF8.self), table: table)
            }
            selectors.append(selector)
        default:
            if lower == "clearselectors" {
                selectors.removeSubrange(1...)
            } else if lower == "reset" {
                passwordHashes = []
                nopass = false
                root.allKeys = false
                root.keyPatterns = []
                root.allChannels = pubsubDefaultAllChannels
                root.channels = []
                disabled = true
                enabled = false
                skipSanitizePayload = false
                sanitizePayload = true
                selectors.removeSubrange(1...)
                try root.apply("-@all", table: table)
            } else {
                try root.apply(text, table: table)
            }
        }
    }

    /// Lower-case hex SHA-256, the form Redis stores and shows (`#...`).
    public static func hash<C: Collection>(_ password: C) -> String where C.Element == UInt8 {
        let hex = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in SHA256.hash(password) {
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func isValidHash<C: Collection>(_ text: C) -> Bool where C.Element == UInt8 {
        text.count == 64 && text.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    // MARK: Authentication and permissions

    /// Whether `password` opens this user (Redis's `ACLCheckUserCredentials`): the user
    /// is not `off`, and is `nopass` or has the password's hash. Hashes are compared
    /// in constant time.
    public func accepts<C: Collection>(password: C) -> Bool where C.Element == UInt8 {
        guard !disabled else { return false }
        if nopass { return true }
        let candidate = Array(Self.hash(password).utf8)
        var matched = false
        for stored in passwordHashes where constantTimeEqual(Array(stored.utf8), candidate) {
            matched = true
        }
        return matched
    }

    /// Whether the user may run `command` with `args` (the whole request): the first
    /// selector that allows it wins; otherwise the most relevant refusal (a channel
    /// over a command, the later argument over the earlier), as Redis picks it.
    public func check(_ command: CommandSpec, _ args: [[UInt8]], table: CommandTable) -> ACLCheckResult {
        var relevant = ACLCheckResult.deniedCommand
        for selector in selectors {
            let result = selector.check(command, args, table: table)
            if result == .allowed { return .allowed }
            if result.rank > relevant.rank || (result.rank == relevant.rank && result.index > relevant.index) {
                relevant = result
            }
        }
        return relevant
    }

    /// The cheap check for a command without channel arguments: the command's bit in
    /// some selector (or first-arg rules, which need the arguments: then false).
    public func allowsOutright(_ command: CommandSpec) -> Bool {
        command.allowedBeforeAuth || selectors.contains { $0.allCommands || $0.allows(command.aclID) }
    }

    /// Whether a client of this user may keep a subscription: Redis's test when a
    /// user's channel rules change (any selector with all channels keeps everything;
    /// otherwise the channel must match the union of the selectors' channel rules).
    public func permitsSubscription(_ channel: [UInt8], pattern: Bool) -> Bool {
        if selectors.contains(where: \.allChannels) { return true }
        return ACLSelector.channel(channel, pattern: pattern, in: selectors.flatMap(\.channels))
    }

    /// Whether every subscription allowed before is still allowed by `updated`
    /// (then no client needs to be disconnected).
    public func channelRulesContained(in updated: ACLUser) -> Bool {
        if updated.selectors.contains(where: \.allChannels) { return true }
        if selectors.contains(where: \.allChannels) { return false }
        let upcoming = updated.selectors.flatMap(\.channels)
        return selectors.flatMap(\.channels).allSatisfy(upcoming.contains)
    }

    // MARK: Description

    /// The user's rules in the form ACL LIST and the ACL file use (after `user <name> `).
    public func describe(table: CommandTable) -> String {
        var parts: [String] = []
        if enabled { parts.append("on") }
        if disabled { parts.append("off") }
        if nopass { parts.append("nopass") }
        if skipSanitizePayload { parts.append("skip-sanitize-payload") }
        if sanitizePayload { parts.append("sanitize-payload") }
        for hash in passwordHashes { parts.append("#" + hash) }
        var text = parts.map { $0 + " " }.joined()
        for selector in selectors {
            let description = selector.describe(table: table)
            text += selector.isRoot ? description : " (\(description))"
        }
        return text
    }

    /// The flags ACL GETUSER lists.
    public var flagNames: [String] {
        [(enabled, "on"), (disabled, "off"), (nopass, "nopass"),
         (skipSanitizePayload, "skip-sanitize-payload"), (sanitizePayload, "sanitize-payload")]
            .filter(\.0).map(\.1)
    }
}

extension ACLCheckResult {
    var index: Int {
        if case .deniedChannel(let index) = self { return index }
        return 0
    }
}

extension ACLText {
    /// `sdssplitargs` for the inside of a `(...)` selector.
    static func split(_ bytes: [UInt8]) -> [[UInt8]]? {
        InlineSplitter.split(bytes)
    }
}
