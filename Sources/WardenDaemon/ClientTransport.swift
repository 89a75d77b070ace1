import EventLoop
import SentinelCore

/// What the sentinel port needs of one client connection. EventLoop's `Connection` in
/// production; the tests drive `ClientServer` through an in-memory transport instead,
/// with no socket. Loop thread only.
///
/// The contract is `Connection`'s: `write` queues (ignored once closed or closing after
/// writing), unsent output over `outputLimit` closes the transport with `.outputLimit`,
/// and `onClose` runs exactly once, never from inside the `write`/`close` that caused it.
protocol ClientTransport: AnyObject {
    /// Bytes read; the buffer is valid only during the call.
    var onRead: ((UnsafeRawBufferPointer) -> Void)? { get set }
    /// Called once, when the transport is gone for any reason.
    var onClose: ((CloseReason) -> Void)? { get set }
    /// Most unsent bytes allowed before the transport closes with `.outputLimit`; 0 = unlimited.
    var outputLimit: Int { get set }
    /// Bytes queued and not yet taken by the peer (CLIENT LIST omem, the soft limit).
    var pendingOutputBytes: Int { get }
    /// False once closed (also right after an output limit was passed).
    var isConnected: Bool { get }
    /// Accepted on the `tls-port`.
    var isTLS: Bool { get }
    /// The peer's numeric address (the socket path for a Unix socket) and port.
    var remoteHost: String { get }
    var remotePort: Int { get }
    /// Our end: an IP text ("" when unknown) and port.
    var localHost: String { get }
    var localPort: Int { get }

    /// Queues bytes for the peer.
    func write(_ bytes: [UInt8])
    /// Closes at once, dropping queued output.
    func close()
    /// Stops reading, sends what is queued, then closes.
    func closeAfterWriting()
}

extension Connection: ClientTransport {}

/// What the sentinel port needs of the rest of the daemon: the core, the log, the TLS
/// material, a few facts for INFO, and a way to hand commands to the core. `Daemon` in
/// production; the tests use a host around a real `Sentinel` and no event loop.
protocol ClientServerHost: AnyObject {
    /// The core: its settings, ROLE, INFO's sentinel section.
    var core: Sentinel { get }
    var logger: Logger { get }
    /// The TLS contexts (CONFIG GET/SET of tls-*) and the TLS failure log's budget.
    var tls: TLSMaterial { get }
    /// INFO server: uptime, run_id, config_file.
    var startTime: Millis { get }
    var serverRunID: String { get }
    var configFile: ConfigFile { get }
    /// Hands a client's SENTINEL, PUBLISH or CONFIG SET to the core. The session waits
    /// (`awaiting`) until the reply is given to it and `ClientServer.process` runs again.
    func submit(_ s: ClientSession, _ args: [[UInt8]])
    /// SHUTDOWN: shuts down once the current callback has returned.
    func shutdownSoon(reason: String)
}

extension Daemon: ClientServerHost {
    func shutdownSoon(reason: String) {
        loop.execute { [self] in shutdown(reason: reason) }
    }
}
