import EventLoop
import SentinelCore

/// The daemon's TLS material: the OpenSSL contexts built from the `tls-*` settings, as
/// redis-server's tlsConfigure builds them. The server context serves the TLS port and,
/// unless `tls-client-cert-file`/`tls-client-key-file` give outgoing links an identity
/// of their own, also makes those links.
///
/// Contexts are immutable. A reload builds new ones and swaps them in: connections made
/// afterwards use the new material, connections already open keep theirs.
final class TLSMaterial {
    /// The settings the current contexts were built from.
    private(set) var config: TLSConfig
    private(set) var serverContext: TLSContext?
    private(set) var clientContext: TLSContext?

    /// An accepted connection whose TLS handshake takes longer is closed.
    static let handshakeTimeoutMs: Int64 = 10_000

    /// Failure lines (handshakes, links) logged per second at most; the rest are counted.
    static let failureLogBudget = 10
    private var failureWindowStart: Int64 = 0
    private var failuresInWindow = 0
    private var failuresSuppressed = 0

    init(config: TLSConfig) {
        self.config = config
    }

    /// The settings of TLS listeners, or nil when no server context exists.
    var serverSettings: TLSServerSettings? { Built(config: config, server: serverContext, client: clientContext).serverSettings }

    /// The context outgoing links use: nil (plain TCP) unless `tls-replication yes`.
    var linkContext: TLSContext? {
        config.replication ? (clientContext ?? serverContext) : nil
    }

    /// Contexts built for a config, not yet current.
    struct Built {
        let config: TLSConfig
        let server: TLSContext?
        let client: TLSContext?

        var serverSettings: TLSServerSettings? {
            guard let server else { return nil }
            let auth: TLSClientAuth
            switch config.authClients {
            case .no: auth = .none
            case .optional: auth = .optional
            case .yes: auth = .required
            }
            return TLSServerSettings(context: server, clientAuth: auth, handshakeTimeoutMs: TLSMaterial.handshakeTimeoutMs)
        }
    }

    /// Builds the contexts for `config` (none when TLS is not enabled), reading every file
    /// again. Throws the reason, in Redis's words where it has them.
    static func build(_ config: TLSConfig) throws(TLSError) -> Built {
        guard config.isEnabled else { return Built(config: config, server: nil, client: nil) }
        if let problem = config.problem { throw TLSError(problem) }
        let server = try TLSContext(options(config, client: false))
        let client = config.hasClientIdentity ? try TLSContext(options(config, client: true)) : nil
        return Built(config: config, server: server, client: client)
    }

    /// Makes built contexts current for connections made from now on.
    func commit(_ built: Built) {
        config = built.config
        serverContext = built.server
        clientContext = built.client
    }

    static func options(_ config: TLSConfig, client: Bool) -> TLSContextOptions {
        var options = TLSContextOptions(
            certFile: (client ? config.clientCertFile : config.certFile) ?? "",
            keyFile: (client ? config.clientKeyFile : config.keyFile) ?? "",
            isServer: !client)
        options.keyPassword = client ? config.clientKeyFilePass : config.keyFilePass
        options.caFile = config.caCertFile
        options.caDirectory = config.caCertDir
        options.ciphers = config.ciphers
        options.ciphersuites = config.ciphersuites
        var protocols: TLSProtocols = []
        for version in config.protocolVersions {
            switch version {
            case .tlsv1: protocols.insert(.tlsv1)
            case .tlsv1_1: protocols.insert(.tlsv1_1)
            case .tlsv1_2: protocols.insert(.tlsv1_2)
            case .tlsv1_3: protocols.insert(.tlsv1_3)
            }
        }
        options.protocols = protocols
        options.dhParamsFile = config.dhParamsFile
        options.preferServerCiphers = config.preferServerCiphers
        options.sessionCaching = config.sessionCaching
        options.sessionCacheSize = config.sessionCacheSize
        options.sessionCacheTimeoutSeconds = config.sessionCacheTimeout
        return options
    }

    /// Logs a failed handshake (or TLS session) unless this second's budget is spent.
    func logFailure(_ logger: Logger, _ text: String) {
        let now = EventLoop.monotonicMs()
        if now - failureWindowStart >= 1000 {
            if failuresSuppressed > 0 {
                logger.log(.warning, "\(failuresSuppressed) more TLS failures were not logged")
            }
            failureWindowStart = now
            failuresInWindow = 0
            failuresSuppressed = 0
        }
        guard failuresInWindow < Self.failureLogBudget else {
            failuresSuppressed += 1
            return
        }
        failuresInWindow += 1
        logger.log(.warning, text)
    }
}

extension Daemon {
    /// Builds the TLS contexts at start when the config enables TLS, as redis-server does
    /// before opening any port. Throws with the reason and Redis's closing line.
    func configureTLS() throws(StartupError) {
        do {
            tls.commit(try TLSMaterial.build(core.settings.tls))
        } catch {
            logger.log(.warning, error.message)
            logger.log(.warning, "Failed to configure TLS. Check logs for more info.")
            throw StartupError("\(error.message)\nFailed to configure TLS. Check logs for more info.")
        }
    }
}

extension ClientServerHost {
    /// Logs how a connection ended when it was a TLS failure or a handshake that timed out.
    func logTLSClose(_ reason: CloseReason, of connection: some ClientTransport, outgoing: Bool) {
        let peer = "\(connection.remoteHost):\(connection.remotePort)"
        let why: String
        switch reason {
        case .tlsFailed(let text): why = text
        case .timeout where connection.isTLS && !outgoing: why = "TLS handshake timed out"
        default: return
        }
        tls.logFailure(logger, outgoing
            ? "TLS link to \(peer) failed: \(why)"
            : "Error accepting a client connection: \(why) (addr=\(peer))")
    }
}

/// Why the daemon cannot start (printed to stderr; the exit status is 1).
public struct StartupError: Error, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}
