import SentinelCore
import WardenCrypto

/// How the arguments of one redis-server directive are checked, as redis-server 7.0's
/// `standardConfig` table declares it (src/config.c): the type, the bounds and the
/// extra checks. `value` gives what the parser then applies, for the few directives
/// that mean something to a sentinel.
struct DirectiveSpec: Sendable {
    var name: String
    var alias: String?
    var kind: DirectiveKind
    /// Redis's MULTI_ARG_CONFIG: any number of arguments (the kind checks them); one
    /// non-empty argument is first split at spaces (`--save "900 1 300 10"`).
    var multiArgument = false
    /// An extra check after the type's (Redis's `is_valid_fn`): nil or the reason.
    var validate: (@Sendable (DirectiveValue) -> String?)?
    /// Where the value goes; nil for directives that are only checked.
    var apply: (@Sendable (inout ConfigParser.ParseContext, DirectiveValue) throws(ConfigParser.Failure) -> Void)?
}

enum DirectiveKind: Sendable {
    /// `yes` / `no`, any case.
    case yesNo
    /// Any one argument.
    case text
    /// One of `choices` (any case); with `multiArgument`, one or more of them.
    case choice([String])
    /// A number in `bounds`: decimal (`string2ll`), a memory value (`1gb`, `100mb`,
    /// ...), a memory value or a percentage, or octal. `unsigned` types compare after
    /// a cast to unsigned, as Redis does (so `-1` is out of range, not negative).
    case number(NumberStyle, lower: Int128, upper: Int128, unsigned: Bool)
    /// Parsed by `apply` alone (save, bind, client-output-buffer-limit, ...).
    case special
}

enum NumberStyle: Sendable {
    case decimal, memory, memoryOrPercent, octal
}

/// A checked directive value.
enum DirectiveValue {
    case bool(Bool)
    case text(String, raw: [UInt8])
    case choices([String])
    case number(Int128)
    case arguments([String], raw: [[UInt8]])

    var bool: Bool { if case .bool(let b) = self { return b }; return false }
    var text: String { if case .text(let t, _) = self { return t }; return "" }
    var raw: [UInt8] { if case .text(_, let r) = self { return r }; return [] }
    var number: Int128 { if case .number(let n) = self { return n }; return 0 }
    var choices: [String] { if case .choices(let c) = self { return c }; return [] }
    var arguments: [String] { if case .arguments(let a, _) = self { return a }; return [] }
}

extension DirectiveSpec {
    /// Checks `args` (the words after the directive) against the kind.
    func check(_ args: [String], raw: [[UInt8]]) throws(ConfigParser.Failure) -> DirectiveValue {
        let value: DirectiveValue
        switch kind {
        case .yesNo:
            guard let b = ConfigParser.parseYesNo(args[0]) else {
                throw ConfigParser.Failure("argument must be 'yes' or 'no'")
            }
            value = .bool(b)
        case .text:
            value = .text(args[0], raw: raw[0])
        case .choice(let choices):
            let given = multiArgument ? args : [args[0]]
            guard !given.isEmpty, given.allSatisfy({ choices.contains($0.lowercased()) }) else {
                throw ConfigParser.Failure("argument(s) must be one of the following: " + choices.joined(separator: ", "))
            }
            value = .choices(given.map { $0.lowercased() })
        case .number(let style, let lower, let upper, let unsigned):
            value = .number(try Self.number(args[0], style: style, lower: lower, upper: upper, unsigned: unsigned))
        case .special:
            value = .arguments(args, raw: raw)
        }
        if let reason = validate?(value) { throw ConfigParser.Failure(reason) }
        return value
    }

    static func number(_ text: String, style: NumberStyle, lower: Int128, upper: Int128,
                       unsigned: Bool) throws(ConfigParser.Failure) -> Int128 {
        var parsed: Int128?
        var percent = false
        switch style {
        case .decimal:
            parsed = ConfigParser.strictInteger(text).map { Int128($0) }
        case .memory, .memoryOrPercent:
            parsed = ConfigParser.memoryValue(text).map { Int128($0) }
            if parsed == nil, style == .memoryOrPercent, text.utf8.count > 1, text.hasSuffix("%"),
               let p = ConfigParser.strictInteger(String(text.dropLast())), p >= 0 {
                parsed = -Int128(p)
                percent = true
            }
        case .octal:
            parsed = ConfigParser.octalValue(text).map { Int128($0) }
        }
        guard var value = parsed else {
            switch style {
            case .decimal: throw ConfigParser.Failure("argument couldn't be parsed into an integer")
            case .memory: throw ConfigParser.Failure("argument must be a memory value")
            case .memoryOrPercent: throw ConfigParser.Failure("argument must be a memory or percent value")
            case .octal: throw ConfigParser.Failure("argument couldn't be parsed as an octal number")
            }
        }
        let twoTo64 = Int128(1) << 64
        if unsigned {
            if value < 0 { value += twoTo64 }
            guard value >= lower && value <= upper else {
                let (lo, hi) = style == .octal
                    ? (String(lower, radix: 8), String(upper, radix: 8)) : (String(lower), String(upper))
                throw ConfigParser.Failure("argument must be between \(lo) and \(hi) inclusive")
            }
        } else {
            if value > Int128(Int64.max) { value -= twoTo64 }
            if percent || (style == .memoryOrPercent && value < 0) {
                guard value >= lower else {
                    throw ConfigParser.Failure("percentage argument must be less or equal to \(-lower)")
                }
            } else if value < lower || value > upper {
                throw ConfigParser.Failure("argument must be between \(lower) and \(upper) inclusive")
            }
        }
        return value
    }
}

// MARK: - The table

/// Bounds Redis uses, by C type.
private let intMax = Int128(Int32.max), intMin = Int128(Int32.min)
private let longMax = Int128(Int64.max)
private let uintMax = Int128(UInt32.max), ullongMax = Int128(UInt64.max)

private func yesNo(_ name: String, alias: String? = nil,
                   apply: (@Sendable (inout ConfigParser.ParseContext, Bool) -> Void)? = nil) -> DirectiveSpec {
    var spec = DirectiveSpec(name: name, alias: alias, kind: .yesNo)
    if let apply { spec.apply = { @Sendable c, v in apply(&c, v.bool) } }
    return spec
}

private func text(_ name: String, alias: String? = nil, validate: (@Sendable (String) -> String?)? = nil,
                  apply: (@Sendable (inout ConfigParser.ParseContext, DirectiveValue) throws(ConfigParser.Failure) -> Void)? = nil)
    -> DirectiveSpec {
    var spec = DirectiveSpec(name: name, alias: alias, kind: .text, apply: apply)
    if let validate { spec.validate = { @Sendable v in validate(v.text) } }
    return spec
}

private func choice(_ name: String, _ choices: [String], multi: Bool = false,
                    validate: (@Sendable (DirectiveValue) -> String?)? = nil,
                    apply: (@Sendable (inout ConfigParser.ParseContext, String) -> Void)? = nil) -> DirectiveSpec {
    var spec = DirectiveSpec(name: name, kind: .choice(choices), multiArgument: multi, validate: validate)
    if let apply { spec.apply = { @Sendable c, v in apply(&c, v.choices.first ?? "") } }
    return spec
}

private func number(_ name: String, alias: String? = nil, _ lower: Int128, _ upper: Int128,
                    style: NumberStyle = .decimal, unsigned: Bool = false,
                    apply: (@Sendable (inout ConfigParser.ParseContext, Int128) -> Void)? = nil) -> DirectiveSpec {
    var spec = DirectiveSpec(name: name, alias: alias, kind: .number(style, lower: lower, upper: upper, unsigned: unsigned))
    if let apply { spec.apply = { @Sendable c, v in apply(&c, v.number) } }
    return spec
}

private func special(_ name: String, alias: String? = nil, multi: Bool = true,
                     _ apply: @escaping @Sendable (inout ConfigParser.ParseContext, [String], [[UInt8]]) throws(ConfigParser.Failure) -> Void)
    -> DirectiveSpec {
    DirectiveSpec(name: name, alias: alias, kind: .special, multiArgument: multi,
                  apply: { @Sendable c, v throws(ConfigParser.Failure) in
                      if case .arguments(let a, let r) = v { try apply(&c, a, r) }
                  })
}

/// A file name without a directory part (Redis's `pathIsBaseName`).
private func baseName(_ what: String, allowEmpty: Bool = true, noun: String = "filename") -> @Sendable (String) -> String? {
    { value in
        if !allowEmpty && value.isEmpty { return "\(what) can't be empty" }
        return value.contains("/") ? "\(what) can't be a path, just a \(noun)" : nil
    }
}

extension ConfigParser {
    /// Every directive redis-server 7.0.15 accepts (with the TLS build Debian ships),
    /// keyed by name and by alias.
    static let directives: [String: DirectiveSpec] = {
        var map: [String: DirectiveSpec] = [:]
        for spec in directiveList {
            map[spec.name] = spec
            if let alias = spec.alias { map[alias] = spec }
        }
        return map
    }()

    static let directiveList: [DirectiveSpec] = boolDirectives + stringDirectives + enumDirectives
        + numberDirectives + tlsDirectives + specialDirectives

    static let boolDirectives: [DirectiveSpec] = [
        yesNo("rdbchecksum"),
        yesNo("daemonize") { $0.loaded.sentinel.daemonize = $1 },
        yesNo("io-threads-do-reads"), yesNo("always-show-logo"),
        yesNo("protected-mode") { $0.loaded.sentinel.protectedMode = $1 },
        yesNo("rdbcompression"), yesNo("rdb-del-sync-files"), yesNo("activerehashing"),
        yesNo("stop-writes-on-bgsave-error"), yesNo("set-proc-title"), yesNo("dynamic-hz"),
        yesNo("lazyfree-lazy-eviction"), yesNo("lazyfree-lazy-expire"), yesNo("lazyfree-lazy-server-del"),
        yesNo("lazyfree-lazy-user-del"), yesNo("lazyfree-lazy-user-flush"), yesNo("repl-disable-tcp-nodelay"),
        yesNo("repl-diskless-sync"), yesNo("aof-rewrite-incremental-fsync"), yesNo("no-appendfsync-on-rewrite"),
        yesNo("cluster-require-full-coverage"), yesNo("rdb-save-incremental-fsync"), yesNo("aof-load-truncated"),
        yesNo("aof-use-rdb-preamble"), yesNo("aof-timestamp-enabled"),
        yesNo("cluster-replica-no-failover", alias: "cluster-slave-no-failover"),
        yesNo("replica-lazy-flush", alias: "slave-lazy-flush"),
        yesNo("replica-serve-stale-data", alias: "slave-serve-stale-data"),
        yesNo("replica-read-only", alias: "slave-read-only"),
        yesNo("replica-ignore-maxmemory", alias: "slave-ignore-maxmemory"),
        yesNo("jemalloc-bg-thread"), yesNo("activedefrag"), yesNo("syslog-enabled"),
        yesNo("cluster-enabled") { $0.clusterEnabled = $1 },
        yesNo("appendonly"), yesNo("cluster-allow-reads-when-down"), yesNo("cluster-allow-pubsubshard-when-down"),
        yesNo("crash-log-enabled"), yesNo("crash-memcheck-enabled"), yesNo("use-exit-on-panic"), yesNo("disable-thp"),
        yesNo("cluster-allow-replica-migration"), yesNo("replica-announced"), yesNo("latency-tracking"),
        yesNo("aof-disable-auto-gc"), yesNo("replica-ignore-disk-write-errors"),
    ]

    static let stringDirectives: [DirectiveSpec] = [
        text("aclfile", apply: { c, v in c.loaded.server.aclfile = v.text }),
        text("unixsocket", apply: { c, v in c.loaded.server.unixSocket = v.text.isEmpty ? nil : v.text }),
        text("pidfile", apply: { c, v in c.loaded.sentinel.pidfile = v.text.isEmpty ? nil : v.text }),
        text("replica-announce-ip", alias: "slave-announce-ip"), text("masteruser"), text("cluster-announce-ip"),
        text("cluster-config-file"),
        text("cluster-announce-hostname", validate: ConfigParser.announcedHostnameProblem),
        text("syslog-ident"),
        text("dbfilename", validate: baseName("dbfilename")),
        text("appendfilename", validate: baseName("appendfilename", allowEmpty: false)),
        text("appenddirname", validate: baseName("appenddirname", allowEmpty: false, noun: "dirname")),
        text("server_cpulist"), text("bio_cpulist"), text("aof_rewrite_cpulist"), text("bgsave_cpulist"),
        text("ignore-warnings"),
        text("proc-title-template", validate: ConfigParser.procTitleTemplateProblem),
        text("bind-source-addr"),
        text("logfile", apply: { c, v in c.loaded.sentinel.logfile = v.text }),
        text("masterauth"),
        text("requirepass", apply: { c, v in c.loaded.sentinel.requirepass = v.raw.isEmpty ? nil : Secret(v.raw) }),
    ]

    static let protectedActions = ProtectedAction.allCases.map(\.rawValue)

    static let enumDirectives: [DirectiveSpec] = [
        choice("supervised", ["upstart", "systemd", "auto", "no"]),
        choice("syslog-facility", ["user", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"]),
        choice("repl-diskless-load", ["disabled", "on-empty-db", "swapdb"]),
        // Redis 7.0 has four levels; Warden also takes 7.2's `nothing`.
        choice("loglevel", LogLevel.allCases.map(\.rawValue), apply: { c, v in
            if let level = LogLevel(rawValue: v) { c.loaded.sentinel.loglevel = level }
        }),
        choice("maxmemory-policy", ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
                                    "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"]),
        choice("appendfsync", ["everysec", "always", "no"]),
        choice("oom-score-adj", ["no", "yes", "relative", "absolute"]),
        choice("acl-pubsub-default", ["allchannels", "resetchannels"], apply: { c, v in
            c.loaded.server.aclPubsubDefaultAllChannels = v == "allchannels"
        }),
        choice("sanitize-dump-payload", ["no", "yes", "clients"]),
        choice("enable-protected-configs", protectedActions, apply: { c, v in
            c.loaded.server.enableProtectedConfigs = ProtectedAction(rawValue: v) ?? .no
        }),
        choice("enable-debug-command", protectedActions, apply: { c, v in
            c.loaded.server.enableDebugCommand = ProtectedAction(rawValue: v) ?? .no
        }),
        choice("enable-module-command", protectedActions),
        choice("cluster-preferred-endpoint-type", ["ip", "hostname", "unknown-endpoint"]),
        choice("propagation-error-behavior", ["ignore", "panic", "panic-on-replicas"]),
        choice("shutdown-on-sigint", ConfigParser.shutdownChoices, multi: true, validate: ConfigParser.shutdownProblem),
        choice("shutdown-on-sigterm", ConfigParser.shutdownChoices, multi: true, validate: ConfigParser.shutdownProblem),
    ]

    static let numberDirectives: [DirectiveSpec] = [
        number("databases", 1, intMax),
        number("port", 0, 65535) { $0.loaded.sentinel.port = Int($1) },
        number("io-threads", 1, 128),
        number("auto-aof-rewrite-percentage", 0, intMax),
        number("cluster-replica-validity-factor", alias: "cluster-slave-validity-factor", 0, intMax),
        number("list-max-listpack-size", alias: "list-max-ziplist-size", intMin, intMax),
        number("tcp-keepalive", 0, intMax) { $0.loaded.server.tcpKeepalive = Int($1) },
        number("cluster-migration-barrier", 0, intMax),
        number("active-defrag-cycle-min", 1, 99), number("active-defrag-cycle-max", 1, 99),
        number("active-defrag-threshold-lower", 0, 1000), number("active-defrag-threshold-upper", 0, 1000),
        number("lfu-log-factor", 0, intMax), number("lfu-decay-time", 0, intMax),
        number("replica-priority", alias: "slave-priority", 0, intMax),
        number("repl-diskless-sync-delay", 0, intMax),
        number("maxmemory-samples", 1, intMax), number("maxmemory-eviction-tenacity", 0, 100),
        number("timeout", 0, intMax) { $0.loaded.server.timeout = Int($1) },
        number("replica-announce-port", alias: "slave-announce-port", 0, 65535),
        number("tcp-backlog", 0, intMax) { $0.loaded.server.tcpBacklog = Int($1) },
        number("cluster-port", 0, 65535), number("cluster-announce-bus-port", 0, 65535),
        number("cluster-announce-port", 0, 65535), number("cluster-announce-tls-port", 0, 65535),
        number("repl-timeout", 1, intMax),
        number("repl-ping-replica-period", alias: "repl-ping-slave-period", 1, intMax),
        number("list-compress-depth", 0, intMax),
        number("rdb-key-save-delay", intMin, intMax), number("key-load-delay", intMin, intMax),
        number("active-expire-effort", 1, 10),
        number("hz", 0, intMax),
        number("min-replicas-to-write", alias: "min-slaves-to-write", 0, intMax),
        number("min-replicas-max-lag", alias: "min-slaves-max-lag", 0, intMax),
        number("watchdog-period", 0, intMax), number("shutdown-timeout", 0, intMax),
        number("repl-diskless-sync-max-replicas", 0, intMax),
        number("maxclients", 1, uintMax, unsigned: true) { $0.loaded.sentinel.maxclients = Int($1) },
        number("unixsocketperm", 0, 0o777, style: .octal, unsigned: true) { $0.loaded.server.unixSocketPerm = UInt32($1) },
        number("socket-mark-id", 0, uintMax, unsigned: true),
        number("active-defrag-max-scan-fields", 1, longMax),
        number("slowlog-max-len", 0, longMax),
        number("acllog-max-len", 0, longMax) { $0.loaded.server.acllogMaxLen = Int(clamping: $1) },
        number("busy-reply-threshold", alias: "lua-time-limit", 0, longMax),
        number("cluster-node-timeout", 0, longMax),
        number("slowlog-log-slower-than", -1, longMax),
        number("latency-monitor-threshold", 0, longMax),
        number("proto-max-bulk-len", 1024 * 1024, longMax, style: .memory),
        number("stream-node-max-entries", 0, longMax),
        number("repl-backlog-size", 1, longMax, style: .memory),
        number("maxmemory", 0, ullongMax, style: .memory, unsigned: true),
        number("cluster-link-sendbuf-limit", 0, ullongMax, style: .memory, unsigned: true),
        number("hash-max-listpack-entries", alias: "hash-max-ziplist-entries", 0, longMax, unsigned: true),
        number("set-max-intset-entries", 0, longMax, unsigned: true),
        number("zset-max-listpack-entries", alias: "zset-max-ziplist-entries", 0, longMax, unsigned: true),
        number("active-defrag-ignore-bytes", 1, longMax, style: .memory, unsigned: true),
        number("hash-max-listpack-value", alias: "hash-max-ziplist-value", 0, longMax, style: .memory, unsigned: true),
        number("stream-node-max-bytes", 0, longMax, style: .memory, unsigned: true),
        number("zset-max-listpack-value", alias: "zset-max-ziplist-value", 0, longMax, style: .memory, unsigned: true),
        number("hll-sparse-max-bytes", 0, longMax, style: .memory, unsigned: true),
        number("tracking-table-max-keys", 0, longMax, unsigned: true),
        number("client-query-buffer-limit", 1024 * 1024, longMax, style: .memory, unsigned: true),
        number("maxmemory-clients", -100, longMax, style: .memoryOrPercent),
        number("repl-backlog-ttl", 0, longMax),
        number("auto-aof-rewrite-min-size", 0, longMax, style: .memory),
        number("loading-process-events-interval-bytes", 1024, intMax),
    ]

    /// The `tls-*` directives, checked and applied by `TLSConfig` (SentinelCore), which
    /// has redis-server 7.0's rules and texts for them.
    static let tlsDirectives: [DirectiveSpec] = TLSConfig.Parameter.allCases.map { parameter in
        DirectiveSpec(name: parameter.rawValue, kind: .text, apply: { c, value throws(Failure) in
            if let reason = c.loaded.sentinel.tls.set(parameter, to: value.text) { throw Failure(reason) }
        })
    }

    static let specialDirectives: [DirectiveSpec] = [
        special("dir", multi: false) { c, args, _ throws(Failure) in try c.changeDirectory(args) },
        special("save") { _, args, _ throws(Failure) in try ConfigParser.checkSave(args) },
        special("client-output-buffer-limit") { c, args, _ throws(Failure) in try c.setOutputBufferLimits(args) },
        special("oom-score-adj-values") { _, args, _ throws(Failure) in
            guard args.count == 3 else { throw Failure("wrong number of arguments") }
            guard args.allSatisfy({ ConfigParser.cInteger($0).map { (-2000...2000).contains($0) } ?? false }) else {
                throw Failure("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
            }
        },
        special("notify-keyspace-events", multi: false) { _, args, _ throws(Failure) in
            guard args.count == 1 else { throw Failure("wrong number of arguments") }
            guard args[0].allSatisfy({ "Ag$lshzxeKEtmdn".contains($0) }) else {
                throw Failure("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
            }
        },
        special("bind") { c, args, _ throws(Failure) in try ConfigParser.applyBind(args, to: &c.loaded.sentinel) },
        special("replicaof", alias: "slaveof") { c, args, _ throws(Failure) in
            guard args.count == 2 else { throw Failure("wrong number of arguments") }
            if args[0].lowercased() == "no" && args[1].lowercased() == "one" {
                c.replicaOf = false
                return
            }
            guard let port = ConfigParser.cInteger(args[1]), (0...65535).contains(port) else {
                throw Failure("Invalid master port")
            }
            c.replicaOf = true
        },
        special("latency-tracking-info-percentiles") { _, args, _ throws(Failure) in
            if args.count == 1 && args[0].isEmpty { return }
            for arg in args {
                guard let p = Double(arg), p.isFinite, !arg.contains(where: { $0 == " " }) else {
                    throw Failure("Invalid latency-tracking-info-percentiles parameters")
                }
                guard (0...100).contains(p) else {
                    throw Failure("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
                }
            }
        },
    ]
}
