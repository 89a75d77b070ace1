import RESP
import WardenCrypto

/// The SENTINEL subcommands that change the configuration: MONITOR, REMOVE, RESET,
/// SET, CONFIG SET (and GET), DEBUG. Each validates everything before it changes
/// anything; a change is answered once it is saved (see `savedReply`).
extension Sentinel {
    func resetCommand(pattern: String) -> CommandResult {
        var count: Int64 = 0
        for m in masters where Glob.match(pattern, m.name, caseInsensitive: false) {
            resetMaster(m, event: true)
            count += 1
        }
        // Redis leaves the file alone here; Warden saves so that forgotten
        // sentinels do not come back from sentinel.conf after a restart.
        return count > 0 ? savedReply(.integer(count)) : .reply(.integer(0))
    }

    func removeMaster(_ m: Master) -> RESPValue {
        emit(.warning, "-monitor", m)
        releaseInstance(m)
        masters.removeAll { $0 === m }
        return .ok
    }

    func monitorCommand(_ args: [String]) -> CommandResult {
        let (name, host) = (args[2], args[3])
        // A name is resolved first, as redis-sentinel does; one that does not
        // resolve is refused below.
        if settings.resolveHostnames, Self.isName(host), HostName.isValid(host) {
            let known = resolutions[host.lowercased()]
            if known == nil || elapsed(since: known!.at) >= timing.resolvePeriod { return .resolve([host]) }
        }
        return savedReply(monitor(name: name, host: host, args))
    }

    private func monitor(name: String, host: String, _ args: [String]) -> RESPValue {
        guard let quorum = Self.parseInteger(args[5]), quorum <= Int64(Int32.max) else {
            return Self.error("ERR Invalid quorum")
        }
        guard let port = Self.parseInteger(args[4]) else { return Self.error("ERR Invalid port") }
        if quorum <= 0 { return Self.error("ERR Quorum must be 1 or greater.") }
        // A numeric host is kept in the form Redis prints (`127.1` is 127.0.0.1); a
        // name only with resolve-hostnames, and the driver resolves it.
        guard let address = acceptedHost(host), !Self.isName(address) || ip(of: address) != nil else {
            return Self.error("ERR Invalid IP address or hostname specified")
        }
        // Redis accepts port 0 (the master is then never reached), so Warden does too.
        if port < 0 || port > 65535 { return Self.error("ERR Invalid port number.") }
        if master(named: name) != nil { return Self.error("ERR Duplicate master name.") }

        var c = MasterConfig(name: name, address: Address(address, Int(port)), quorum: Int(quorum))
        c.downAfter = timing.defaultDownAfter
        c.failoverTimeout = timing.defaultFailoverTimeout
        let m = addMaster(c)
        emit(.warning, "+monitor", m, extra: " quorum \(m.quorum)")
        return .ok
    }

    // MARK: - SENTINEL SET

    /// One validated `SENTINEL SET` option, ready to apply.
    enum MasterChange {
        case downAfter(Millis)
        case failoverTimeout(Millis)
        case parallelSyncs(Int)
        case notificationScript(String?)
        case clientReconfigScript(String?)
        case authPass(Secret?)
        case authUser(String?)
        case quorum(Int)
        case renameCommand(from: String, to: String)
        case rebootDownAfter(Millis)
        case switchoverTimeout(Millis)
        case maxPromotionLag(Int64)
        /// Warden's `auto-forget-after` (Forgetting.swift).
        case autoForgetAfter(Millis)
    }

    func setCommand(_ m: Master, _ args: [String], raw: [[UInt8]],
                            executable: [String: Bool]) -> CommandResult {
        // Script paths must be executable; the driver is asked first (the core does
        // no I/O), and the command runs again with the answers.
        if !settings.denyScriptsReconfig {
            let scriptOptions: Set<String> = ["notification-script", "client-reconfig-script"]
            let paths = (4..<max(4, args.count)).filter {
                scriptOptions.contains(args[$0 - 1].lowercased()) && !args[$0].isEmpty && executable[args[$0]] == nil
            }.map { args[$0] }
            if !paths.isEmpty { return .check(paths) }
        }
        var changes: [(MasterChange, event: String)] = []
        var j = 3
        while j < args.count {
            let option = args[j]
            let more = args.count - 1 - j
            func invalid(_ value: String) -> CommandResult {
                .reply(Self.error("ERR Invalid argument '\(value)' for SENTINEL SET '\(option)'"))
            }
            /// The next argument as a number of at least `minimum`.
            func number(atLeast minimum: Int64) -> Int64? {
                guard let n = Self.parseInteger(args[j + 1]), n >= minimum else { return nil }
                return n
            }
            let change: MasterChange
            switch option.lowercased() {
            case "down-after-milliseconds" where more > 0:
                guard let n = number(atLeast: 1) else { return invalid(args[j + 1]) }
                change = .downAfter(n)
            case "failover-timeout" where more > 0:
                guard let n = number(atLeast: 1) else { return invalid(args[j + 1]) }
                change = .failoverTimeout(n)
            case "parallel-syncs" where more > 0:
                guard let n = number(atLeast: 1), n <= Int64(Int32.max) else { return invalid(args[j + 1]) }
                change = .parallelSyncs(Int(n))
            case "quorum" where more > 0:
                guard let n = number(atLeast: 1), n <= Int64(Int32.max) else { return invalid(args[j + 1]) }
                change = .quorum(Int(n))
            case "master-reboot-down-after-period" where more > 0,
                 "primary-reboot-down-after-period" where more > 0:  // Valkey 8's name
                guard let n = number(atLeast: 0) else { return invalid(args[j + 1]) }
                change = .rebootDownAfter(n)
            case "switchover-timeout" where more > 0:  // Warden
                guard let n = number(atLeast: 1) else { return invalid(args[j + 1]) }
                change = .switchoverTimeout(n)
            case "max-promotion-lag" where more > 0:  // Warden
                guard let n = number(atLeast: 0) else { return invalid(args[j + 1]) }
                change = .maxPromotionLag(n)
            case "notification-script" where more > 0, "client-reconfig-script" where more > 0:
                let path = args[j + 1]
                if settings.denyScriptsReconfig {
                    return .reply(Self.error("ERR Reconfiguration of scripts path is denied for security reasons. Check the deny-scripts-reconfig configuration directive in your Sentinel configuration"))
                }
                let isNotification = option.lowercased() == "notification-script"
                if !path.isEmpty && executable[path] != true {
                    return .reply(Self.error(isNotification
                        ? "ERR Notification script seems non existing or non executable"
                        : "ERR Client reconfiguration script seems non existing or non executable"))
                }
                let value = path.isEmpty ? nil : path
                change = isNotification ? .notificationScript(value) : .clientReconfigScript(value)
            case "auto-forget-after" where more > 0:
                guard let n = number(atLeast: 0), n == 0 || ForgetSettings.autoForgetRange.contains(n) else {
                    return invalid(args[j + 1])
                }
                change = .autoForgetAfter(n)
            case "auth-pass" where more > 0:
                change = .authPass(raw[j + 1].isEmpty ? nil : Secret(raw[j + 1]))
            case "auth-user" where more > 0:
                change = .authUser(args[j + 1].isEmpty ? nil : args[j + 1])
            case "rename-command" where more > 1:
                let (from, to) = (args[j + 1], args[j + 2])
                if from.isEmpty || to.isEmpty { return invalid(to.isEmpty ? to : from) }
                changes.append((.renameCommand(from: from, to: to), event: "\(option) \(from) \(to)"))
                j += 3
                continue
            default:
                return .reply(Self.error("ERR Unknown option or number of arguments for SENTINEL SET '\(option)'"))
            }
            let shown: String
            if case .authPass = change { shown = "******" } else { shown = args[j + 1] }
            changes.append((change, event: "\(option) \(shown)"))
            j += 2
        }

        for (change, event) in changes {
            apply(change, to: m)
            emit(.warning, "+set", m, extra: " " + event)
        }
        return savedReply(.ok)
    }

    func apply(_ change: MasterChange, to m: Master) {
        switch change {
        case .downAfter(let ms):
            m.downAfter = ms
            m.settings.downAfter = ms
            for ri in m.replicas + m.sentinels { ri.downAfter = ms }
        case .failoverTimeout(let ms):
            m.settings.failoverTimeout = ms
        case .parallelSyncs(let n):
            m.settings.parallelSyncs = n
        case .notificationScript(let path):
            m.settings.notificationScript = path
        case .clientReconfigScript(let path):
            m.settings.clientReconfigScript = path
        case .authPass(let pass):
            m.settings.authPass = pass
            dropDataLinks(m)
        case .authUser(let user):
            m.settings.authUser = user
            dropDataLinks(m)
        case .quorum(let n):
            m.quorum = n
            m.settings.quorum = n
        case .renameCommand(let from, let to):
            let original = from.lowercased()
            m.settings.renamedCommands.removeAll { $0.original == original }
            if original != to.lowercased() {
                m.settings.renamedCommands.append((original: original, renamed: to))
            }
        case .rebootDownAfter(let ms):
            m.settings.masterRebootDownAfterPeriod = ms
        case .switchoverTimeout(let ms):
            m.settings.switchoverTimeout = ms
        case .maxPromotionLag(let bytes):
            m.settings.maxPromotionLag = bytes
        case .autoForgetAfter(let ms):
            m.settings.forgetting.autoForgetAfter = ms
            m.autoForgetCandidate = nil
        }
    }

    /// New credentials: reconnect to the master and its replicas (the next tick does).
    func dropDataLinks(_ m: Master) {
        closeLinks(m)
        m.replicas.forEach(closeLinks)
    }

    // MARK: - SENTINEL CONFIG

    private static let configParameters = [
        "resolve-hostnames", "announce-hostnames", "announce-ip", "announce-port",
        "sentinel-user", "sentinel-pass", "loglevel",
    ]

    /// Warden's service parameters: the HTTP API (GET only for those read at start-up),
    /// then one `webhook.<id>` per endpoint.
    private static let httpParameters = [
        "http-port", "http-bind", "http-token", "http-token-reads", "http-max-connections",
        "http-idle-timeout", "http-request-timeout", "webhook-queue-limit",
    ]
    /// The service parameters SET may change (the rest are read when the daemon starts).
    private static let settableHTTPParameters: Set<String> = ["http-token", "http-token-reads"]
    static let webhookParameterPrefix = "webhook."

    func configCommand(_ args: [String], raw: [[UInt8]]) -> CommandResult {
        if args.count < 4 {
            return .reply(Self.error("ERR wrong number of arguments for 'sentinel|config' command"))
        }
        switch args[2].lowercased() {
        case "set" where args.count >= 5: return savedReply(configSet(Array(args[3...]), raw: Array(raw[3...])))
        case "get": return .reply(configGet(Array(args[3...])))
        default:
            return .reply(Self.error("ERR Only SENTINEL CONFIG GET <param> [<param> <param> ...]/ SET <param> <value> [<param> <value> ...] are supported."))
        }
    }

    func configValue(_ parameter: String) -> RESPValue {
        switch parameter {
        case "resolve-hostnames": return .bulk(settings.resolveHostnames ? "yes" : "no")
        case "announce-hostnames": return .bulk(settings.announceHostnames ? "yes" : "no")
        case "announce-ip": return .bulk(settings.announceIP ?? "")
        case "announce-port": return .bulk(String(settings.announcePort))
        case "sentinel-user": return .bulk(settings.sentinelUser ?? "")
        // As redis-sentinel: CONFIG GET shows the password (to clients allowed to ask).
        case "sentinel-pass": return .bulkString(settings.sentinelPass?.bytes ?? [])
        case "http-port": return .bulk(String(settings.http.port))
        case "http-bind": return .bulk(settings.http.bind.joined(separator: " "))
        // Unlike sentinel-pass, the token and the webhook secrets are never shown.
        case "http-token": return .bulk(settings.http.token == nil ? "" : "******")
        case "http-token-reads": return .bulk(settings.http.tokenReads ? "yes" : "no")
        case "http-max-connections": return .bulk(String(settings.http.maxConnections))
        case "http-idle-timeout": return .bulk(String(settings.http.idleTimeoutMs))
        case "http-request-timeout": return .bulk(String(settings.http.requestTimeoutMs))
        case "webhook-queue-limit": return .bulk(String(settings.webhookQueueLimit))
        case _ where parameter.hasPrefix(Self.webhookParameterPrefix):
            let id = String(parameter.dropFirst(Self.webhookParameterPrefix.count))
            return .bulk(settings.webhooks.first { $0.id == id }?.redactedValue ?? "")
        default: return .bulk(settings.loglevel.rawValue)
        }
    }

    /// Every parameter CONFIG GET knows, in the order it lists them.
    var allConfigParameters: [String] {
        Self.configParameters + Self.httpParameters + settings.webhooks.map { Self.webhookParameterPrefix + $0.id }
    }

    func configGet(_ patterns: [String]) -> RESPValue {
        var shown: [String] = []
        let parameters = allConfigParameters
        for pattern in patterns {
            let isGlob = pattern.contains(where: { "*?[".contains($0) })
            if !isGlob && shown.contains(pattern.lowercased()) { continue }
            for p in parameters
            where !shown.contains(p) && Glob.match(pattern, p, caseInsensitive: true) {
                shown.append(p)
            }
        }
        return .map(shown.map { RESPPair(.bulk($0), configValue($0)) })
    }

    /// One validated `SENTINEL CONFIG SET` pair, ready to apply.
    enum GlobalChange {
        case resolveHostnames(Bool), announceHostnames(Bool)
        case announceIP(String?), announcePort(Int), loglevel(LogLevel)
        case sentinelUser(String?), sentinelPass(Secret?)
        case httpToken(Secret?), httpTokenReads(Bool)
        /// Adds or replaces endpoint `id`, or (nil) removes it.
        case webhook(id: String, WebhookSetting?)
    }

    /// Validates every pair first; applies them only if all are valid.
    func configSet(_ pairs: [String], raw: [[UInt8]]) -> RESPValue {
        var seen: Set<String> = []
        var updates: [GlobalChange] = []
        var i = 0
        while i < pairs.count {
            let option = pairs[i]
            var key = option.lowercased()
            let isWebhook = key.hasPrefix(Self.webhookParameterPrefix)
            if isWebhook {
                // The endpoint id keeps its case.
                key = Self.webhookParameterPrefix + option.dropFirst(Self.webhookParameterPrefix.count)
            }
            guard Self.configParameters.contains(key) || Self.settableHTTPParameters.contains(key) || isWebhook else {
                if Self.httpParameters.contains(key) {
                    return Self.error("ERR '\(option)' is read at start-up only: change it in sentinel.conf and restart")
                }
                return Self.error("ERR Invalid argument '\(option)' to SENTINEL CONFIG SET")
            }
            guard seen.insert(key).inserted else {
                return Self.error("ERR Duplicate argument '\(option)' to SENTINEL CONFIG SET")
            }
            guard i + 1 < pairs.count else {
                return Self.error("ERR Missing argument '\(option)' value")
            }
            let value = pairs[i + 1]
            let change: GlobalChange?
            switch key {
            case "resolve-hostnames": change = Self.yesNo(value).map(GlobalChange.resolveHostnames)
            case "announce-hostnames": change = Self.yesNo(value).map(GlobalChange.announceHostnames)
            case "announce-ip": change = .announceIP(value.isEmpty ? nil : value)
            case "announce-port":
                change = Self.parseInteger(value).flatMap { (0...65535).contains($0) ? .announcePort(Int($0)) : nil }
            case "loglevel": change = LogLevel(rawValue: value.lowercased()).map(GlobalChange.loglevel)
            case "sentinel-user": change = .sentinelUser(value.isEmpty ? nil : value)
            case "sentinel-pass": change = .sentinelPass(raw[i + 1].isEmpty ? nil : Secret(raw[i + 1]))
            case "http-token-reads": change = Self.yesNo(value).map(GlobalChange.httpTokenReads)
            case "http-token":
                guard let validator = serviceValidator else { return Self.error("ERR the HTTP API is not available") }
                if !raw[i + 1].isEmpty, let reason = validator.httpToken(raw[i + 1]) {
                    return Self.error("ERR Invalid value for SENTINEL CONFIG SET 'http-token': \(reason)")
                }
                change = .httpToken(raw[i + 1].isEmpty ? nil : Secret(raw[i + 1]))
            default:
                // webhook.<id>: scripts' rule applies, as a webhook sends data where it is told.
                if settings.denyScriptsReconfig {
                    return Self.error("ERR Reconfiguration of webhooks is denied for security reasons. Check the deny-scripts-reconfig configuration directive in your Sentinel configuration")
                }
                guard let validator = serviceValidator else { return Self.error("ERR webhooks are not available") }
                let id = String(key.dropFirst(Self.webhookParameterPrefix.count))
                if value.isEmpty {
                    change = .webhook(id: id, nil)
                } else {
                    switch validator.webhook(id, value) {
                    case .success(let setting): change = .webhook(id: id, setting)
                    case .failure(let error):
                        return Self.error("ERR Invalid value for SENTINEL CONFIG SET '\(Self.clip(option))': \(error.reason)")
                    }
                }
            }
            guard let change else {
                return Self.error("ERR Invalid value '\(value)' to SENTINEL CONFIG SET '\(option)'")
            }
            updates.append(change)
            i += 2
        }
        let added = updates.filter {
            if case .webhook(let id, let setting) = $0 { return setting != nil && !settings.webhooks.contains { $0.id == id } }
            return false
        }.count
        if settings.webhooks.count + added > Self.maxWebhooks {
            return Self.error("ERR at most \(Self.maxWebhooks) webhooks")
        }

        var credentialsChanged = false
        for change in updates {
            switch change {
            case .resolveHostnames(let on): settings.resolveHostnames = on
            case .announceHostnames(let on): settings.announceHostnames = on
            case .announceIP(let ip): settings.announceIP = ip
            case .announcePort(let port): settings.announcePort = port
            case .loglevel(let level): settings.loglevel = level
            case .sentinelUser(let user):
                settings.sentinelUser = user
                credentialsChanged = true
            case .sentinelPass(let pass):
                settings.sentinelPass = pass
                credentialsChanged = true
            case .httpToken(let token): settings.http.token = token
            case .httpTokenReads(let on): settings.http.tokenReads = on
            case .webhook(let id, let setting):
                if let setting {
                    if let index = settings.webhooks.firstIndex(where: { $0.id == id }) {
                        settings.webhooks[index] = setting
                    } else {
                        settings.webhooks.append(setting)
                    }
                } else {
                    settings.webhooks.removeAll { $0.id == id }
                }
                log(.notice, "CONFIG SET webhook.\(id) \(setting?.redactedValue ?? "(removed)")")
            }
        }
        if credentialsChanged {
            // Reconnect to the other sentinels with the new credentials.
            for m in masters { m.sentinels.forEach(closeLinks) }
        }
        return .ok
    }

    /// Webhook endpoints at most (sentinel.conf and CONFIG SET alike).
    public static let maxWebhooks = 32

    // MARK: - SENTINEL DEBUG

    func debugReply() -> RESPValue {
        .bulkMap(Timing.debugNames.map { ($0.0.uppercased(), String(timing[keyPath: $0.1])) })
    }

    /// Sets the named timing parameters one after the other, as Redis does: the
    /// pairs before an invalid one stay applied.
    func debugSet(_ args: [String]) -> RESPValue {
        var j = 2
        while j < args.count {
            let option = args[j]
            guard j + 1 < args.count,
                  let keyPath = (Timing.debugNames + Timing.wardenDebugNames)
                      .first(where: { $0.0 == option.lowercased() })?.1 else {
                return Self.error("ERR Unknown option or number of arguments for SENTINEL DEBUG '\(option)'")
            }
            // Redis's parameters must be positive; Warden's turns may be switched off.
            let least: Millis = keyPath == \Timing.candidacyStagger ? 0 : 1
            guard let ms = Self.parseInteger(args[j + 1]), ms >= least else {
                return Self.error("ERR Invalid argument '\(args[j + 1])' for SENTINEL DEBUG '\(option)'")
            }
            timing[keyPath: keyPath] = ms
            j += 2
        }
        return .ok
    }
}
