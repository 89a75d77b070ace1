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
    /// Checked on `write`, after first offering the queued bytes to the kernel: a write that
    /// does not fit is queued only as far as the limit allows, the queue is sent, and the rest
    /// follows as the kernel makes room; when it makes none, the connection is torn down.
    /// So the queue never holds more than the limit.
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
                tearDown(.error(code))
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
    /// queue (up to `CS_SENDV_MAX` of them). Returns the bytes the kernel took, or -1 and errno.
    private func sendFront() -> (sent: Int, code: Int32) {
        withUnsafeTemporaryAllocation(of: iovec.self, capacity: Int(CS_SENDV_MAX)) { vectors in
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
        let wanted = (closingAfterWriting ? 0 : CS_EPOLLIN) | (awaitingWritable ? CS_EPOLLOUT : 0)
        guard isRegistered, wanted != registeredEvents else { return }
        registeredEvents = wanted
        loop.modify(fd: fd, events: wanted, token: id)
    }
}
