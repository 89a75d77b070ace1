/// The `tls-*` directives of sentinel.conf, with redis-server 7.0's names, defaults,
/// value checks and error texts (src/config.c, src/tls.c). Pure data: building OpenSSL
/// contexts from it is the daemon's job.
///
/// TLS is configured at start when `tls-port` is not 0 or `tls-replication` (or
/// `tls-cluster`) is yes, as Redis does; `problem` then names what is missing.
public struct TLSConfig: Equatable, Sendable {
    /// `tls-port`: the sentinel port over TLS; 0 = none.
    public var port = 0
    public var certFile: String?
    public var keyFile: String?
    public var keyFilePass: String?
    /// `tls-client-*`: the identity for outgoing links; without both, `certFile`/`keyFile`.
    public var clientCertFile: String?
    public var clientKeyFile: String?
    public var clientKeyFilePass: String?
    public var caCertFile: String?
    public var caCertDir: String?
    public var authClients: AuthClients = .yes
    /// `tls-protocols` as given ("TLSv1.2 TLSv1.3"); nil = TLSv1.2 and TLSv1.3.
    public var protocols: String?
    public var ciphers: String?
    public var ciphersuites: String?
    public var preferServerCiphers = false
    public var sessionCaching = true
    public var sessionCacheSize = 20 * 1024
    public var sessionCacheTimeout = 300
    public var dhParamsFile: String?
    /// `tls-replication`: links to masters, replicas and peer sentinels use TLS.
    public var replication = false
    /// `tls-cluster`: accepted for compatibility; a sentinel has no cluster bus.
    public var cluster = false

    public init() {}

    /// `tls-auth-clients`.
    public enum AuthClients: String, Sendable, CaseIterable {
        case no, yes, optional
    }

    /// A TLS protocol version named in `tls-protocols`.
    public enum ProtocolVersion: String, Sendable, CaseIterable {
        case tlsv1 = "TLSv1", tlsv1_1 = "TLSv1.1", tlsv1_2 = "TLSv1.2", tlsv1_3 = "TLSv1.3"
    }

    /// Whether the daemon must set up TLS at start (Redis's condition for `tlsConfigure`).
    public var isEnabled: Bool { port != 0 || replication || cluster }

    /// The versions `protocols` allows (checked when it was set).
    public var protocolVersions: Set<ProtocolVersion> {
        guard let protocols else { return [.tlsv1_2, .tlsv1_3] }
        return Self.parseProtocols(protocols) ?? []
    }

    /// Whether outgoing links present their own certificate (`tls-client-cert-file` and
    /// `tls-client-key-file` both set) rather than the server's.
    public var hasClientIdentity: Bool { clientCertFile != nil && clientKeyFile != nil }

    /// What stops TLS from being configured, in Redis's words; nil when nothing does or TLS
    /// is not enabled.
    public var problem: String? {
        guard isEnabled else { return nil }
        if certFile == nil { return "No tls-cert-file configured!" }
        if keyFile == nil { return "No tls-key-file configured!" }
        if (authClients != .no || cluster || replication) && caCertFile == nil && caCertDir == nil {
            return "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, "
                + "tls-replication or tls-auth-clients are enabled!"
        }
        return nil
    }

    static func parseProtocols(_ text: String) -> Set<ProtocolVersion>? {
        var versions: Set<ProtocolVersion> = []
        for token in text.split(separator: " ") {
            guard let version = ProtocolVersion.allCases.first(where: {
                $0.rawValue.lowercased() == token.lowercased()
            }) else { return nil }
            versions.insert(version)
        }
        return versions
    }

    // MARK: - Directives by name

    /// Every `tls-*` directive, in the order the config rewrite writes them.
    public enum Parameter: String, CaseIterable, Sendable {
        case port = "tls-port"
        case certFile = "tls-cert-file"
        case keyFile = "tls-key-file"
        case keyFilePass = "tls-key-file-pass"
        case clientCertFile = "tls-client-cert-file"
        case clientKeyFile = "tls-client-key-file"
        case clientKeyFilePass = "tls-client-key-file-pass"
        case dhParamsFile = "tls-dh-params-file"
        case caCertFile = "tls-ca-cert-file"
        case caCertDir = "tls-ca-cert-dir"
        case protocols = "tls-protocols"
        case ciphers = "tls-ciphers"
        case ciphersuites = "tls-ciphersuites"
        case preferServerCiphers = "tls-prefer-server-ciphers"
        case sessionCaching = "tls-session-caching"
        case sessionCacheSize = "tls-session-cache-size"
        case sessionCacheTimeout = "tls-session-cache-timeout"
        case authClients = "tls-auth-clients"
        case replication = "tls-replication"
        case cluster = "tls-cluster"

        /// Strings: an empty value means "not set" (Redis's EMPTY_STRING_IS_NULL).
        public var isString: Bool {
            switch self {
            case .certFile, .keyFile, .keyFilePass, .clientCertFile, .clientKeyFile, .clientKeyFilePass,
                 .dhParamsFile, .caCertFile, .caCertDir, .protocols, .ciphers, .ciphersuites:
                return true
            default:
                return false
            }
        }

        /// The `tls-*-pass` parameters, never written to a log.
        public var isSecret: Bool { self == .keyFilePass || self == .clientKeyFilePass }
    }

    private static let maxInt32 = Int(Int32.max)

    /// The value as CONFIG GET shows it and the config rewrite writes it ("" when unset).
    public func value(of parameter: Parameter) -> String {
        func yesNo(_ value: Bool) -> String { value ? "yes" : "no" }
        switch parameter {
        case .port: return String(port)
        case .certFile: return certFile ?? ""
        case .keyFile: return keyFile ?? ""
        case .keyFilePass: return keyFilePass ?? ""
        case .clientCertFile: return clientCertFile ?? ""
        case .clientKeyFile: return clientKeyFile ?? ""
        case .clientKeyFilePass: return clientKeyFilePass ?? ""
        case .dhParamsFile: return dhParamsFile ?? ""
        case .caCertFile: return caCertFile ?? ""
        case .caCertDir: return caCertDir ?? ""
        case .protocols: return protocols ?? ""
        case .ciphers: return ciphers ?? ""
        case .ciphersuites: return ciphersuites ?? ""
        case .preferServerCiphers: return yesNo(preferServerCiphers)
        case .sessionCaching: return yesNo(sessionCaching)
        case .sessionCacheSize: return String(sessionCacheSize)
        case .sessionCacheTimeout: return String(sessionCacheTimeout)
        case .authClients: return authClients.rawValue
        case .replication: return yesNo(replication)
        case .cluster: return yesNo(cluster)
        }
    }

    /// Whether the parameter has its default value.
    public func isDefault(_ parameter: Parameter) -> Bool {
        value(of: parameter) == TLSConfig().value(of: parameter)
    }

    /// Sets a parameter from its text, with Redis's checks. Returns the reason the value
    /// is refused (nothing is changed then), or nil.
    public mutating func set(_ parameter: Parameter, to text: String) -> String? {
        func string() -> String? { text.isEmpty ? nil : text }
        func bool() -> Bool? {
            switch text.lowercased() {
            case "yes": return true
            case "no": return false
            default: return nil
            }
        }
        func integer(_ range: ClosedRange<Int>) -> Result<Int, Refusal> {
            guard let value = Int(text) else { return .failure(Refusal("argument couldn't be parsed into an integer")) }
            guard range.contains(value) else {
                return .failure(Refusal("argument must be between \(range.lowerBound) and \(range.upperBound) inclusive"))
            }
            return .success(value)
        }
        let boolRefusal = "argument must be 'yes' or 'no'"
        switch parameter {
        case .port:
            switch integer(0...65535) {
            case .success(let value): port = value
            case .failure(let refusal): return refusal.reason
            }
        case .sessionCacheSize, .sessionCacheTimeout:
            switch integer(0...Self.maxInt32) {
            case .success(let value):
                if parameter == .sessionCacheSize { sessionCacheSize = value } else { sessionCacheTimeout = value }
            case .failure(let refusal): return refusal.reason
            }
        case .preferServerCiphers, .sessionCaching, .replication, .cluster:
            guard let value = bool() else { return boolRefusal }
            switch parameter {
            case .preferServerCiphers: preferServerCiphers = value
            case .sessionCaching: sessionCaching = value
            case .replication: replication = value
            default: cluster = value
            }
        case .authClients:
            guard let value = AuthClients(rawValue: text.lowercased()) else {
                return "argument(s) must be one of the following: "
                    + AuthClients.allCases.map(\.rawValue).joined(separator: ", ")
            }
            authClients = value
        case .protocols:
            if !text.isEmpty {
                guard let versions = Self.parseProtocols(text), !versions.isEmpty else {
                    return "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'."
                }
            }
            protocols = string()
        case .certFile: certFile = string()
        case .keyFile: keyFile = string()
        case .keyFilePass: keyFilePass = string()
        case .clientCertFile: clientCertFile = string()
        case .clientKeyFile: clientKeyFile = string()
        case .clientKeyFilePass: clientKeyFilePass = string()
        case .dhParamsFile: dhParamsFile = string()
        case .caCertFile: caCertFile = string()
        case .caCertDir: caCertDir = string()
        case .ciphers: ciphers = string()
        case .ciphersuites: ciphersuites = string()
        }
        return nil
    }

    private struct Refusal: Error {
        let reason: String
        init(_ reason: String) { self.reason = reason }
    }
}

extension SentinelConfig {
    /// The port this sentinel announces in hellos: `sentinel announce-port`, else the
    /// TLS port when links use TLS (peers connect with TLS), else `port` (as Redis).
    public var helloPort: Int {
        if announcePort != 0 { return announcePort }
        if tls.replication && tls.port != 0 { return tls.port }
        return port
    }

    /// The port INFO reports as tcp_port: `port`, or the TLS port when there is no plain one.
    public var reportedPort: Int { port != 0 ? port : tls.port }
}

extension Sentinel {
    /// `CONFIG SET tls-* value ...`, as the daemon hands it on once it has built the
    /// new TLS contexts from the same pairs (reading the files is I/O, the daemon's).
    /// Replaces the `tls-*` settings and saves them; when `tls-replication` changes,
    /// every link is closed, to be reopened with or without TLS; when the announced
    /// port changes, hellos go out at once.
    func configSetTLS(_ args: [String]) -> CommandResult {
        guard args.count >= 4, args.count % 2 == 0, args[1].lowercased() == "set" else {
            return .reply(Self.error("ERR syntax error"))
        }
        var tls = settings.tls
        for i in stride(from: 2, to: args.count, by: 2) {
            guard let parameter = TLSConfig.Parameter(rawValue: args[i].lowercased()) else {
                return .reply(Self.error("ERR Unknown option or number of arguments for CONFIG SET - '\(Self.clip(args[i]))'"))
            }
            if let reason = tls.set(parameter, to: args[i + 1]) {
                return .reply(Self.error("ERR CONFIG SET failed (possibly related to argument '\(parameter.rawValue)') - \(reason)"))
            }
        }
        let relink = tls.replication != settings.tls.replication
        let oldHelloPort = settings.helloPort
        settings.tls = tls
        for m in masters {
            if relink {
                closeLinks(m)
                m.replicas.forEach(closeLinks)
                m.sentinels.forEach(closeLinks)
            }
            if settings.helloPort != oldHelloPort { forceHelloUpdate(m) }
            wakeAll(m)
        }
        return savedReply(.ok)
    }
}
