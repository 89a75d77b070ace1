/// How ACL LIST, ACL GETUSER and the ACL file write a selector's rules back: the
/// same text Redis 7.0 produces for the same command set.
extension ACLSelector {
    /// Keys, channels and commands: `~* &* +@all`, `resetchannels &ch* -@all +ping`, ...
    func describe(table: CommandTable) -> String {
        var text = ""
        if allKeys {
            text += "~* "
        } else {
            for pattern in keyPatterns { text += pattern.description + " " }
        }
        if allChannels {
            text += "&* "
        } else {
            text += "resetchannels "
            for channel in channels { text += "&" + channel + " " }
        }
        return text + describeCommands(table: table)
    }

    /// `keys` of ACL GETUSER: `~*`, or the patterns separated by spaces.
    public var keysDescription: String {
        allKeys ? "~*" : keyPatterns.map(\.description).joined(separator: " ")
    }

    /// `channels` of ACL GETUSER: `&*`, or the patterns separated by spaces.
    public var channelsDescription: String {
        allChannels ? "&*" : channels.map { "&" + $0 }.joined(separator: " ")
    }

    /// The command rules that rebuild exactly this selector's command bits, found the
    /// way Redis's `ACLDescribeSelectorCommandRules` finds them: start from `+@all`
    /// (when the selector can run future commands) or `-@all`; then, as long as some
    /// unused category has more commands in common with the selector than different,
    /// apply the one with the fewest differences (ties: more in common); then add or
    /// remove single commands (and list first-args) until the bits match.
    public func describeCommands(table: CommandTable) -> String {
        let additive = !bits.allowsFutureCommands
        var rules = additive ? "-@all " : "+@all "
        var fake = ACLSelector(root: false, table: table, pubsubDefaultAllChannels: false)
        try? fake.apply(additive ? "-@all" : "+@all", table: table)
        var temp = ACLSelector(root: false, table: table, pubsubDefaultAllChannels: false)
        temp.bits = bits

        var applied = Set<ACLCategory>()
        while true {
            var best: ACLCategory?
            var minDiff = Int.max
            var maxSame = 0
            for category in ACLCategory.allCases where !applied.contains(category) {
                var on = 0
                var off = 0
                for command in table.commands where !command.isHidden && command.categories.contains(category) {
                    if temp.bits[command.id] { on += 1 } else { off += 1 }
                }
                let diff = additive ? off : on
                let same = additive ? on : off
                if same > diff && (diff < minDiff || (diff == minDiff && same > maxSame)) {
                    best = category
                    minDiff = diff
                    maxSame = same
                }
            }
            guard let category = best else { break }
            fake.setCategory(category, additive, table: table)
            temp.setCategory(category, !additive, table: table)
            rules += (additive ? "+@" : "-@") + category.name + " "
            applied.insert(category)
        }

        for id in table.topLevel {
            describeSingle(table.commands[id], fake: &fake, rules: &rules, table: table)
        }
        if rules.hasSuffix(" ") { rules.removeLast() }
        assert(fake.bits.sameCommands(as: bits), "ACL description does not rebuild the selector: \(rules)")
        return rules
    }

    private func describeSingle(_ command: CommandSpec, fake: inout ACLSelector, rules: inout String,
                                table: CommandTable) {
        let mine = bits[command.id]
        if mine != fake.bits[command.id] {
            rules += (mine ? "+" : "-") + command.fullName + " "
            fake.change(command, allow: mine, table: table)
        }
        for sub in command.subcommandIDs {
            describeSingle(table.commands[sub], fake: &fake, rules: &rules, table: table)
        }
        if !mine, let args = firstArgs[command.id] {
            for arg in args { rules += "+" + command.fullName + "|" + arg + " " }
        }
    }
}
