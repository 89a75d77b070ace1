import EventLoop
import RESP
import SentinelCore
import WardenACL

/// A request that passed the checks every command goes through.
struct AdmittedCommand {
    let command: ClientCommand
    /// The table entry (the subcommand for a container); nil for QUIT, which
    /// redis-sentinel does not have.
    let spec: CommandSpec?
}

/// The checks redis-server's `processCommand` makes before any command runs, in its
/// order: the command exists under its current name (rename-command), the
/// subcommand exists, the arity is right, the client is authenticated, and its ACL
/// user may run it. Each refusal is answered here with Redis's error.
extension ClientServer {
    static let table = CommandTable.sentinel
    static let hiddenNames: [String: String] = Dictionary(
        uniqueKeysWithValues: table.hiddenTopLevel.map { (table.commands[$0].name, table.commands[$0].name) })

    func admit(_ s: ClientSession, _ raw: RESPArguments, now: Millis) -> AdmittedCommand? {
        let named: (command: ClientCommand, spec: CommandSpec)
        if let memo = s.lastResolved, memo.matches(raw) {
            named = (memo.command, memo.spec)
        } else {
            guard let resolved = resolve(s, raw) else { return nil }
            guard let spec = resolved.spec else { return resolved }
            named = (resolved.command, spec)
            s.lastResolved = ResolvedName(raw, command: resolved.command, spec: spec)
        }
        return check(s, raw, named.command, named.spec, now: now)
    }

    /// Which command the client named: under its current name (rename-command), and
    /// its subcommand. Depends on the bytes alone, never on the client or its user.
    private func resolve(_ s: ClientSession, _ raw: RESPArguments) -> AdmittedCommand? {
        let typed = Self.lowercased(raw[0])
        // Warden's extras (CONFIG for TLS) keep their names: rename-command knows only
        // redis-sentinel's commands.
        guard let original = server.commandNames[typed] ?? Self.hiddenNames[typed] else {
            if typed == "quit" { return AdmittedCommand(command: .quit, spec: nil) }
            s.reply(.error(Self.unknownCommandError(raw)))
            return nil
        }
        let sub = raw.count > 1 ? String(decoding: raw[1], as: UTF8.self) : nil
        let spec: CommandSpec
        switch Self.table.lookup(name: original, subcommand: sub) {
        case .found(let id):
            spec = Self.table.commands[id]
        case .unknownCommand:
            s.reply(.error(Self.unknownCommandError(raw)))
            return nil
        case .unknownSubcommand:
            let container = String(decoding: raw[0], as: UTF8.self).uppercased()
            s.reply(.error("ERR unknown subcommand '\(Self.clipped(sub ?? "", 128))'. Try \(container) HELP."))
            return nil
        }
        guard let command = ClientCommand(rawValue: original) else {
            s.reply(.error(Self.unknownCommandError(raw)))
            return nil
        }
        return AdmittedCommand(command: command, spec: spec)
    }

    /// Arity, authentication and the user's permissions, for a resolved command.
    private func check(_ s: ClientSession, _ raw: RESPArguments, _ command: ClientCommand, _ spec: CommandSpec,
                       now: Millis) -> AdmittedCommand? {
        s.lastCommand = spec.fullName
        if (spec.arity > 0 && raw.count != spec.arity) || raw.count < -spec.arity {
            s.reply(.error("ERR wrong number of arguments for '\(spec.fullName)' command"))
            return nil
        }
        if authRequired(s) && !spec.allowedBeforeAuth {
            s.reply(.error("NOAUTH Authentication required."))
            return nil
        }
        let user = currentUser(s)
        if spec.channels == .none || spec.channels == .unsubscribe, user.allowsOutright(spec) {
            return AdmittedCommand(command: command, spec: spec)
        }
        switch user.check(spec, raw.arrays, table: Self.table) {
        case .allowed:
            return AdmittedCommand(command: command, spec: spec)
        case .deniedCommand:
            aclLog.add(reason: .command, object: spec.fullName, username: s.userName,
                       clientInfo: clientLine(s), now: now)
            s.reply(.error("NOPERM this user has no permissions to run the '\(spec.fullName)' command"))
        case .deniedChannel(let index):
            aclLog.add(reason: .channel, object: String(decoding: raw[index], as: UTF8.self),
                       username: s.userName, clientInfo: clientLine(s), now: now)
            s.reply(.error("NOPERM this user has no permissions to access one of the channels used as arguments"))
        }
        return nil
    }

    /// `ERR unknown command 'name', with args beginning with: 'a' 'b' ` as Redis
    /// builds it: the name and the arguments cut at 128 characters, newlines blanked.
    static func unknownCommandError(_ raw: RESPArguments) -> String {
        var args = ""
        var index = 1
        while index < raw.count && args.utf8.count < 128 {
            let arg = String(decoding: raw[index], as: UTF8.self)
            args += "'\(clipped(arg, 128 - args.utf8.count))' "
            index += 1
        }
        let name = clipped(String(decoding: raw[0], as: UTF8.self), 128)
        return "ERR unknown command '\(name)', with args beginning with: \(args)"
            .replacingNewlines()
    }

    /// At most `count` bytes of `text` (on a character boundary).
    static func clipped(_ text: String, _ count: Int) -> String {
        guard text.utf8.count > count else { return text }
        var out = ""
        for c in text {
            if out.utf8.count + String(c).utf8.count > count { break }
            out.append(c)
        }
        return out
    }

    static func lowercased(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }
}

extension String {
    /// `\r` and `\n` as spaces, so that an error reply stays one line.
    func replacingNewlines() -> String {
        String(decoding: utf8.map { $0 == 0x0D || $0 == 0x0A ? 0x20 : $0 }, as: UTF8.self)
    }
}

/// The last command name a session resolved, so that a client sending the same
/// command again (a pipeline, a health check) skips the lookups. Only the name is
/// remembered: arity, authentication and ACL are checked every time.
struct ResolvedName {
    let name: [UInt8]
    let subcommand: [UInt8]?
    let command: ClientCommand
    let spec: CommandSpec

    init(_ raw: RESPArguments, command: ClientCommand, spec: CommandSpec) {
        name = Array(raw[0])
        subcommand = raw.count > 1 ? Array(raw[1]) : nil
        self.command = command
        self.spec = spec
    }

    func matches(_ raw: RESPArguments) -> Bool {
        guard raw[0].elementsEqual(name) else { return false }
        if let subcommand { return raw.count > 1 && raw[1].elementsEqual(subcommand) }
        return raw.count == 1
    }
}
