import RESP
import SentinelCore
import WardenACL
import WardenCrypto

/// A sentinel.conf (or command-line override) line that could not be accepted.
///
/// `description` is the one-line form `file:line: reason`; `redisStyleReport`
/// is the block redis-sentinel prints to stderr before exiting.
public struct ConfigError: Error, Equatable, CustomStringConvertible {
    /// The config file's path, or `WardenCommandLine.commandLineFile` for overrides.
    public var file: String
    /// 1-based line number inside `file` (inside the override text for the command line).
    public var line: Int
    /// The offending line, trimmed of surrounding blanks as Redis shows it.
    public var lineText: String
    /// Why the line was refused, in Redis's words where Redis has words for it.
    public var reason: String

    public init(file: String, line: Int, lineText: String, reason: String) {
        self.file = file
        self.line = line
        self.lineText = lineText
        self.reason = reason
    }

    public var description: String { "\(file):\(line): \(reason)" }

    /// The multi-line report redis-sentinel writes on a fatal config error,
    /// starting with an empty line as Redis's does.
    public var redisStyleReport: String {
        let location = file == WardenCommandLine.commandLineFile
            ? "Reading the command line options, at line \(line)"
            : "Reading the configuration file, at line \(line)"
        return "\n*** FATAL CONFIG FILE ERROR ***\n\(location)\n>>> '\(lineText)'\n\(reason)\n"
    }
}

/// Turns sentinel.conf text into a `SentinelConfig`, with redis-sentinel 7.0's
/// rules and error messages.
///
/// Pure: no file access and no name resolution. The one check Redis makes against
/// the file system, that notification and reconfiguration scripts are executable,
/// is asked of the caller through `isExecutable`.
///
/// Like Redis, parsing is two passes. The first reads every line in order, applies
/// server directives (`port`, `bind`, ...) and queues `sentinel ...` lines; the second
/// applies the queued lines in three groups: global sentinel settings, then
/// `sentinel monitor`, then everything that refers to a master. So the order of lines
/// in the file does not matter, and an error is reported for the first bad line in
/// that processing order.
///
/// Where Redis silently accepts garbage (`atoi("abc")` is 0, a port of 0, an
/// unknown directive with the wrong number of arguments) Warden refuses the line
/// with a clear reason instead.
public enum ConfigParser {
    /// Parses one config file's text.
    /// - Parameters:
    ///   - file: the name used in errors (normally the path).
    ///   - isExecutable: whether a script path may be run; the daemon passes an
    ///     `access(path, X_OK)` check, tests a fake.
    public static func parse(
        _ text: String, file: String,
        isExecutable: (String) -> Bool = { _ in true }
    ) throws(ConfigError) -> SentinelConfig {
        let result = withoutActuallyEscaping(isExecutable) { check in
            Result { () throws(ConfigError) in
                try load(text, file: file, environment: ConfigEnvironment(isExecutable: check)).sentinel
            }
        }
        return try result.get()
    }

    /// Parses one config file's text into the sentinel model and the server settings,
    /// asking `environment` for what needs the outside world (includes, `dir`, scripts).
    public static func load(
        _ text: String, file: String, environment: ConfigEnvironment = .pure
    ) throws(ConfigError) -> LoadedConfig {
        try load(sources: [ConfigSource(file: file, text: text)], environment: environment)
    }

    /// Splits one line into arguments exactly as Redis's `sdssplitargs` does:
    /// blanks separate arguments; `"..."` supports `\n \r \t \b \a \xHH` and `\<c>`
    /// escapes; `'...'` supports `\'`; a closing quote must be followed by a blank or
    /// the end. Returns nil for unbalanced quotes.
    public static func splitArguments(_ line: String) -> [String]? {
        splitArgumentBytes(Array(line.utf8))?.map { String(decoding: $0, as: UTF8.self) }
    }

    // MARK: - Internals shared with WardenCommandLine

    /// One piece of config text and the name its errors carry.
    struct ConfigSource {
        var file: String
        var text: String
    }

    /// Parses several texts as one, in order (the file, then command-line overrides).
    static func load(
        sources: [ConfigSource], environment: ConfigEnvironment
    ) throws(ConfigError) -> LoadedConfig {
        var context = ParseContext(environment: environment)
        for source in sources {
            try context.read(source)
        }
        try context.finish()

        var state = SentinelState(config: context.loaded.sentinel)
        for queue in context.queues {
            for line in queue {
                do throws(Failure) {
                    try state.apply(line.sub, line.args, raw: line.raw, isExecutable: environment.isExecutable)
                } catch {
                    throw line.ref.error(error.reason)
                }
            }
        }
        context.loaded.sentinel = state.config
        return context.loaded
    }

    /// `sentinel` options Redis applies before any `sentinel monitor` line
    /// (its `preMonitorCfgName`).
    static let globalSentinelOptions: Set<String> = [
        "announce-ip", "announce-port", "deny-scripts-reconfig", "sentinel-user",
        "sentinel-pass", "current-epoch", "myid", "resolve-hostnames", "announce-hostnames",
    ]

    /// Directives of Redis 7.0 that Redis keeps in place of newer ones, accepted with
    /// exactly one argument and otherwise ignored (its `deprecated_configs`).
    static let deprecatedDirectives: Set<String> = [
        "list-max-ziplist-entries", "list-max-ziplist-value", "lua-replicate-commands",
    ]

    /// Directives newer than Redis 7.0 that Warden accepts (one argument, no effect)
    /// so that files written for Redis 7.2 load.
    static let laterDirectives: Set<String> = ["locale-collate"]

    /// Directives whose value is a password: an error report shows only their name.
    static let secretDirectives: Set<String> = [
        "requirepass", "masterauth", "tls-key-file-pass", "tls-client-key-file-pass",
        "sentinel auth-pass", "sentinel sentinel-pass",
        // Warden's own: the HTTP bearer token, and webhook lines (their secrets).
        "http-token", "webhook",
    ]

    /// A config line as error reports show it: without the passwords it holds (the
    /// value of a password directive, `>pass` / `<pass` rules of a `user` line).
    static func shownLine(_ line: String) -> String {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let first = words.first?.lowercased() else { return line }
        let key = first == "sentinel" && words.count > 1 ? "sentinel " + words[1].lowercased() : first
        if secretDirectives.contains(key) {
            return (first == "sentinel" ? words.prefix(2) : words.prefix(1)).joined(separator: " ") + " (hidden)"
        }
        if first == "user" {
            return words.map { $0.hasPrefix(">") || $0.hasPrefix("<") ? String($0.prefix(1)) + "..." : $0 }
                .joined(separator: " ")
        }
        return line
    }

    /// How deep `include` may nest (Redis has no limit and recurses until it crashes).
    static let maxIncludeDepth = 16

    // MARK: - Lines

    /// Where a line came from, for error reports.
    struct LineRef {
        var file: String
        var number: Int
        var text: String

        func error(_ reason: String) -> ConfigError {
            ConfigError(file: file, line: number, lineText: text, reason: reason)
        }
    }

    /// A `sentinel <sub> args...` line waiting for the second pass.
    struct QueuedLine {
        var ref: LineRef
        var sub: String
        var args: [String]
        /// The arguments as bytes, for passwords (kept exactly, never as Strings).
        var raw: [[UInt8]]
    }

    /// A refusal without its location; the caller adds file and line.
    struct Failure: Error {
        var reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// The first pass: server directives applied in order, sentinel lines queued.
    struct ParseContext {
        var loaded = LoadedConfig()
        /// Queued sentinel lines: global settings, monitor lines, the rest.
        var queues: [[QueuedLine]] = [[], [], []]
        let environment: ConfigEnvironment
        var includeDepth = 0
        var clusterEnabled = false
        var replicaOf = false
        var firstUserLine: LineRef?
        var aclfileLine: LineRef?

        init(environment: ConfigEnvironment) {
            self.environment = environment
        }

        mutating func read(_ source: ConfigSource) throws(ConfigError) {
            let lines = source.text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            for (index, raw) in lines.enumerated() {
                let trimmed = trimBlanks(raw)
                if trimmed.isEmpty || trimmed.first == UInt8(ascii: "#") { continue }
                let ref = LineRef(file: source.file, number: index + 1,
                                  text: ConfigParser.shownLine(String(decoding: trimmed, as: UTF8.self)))
                guard let argBytes = splitArgumentBytes(trimmed) else {
                    throw ref.error("Unbalanced quotes in configuration line")
                }
                if argBytes.isEmpty { continue }
                let args = argBytes.map { String(decoding: $0, as: UTF8.self) }
                if args.count == 2 && args[0].lowercased() == "include" {
                    try include(args[1], from: ref)
                    continue
                }
                do throws(Failure) {
                    try line(args, argBytes, ref: ref)
                } catch {
                    throw ref.error(error.reason)
                }
            }
        }

        /// One line, in Redis's order of lookups: the directive table, deprecated
        /// names, then rename-command, user, loadmodule, module
        /// configs and sentinel.
        mutating func line(_ args: [String], _ raw: [[UInt8]], ref: LineRef) throws(Failure) {
            let name = args[0].lowercased()
            let values = Array(args.dropFirst())
            let rawValues = Array(raw.dropFirst())
            if let spec = ConfigParser.directives[name] {
                var words = values
                var bytes = rawValues
                if spec.multiArgument {
                    // One non-empty argument holding several: `--save "900 1 300 10"`.
                    if values.count == 1, !values[0].isEmpty, let split = splitArgumentBytes(rawValues[0]) {
                        bytes = split
                        words = split.map { String(decoding: $0, as: UTF8.self) }
                    }
                } else if values.count != 1 {
                    throw Failure("wrong number of arguments")
                }
                let value = try spec.check(words, raw: bytes)
                if name == "aclfile" { aclfileLine = ref }
                try spec.apply?(&self, value)
                return
            }
            if ConfigParser.deprecatedDirectives.contains(name) || ConfigParser.laterDirectives.contains(name) {
                guard values.count == 1 else { throw Failure("Bad directive or wrong number of arguments") }
                return
            }
            switch name {
            case "rename-command" where values.count == 2:
                try renameCommand(values[0], to: values[1])
            case "user" where values.count >= 1:
                try declareUser(values[0], rules: Array(rawValues.dropFirst()), ref: ref)
            case "loadmodule" where values.count >= 1:
                throw Failure("Warden does not load Redis modules")
            case "sentinel":
                // A bare `sentinel` is Redis's "enter sentinel mode" marker.
                guard values.count >= 1 else { return }
                let sub = values[0].lowercased()
                let queued = QueuedLine(ref: ref, sub: sub, args: Array(values.dropFirst()),
                                        raw: Array(rawValues.dropFirst()))
                if sub == "monitor" {
                    queues[1].append(queued)
                } else if ConfigParser.globalSentinelOptions.contains(sub) {
                    queues[0].append(queued)
                } else {
                    queues[2].append(queued)
                }
            default:
                // http-* and webhook: Warden's own (ServiceDirectives.swift).
                if try ServiceDirectives.apply(name, values, raw: rawValues, to: &loaded.sentinel) { return }
                if name.contains(".") {
                    guard values.count >= 1 else { throw Failure("Module config specified without value") }
                    throw Failure("Module Configuration detected without loadmodule directive or no ApplyConfig call: aborting")
                }
                throw Failure("Bad directive or wrong number of arguments")
            }
        }

        /// Checks made once every line is read (Redis's sanity checks and ACL start-up).
        func finish() throws(ConfigError) {
            if clusterEnabled && replicaOf {
                throw ConfigError(file: "", line: 0, lineText: "",
                                  reason: "replicaof directive not allowed in cluster mode")
            }
            if let userLine = firstUserLine, !loaded.server.aclfile.isEmpty {
                throw userLine.error("Configuring Redis with users defined in redis.conf and at the same "
                    + "setting an ACL file path is invalid. This setup is very likely to lead to "
                    + "configuration errors and security holes, please define either an ACL file or "
                    + "declare users directly in your redis.conf, but not both.")
            }
        }

        // MARK: Special directives

        /// `include path`: the file's lines are read in place, relative paths from the
        /// working directory (which an earlier `dir` may have changed). A pattern with
        /// `*`, `?` or `[` includes every match, and nothing when none matches.
        mutating func include(_ path: String, from ref: LineRef) throws(ConfigError) {
            guard includeDepth < ConfigParser.maxIncludeDepth else {
                throw ref.error("include nesting deeper than \(ConfigParser.maxIncludeDepth) files")
            }
            let isPattern = path.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" })
            let files = isPattern ? environment.glob(path) : [path]
            for file in files {
                let text: String
                switch environment.readFile(file) {
                case .success(let t): text = t
                case .failure(let failure):
                    throw ref.error("Fatal error, can't open config file '\(file)': \(failure.reason)")
                }
                includeDepth += 1
                defer { includeDepth -= 1 }
                // Errors in the included file name that file and its line.
                try read(ConfigSource(file: file, text: text))
            }
        }

        /// `dir`: Redis changes directory as soon as it reads the line.
        mutating func changeDirectory(_ args: [String]) throws(Failure) {
            guard args.count == 1 else { throw Failure("wrong number of arguments") }
            guard !args[0].isEmpty else { throw Failure("No such file or directory") }
            if let reason = environment.changeDirectory(args[0]) { throw Failure(reason) }
            loaded.sentinel.dir = args[0]
        }

        /// `rename-command name new-name`, for the sentinel port's commands; "" removes
        /// the command. As in Redis, the name looked up is the current one (a command
        /// renamed once is not found under its old name again).
        mutating func renameCommand(_ from: String, to: String) throws(Failure) {
            let key = from.lowercased()
            guard let original = loaded.server.commandNames.removeValue(forKey: key) else {
                throw Failure("No such command in rename-command")
            }
            guard !to.isEmpty else { return }
            guard loaded.server.commandNames[to.lowercased()] == nil else {
                loaded.server.commandNames[key] = original
                throw Failure("Target command name already exists")
            }
            loaded.server.commandNames[to.lowercased()] = original
        }

        mutating func declareUser(_ name: String, rules: [[UInt8]], ref: LineRef) throws(Failure) {
            if loaded.server.users.contains(where: { $0.name == name }) {
                throw Failure("Error in user declaration '\(name)': \(ACLRuleError.duplicateUser.message)")
            }
            if let problem = ACLUserStore.checkDeclaration(
                name: name, rules: rules, pubsubDefaultAllChannels: loaded.server.aclPubsubDefaultAllChannels) {
                throw Failure(problem)
            }
            loaded.server.users.append(UserDeclaration(name: name, rules: rules))
            if firstUserLine == nil { firstUserLine = ref }
        }

        /// `client-output-buffer-limit <class> <hard> <soft> <soft-seconds> ...`:
        /// checked as a whole before any class changes.
        mutating func setOutputBufferLimits(_ args: [String]) throws(Failure) {
            guard args.count % 4 == 0 else {
                throw Failure("Wrong number of arguments in buffer limit configuration.")
            }
            var updates: [(ClientClass, OutputBufferLimit)] = []
            for start in stride(from: 0, to: args.count, by: 4) {
                let name = args[start].lowercased()
                guard let cls = name == "slave" ? .replica : ClientClass(rawValue: name) else {
                    throw Failure("Invalid client class specified in buffer limit configuration.")
                }
                guard let hard = ConfigParser.memoryValue(args[start + 1]),
                      let soft = ConfigParser.memoryValue(args[start + 2]),
                      let seconds = ConfigParser.cInteger(args[start + 3]), seconds >= 0 else {
                    throw Failure("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
                }
                updates.append((cls, OutputBufferLimit(hard: hard, soft: soft, softSeconds: seconds)))
            }
            for (cls, limit) in updates { loaded.server.outputBufferLimits[cls] = limit }
        }
    }

    // MARK: - Value syntax

    /// Redis's `string2ll`: an optional `-`, then digits without leading zeros (or
    /// `0` alone), in the range of a 64-bit integer.
    public static func strictInteger(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        var digits = bytes[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        guard let first = digits.first, first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9"),
              digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
        if first == UInt8(ascii: "0") && (digits.count > 1 || negative) { return nil }
        return Int64(text)
    }

    /// `strtoll(s, &end, 10)` with `*end == 0`: an optional sign and digits.
    static func cInteger(_ text: String) -> Int64? {
        var body = Substring(text)
        if body.first == "+" { body = body.dropFirst() }
        guard !body.isEmpty, body != "-" else { return nil }
        return Int64(body)
    }

    /// `strtoll(s, &end, 8)` with `*end == 0`: an optional sign and octal digits.
    static func octalValue(_ text: String) -> Int64? {
        var body = Substring(text)
        var negative = false
        if body.first == "+" || body.first == "-" {
            negative = body.first == "-"
            body = body.dropFirst()
        }
        guard !body.isEmpty, let value = Int64(body, radix: 8) else { return nil }
        return negative ? -value : value
    }

    /// Redis's `memtoull`: digits followed by nothing, `b`, `k`, `kb`, `m`, `mb`, `g` or
    /// `gb` (any case; `k` is 1000, `kb` 1024). Unlike Redis, a value with no digits or
    /// one that does not fit in 64 bits is refused.
    static func memoryValue(_ text: String) -> UInt64? {
        let bytes = Array(text.utf8)
        let digitCount = bytes.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }.count
        guard digitCount > 0, digitCount < 128 else { return nil }
        let unit = String(decoding: bytes[digitCount...], as: UTF8.self).lowercased()
        let multiplier: UInt64
        switch unit {
        case "", "b": multiplier = 1
        case "k": multiplier = 1000
        case "kb": multiplier = 1024
        case "m": multiplier = 1000 * 1000
        case "mb": multiplier = 1024 * 1024
        case "g": multiplier = 1000 * 1000 * 1000
        case "gb": multiplier = 1024 * 1024 * 1024
        default: return nil
        }
        guard let number = UInt64(String(decoding: bytes[..<digitCount], as: UTF8.self)) else { return nil }
        let (product, overflow) = number.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : product
    }

    static let shutdownChoices = ["default", "save", "nosave", "now", "force"]

    static func shutdownProblem(_ value: DirectiveValue) -> String? {
        let given = value.choices
        return given.contains("save") && given.contains("nosave")
            ? "shutdown options SAVE and NOSAVE can't be used simultaneously" : nil
    }

    /// `save <seconds> <changes> ...` or `save ""`: pairs of a positive number of
    /// seconds and a number of changes.
    static func checkSave(_ args: [String]) throws(Failure) {
        if args.count == 1 && args[0].isEmpty { return }
        guard args.count % 2 == 0 else { throw Failure("Invalid save parameters") }
        for (index, arg) in args.enumerated() {
            guard let value = cInteger(arg), value >= (index % 2 == 0 ? 1 : 0) else {
                throw Failure("Invalid save parameters")
            }
        }
    }

    /// Redis's `isValidAnnouncedHostname`.
    static func announcedHostnameProblem(_ name: String) -> String? {
        if name.utf8.count >= 256 { return "Hostnames must be less than 256 characters" }
        let ok = name.utf8.allSatisfy { c in
            (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x2E
        }
        return ok ? nil : "Hostnames may only contain alphanumeric characters, hyphens or dots"
    }

    /// Redis's `validateProcTitleTemplate`: `{variable}`s must be known (`{{` and `}}`
    /// stand for braces) and the title without `{title}` must not be empty.
    static func procTitleTemplateProblem(_ template: String) -> String? {
        let known: Set<String> = ["title", "listen-addr", "server-mode", "config-file", "port", "tls-port", "unixsocket"]
        let invalid = "template format is invalid or contains unknown variables"
        var expanded = ""
        var chars = Array(template)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            if c == "{" {
                if chars.first == "{" {
                    chars = chars.dropFirst()
                    expanded.append("{")
                    continue
                }
                guard let close = chars.firstIndex(of: "}") else { return invalid }
                let name = String(chars[chars.startIndex..<close])
                guard known.contains(name) else { return invalid }
                if name != "title" && name != "unixsocket" { expanded += "x" }
                chars = chars[chars.index(after: close)...]
            } else if c == "}" {
                guard chars.first == "}" else { return invalid }
                chars = chars.dropFirst()
                expanded.append("}")
            } else {
                expanded.append(c)
            }
        }
        return expanded.allSatisfy({ $0 == " " }) ? invalid : nil
    }

    /// Redis's own limit on listening addresses (CONFIG_BINDADDR_MAX).
    static let maxBindAddresses = 16

    /// `bind addr...`; a single empty argument means no address (every interface).
    static func applyBind(_ args: [String], to config: inout SentinelConfig) throws(Failure) {
        guard args.count <= maxBindAddresses else {
            throw Failure("Too many bind addresses specified.")
        }
        config.bind = args.count == 1 && args[0].isEmpty ? [] : args
    }

    static func parseYesNo(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "yes": return true
        case "no": return false
        default: return nil
        }
    }

    // MARK: - Sentinel directives

    /// The second pass: the config being built plus the lookups it needs.
    struct SentinelState {
        var config: SentinelConfig
        var masterIndex: [String: Int] = [:]

        /// The usage of every sentinel statement, by subcommand: its argument names.
        static let usage: [String: [String]] = [
            "monitor": ["<master-name>", "<ip>", "<redis-port>", "<quorum>"],
            "down-after-milliseconds": ["<master-name>", "<milliseconds>"],
            "failover-timeout": ["<master-name>", "<milliseconds>"],
            "parallel-syncs": ["<master-name>", "<numreplicas>"],
            "notification-script": ["<master-name>", "<script-path>"],
            "client-reconfig-script": ["<master-name>", "<script-path>"],
            "auth-pass": ["<master-name>", "<password>"],
            "auth-user": ["<master-name>", "<username>"],
            "master-reboot-down-after-period": ["<master-name>", "<milliseconds>"],
            "primary-reboot-down-after-period": ["<master-name>", "<milliseconds>"],
            "switchover-timeout": ["<master-name>", "<milliseconds>"],
            "max-promotion-lag": ["<master-name>", "<bytes>"],
            "config-epoch": ["<master-name>", "<epoch>"],
            "leader-epoch": ["<master-name>", "<epoch>"],
            "known-replica": ["<master-name>", "<ip>", "<port>"],
            "known-slave": ["<master-name>", "<ip>", "<port>"],
            "known-sentinel": ["<master-name>", "<ip>", "<port>", "<runid>"],
            "rename-command": ["<master-name>", "<command>", "<renamed-command>"],
            "auto-forget-after": ["<master-name>", "<milliseconds>"],
            "forgotten-sentinel": ["<master-name>", "<runid>", "<ip>", "<port>", "<until-ms>", "<awaiting-runids|->"],
            "forgotten-replica": ["<master-name>", "<ip>", "<port>", "<until-ms>", "<awaiting-runids|->"],
            "current-epoch": ["<epoch>"],
            "myid": ["<sentinel-id>"],
            "announce-ip": ["<ip>"],
            "announce-port": ["<port>"],
            "deny-scripts-reconfig": ["yes|no"],
            "sentinel-user": ["<username>"],
            "sentinel-pass": ["<password>"],
            "resolve-hostnames": ["yes|no"],
            "announce-hostnames": ["yes|no"],
        ]

        mutating func apply(
            _ sub: String, _ args: [String], raw: [[UInt8]], isExecutable: (String) -> Bool
        ) throws(Failure) {
            guard let expected = Self.usage[sub] else {
                throw Failure("Unrecognized sentinel configuration statement.")
            }
            // `known-sentinel <name> <ip> <port>` is an old form without runid that
            // Redis still accepts and ignores.
            if sub == "known-sentinel" && args.count == 3 { return }
            guard args.count == expected.count else {
                throw Failure("Wrong number of arguments for 'sentinel \(sub)': expected "
                    + "'sentinel \(sub) \(expected.joined(separator: " "))'.")
            }

            switch sub {
            case "monitor":
                try monitor(args)
            case "current-epoch":
                let epoch = try epochValue(args[0], of: sub)
                config.currentEpoch = max(config.currentEpoch, epoch)
            case "myid":
                guard args[0].utf8.count == runIDLength else {
                    throw Failure("Malformed Sentinel id in myid option.")
                }
                config.myid = args[0]
            case "announce-ip":
                if !args[0].isEmpty { config.announceIP = args[0] }
            case "announce-port":
                guard let port = Int(args[0]), (0...65535).contains(port) else {
                    throw Failure("Invalid port number.")
                }
                config.announcePort = port
            case "deny-scripts-reconfig":
                guard let value = parseYesNo(args[0]) else {
                    throw Failure("Please specify yes or no for the deny-scripts-reconfig options.")
                }
                config.denyScriptsReconfig = value
            case "sentinel-user":
                if !args[0].isEmpty { config.sentinelUser = args[0] }
            case "sentinel-pass":
                if !raw[0].isEmpty { config.sentinelPass = Secret(raw[0]) }
            case "resolve-hostnames":
                guard let value = parseYesNo(args[0]) else {
                    throw Failure("Please specify yes or no for the resolve-hostnames option.")
                }
                config.resolveHostnames = value
            case "announce-hostnames":
                guard let value = parseYesNo(args[0]) else {
                    throw Failure("Please specify yes or no for the announce-hostnames option.")
                }
                config.announceHostnames = value
            default:
                try applyToMaster(sub, args, raw: raw, isExecutable: isExecutable)
            }
        }

        /// Sentinel run IDs are 40 characters (CONFIG_RUN_ID_SIZE).
        let runIDLength = 40

        mutating func monitor(_ args: [String]) throws(Failure) {
            guard let quorum = Int32(args[3]).map(Int.init) else {
                throw Failure("Invalid quorum '\(args[3])': an integer is expected.")
            }
            guard quorum > 0 else { throw Failure("Quorum must be 1 or greater.") }
            let address = try instanceAddress(args[1], args[2])
            guard masterIndex[args[0]] == nil else { throw Failure("Duplicate master name.") }
            masterIndex[args[0]] = config.masters.count
            config.masters.append(MasterConfig(name: args[0], address: address, quorum: quorum))
        }

        /// Statements whose first argument names a master already declared.
        mutating func applyToMaster(
            _ sub: String, _ args: [String], raw: [[UInt8]], isExecutable: (String) -> Bool
        ) throws(Failure) {
            guard let index = masterIndex[args[0]] else {
                throw Failure("No such master with specified name.")
            }
            var master = config.masters[index]
            defer { config.masters[index] = master }
            let value = args[1]

            switch sub {
            case "down-after-milliseconds":
                master.downAfter = try milliseconds(value, of: sub)
                guard master.downAfter > 0 else { throw Failure("negative or zero time parameter.") }
            case "failover-timeout":
                master.failoverTimeout = try milliseconds(value, of: sub)
                guard master.failoverTimeout > 0 else {
                    throw Failure("negative or zero time parameter.")
                }
            case "parallel-syncs":
                guard let syncs = Int32(value).map(Int.init) else {
                    throw Failure("Invalid parallel-syncs '\(value)': an integer is expected.")
                }
                guard syncs > 0 else { throw Failure("parallel-syncs must be 1 or greater.") }
                master.parallelSyncs = syncs
            case "notification-script":
                guard isExecutable(value) else {
                    throw Failure("Notification script seems non existing or non executable.")
                }
                master.notificationScript = value
            case "client-reconfig-script":
                guard isExecutable(value) else {
                    throw Failure("Client reconfiguration script seems non existing or non executable.")
                }
                master.clientReconfigScript = value
            case "auth-pass":
                master.authPass = Secret(raw[1])
            case "auth-user":
                master.authUser = value
            case "master-reboot-down-after-period", "primary-reboot-down-after-period":
                master.masterRebootDownAfterPeriod = try milliseconds(value, of: sub)
                guard master.masterRebootDownAfterPeriod >= 0 else {
                    throw Failure("negative time parameter.")
                }
            case "switchover-timeout":
                master.switchoverTimeout = try milliseconds(value, of: sub)
                guard master.switchoverTimeout > 0 else {
                    throw Failure("negative or zero time parameter.")
                }
            case "max-promotion-lag":
                guard let bytes = Int64(value) else {
                    throw Failure("Invalid \(sub) '\(value)': a number of bytes is expected.")
                }
                guard bytes >= 0 else { throw Failure("negative byte count.") }
                master.maxPromotionLag = bytes
            case "config-epoch":
                master.configEpoch = try epochValue(value, of: sub)
                // As in Redis: a master's config epoch never exceeds the current epoch.
                config.currentEpoch = max(config.currentEpoch, master.configEpoch)
            case "leader-epoch":
                master.leaderEpoch = try epochValue(value, of: sub)
            case "known-replica", "known-slave":
                let address = try instanceAddress(args[1], args[2])
                guard !master.knownReplicas.contains(address) else {
                    throw Failure("Duplicate hostname and port for replica.")
                }
                master.knownReplicas.append(address)
            case "known-sentinel":
                let address = try instanceAddress(args[1], args[2])
                let runID = args[3]
                // Never list this sentinel as its own peer.
                if let myid = config.myid, myid.lowercased() == runID.lowercased() { return }
                guard !master.knownSentinels.contains(where: { $0.runID == runID }) else {
                    throw Failure("Duplicate runid for sentinel.")
                }
                master.knownSentinels.append(KnownSentinel(address: address, runID: runID))
            case "rename-command":
                let original = args[1].lowercased()
                guard !master.renamedCommands.contains(where: { $0.original == original }) else {
                    throw Failure("Same command renamed multiple times with rename-command.")
                }
                master.renamedCommands.append((original: original, renamed: args[2]))
            case "auto-forget-after", "forgotten-sentinel", "forgotten-replica":
                try applyForgetting(sub, args, to: &master)
            default:
                throw Failure("Unrecognized sentinel configuration statement.")
            }
        }

        /// A master, replica or sentinel address: a port in 1...65535 and an IP
        /// literal, or, with `resolve-hostnames yes`, a host name (resolved later).
        func instanceAddress(_ host: String, _ portText: String) throws(Failure) -> Address {
            guard let port = Int(portText), (1...65535).contains(port) else {
                throw Failure("Invalid port number.")
            }
            guard let accepted = HostName.accepted(host, hostnames: config.resolveHostnames) else {
                throw Failure("Can't resolve instance hostname.")
            }
            return Address(accepted, port)
        }

        func milliseconds(_ text: String, of option: String) throws(Failure) -> Millis {
            guard let value = Millis(text) else {
                throw Failure("Invalid \(option) '\(text)': a number of milliseconds is expected.")
            }
            return value
        }

        func epochValue(_ text: String, of option: String) throws(Failure) -> UInt64 {
            guard let value = UInt64(text) else {
                throw Failure("Invalid \(option) '\(text)': an unsigned integer is expected.")
            }
            guard value <= Epoch.max else {
                throw Failure("Invalid \(option) '\(text)': epochs go up to \(Epoch.max).")
            }
            return value
        }
    }

    // MARK: - Lexing

    /// Strips what Redis's `sdstrim(line, " \t\r\n")` strips.
    static func trimBlanks<C: BidirectionalCollection>(_ bytes: C) -> C.SubSequence where C.Element == UInt8 {
        func isTrimmed(_ byte: UInt8) -> Bool {
            byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A
        }
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, isTrimmed(bytes[start]) { start = bytes.index(after: start) }
        while end > start, isTrimmed(bytes[bytes.index(before: end)]) { end = bytes.index(before: end) }
        return bytes[start..<end]
    }

    /// `sdssplitargs` on bytes (the rules RESP's inline commands use). See `splitArguments(_:)`.
    static func splitArgumentBytes<C: Collection>(_ line: C) -> [[UInt8]]? where C.Element == UInt8 {
        InlineSplitter.split(Array(line))
    }
}
