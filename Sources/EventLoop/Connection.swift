import COpenSSL
import CSystem
import Glibc

/// A non-blocking TCP connection owned by an `EventLoop`: accepted by a `Listener` or
/// started by `EventLoop.connect`. Loop thread only.
///
/// Reads are delivered through `onRead` from the loop's shared buffer. Writes are queued (in
/// an `OutputQueue` of fixed-size chunks, so the memory held follows the bytes queued) and
/// sent when the current loop iteration's callbacks are done (or at once with `flush()`);
/// what the kernel does not take waits for the socket to become writable. `onClose` runs
/// exactly once, after the descriptor is already closed, and never from inside the
/// `write`/`flush`/`close` call that caused it: it runs when the current callback returns.
/// Every callback is released after `onClose`, which breaks reference cycles through them.
///
/// TLS sits between the queue and the socket. Output reaches the descriptor only through
/// `sendFront`, which is plain `send`/`sendmsg` unless the connection has a `TLSSession`;
/// input comes from `readAvailable` (plain `recv`) or `readTLS`. The handshake runs first,
/// stepped on epoll readiness like everything else; until it completes, writes are queued
/// and nothing is read for `onRead`.
public final class Connection: EventSource {
    /// Lifecycle: connecting (outgoing only) -> handshaking (TLS only) -> connected -> closed;
    /// never back.
    enum State { case connecting, handshaking, connected, closed }

    /// Called once when an outgoing connect completes (after the TLS handshake, for TLS), and
    /// when the handshake of an accepted TLS connection completes.
    public var onConnect: (() -> Void)?
    /// Bytes read; the buffer is only valid during the call.
    public var onRead: ((UnsafeRawBufferPointer) -> Void)?
    /// Called exactly once, when the connection is gone for any reason.
    public var onClose: ((CloseReason) -> Void)?
    /// Most unsent bytes allowed before the connection is closed with `.outputLimit`; 0 = unlimited.
    /// Checked on `write`, after first offering the queued bytes to the kernel: a write that
    /// does not fit is queued only as far as the limit allows, the queue is sent, and the rest
    /// follows as the kernel makes room; when it makes none, the connection is torn down.
    /// So the queue never holds more than the limit.
    public var outputLimit: Int = 0

    /// The size of the chunks output is queued in (see `OutputQueue`); set it before
    /// the first write. A connection that sends small commands, as the sentinel's links
    /// to instances do, keeps to small chunks, which the allocator hands out from its
    /// free lists instead of carving fresh pages off the heap for every write.
    public var outputChunkSize: Int = OutputQueue.defaultChunkSize {
        didSet {
            outputChunkSize = max(outputChunkSize, 64)
            if output.isEmpty { output = OutputQueue(chunkSize: outputChunkSize) }
        }
    }
    /// Unique among the connections and listeners of one loop.
    public let id: UInt64
    /// The peer's numeric address ("127.0.0.1", "::1").
    public let remoteHost: String
    public let remotePort: Int
    public private(set) var localPort: Int = 0

    /// Our end of the socket as an IP text ("127.0.0.1"), "" when unknown or closed.
    public var localHost: String {
        guard fd >= 0 else { return "" }
        var text = [CChar](repeating: 0, count: 64)
        guard cs_local_address(fd, &text, text.count) >= 0 else { return "" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// True from connect completion (or accept), and the TLS handshake if any, until the
    /// connection is closed.
    public var isConnected: Bool { state == .connected }
    /// True for a TLS connection, from its creation on (also after it closed).
    public let isTLS: Bool
    /// Bytes queued and not yet taken by the kernel.
    public var pendingOutputBytes: Int { output.count }

    /// Memory the output queue holds now (whole chunks); at most the bytes queued plus two chunks.
    var outputAllocatedBytes: Int { output.allocatedBytes }

    private let loop: EventLoop
    private(set) var state: State
    private var fd: Int32 = -1
    private var isRegistered = false
    /// The event mask currently registered with epoll.
    private var registeredEvents: UInt32 = 0
    private var output = OutputQueue()
    /// The most memory `output` held since it was last empty (once closed: in its last fill).
    private(set) var outputPeakBytes = 0
    /// A queue that held this much asks the loop to return free memory to the kernel once
    /// it is released: its chunks came from the heap, which does not shrink by itself.
    private static let trimAfterReleasingBytes = 4 * 1024 * 1024
    /// The kernel buffer was full: EPOLLOUT is armed and drives sending.
    private var awaitingWritable = false
    private var inFlushQueue = false
    private var closingAfterWriting = false
    /// The connect (outgoing) and handshake (TLS) deadline.
    private var deadlineTimer: TimerID?
    /// The TLS session; nil for plain TCP.
    private var tls: TLSSession?
    /// Outgoing TLS: the context the session is made from once TCP connects, and the
    /// name the server's certificate must carry (nil: not checked).
    private var clientContext: TLSContext?
    private var peerName: TLSPeerName?
    /// Set while a read stopped for fairness is due again (OpenSSL holds decrypted bytes
    /// that epoll cannot report).
    private var deferredRead: TimerID?
    /// Set by tearDown until `onClose` has been delivered.
    private var pendingCloseReason: CloseReason?

    init(accepted fd: Int32, remoteHost: String, remotePort: Int, localPort: Int, loop: EventLoop, id: UInt64,
         tls: TLSSession? = nil) {
        self.fd = fd
        self.remoteHost = remoteHost
        self.remotePort = remotePort
        self.localPort = localPort
        self.loop = loop
        self.id = id
        self.tls = tls
        self.isTLS = tls != nil
        self.state = tls == nil ? .connected : .handshaking
    }

    init(outgoingTo host: String, port: Int, loop: EventLoop, id: UInt64, tls: TLSContext? = nil,
         peerName: TLSPeerName? = nil) {
        self.remoteHost = host
        self.remotePort = port
        self.loop = loop
        self.id = id
        self.clientContext = tls
        self.peerName = peerName
        self.isTLS = tls != nil
        self.state = .connecting
    }

    // MARK: Writing

    /// Queues bytes (copied). Ignored once the connection is closed or closing after writing.
    /// Over `outputLimit` the connection is torn down (see there).
    public func write(_ bytes: UnsafeRawBufferPointer) {
        guard state != .closed, !closingAfterWriting, !bytes.isEmpty else { return }
        var rest = bytes
        while true {
            let room = outputLimit > 0 ? max(outputLimit - output.count, 0) : rest.count
            let taken = min(room, rest.count)
            output.append(UnsafeRawBufferPointer(rebasing: rest.prefix(taken)))
            rest = UnsafeRawBufferPointer(rebasing: rest.dropFirst(taken))
            outputPeakBytes = max(outputPeakBytes, output.allocatedBytes)
            if rest.isEmpty { break }
            // The rest does not fit under the limit: offer the queue to the kernel, and if it
            // takes nothing, the limit is exceeded.
            let queued = output.count
            if state == .connected && !awaitingWritable { sendQueued() }
            guard state != .closed else { return }
            if output.count >= queued {
                tearDown(.outputLimit)
                return
            }
        }
        if state == .connected && !awaitingWritable && !inFlushQueue {
            inFlushQueue = true
            loop.enqueueFlush(self)
        }
    }

    public func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    /// Sends the queued bytes now instead of at the end of the loop iteration.
    public func flush() {
        if state == .connected && !awaitingWritable { sendQueued() }
    }

    // MARK: Closing

    /// Closes at once; queued output is dropped. `onClose(.closedLocally)` follows.
    public func close() {
        tearDown(.closedLocally)
    }

    /// Stops reading, sends what is queued, then closes with `.closedLocally`. Later writes are
    /// ignored. A connection that is still connecting is closed at once; one in its TLS
    /// handshake finishes it first, then sends.
    public func closeAfterWriting() {
        guard state != .closed, !closingAfterWriting else { return }
        guard state == .connected || state == .handshaking, pendingOutputBytes > 0 else {
            tearDown(.closedLocally)
            return
        }
        closingAfterWriting = true
        updateRegisteredEvents()
        if state == .connected && !awaitingWritable && !inFlushQueue {
            inFlushQueue = true
            loop.enqueueFlush(self)
        }
    }

    // MARK: Loop plumbing

    /// Adds an accepted connection to epoll (a TLS one waits for the client's hello, within
    /// `handshakeTimeoutMs`). On failure the descriptor is closed and the connection is
    /// dropped silently (nobody has seen it yet).
    func registerAccepted(handshakeTimeoutMs: Int64 = 0) -> Bool {
        registeredEvents = CS_EPOLLIN
        tls?.handshakeEvents = CS_EPOLLIN
        guard loop.register(self, fd: fd, events: registeredEvents, token: id) else {
            Glibc.close(fd)
            fd = -1
            tls = nil
            state = .closed
            return false
        }
        isRegistered = true
        if tls != nil { armDeadline(afterMs: handshakeTimeoutMs) }
        return true
    }

    /// Adopts the socket of an outgoing connection, before connect(2).
    func attach(fd: Int32) {
        self.fd = fd
    }

    /// Registers for writability (which signals connect completion) and arms the timeout.
    func didStartConnecting(timeoutMs: Int64) {
        localPort = Int(max(cs_local_port(fd), 0))
        registeredEvents = CS_EPOLLOUT
        guard loop.register(self, fd: fd, events: registeredEvents, token: id) else {
            tearDown(.error(errno))
            return
        }
        isRegistered = true
        armDeadline(afterMs: timeoutMs)
    }

    /// Closes with `.timeout` unless connected (TCP and TLS) within `afterMs` (0 = never).
    private func armDeadline(afterMs: Int64) {
        guard afterMs > 0 else { return }
        deadlineTimer = loop.schedule(afterMs: afterMs) { [weak self] in
            guard let self, self.state == .connecting || self.state == .handshaking else { return }
            self.deadlineTimer = nil
            self.tearDown(.timeout)
        }
    }

    func handleEvents(_ events: UInt32) {
        switch state {
        case .connecting:
            completeConnect(events)
        case .handshaking:
            continueHandshake()
        case .connected:
            if let tls {
                handleTLSEvents(events, tls)
                return
            }
            if !closingAfterWriting && events & (CS_EPOLLIN | CS_EPOLLHUP | CS_EPOLLERR) != 0 {
                readAvailable()
            }
            if state == .connected && events & CS_EPOLLOUT != 0 {
                sendQueued()
            }
            if state == .connected && closingAfterWriting && events & (CS_EPOLLHUP | CS_EPOLLERR) != 0 {
                // Not reading any more, so the failure must be picked up here.
                let code = cs_socket_error(fd)
                tearDown(code != 0 ? .error(code) : .closedByPeer)
            }
        case .closed:
            break
        }
    }

    /// Sends queued output at the end of a loop iteration.
    func flushQueued() {
        inFlushQueue = false
        flush()
    }

    /// Delivers `onClose` after tearDown, and releases every callback.
    func notifyClosed() {
        guard let reason = pendingCloseReason else { return }
        pendingCloseReason = nil
        let callback = onClose
        onClose = nil
        callback?(reason)
    }

    /// Closes the descriptor at once (after removing it from epoll) and queues `onClose`.
    func tearDown(_ reason: CloseReason) {
        guard state != .closed else { return }
        let wasConnected = state == .connected
        state = .closed
        if let timer = deadlineTimer {
            loop.cancel(timer)
            deadlineTimer = nil
        }
        if let timer = deferredRead {
            loop.cancel(timer)
            deferredRead = nil
        }
        if let session = tls {
            // A courtesy close_notify on our own close; never waited for.
            if wasConnected && reason == .closedLocally && fd >= 0 { ct_shutdown(session.ssl) }
            tls = nil
        }
        clientContext = nil
        if fd >= 0 {
            if isRegistered { loop.deregister(fd: fd, token: id) }
            Glibc.close(fd)
            fd = -1
        }
        releaseOutput()
        onConnect = nil
        onRead = nil
        pendingCloseReason = reason
        loop.enqueueCloseNotification(self)
    }

    // MARK: I/O

    private func completeConnect(_ events: UInt32) {
        let code = cs_socket_error(fd)
        if code != 0 {
            tearDown(.error(code))
            return
        }
        if events & CS_EPOLLOUT == 0 {
            if events & (CS_EPOLLHUP | CS_EPOLLERR) != 0 { tearDown(.closedByPeer) }
            return
        }
        if let context = clientContext {
            // TCP is up; the deadline keeps running until the handshake is done too.
            clientContext = nil
            do {
                tls = try TLSSession(context: context, fd: fd, server: false, clientAuth: .required,
                                     peerName: peerName)
            } catch {
                tearDown(.tlsFailed(error.message))
                return
            }
            state = .handshaking
            continueHandshake()
            return
        }
        becomeConnected()
    }

    /// TCP (and TLS) established: cancel the deadline, start reading, call `onConnect`, and
    /// send what was queued meanwhile.
    private func becomeConnected() {
        state = .connected
        if let timer = deadlineTimer {
            loop.cancel(timer)
            deadlineTimer = nil
        }
        updateRegisteredEvents()
        let callback = onConnect
        onConnect = nil
        callback?()
        if state == .connected && pendingOutputBytes > 0 && !inFlushQueue {
            inFlushQueue = true
            loop.enqueueFlush(self)
        }
    }

    /// Reads until the socket is drained or `maxReadsPerEvent` full buffers were delivered
    /// (level-triggered epoll reports the rest next iteration).
    private func readAvailable() {
        let buffer = loop.readBuffer
        for _ in 0..<EventLoop.maxReadsPerEvent {
            let count = recv(fd, buffer.baseAddress, buffer.count, 0)
            if count > 0 {
                onRead?(UnsafeRawBufferPointer(start: buffer.baseAddress, count: count))
                guard state == .connected, !closingAfterWriting, count == buffer.count else { return }
            } else if count == 0 {
                tearDown(.closedByPeer)
                return
            } else {
                let code = errno
                if code == EINTR { continue }
                if code != EAGAIN && code != EWOULDBLOCK { tearDown(.error(code)) }
                return
            }
        }
    }

    /// Sends until the queue is empty or the kernel buffer is full. Sent chunks are freed
    /// as they go.
    private func sendQueued() {
        while !output.isEmpty {
            let (sent, code) = sendFront()
            if sent > 0 {
                output.removeFirst(min(sent, output.count))
            } else if code == EINTR {
                continue
            } else if sent == 0 || code == EAGAIN || code == EWOULDBLOCK {
                setAwaitingWritable(true)
                return
            } else {
                tearDown(transmitFailure ?? .error(code))
                transmitFailure = nil
                return
            }
        }
        releaseOutput()
        setAwaitingWritable(false)
        if closingAfterWriting { tearDown(.closedLocally) }
    }

    /// Empties the queue (already empty after a full send) and, after a big one, asks for
    /// the freed memory to be returned.
    private func releaseOutput() {
        output.removeAll()
        if outputPeakBytes >= Connection.trimAfterReleasingBytes { loop.requestMemoryTrim() }
        if state != .closed { outputPeakBytes = 0 }
    }

    /// The one place where output goes to the socket: one send of the first chunks of the
    /// queue (up to `CS_SENDV_MAX` of them), or for TLS one `SSL_write` of the first chunk.
    /// Returns the bytes taken, or -1 / 0 and errno (see `transmitTLS`).
    private func sendFront() -> (sent: Int, code: Int32) {
        if let tls {
            var result: (Int, Int32) = (0, EAGAIN)
            output.forEachRegion(maxRegions: 1) { region in
                result = transmitTLS(tls, region.baseAddress!, region.count)
            }
            return result
        }
        return withUnsafeTemporaryAllocation(of: iovec.self, capacity: Int(CS_SENDV_MAX)) { vectors in
            var used = 0
            output.forEachRegion(maxRegions: vectors.count) { region in
                vectors[used] = iovec(iov_base: UnsafeMutableRawPointer(mutating: region.baseAddress),
                                      iov_len: region.count)
                used += 1
            }
            // One region (the usual small reply) goes by plain send, which costs the kernel less.
            let sent = used == 1 ? cs_send(fd, vectors[0].iov_base, vectors[0].iov_len)
                                 : cs_sendv(fd, vectors.baseAddress, Int32(used))
            return (sent, sent < 0 ? errno : 0)
        }
    }

    private func setAwaitingWritable(_ awaiting: Bool) {
        guard awaiting != awaitingWritable else { return }
        awaitingWritable = awaiting
        updateRegisteredEvents()
    }

    private func updateRegisteredEvents() {
        let wanted: UInt32
        if let tls {
            wanted = tlsEvents(tls)
        } else {
            wanted = (closingAfterWriting ? 0 : CS_EPOLLIN) | (awaitingWritable ? CS_EPOLLOUT : 0)
        }
        guard isRegistered, wanted != registeredEvents else { return }
        registeredEvents = wanted
        loop.modify(fd: fd, events: wanted, token: id)
    }

    // MARK: TLS output

    /// Why the last `transmitTLS` failed, when it is not an errno.
    private var transmitFailure: CloseReason?

    /// Offers `count` bytes (> 0) to the TLS session. Returns the bytes taken (> 0); 0 and
    /// EAGAIN: retry when the socket allows, with the same bytes first (possibly more after
    /// them); -1 and an errno: fatal (`transmitFailure` may say more).
    private func transmitTLS(_ tls: TLSSession, _ base: UnsafeRawPointer, _ count: Int) -> (Int, Int32) {
        var status: Int32 = CT_OK
        let errorText = loop.tlsErrorBuffer
        let sent = ct_write(tls.ssl, base, count, &status, errorText.baseAddress, errorText.count)
        let wantsRead = status == CT_WANT_READ
        if wantsRead != tls.writeWantsRead {
            tls.writeWantsRead = wantsRead
            updateRegisteredEvents()
        }
        switch status {
        case CT_OK:
            return (sent, 0)
        case CT_WANT_READ, CT_WANT_WRITE:
            return (0, EAGAIN)
        case CT_SYSCALL:
            let code = errno
            return (-1, code == EAGAIN || code == EWOULDBLOCK || code == 0 ? EPIPE : code)
        case CT_CLOSED:
            transmitFailure = .closedByPeer
            return (-1, EPIPE)
        default:
            transmitFailure = .tlsFailed(lastTLSError())
            return (-1, EPROTO)
        }
    }

    // MARK: TLS

    private func lastTLSError() -> String {
        let text = loop.tlsErrorBuffer
        return String(decoding: UnsafeRawBufferPointer(start: text.baseAddress, count: strlen(text.baseAddress!)),
                      as: UTF8.self)
    }

    /// The epoll interest of a TLS connection: the handshake's wait while it runs; then
    /// reading (unless closing after writing) and writing when output waits for the socket,
    /// each crossed over when OpenSSL needs the other direction first.
    private func tlsEvents(_ tls: TLSSession) -> UInt32 {
        if state == .handshaking { return tls.handshakeEvents }
        var events: UInt32 = 0
        if !closingAfterWriting || tls.writeWantsRead { events |= CS_EPOLLIN }
        if (awaitingWritable && !tls.writeWantsRead) || tls.readWantsWrite { events |= CS_EPOLLOUT }
        return events
    }

    /// One step of the handshake; on completion the connection becomes connected.
    private func continueHandshake() {
        guard let tls else { return }
        let errorText = loop.tlsErrorBuffer
        switch ct_handshake(tls.ssl, errorText.baseAddress, errorText.count) {
        case CT_OK:
            becomeConnected()
            // Application data that arrived with the last handshake flight may already sit
            // inside OpenSSL, where epoll cannot see it.
            if state == .connected && !closingAfterWriting && ct_has_pending(tls.ssl) != 0 { scheduleDeferredRead() }
        case CT_WANT_READ:
            tls.handshakeEvents = CS_EPOLLIN
            updateRegisteredEvents()
        case CT_WANT_WRITE:
            tls.handshakeEvents = CS_EPOLLOUT
            updateRegisteredEvents()
        case CT_CLOSED:
            tearDown(.closedByPeer)
        case CT_SYSCALL:
            let code = errno
            tearDown(code != 0 ? .error(code) : .closedByPeer)
        default:
            tearDown(.tlsFailed(lastTLSError()))
        }
    }

    private func handleTLSEvents(_ events: UInt32, _ tls: TLSSession) {
        let readable = events & (CS_EPOLLIN | CS_EPOLLHUP | CS_EPOLLERR) != 0
        let writable = events & CS_EPOLLOUT != 0
        if readable && tls.writeWantsRead {
            sendQueued()
        }
        if state == .connected && !closingAfterWriting && (readable || (writable && tls.readWantsWrite)) {
            readTLS(tls)
        }
        if state == .connected && writable && awaitingWritable && !tls.writeWantsRead {
            sendQueued()
        }
        if state == .connected && closingAfterWriting && events & (CS_EPOLLHUP | CS_EPOLLERR) != 0 {
            let code = cs_socket_error(fd)
            tearDown(code != 0 ? .error(code) : .closedByPeer)
        }
    }

    /// Reads decrypted bytes until OpenSSL wants more from the socket, or `maxReadsPerEvent`
    /// buffers were delivered. What OpenSSL already holds is read on a 0 ms timer, since
    /// epoll only reports the socket.
    private func readTLS(_ tls: TLSSession) {
        let buffer = loop.readBuffer
        let errorText = loop.tlsErrorBuffer
        for _ in 0..<EventLoop.maxReadsPerEvent {
            var status: Int32 = CT_OK
            let count = ct_read(tls.ssl, buffer.baseAddress, buffer.count, &status, errorText.baseAddress, errorText.count)
            if tls.readWantsWrite != (status == CT_WANT_WRITE) {
                tls.readWantsWrite = status == CT_WANT_WRITE
                updateRegisteredEvents()
            }
            if count > 0 {
                onRead?(UnsafeRawBufferPointer(start: buffer.baseAddress, count: count))
                guard state == .connected, !closingAfterWriting else { return }
                // Nothing buffered in OpenSSL: the rest, if any, is in the socket and epoll says so.
                if ct_has_pending(tls.ssl) == 0 { return }
                continue
            }
            switch status {
            case CT_WANT_READ, CT_WANT_WRITE:
                return
            case CT_CLOSED:
                tearDown(.closedByPeer)
            case CT_SYSCALL:
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK { return }
                tearDown(code != 0 ? .error(code) : .closedByPeer)
            default:
                tearDown(.tlsFailed(lastTLSError()))
            }
            return
        }
        if ct_has_pending(tls.ssl) != 0 { scheduleDeferredRead() }
    }

    private func scheduleDeferredRead() {
        guard deferredRead == nil else { return }
        deferredRead = loop.schedule(afterMs: 0) { [weak self] in
            guard let self else { return }
            self.deferredRead = nil
            if self.state == .connected && !self.closingAfterWriting, let tls = self.tls { self.readTLS(tls) }
        }
    }
}
