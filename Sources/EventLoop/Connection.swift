import CSystem
import Glibc

/// A non-blocking TCP connection owned by an `EventLoop`: accepted by a `Listener` or
/// started by `EventLoop.connect`. Loop thread only.
///
/// Reads are delivered through `onRead` from the loop's shared buffer. Writes are queued and
/// sent when the current loop iteration's callbacks are done (or at once with `flush()`);
/// what the kernel does not take waits for the socket to become writable. `onClose` runs
/// exactly once, after the descriptor is already closed, and never from inside the
/// `write`/`flush`/`close` call that caused it: it runs when the current callback returns.
/// Every callback is released after `onClose`, which breaks reference cycles through them.
public final class Connection: EventSource {
    /// Lifecycle: connecting (outgoing only) -> connected -> closed; never back.
    enum State { case connecting, connected, closed }

    /// Called once when an outgoing connect completes.
    public var onConnect: (() -> Void)?
    /// Bytes read; the buffer is only valid during the call.
    public var onRead: ((UnsafeRawBufferPointer) -> Void)?
    /// Called exactly once, when the connection is gone for any reason.
    public var onClose: ((CloseReason) -> Void)?
    /// Most unsent bytes allowed before the connection is closed with `.outputLimit`; 0 = unlimited.
    /// Checked on `write`, after first offering the queued bytes to the kernel.
    public var outputLimit: Int = 0
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

    /// True from connect completion (or accept) until the connection is closed.
    public var isConnected: Bool { state == .connected }
    /// Bytes queued and not yet taken by the kernel.
    public var pendingOutputBytes: Int { output.count - outputOffset }

    /// An output buffer that grew beyond this is freed once it drains, not kept for reuse.
    private static let retainedOutputCapacity = 256 * 1024

    private let loop: EventLoop
    private(set) var state: State
    private var fd: Int32 = -1
    private var isRegistered = false
    /// The event mask currently registered with epoll.
    private var registeredEvents: UInt32 = 0
    private var output: [UInt8] = []
    /// Bytes of `output` already sent; compacted away once they are at least half of it.
    private var outputOffset = 0
    /// The kernel buffer was full: EPOLLOUT is armed and drives sending.
    private var awaitingWritable = false
    private var inFlushQueue = false
    private var closingAfterWriting = false
    private var connectTimer: TimerID?
    /// Set by tearDown until `onClose` has been delivered.
    private var pendingCloseReason: CloseReason?

    init(accepted fd: Int32, remoteHost: String, remotePort: Int, localPort: Int, loop: EventLoop, id: UInt64) {
        self.fd = fd
        self.remoteHost = remoteHost
        self.remotePort = remotePort
        self.localPort = localPort
        self.loop = loop
        self.id = id
        self.state = .connected
    }

    init(outgoingTo host: String, port: Int, loop: EventLoop, id: UInt64) {
        self.remoteHost = host
        self.remotePort = port
        self.loop = loop
        self.id = id
        self.state = .connecting
    }

    // MARK: Writing

    /// Queues bytes (copied). Ignored once the connection is closed or closing after writing.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        guard state != .closed, !closingAfterWriting, !bytes.isEmpty else { return }
        bytes.withMemoryRebound(to: UInt8.self) { output.append(contentsOf: $0) }
        if state == .connected && !awaitingWritable && !inFlushQueue {
            inFlushQueue = true
            loop.enqueueFlush(self)
        }
        if outputLimit > 0 && pendingOutputBytes > outputLimit {
            if state == .connected && !awaitingWritable { sendQueued() }
            if state != .closed && pendingOutputBytes > outputLimit { tearDown(.outputLimit) }
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
    /// ignored. A connection that is still connecting is closed at once.
    public func closeAfterWriting() {
        guard state != .closed, !closingAfterWriting else { return }
        guard state == .connected, pendingOutputBytes > 0 else {
            tearDown(.closedLocally)
            return
        }
        closingAfterWriting = true
        updateRegisteredEvents()
        if !awaitingWritable && !inFlushQueue {
            inFlushQueue = true
            loop.enqueueFlush(self)
        }
    }

    // MARK: Loop plumbing

    /// Adds an accepted connection to epoll. On failure the descriptor is closed and
    /// the connection is dropped silently (nobody has seen it yet).
    func registerAccepted() -> Bool {
        registeredEvents = CS_EPOLLIN
        guard loop.register(self, fd: fd, events: registeredEvents, token: id) else {
            Glibc.close(fd)
            fd = -1
            state = .closed
            return false
        }
        isRegistered = true
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
        if timeoutMs > 0 {
            connectTimer = loop.schedule(afterMs: timeoutMs) { [weak self] in
                guard let self, self.state == .connecting else { return }
                self.connectTimer = nil
                self.tearDown(.timeout)
            }
        }
    }

    func handleEvents(_ events: UInt32) {
        switch state {
        case .connecting:
            completeConnect(events)
        case .connected:
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
        state = .closed
        if let timer = connectTimer {
            loop.cancel(timer)
            connectTimer = nil
        }
        if fd >= 0 {
            if isRegistered { loop.deregister(fd: fd, token: id) }
            Glibc.close(fd)
            fd = -1
        }
        output = []
        outputOffset = 0
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
        state = .connected
        if let timer = connectTimer {
            loop.cancel(timer)
            connectTimer = nil
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

    /// Sends until the queue is empty or the kernel buffer is full.
    private func sendQueued() {
        while outputOffset < output.count {
            let (sent, code) = output.withUnsafeBytes { bytes -> (Int, Int32) in
                let sent = cs_send(fd, bytes.baseAddress! + outputOffset, bytes.count - outputOffset)
                return (sent, sent < 0 ? errno : 0)
            }
            if sent > 0 {
                outputOffset += sent
            } else if code == EINTR {
                continue
            } else if sent == 0 || code == EAGAIN || code == EWOULDBLOCK {
                if outputOffset * 2 >= output.count {
                    output.removeSubrange(0..<outputOffset)
                    outputOffset = 0
                }
                setAwaitingWritable(true)
                return
            } else {
                tearDown(.error(code))
                return
            }
        }
        if output.capacity > Connection.retainedOutputCapacity {
            output = []
        } else {
            output.removeAll(keepingCapacity: true)
        }
        outputOffset = 0
        setAwaitingWritable(false)
        if closingAfterWriting { tearDown(.closedLocally) }
    }

    private func setAwaitingWritable(_ awaiting: Bool) {
        guard awaiting != awaitingWritable else { return }
        awaitingWritable = awaiting
        updateRegisteredEvents()
    }

    private func updateRegisteredEvents() {
        let wanted = (closingAfterWriting ? 0 : CS_EPOLLIN) | (awaitingWritable ? CS_EPOLLOUT : 0)
        guard isRegistered, wanted != registeredEvents else { return }
        registeredEvents = wanted
        loop.modify(fd: fd, events: wanted, token: id)
    }
}
