import COpenSSL
import Glibc

/// TLS protocol versions a context may negotiate (redis's `tls-protocols`).
public struct TLSProtocols: OptionSet, Sendable, Hashable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let tlsv1 = TLSProtocols(rawValue: CT_PROTO_TLSv1)
    public static let tlsv1_1 = TLSProtocols(rawValue: CT_PROTO_TLSv1_1)
    public static let tlsv1_2 = TLSProtocols(rawValue: CT_PROTO_TLSv1_2)
    public static let tlsv1_3 = TLSProtocols(rawValue: CT_PROTO_TLSv1_3)
    /// Redis's default: TLSv1.2 and TLSv1.3.
    public static let standard: TLSProtocols = [.tlsv1_2, .tlsv1_3]
}

/// What a `TLSContext` is built from: the certificate and key it presents, the CAs it
/// trusts, and the protocol settings. Paths are read when the context is built.
public struct TLSContextOptions: Sendable, Equatable {
    public var certFile: String
    public var keyFile: String
    /// The password of an encrypted key; nil when the key is not encrypted.
    public var keyPassword: String?
    public var caFile: String?
    public var caDirectory: String?
    /// OpenSSL cipher list for TLSv1.2 and below; nil keeps OpenSSL's default.
    public var ciphers: String?
    /// TLSv1.3 cipher suites; nil keeps OpenSSL's default.
    public var ciphersuites: String?
    public var protocols: TLSProtocols = .standard
    /// True for a context that accepts connections: the server-only settings below apply.
    public var isServer: Bool
    public var dhParamsFile: String?
    public var preferServerCiphers = false
    public var sessionCaching = true
    public var sessionCacheSize = 20 * 1024
    public var sessionCacheTimeoutSeconds = 300

    public init(certFile: String, keyFile: String, isServer: Bool) {
        self.certFile = certFile
        self.keyFile = keyFile
        self.isServer = isServer
    }
}

/// A TLS context could not be built, or a session could not be started: OpenSSL's reason,
/// prefixed with what was being loaded ("Failed to load certificate: /path: ...").
public struct TLSError: Error, Equatable, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An OpenSSL context (SSL_CTX): certificate, key, trusted CAs, protocols and ciphers.
///
/// Immutable once built. To reload certificates, build a new context and hand it to new
/// connections (`Listener.tls`, `EventLoop.connect(..., tls:)`); sessions already started
/// keep a reference to the context they were made from, so they are unaffected.
public final class TLSContext: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer

    /// Loads the files named in `options`. Throws with OpenSSL's reason on any failure.
    public init(_ options: TLSContextOptions) throws(TLSError) {
        if let failure = TLSContext.libraryFailure { throw TLSError(failure) }
        var strings = CStrings()
        defer { strings.free() }
        var o = ct_options()
        o.cert_file = strings.copy(options.certFile)
        o.key_file = strings.copy(options.keyFile)
        o.key_pass = strings.copy(options.keyPassword)
        o.ca_file = strings.copy(options.caFile)
        o.ca_dir = strings.copy(options.caDirectory)
        o.ciphers = strings.copy(options.ciphers)
        o.ciphersuites = strings.copy(options.ciphersuites)
        o.dh_params_file = strings.copy(options.dhParamsFile)
        o.protocols = options.protocols.rawValue
        o.server = options.isServer ? 1 : 0
        o.prefer_server_ciphers = options.preferServerCiphers ? 1 : 0
        o.session_caching = options.sessionCaching ? 1 : 0
        o.session_cache_size = options.sessionCacheSize
        o.session_cache_timeout = options.sessionCacheTimeoutSeconds
        var message = [CChar](repeating: 0, count: 1024)
        guard let context = ct_context_new(&o, &message, message.count) else {
            throw TLSError(TLSContext.text(message))
        }
        raw = context
    }

    /// A context for HTTPS clients: no certificate of its own; it trusts the system's CA
    /// store (OpenSSL's default locations; the `SSL_CERT_FILE` and `SSL_CERT_DIR` environment
    /// variables override them) and `caFile` / `caDirectory` if given; TLSv1.2 or later.
    /// Connections made with it should name their peer (`TLSPeerName`).
    public init(verifyingServersWithCAFile caFile: String? = nil, caDirectory: String? = nil) throws(TLSError) {
        if let failure = TLSContext.libraryFailure { throw TLSError(failure) }
        var message = [CChar](repeating: 0, count: 1024)
        let context: UnsafeMutableRawPointer? = {
            func call(_ file: UnsafePointer<CChar>?, _ dir: UnsafePointer<CChar>?) -> UnsafeMutableRawPointer? {
                ct_client_context_new(file, dir, &message, message.count)
            }
            switch (caFile, caDirectory) {
            case (let file?, let dir?): return file.withCString { f in dir.withCString { d in call(f, d) } }
            case (let file?, nil): return file.withCString { call($0, nil) }
            case (nil, let dir?): return dir.withCString { call(nil, $0) }
            case (nil, nil): return call(nil, nil)
            }
        }()
        guard let context else { throw TLSError(TLSContext.text(message)) }
        raw = context
    }

    deinit {
        ct_context_free(raw)
    }

    /// OpenSSL's one-time initialization; nil when it succeeded.
    private static let libraryFailure: String? = {
        var message = [CChar](repeating: 0, count: 512)
        return ct_init(&message, message.count) == 0 ? nil : text(message)
    }()

    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// NUL-terminated copies of Swift strings that live until `free()`.
    private struct CStrings {
        var pointers: [UnsafeMutablePointer<CChar>] = []

        mutating func copy(_ text: String?) -> UnsafePointer<CChar>? {
            guard let text, let copy = strdup(text) else { return nil }
            pointers.append(copy)
            return UnsafePointer(copy)
        }

        func free() {
            for pointer in pointers { Glibc.free(pointer) }
        }
    }
}

/// The identity an outgoing TLS connection expects of its server (HTTPS, RFC 9110 §4.3.4):
/// a DNS name, sent as SNI and matched against the certificate's names, or an IP
/// address (without brackets), matched against its IP addresses and not sent.
public struct TLSPeerName: Sendable, Equatable {
    public var host: String
    public var isIPAddress: Bool
    public init(host: String, isIPAddress: Bool) {
        self.host = host
        self.isIPAddress = isIPAddress
    }
}

/// Whether a TLS listener asks clients for a certificate (redis's `tls-auth-clients`).
public enum TLSClientAuth: Sendable, Equatable {
    /// No certificate is asked for.
    case none
    /// A certificate is asked for and verified if sent; clients without one are accepted.
    case optional
    /// Clients without a valid certificate fail the handshake.
    case required
}

/// How a listener serves TLS: the context new connections get and the client policy.
/// Replacing `Listener.tls` affects connections accepted afterwards only.
public struct TLSServerSettings: Sendable {
    public var context: TLSContext
    public var clientAuth: TLSClientAuth
    /// An accepted connection whose handshake has not completed by then is closed
    /// with `.timeout`.
    public var handshakeTimeoutMs: Int64

    public init(context: TLSContext, clientAuth: TLSClientAuth, handshakeTimeoutMs: Int64 = 10_000) {
        self.context = context
        self.clientAuth = clientAuth
        self.handshakeTimeoutMs = handshakeTimeoutMs
    }
}

/// The OpenSSL session (SSL) of one connection, and the cross-direction waits TLS can
/// impose: a read that must first write (a key update to answer) or a write that must
/// first read. Owned by its `Connection`; loop thread only.
final class TLSSession {
    let ssl: UnsafeMutableRawPointer
    /// The last read stopped on CT_WANT_WRITE: writability must drive reading.
    var readWantsWrite = false
    /// The last write stopped on CT_WANT_READ: readability must drive writing.
    var writeWantsRead = false
    /// The handshake's current wait (CS_EPOLLIN or CS_EPOLLOUT) while handshaking.
    var handshakeEvents: UInt32 = 0

    /// A session on connected socket `fd`, accepting (`server`) or connecting (with the
    /// name the server must prove, if any).
    init(context: TLSContext, fd: Int32, server: Bool, clientAuth: TLSClientAuth,
         peerName: TLSPeerName? = nil) throws(TLSError) {
        let verify: Int32
        switch clientAuth {
        case .none: verify = CT_VERIFY_NONE
        case .optional: verify = CT_VERIFY_OPTIONAL
        case .required: verify = CT_VERIFY_REQUIRED
        }
        var message = [CChar](repeating: 0, count: 512)
        guard let ssl = ct_session_new(context.raw, fd, server ? 1 : 0, verify, &message, message.count) else {
            throw TLSError(TLSContext.text(message))
        }
        self.ssl = ssl
        if let peerName, ct_session_set_peer_name(ssl, peerName.host, peerName.isIPAddress ? 1 : 0,
                                                  &message, message.count) != 0 {
            // Fully initialized: deinit frees the session.
            throw TLSError(TLSContext.text(message))
        }
    }

    deinit {
        ct_session_free(ssl)
    }
}
