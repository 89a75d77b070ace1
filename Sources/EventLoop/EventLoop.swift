import CSystem
import Glibc
import Synchronization

/// Something registered with the loop's epoll set: a connection or a listener.
protocol EventSource: AnyObject {
    /// Handles the epoll event mask reported for this source. Runs on the loop thread.
    func handleEvents(_ events: UInt32)
}

/// A single-threaded reactor on epoll: sockets, one-shot timers and cross-thread tasks.
///
/// Everything is non-blocking and every callback runs on the thread that calls `run()`.
/// Only `stop()` and `execute(_:)` may be called from other threads; the rest is for the
/// loop thread (or for setting things up before `run()` starts).
///
/// One iteration: wait in epoll (timeout = earliest timer), dispatch the ready sources, run
/// due timers, then flush the output queued by all those callbacks, so replies written
/// during an iteration leave in one send per connection. `onClose` callbacks are never
/// called from inside `write`/`flush`/`close` of the code that caused them: they run as
/// soon as the current callback returns.
public final class EventLoop: @unchecked Sendable {
    static let readBufferSize = 64 * 1024
    /// Reads per readiness event, to stay fair between busy connections.
    static let maxReadsPerEvent = 4
    /// TCP keepalive idle time for every connection, like Redis's default tcp-keepalive.
    public static let keepAliveSeconds: Int32 = 300
    public static let listenBacklog: Int32 = 511
    /// How long a listener stays disabled after accept ran out of descriptors or memory.
    static let acceptBackoffMs: Int64 = 100
    /// epoll user data of the wake-up eventfd; sources get ids from 1.
    private static let wakeToken: UInt64 = 0

    private static let sigpipeIgnored: Bool = cs_ignore_sigpipe() == 0

    private let epollFD: Int32
    private let wakeFD: Int32
    private let events: UnsafeMutablePointer<cs_epoll_event>
    /// The one buffer every connection reads into; valid only during an `onRead` call.
    let readBuffer: UnsafeMutableRawBufferPointer
    /// Where TLS calls write their failure reason (loop thread only).
    let tlsErrorBuffer: UnsafeMutableBufferPointer<CChar>

    private var sources: [UInt64: any EventSource] = [:]
    private var nextSourceID: UInt64 = 1
    private var timers = TimerQueue()
    /// Connections with output queued during this iteration.
    private var flushQueue: [Connection] = []
    /// Connections torn down whose `onClose` has not run yet.
    private var closeQueue: [Connection] = []
    /// A big output queue was released in this iteration: return free memory to the kernel.
    private var memoryTrimRequested = false

    /// What other threads hand to the loop: tasks, and whether the eventfd is already signalled.
    private struct Inbox {
        var tasks: [@Sendable () -> Void] = []
        var wakeSignalled = false
    }
    private let inbox = Mutex(Inbox())
    private let stopRequested = Atomic<Bool>(false)
    /// pthread_self() of the thread inside run(), or 0.
    private let loopThread = Atomic<UInt>(0)

    public init() throws {
        _ = EventLoop.sigpipeIgnored
        let epoll = cs_epoll_create()
        guard epoll >= 0 else { throw SocketError.system(call: "epoll_create1", errno: errno) }
        let wake = cs_eventfd_create()
        guard wake >= 0 else {
            let code = errno
            Glibc.close(epoll)
            throw SocketError.system(call: "eventfd", errno: code)
        }
        guard cs_epoll_ctl(epoll, CS_EPOLL_CTL_ADD, wake, CS_EPOLLIN, EventLoop.wakeToken) == 0 else {
            let code = errno
            Glibc.close(wake)
            Glibc.close(epoll)
            throw SocketError.system(call: "epoll_ctl", errno: code)
        }
        epollFD = epoll
        wakeFD = wake
        events = .allocate(capacity: Int(CS_EPOLL_MAX_BATCH))
        readBuffer = .allocate(byteCount: EventLoop.readBufferSize, alignment: 16)
        tlsErrorBuffer = .allocate(capacity: 512)
        tlsErrorBuffer.initialize(repeating: 0)
    }

    /// A loop is freed only once its listeners and connections are closed (they keep it alive).
    deinit {
        Glibc.close(wakeFD)
        Glibc.close(epollFD)
        events.deallocate()
        readBuffer.deallocate()
        tlsErrorBuffer.deallocate()
    }

    /// True when called on the thread currently inside `run()`.
    public var isInLoopThread: Bool {
        loopThread.load(ordering: .relaxed) == UInt(pthread_self())
    }

    // MARK: Running

    /// Runs the loop on the calling thread until `stop()`.
    public func run() {
        loopThread.store(UInt(pthread_self()), ordering: .relaxed)
        defer {
            loopThread.store(0, ordering: .relaxed)
            stopRequested.store(false, ordering: .relaxed)
        }
        finishIteration()
        while !stopRequested.load(ordering: .acquiring) {
            let count = cs_epoll_wait(epollFD, events, CS_EPOLL_MAX_BATCH, waitTimeoutMs())
            if count < 0 {
                let code = errno
                guard code == EINTR else {
                    fatalError("epoll_wait: \(errnoDescription(code))")
                }
            }
            for index in 0..<Int(max(count, 0)) {
                let event = events[index]
                if event.data == EventLoop.wakeToken {
                    runTasks()
                } else if let source = sources[event.data] {
                    source.handleEvents(event.events)
                    deliverCloseNotifications()
                }
            }
            runDueTimers()
            finishIteration()
        }
    }

    /// Thread-safe. Makes `run()` return after its current iteration (wakes it if it is waiting).
    /// A stop requested while the loop is not running makes the next `run()` return at once.
    public func stop() {
        stopRequested.store(true, ordering: .releasing)
        _ = cs_eventfd_signal(wakeFD)
    }

    /// Thread-safe. Runs `block` on the loop thread soon, in the order submitted.
    public func execute(_ block: @escaping @Sendable () -> Void) {
        let mustSignal = inbox.withLock { inbox in
            inbox.tasks.append(block)
            defer { inbox.wakeSignalled = true }
            return !inbox.wakeSignalled
        }
        if mustSignal { _ = cs_eventfd_signal(wakeFD) }
    }

    private func runTasks() {
        _ = cs_eventfd_drain(wakeFD)
        let tasks = inbox.withLock { inbox in
            inbox.wakeSignalled = false
            return inbox.tasks.isEmpty ? [] : inbox.tasks.take()
        }
        for task in tasks {
            task()
            deliverCloseNotifications()
        }
    }

    // MARK: Timers

    /// Loop thread only. Runs `block` once, `afterMs` milliseconds from now (CLOCK_MONOTONIC),
    /// on the loop thread. Timers due at the same time fire in the order scheduled.
    @discardableResult
    public func schedule(afterMs: Int64, _ block: @escaping () -> Void) -> TimerID {
        assertInLoop()
        return timers.schedule(deadline: EventLoop.monotonicMs() + max(afterMs, 0), block)
    }

    /// Loop thread only. Cancels a timer; does nothing if it already fired or was cancelled.
    public func cancel(_ id: TimerID) {
        assertInLoop()
        timers.cancel(id)
    }

    /// Milliseconds on CLOCK_MONOTONIC (for deadlines and durations).
    public static func monotonicMs() -> Int64 { clockMs(CLOCK_MONOTONIC) }

    /// Milliseconds since the Unix epoch on CLOCK_REALTIME (for display and persistence).
    public static func wallClockMs() -> Int64 { clockMs(CLOCK_REALTIME) }

    private static func clockMs(_ clock: clockid_t) -> Int64 {
        var now = timespec()
        clock_gettime(clock, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    private func waitTimeoutMs() -> Int32 {
        guard let deadline = timers.earliestDeadline() else { return -1 }
        let remaining = deadline - EventLoop.monotonicMs()
        return Int32(clamping: max(remaining, 0))
    }

    private func runDueTimers() {
        guard timers.count > 0 else { return }
        let now = EventLoop.monotonicMs()
        let watermark = timers.watermark
        while let action = timers.popDue(now: now, scheduledBefore: watermark) {
            action()
            deliverCloseNotifications()
        }
    }

    // MARK: Sockets

    /// Loop thread only. Listens on `host:port`; `host` is an IPv4 or IPv6 literal, or "*" for
    /// every address (IPv6 dual-stack when available, else IPv4). "::" listens on IPv6 only,
    /// so it can be combined with "0.0.0.0". SO_REUSEADDR, listen backlog `backlog` (Redis's
    /// tcp-backlog). Accepted connections get TCP keepalive after `keepAliveSeconds` of
    /// silence (tcp-keepalive; 0 = none). Port 0 picks a free port (see `Listener.port`).
    /// `onAccept` receives each new connection; set its callbacks there.
    /// With `tls`, every accepted connection runs a TLS handshake before its first read (its
    /// `onAccept` comes at once; writes wait for the handshake).
    public func listen(
        host: String, port: Int, tls: TLSServerSettings? = nil, backlog: Int32 = EventLoop.listenBacklog,
        keepAliveSeconds: Int32 = EventLoop.keepAliveSeconds,
        onAccept: @escaping (Connection) -> Void
    ) throws(SocketError) -> Listener {
        assertInLoop()
        guard (0...65535).contains(port) else { throw .invalidAddress("\(host):\(port)") }
        let fd: Int32
        if host == "*" {
            do {
                fd = try bindListeningSocket(host: "::", port: port, v6Only: false, backlog: backlog)
            } catch .system(_, let code) where code == EAFNOSUPPORT {
                fd = try bindListeningSocket(host: "0.0.0.0", port: port, v6Only: false, backlog: backlog)
            }
        } else {
            fd = try bindListeningSocket(host: host, port: port, v6Only: true, backlog: backlog)
        }
        let listener = Listener(loop: self, fd: fd, id: takeSourceID(), port: Int(cs_local_port(fd)),
                                keepAliveSeconds: keepAliveSeconds, onAccept: onAccept)
        listener.tls = tls
        return try registered(listener, fd: fd)
    }

    /// Adds a new listener to epoll; on failure its descriptor is closed.
    private func registered(_ listener: Listener, fd: Int32) throws(SocketError) -> Listener {
        guard register(listener, fd: fd, events: CS_EPOLLIN, token: listener.id) else {
            let code = errno
            Glibc.close(fd)
            throw .system(call: "epoll_ctl", errno: code)
        }
        return listener
    }

    /// Loop thread only. Listens on a Unix domain socket at `path` (an old socket file
    /// there is removed first, as Redis does), with the file mode `permissions` when it is
    /// not 0. Accepted connections report `path` as their remote host and port 0.
    public func listenUnix(
        path: String, permissions: UInt32, backlog: Int32 = EventLoop.listenBacklog,
        onAccept: @escaping (Connection) -> Void
    ) throws(SocketError) -> Listener {
        assertInLoop()
        var address = sockaddr_storage()
        var length: UInt32 = 0
        guard cs_parse_unix_address(path, &address, &length) >= 0 else { throw .invalidAddress(path) }
        unlink(path)
        let fd = try boundSocket(family: AF_UNIX, address: &address, length: length, backlog: backlog,
                                 afterBind: { _ in permissions == 0 || chmod(path, mode_t(permissions)) == 0 ? nil : "chmod" })
        return try registered(Listener(loop: self, fd: fd, id: takeSourceID(), port: 0, keepAliveSeconds: 0,
                                       unixPath: path, onAccept: onAccept), fd: fd)
    }

    private func bindListeningSocket(host: String, port: Int, v6Only: Bool, backlog: Int32) throws(SocketError) -> Int32 {
        var address = sockaddr_storage()
        var length: UInt32 = 0
        let family = cs_parse_address(host, Int32(port), &address, &length)
        guard family >= 0 else { throw .invalidAddress(host) }
        return try boundSocket(family: family, address: &address, length: length, backlog: backlog,
                               beforeBind: { fd in
                                   if cs_set_reuseaddr(fd) != 0 { return "setsockopt(SO_REUSEADDR)" }
                                   if family == AF_INET6 && cs_set_v6only(fd, v6Only ? 1 : 0) != 0 {
                                       return "setsockopt(IPV6_V6ONLY)"
                                   }
                                   return nil
                               })
    }

    /// A listening socket of `family` bound to `address`: `beforeBind` and `afterBind`
    /// return the name of the call that failed, or nil. On any failure the descriptor
    /// is closed and the error names the call.
    private func boundSocket(
        family: Int32, address: inout sockaddr_storage, length: UInt32, backlog: Int32,
        beforeBind: (Int32) -> String? = { _ in nil }, afterBind: (Int32) -> String? = { _ in nil }
    ) throws(SocketError) -> Int32 {
        let fd = cs_socket_stream(family)
        guard fd >= 0 else { throw .system(call: "socket", errno: errno) }
        var failed = beforeBind(fd)
        if failed == nil && cs_bind(fd, &address, length) != 0 { failed = "bind" }
        if failed == nil { failed = afterBind(fd) }
        if failed == nil && Glibc.listen(fd, backlog) != 0 { failed = "listen" }
        if let call = failed {
            let code = errno
            Glibc.close(fd)
            throw .system(call: call, errno: code)
        }
        return fd
    }

    /// Loop thread only. Starts a non-blocking connect to an IPv4 or IPv6 literal. Later, exactly
    /// one of these happens: `onConnect` (then reads and `onClose` eventually), or `onClose`
    /// with the failure: `.error(errno)` (ECONNREFUSED, EINVAL for a bad address, ...),
    /// `.tlsFailed` (the handshake failed), or `.timeout` when the connect (and the TLS
    /// handshake) has not completed within `timeoutMs` (0 = no timeout).
    /// Bytes written before the connection completes are sent once it does.
    ///
    /// With `tls`, a TLS handshake follows the TCP connect; the server's certificate chain
    /// must verify against the context's CAs. Its name is not checked (as with hiredis)
    /// unless `peerName` says what it must be (see `TLSPeerName`; HTTPS does).
    public func connect(host: String, port: Int, timeoutMs: Int64, tls: TLSContext? = nil,
                        peerName: TLSPeerName? = nil) -> Connection {
        assertInLoop()
        let connection = Connection(outgoingTo: host, port: port, loop: self, id: takeSourceID(), tls: tls,
                                    peerName: peerName)
        var address = sockaddr_storage()
        var length: UInt32 = 0
        let family = cs_parse_address(host, Int32(clamping: port), &address, &length)
        guard family >= 0 else {
            connection.tearDown(.error(EINVAL))
            return connection
        }
        let fd = cs_socket_stream(family)
        guard fd >= 0 else {
            connection.tearDown(.error(errno))
            return connection
        }
        _ = cs_set_tcp_options(fd, EventLoop.keepAliveSeconds)
        connection.attach(fd: fd)
        if cs_connect(fd, &address, length) != 0 {
            // EINTR on a non-blocking connect: the attempt goes on asynchronously, as EINPROGRESS.
            let code = errno
            guard code == EINPROGRESS || code == EINTR else {
                connection.tearDown(.error(code))
                return connection
            }
        }
        connection.didStartConnecting(timeoutMs: timeoutMs)
        return connection
    }

    // MARK: Plumbing for connections and listeners

    func takeSourceID() -> UInt64 {
        defer { nextSourceID += 1 }
        return nextSourceID
    }

    /// Adds `fd` to epoll and routes its events to `source`. False (errno set) on failure.
    func register(_ source: any EventSource, fd: Int32, events: UInt32, token: UInt64) -> Bool {
        guard cs_epoll_ctl(epollFD, CS_EPOLL_CTL_ADD, fd, events, token) == 0 else { return false }
        sources[token] = source
        return true
    }

    /// Removes `fd` from epoll and forgets its source; call before closing the descriptor.
    /// Events already fetched for it in this iteration are dropped, since lookups are by token.
    func deregister(fd: Int32, token: UInt64) {
        _ = cs_epoll_ctl(epollFD, CS_EPOLL_CTL_DEL, fd, 0, 0)
        sources.removeValue(forKey: token)
    }

    func modify(fd: Int32, events: UInt32, token: UInt64) {
        _ = cs_epoll_ctl(epollFD, CS_EPOLL_CTL_MOD, fd, events, token)
    }

    /// Queues a connection to be flushed when this iteration's callbacks are done.
    func enqueueFlush(_ connection: Connection) {
        flushQueue.append(connection)
    }

    /// Asks for the allocator's free pages to be handed back to the kernel at the end of
    /// this iteration (once, however many connections ask).
    func requestMemoryTrim() {
        memoryTrimRequested = true
    }

    /// Queues the `onClose` of a connection that was just torn down.
    func enqueueCloseNotification(_ connection: Connection) {
        closeQueue.append(connection)
    }

    private func deliverCloseNotifications() {
        while !closeQueue.isEmpty {
            for connection in closeQueue.take() {
                connection.notifyClosed()
            }
        }
    }

    /// Delivers pending `onClose`s and sends the output queued during this iteration,
    /// including output queued by the `onClose` callbacks themselves.
    private func finishIteration() {
        deliverCloseNotifications()
        var index = 0
        while index < flushQueue.count {
            let connection = flushQueue[index]
            index += 1
            connection.flushQueued()
            deliverCloseNotifications()
        }
        flushQueue.removeAll(keepingCapacity: true)
        if memoryTrimRequested {
            memoryTrimRequested = false
            _ = cs_malloc_trim()
        }
    }

    private func assertInLoop() {
        assert(loopThread.load(ordering: .relaxed) == 0 || isInLoopThread,
               "EventLoop: loop-thread-only API called from another thread")
    }
}

extension Array {
    /// Moves the contents out, leaving the array empty.
    mutating func take() -> [Element] {
        var taken: [Element] = []
        swap(&taken, &self)
        return taken
    }
}
