/// Every ACL user of the server, with Redis 7.0's rules for changing them: ACL
/// SETUSER (all rules or none), DELUSER, `user` lines of the config file and the
/// ACL file. Pure: file contents come in and go out as text.
public struct ACLUserStore: Sendable {
    public let table: CommandTable
    /// `acl-pubsub-default allchannels`: new users and selectors start with `&*`.
    public var pubsubDefaultAllChannels: Bool
    public private(set) var users: [String: ACLUser]

    /// Only the default user, `on nopass ~* &* +@all`.
    public init(table: CommandTable = .sentinel, pubsubDefaultAllChannels: Bool = false) {
        self.table = table
        self.pubsubDefaultAllChannels = pubsubDefaultAllChannels
        users = ["default": ACLUser.defaultUser(table: table)]
    }

    public var defaultUser: ACLUser { users["default"] ?? ACLUser.defaultUser(table: table) }

    /// User names in Redis's order (its radix tree: byte order).
    public var names: [String] {
        users.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    public subscript(name: String) -> ACLUser? { users[name] }

    /// The `requirepass` directive: the default user gets that one password, or
    /// `nopass` when there is none.
    public mutating func setDefaultPassword(_ password: [UInt8]?) {
        var user = defaultUser
        try? user.apply(Array("resetpass".utf8), table: table, pubsubDefaultAllChannels: pubsubDefaultAllChannels)
        try? user.apply(password.map { [UInt8(ascii: ">")] + $0 } ?? Array("nopass".utf8), table: table,
                        pubsubDefaultAllChannels: pubsubDefaultAllChannels)
        users["default"] = user
    }

    // MARK: ACL SETUSER / DELUSER

    /// ACL SETUSER: applies every rule to a copy of the user (a new user when there is
    /// none) and keeps it only when all of them apply. Returns the error text
    /// (without `ERR `) or nil. A rule that holds a password (`>...`, `<...`) is not
    /// repeated in the error.
    public mutating func setUser(_ name: String, rules: [[UInt8]]) -> String? {
        if ACLText.hasSpaces(name) { return "Usernames can't contain spaces or null characters" }
        let merged: [[UInt8]]
        switch ACLUserStore.mergeSelectors(rules) {
        case .success(let m): merged = m
        case .failure(let start):
            return "Unmatched parenthesis in acl selector starting at '\(ACLUserStore.shown(start.argument))'."
        }
        var user = users[name] ?? ACLUser(name: name, table: table, pubsubDefaultAllChannels: pubsubDefaultAllChannels)
        if let (rule, error) = apply(merged, to: &user) {
            return "Error in ACL SETUSER modifier '\(ACLUserStore.shown(rule))': \(error.message)"
        }
        users[name] = user
        return nil
    }

    /// Applies `rules` in order; the first that fails and why.
    private func apply(_ rules: [[UInt8]], to user: inout ACLUser) -> ([UInt8], ACLRuleError)? {
        for rule in rules {
            do throws(ACLRuleError) {
                try user.apply(rule, table: table, pubsubDefaultAllChannels: pubsubDefaultAllChannels)
            } catch {
                return (rule, error)
            }
        }
        return nil
    }

    /// ACL DELUSER: the number of users removed, or the error text when one of them
    /// is `default` (then nothing is removed).
    public mutating func deleteUsers(_ names: [String]) -> Result<Int, ACLStoreError> {
        if names.contains("default") { return .failure(ACLStoreError("The 'default' user cannot be removed")) }
        var deleted = 0
        for name in names where users.removeValue(forKey: name) != nil { deleted += 1 }
        return .success(deleted)
    }

    /// A rule as error texts may show it: a password is replaced by `...`.
    static func shown(_ rule: [UInt8]) -> String {
        if let first = rule.first, first == UInt8(ascii: ">") || first == UInt8(ascii: "<") {
            return String(UnicodeScalar(first)) + "..."
        }
        return String(decoding: rule, as: UTF8.self)
    }

    /// Joins a `(...)` selector spread over several arguments into one (Redis's
    /// `ACLMergeSelectorArguments`); on an unmatched `(`, the argument that opened it.
    static func mergeSelectors(_ args: [[UInt8]]) -> Result<[[UInt8]], UnmatchedParenthesis> {
        var merged: [[UInt8]] = []
        var open: [UInt8]?
        var openedBy: [UInt8] = []
        for arg in args {
            if var current = open {
                current += [UInt8(ascii: " ")] + arg
                if arg.last == UInt8(ascii: ")") {
                    merged.append(current)
                    open = nil
                } else {
                    open = current
                }
                continue
            }
            if arg.first == UInt8(ascii: "("), arg.last != UInt8(ascii: ")") {
                open = arg
                openedBy = arg
                continue
            }
            merged.append(arg)
        }
        if open != nil { return .failure(UnmatchedParenthesis(openedBy)) }
        return .success(merged)
    }

    struct UnmatchedParenthesis: Error {
        var argument: [UInt8]
        init(_ argument: [UInt8]) { self.argument = argument }
    }

    // MARK: `user` lines of the config file

    /// Checks one `user <name> rules...` line as Redis does while reading the config
    /// (every rule must apply to a scratch user); nil or the error text.
    public static func checkDeclaration(name: String, rules: [[UInt8]], table: CommandTable = .sentinel,
                                        pubsubDefaultAllChannels: Bool = false) -> String? {
        let prefix = "Error in user declaration '\(name)': "
        if ACLText.hasSpaces(name) { return prefix + "Spaces not allowed in ACL usernames" }
        guard case .success(let merged) = mergeSelectors(rules) else {
            return prefix + "Unmatched parenthesis in acl selector"
        }
        var scratch = ACLUser(name: name, table: table, pubsubDefaultAllChannels: pubsubDefaultAllChannels)
        for rule in merged {
            do throws(ACLRuleError) {
                try scratch.apply(rule, table: table, pubsubDefaultAllChannels: pubsubDefaultAllChannels)
            } catch {
                return prefix + error.message
            }
        }
        return nil
    }

    /// Applies the `user` lines of the config at start (Redis's
    /// `ACLLoadConfiguredUsers`): `user default ...` resets the default user first.
    public mutating func declare(name: String, rules: [[UInt8]]) -> String? {
        guard case .success(let merged) = ACLUserStore.mergeSelectors(rules) else {
            return "Unmatched parenthesis in the rules of the user '\(name)'"
        }
        var user = users[name] ?? ACLUser(name: name, table: table, pubsubDefaultAllChannels: pubsubDefaultAllChannels)
        if name == "default" {
            try? user.apply(Array("reset".utf8), table: table, pubsubDefaultAllChannels: pubsubDefaultAllChannels)
        }
        if let (rule, error) = apply(merged, to: &user) {
            return "Error loading ACL rule '\(ACLUserStore.shown(rule))' for the user named '\(name)': \(error.message)"
        }
        users[name] = user
        return nil
    }

    // MARK: The ACL file

    /// The users of an ACL file (Redis's `ACLLoadFromFile`): every line `user <name>
    /// rules...`, rules separated by single spaces, blank lines allowed, comments not.
    /// All of it applies, or nothing: on any error the store is unchanged and the
    /// errors come back in one line, as Redis reports them. `fileName` is the
    /// `aclfile` setting as given (it appears in the errors).
    public mutating func load(fileText text: String, fileName: String) -> ACLStoreError? {
        var loaded: [String: ACLUser] = [:]
        var errors = ""
        let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (index, raw) in lines.enumerated() {
            let number = index + 1
            let line = ACLUserStore.trim(Array(raw), " \t\r\n")
            if line.isEmpty { continue }
            let argv = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false).map(Array.init)
            guard argv.count >= 2, argv[0] == Array("user".utf8) else {
                errors += "\(fileName):\(number) should start with user keyword followed by the username. "
                continue
            }
            let name = String(decoding: argv[1], as: UTF8.self)
            if ACLText.hasSpaces(argv[1]) {
                errors += "'\(fileName):\(number): username '\(name)' contains invalid characters. "
                continue
            }
            guard loaded[name] == nil else {
                errors += "WARNING: Duplicate user '\(name)' found on line \(number). "
                continue
            }
            var user = ACLUser(name: name, table: table, pubsubDefaultAllChannels: pubsubDefaultAllChannels)
            var merged: [[UInt8]] = []
            switch ACLUserStore.mergeSelectors(Array(argv.dropFirst(2))) {
            case .success(let m): merged = m
            case .failure:
                errors += "\(fileName):\(number): Unmatched parenthesis in selector definition."
            }
            var syntaxError = false
            for rule in merged {
                let op = ACLUserStore.trim(rule, "\t\r\n")
                do throws(ACLRuleError) {
                    try user.apply(op, table: table, pubsubDefaultAllChannels: pubsubDefaultAllChannels)
                } catch .unknownCommand {
                    errors += "\(fileName):\(number): Error in applying operation '\(ACLUserStore.shown(op))': "
                        + "\(ACLRuleError.unknownCommand.message). "
                } catch {
                    if !syntaxError {
                        errors += "\(fileName):\(number): \(error.message). "
                        syntaxError = true
                    }
                }
            }
            loaded[name] = user
        }
        guard errors.isEmpty else {
            return ACLStoreError(errors + "WARNING: ACL errors detected, no change to the previously active ACL rules was performed")
        }
        if loaded["default"] == nil { loaded["default"] = ACLUser.defaultUser(table: table) }
        users = loaded
        return nil
    }

    /// The ACL file for ACL SAVE: one `user <name> <rules>` line per user, in name order.
    public func fileText() -> String {
        names.compactMap { name in users[name].map { "user \(name) \($0.describe(table: table))\n" } }.joined()
    }

    static func trim(_ bytes: [UInt8], _ set: String) -> [UInt8] {
        let strip = Set(set.utf8)
        var slice = bytes[...]
        while let f = slice.first, strip.contains(f) { slice = slice.dropFirst() }
        while let l = slice.last, strip.contains(l) { slice = slice.dropLast() }
        return Array(slice)
    }
}

/// An error text of the ACL store, as the reply shows it (without `ERR `).
public struct ACLStoreError: Error, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
}
