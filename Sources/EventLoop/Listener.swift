import CSystem
import Glibc

/// A listening TCP socket created by `EventLoop.listen`; hands each accepted connection to
/// its `onAccept`. Stays open until `close()`.
public final class Listener: EventSource {
    /// The bound port (the one the kernel picked when listening on port 0).
    public let port: Int
    /// TLS for connections accepted from now on; nil for plain TCP. Replacing it (new
    /// certificates, another client policy) leaves connections already accepted as they are.
    public var tls: TLSServerSettings?
    let id: UInt64
    private let loop: EventLoop
    private let fd: Int32
    private let onAccept: (Connection) -> Void
    /// TCP keepalive idle time given to accepted connections (0: none).
    private let keepAliveSeconds: Int32
    /// The socket file of a Unix domain listener (removed on close), or nil for TCP.
    public let unixPath: String?
    private var isOpen = true
    /// Set while accepting is paused after running out of descriptors or memory.
    private var resumeTimer: TimerID?

    init(loop: EventLoop, fd: Int32, id: UInt64, port: Int, keepAliveSeconds: Int32 = EventLoop.keepAliveSeconds,
         unixPath: String? = nil, onAccept: @escaping (Connection) -> Void) {
        self.loop = loop
        self.fd = fd
        self.id = id
        self.port = port
        self.keepAliveSeconds = keepAliveSeconds
        self.unixPath = unixPath
        self.onAccept = onAccept
    }

    /// Loop thread only. Stops listening; connections already accepted stay open.
    public func close() {
        guard isOpen else { return }
        isOpen = false
        if let timer = resumeTimer {
            loop.cancel(timer)
            resumeTimer = nil
        }
        loop.deregister(fd: fd, token: id)
        Glibc.close(fd)
        if let unixPath { unlink(unixPath) }
    }

    /// Accepts until the queue is empty (or `onAccept` closes the listener).
    func handleEvents(_ events: UInt32) {
        while isOpen && resumeTimer == nil {
            var address = sockaddr_storage()
            var length = UInt32(MemoryLayout<sockaddr_storage>.size)
            let client = cs_accept(fd, &address, &length)
            if client >= 0 {
                accepted(client, address: &address)
                continue
            }
            switch errno {
            case EINTR, ECONNABORTED, EPROTO, EPERM:
                continue
            case EAGAIN, EWOULDBLOCK:
                return
            default:
                // EMFILE, ENFILE, ENOBUFS, ENOMEM: the pending connection stays queued and
                // level-triggered epoll would report it again at once, so stop listening for
                // a moment instead of spinning.
                pauseAccepting()
                return
            }
        }
    }

    private func accepted(_ client: Int32, address: inout sockaddr_storage) {
        var remotePort: Int32 = 0
        let remoteHost: String
        if let unixPath {
            remoteHost = unixPath
        } else {
            _ = cs_set_tcp_options(client, keepAliveSeconds)
            remoteHost = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { text -> String in
                remotePort = cs_format_address(&address, text.baseAddress, text.count)
                return remotePort >= 0 ? String(cString: text.baseAddress!) : "?"
            }
        }
        var session: TLSSession?
        if let tls {
            do {
                session = try TLSSession(context: tls.context, fd: client, server: true, clientAuth: tls.clientAuth)
            } catch {
                // Out of memory inside OpenSSL: drop this client as if accept had failed.
                Glibc.close(client)
                return
            }
        }
        let connection = Connection(accepted: client, remoteHost: remoteHost, remotePort: Int(max(remotePort, 0)),
                                    localPort: port, loop: loop, id: loop.takeSourceID(), tls: session)
        guard connection.registerAccepted(handshakeTimeoutMs: tls?.handshakeTimeoutMs ?? 0) else { return }
        onAccept(connection)
    }

    private func pauseAccepting() {
        loop.modify(fd: fd, events: 0, token: id)
        resumeTimer = loop.schedule(afterMs: EventLoop.acceptBackoffMs) { [weak self] in
            guard let self, self.isOpen else { return }
            self.resumeTimer = nil
            self.loop.modify(fd: self.fd, events: CS_EPOLLIN, token: self.id)
        }
    }
}
