import RESP
import SentinelCore
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
        try parse(sources: [ConfigSource(file: file, text: text)], isExecutable: isExecutable)
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
    static func parse(
        sources: [ConfigSource], isExecutable: (String) -> Bool
    ) throws(ConfigError) -> SentinelConfig {
        var config = SentinelConfig()
        // Queued sentinel lines: global settings, monitor lines, the rest.
        var queues: [[QueuedLine]] = [[], [], []]

        for source in sources {
            let lines = source.text.utf8.split(separator: UInt8(ascii: "\n"),
                                               omittingEmptySubsequences: false)
            for (index, raw) in lines.enumerated() {
                let trimmed = trimBlanks(raw)
                if trimmed.isEmpty || trimmed.first == UInt8(ascii: "#") { continue }
                let ref = LineRef(file: source.file, number: index + 1,
                                  text: String(decoding: trimmed, as: UTF8.self))
                guard let argBytes = splitArgumentBytes(trimmed) else {
                    throw ref.error("Unbalanced quotes in configuration line")
                }
                if argBytes.isEmpty { continue }
                let args = argBytes.map { String(decoding: $0, as: UTF8.self) }
                let directive = args[0].lowercased()

                if directive == "sentinel" {
                    // A bare `sentinel` is Redis's "enter sentinel mode" marker.
                    guard args.count > 1 else { continue }
                    let sub = args[1].lowercased()
                    let line = QueuedLine(ref: ref, sub: sub, args: Array(args.dropFirst(2)),
                                          raw: Array(argBytes.dropFirst(2)))
                    if sub == "monitor" {
                        queues[1].append(line)
                    } else if globalSentinelOptions.contains(sub) {
                        queues[0].append(line)
                    } else {
                        queues[2].append(line)
                    }
                    continue
                }
                do throws(Failure) {
                    try applyServerDirective(directive, Array(args.dropFirst()), raw: Array(argBytes.dropFirst()), to: &config)
                } catch {
                    throw ref.error(error.reason)
                }
            }
        }

        var state = SentinelState(config: config)
        for queue in queues {
            for line in queue {
                do throws(Failure) {
                    try state.apply(line.sub, line.args, raw: line.raw, isExecutable: isExecutable)
                } catch {
                    throw line.ref.error(error.reason)
                }
            }
        }
        return state.config
    }

    /// `sentinel` options Redis applies before any `sentinel monitor` line
    /// (its `preMonitorCfgName`).
    static let globalSentinelOptions: Set<String> = [
        "announce-ip", "announce-port", "deny-scripts-reconfig", "sentinel-user",
        "sentinel-pass", "current-epoch", "myid", "resolve-hostnames", "announce-hostnames",
    ]

    /// Server directives Warden accepts so that existing files keep loading, but has
    /// no use for: each takes exactly one argument, as in Redis.
    static let ignoredSingleValueDirectives: Set<String> = [
        "tcp-keepalive", "tcp-backlog", "timeout", "unixsocket", "unixsocketperm",
        "syslog-enabled", "syslog-ident", "always-show-logo", "set-proc-title",
        "proc-title-template", "locale-collate", "enable-debug-command", "hz",
        "acllog-max-len", "aclfile", "supervised",
    ]

    /// Ignored directives that take one or more arguments.
    static let ignoredMultiValueDirectives: Set<String> = [
        "save", "user", "latency-tracking-info-percentiles",
    ]

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

    // MARK: - Server directives

    static func applyServerDirective(
        _ name: String, _ args: [String], raw: [[UInt8]], to config: inout SentinelConfig
    ) throws(Failure) {
        switch name {
        case "port":
            config.port = Int(try integer(single(args), in: 0...65535))
        case "bind":
            try applyBind(args, to: &config)
        case "dir":
            let dir = try single(args)
            guard !dir.isEmpty else { throw Failure("dir can't be empty") }
            config.dir = dir
        case "logfile":
            config.logfile = try single(args)
        case "pidfile":
            let value = try single(args)
            config.pidfile = value.isEmpty ? nil : value
        case "daemonize":
            config.daemonize = try yesNo(single(args))
        case "requirepass":
            _ = try single(args)
            config.requirepass = raw[0].isEmpty ? nil : Secret(raw[0])
        case "protected-mode":
            config.protectedMode = try yesNo(single(args))
        case "loglevel":
            let value = try single(args)
            guard let level = LogLevel(rawValue: value.lowercased()) else {
                let names = LogLevel.allCases.map(\.rawValue).joined(separator: ", ")
                throw Failure("argument(s) must be one of the following: \(names)")
            }
            config.loglevel = level
        case "maxclients":
            config.maxclients = Int(try integer(single(args), in: 1...Int64(UInt32.max)))
        default:
            if try ServiceDirectives.apply(name, args, raw: raw, to: &config) {
                // http-* and webhook: Warden's own (ServiceDirectives.swift).
            } else if let parameter = TLSConfig.Parameter(rawValue: name) {
                if let reason = config.tls.set(parameter, to: try single(args)) { throw Failure(reason) }
            } else if ignoredSingleValueDirectives.contains(name) {
                _ = try single(args)
            } else if ignoredMultiValueDirectives.contains(name) {
                guard !args.isEmpty else { throw Failure("wrong number of arguments") }
            } else {
                throw Failure("Bad directive or wrong number of arguments")
            }
        }
    }

    /// Redis's own limit on listening addresses (CONFIG_BINDADDR_MAX).
    static let maxBindAddresses = 16

    static func applyBind(_ args: [String], to config: inout SentinelConfig) throws(Failure) {
        var addresses = args
        // Like Redis, `bind "a b"` (one argument) means the addresses a and b.
        if args.count == 1, let split = splitArguments(args[0]) {
            addresses = split
        }
        guard !addresses.isEmpty else { throw Failure("bind needs at least one address") }
        guard addresses.count <= maxBindAddresses else {
            throw Failure("Too many bind addresses specified.")
        }
        config.bind = addresses
    }

    static func single(_ args: [String]) throws(Failure) -> String {
        guard args.count == 1 else { throw Failure("wrong number of arguments") }
        return args[0]
    }

    static func integer(_ text: String, in range: ClosedRange<Int64>) throws(Failure) -> Int64 {
        guard let value = Int64(text) else {
            throw Failure("argument couldn't be parsed into an integer")
        }
        guard range.contains(value) else {
            throw Failure("argument must be between \(range.lowerBound) and \(range.upperBound) inclusive")
        }
        return value
    }

    static func yesNo(_ text: String) throws(Failure) -> Bool {
        guard let value = parseYesNo(text) else { throw Failure("argument must be 'yes' or 'no'") }
        return value
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
            "config-epoch": ["<master-name>", "<epoch>"],
            "leader-epoch": ["<master-name>", "<epoch>"],
            "known-replica": ["<master-name>", "<ip>", "<port>"],
            "known-slave": ["<master-name>", "<ip>", "<port>"],
            "known-sentinel": ["<master-name>", "<ip>", "<port>", "<runid>"],
            "rename-command": ["<master-name>", "<command>", "<renamed-command>"],
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
            case "master-reboot-down-after-period":
                master.masterRebootDownAfterPeriod = try milliseconds(value, of: sub)
                guard master.masterRebootDownAfterPeriod >= 0 else {
                    throw Failure("negative time parameter.")
                }
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
            if let ip = IPAddress.normalizeNumericHost(host) { return Address(ip, port) }
            guard config.resolveHostnames, ConfigParser.isHostname(host) else {
                throw Failure("Can't resolve instance hostname.")
            }
            return Address(host, port)
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

    /// A syntactically valid DNS name (RFC 1123 labels; `_` tolerated as
    /// container networks use it).
    static func isHostname(_ host: String) -> Bool {
        let bytes = Array(host.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        for label in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= 63,
                  label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-") else { return false }
            for byte in label {
                let ok = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                guard ok else { return false }
            }
        }
        return true
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
