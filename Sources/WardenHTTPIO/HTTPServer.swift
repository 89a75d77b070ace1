import EventLoop
import WardenHTTP

/// The limits of `HTTPServer`. Every one bounds memory, descriptors or time that a
/// client could otherwise hold.
public struct HTTPServerLimits: Sendable, Equatable {
    /// Open connections; one more is answered 503 and closed.
    public var maxConnections: Int
    /// A request must arrive whole (head and body) within this of its first byte, and a
    /// new connection's first request within this of the accept: slow clients
    /// (slowloris) are answered 408 and cut off.
    public var requestTimeoutMs: Int64
    /// A kept-alive connection with no request under way is closed after this.
    public var idleTimeoutMs: Int64
    /// A handler that has not answered within this gets a 503 sent for it.
    public var handlerTimeoutMs: Int64
    /// Requests on one connection; the response to the last one says `Connection: close`.
    public var maxRequestsPerConnection: Int
    /// Bytes received but not yet parsed while a response is awaited (pipelining).
    /// More: the connection is closed.
    public var maxBufferedInputBytes: Int
    /// Unsent response bytes per connection (a client that does not read, or a slow
    /// event-stream reader). More: the connection is closed.
    public var outputLimitBytes: Int
    /// Open event streams (Server-Sent Events); one more is answered 503.
    public var maxStreams: Int
    /// How often an idle event stream gets a comment line, so proxies keep it open.
    public var streamKeepAliveMs: Int64
    /// Limits of the request parser (request line, headers, body: 413 above it).
    public var parser: HTTPLimits

    public init(maxConnections: Int = 256, requestTimeoutMs: Int64 = 10_000, idleTimeoutMs: Int64 = 60_000,
                handlerTimeoutMs: Int64 = 30_000, maxRequestsPerConnection: Int = 1000,
                maxBufferedInputBytes: Int = 256 * 1024, outputLimitBytes: Int = 4 * 1024 * 1024,
                maxStreams: Int = 64, streamKeepAliveMs: Int64 = 15_000, parser: HTTPLimits = .server) {
        self.maxConnections = maxConnections
        self.requestTimeoutMs = requestTimeoutMs
        self.idleTimeoutMs = idleTimeoutMs
        self.handlerTimeoutMs = handlerTimeoutMs
        self.maxRequestsPerConnection = maxRequestsPerConnection
        self.maxBufferedInputBytes = maxBufferedInputBytes
        self.outputLimitBytes = outputLimitBytes
        self.maxStreams = maxStreams
        self.streamKeepAliveMs = streamKeepAliveMs
        self.parser = parser
    }
}

/// Counters of an `HTTPServer`, for `/metrics`.
public struct HTTPServerStats: Equatable, Sendable {
    public var connectionsAccepted = 0
    /// Refused at the connection limit (answered 503).
    public var connectionsRejected = 0
    public var requests = 0
    /// Responses by status class: index 1 for 1xx ... 5 for 5xx.
    public var responsesByClass = [Int](repeating: 0, count: 6)
    /// Requests that could not be parsed (answered 4xx/5xx and closed).
    public var badRequests = 0
    /// Connections cut off by the request timeout (slow or silent clients).
    public var requestTimeouts = 0
    public var idleTimeouts = 0
    public var handlerTimeouts = 0
    /// Connections closed because the client sent or left too much (buffered input, output limit).
    public var limitClosures = 0
    public var streamsStarted = 0

    public init() {}
}

/// An HTTP/1.1 server on an `EventLoop`: keep-alive, pipelining (answered in order),
/// `Expect: 100-continue`, HEAD, event streams, and the limits of `HTTPServerLimits`.
/// Loop thread only, like the loop's own API (set it up before `run()` or from the loop).
///
/// The handler gets each request with an `HTTPResponder` and answers once, at once or
/// later (from the loop thread): `respond(_:)` with a whole response, or
/// `startStream(...)` for Server-Sent Events. While it has not answered, later
/// pipelined requests on that connection wait.
public final class HTTPServer {
    public typealias Handler = (HTTPRequest, HTTPResponder) -> Void

    public let loop: EventLoop
    public let limits: HTTPServerLimits
    private let handler: Handler
    /// Wall-clock milliseconds, for the Date field.
    private let clock: () -> Int64
    /// The response to a request that could not be parsed (or to a timeout, or at the
    /// connection limit): by default a JSON body `{"error":{"status":413,"message":"..."}}`.
    public var errorResponse: (Int, String) -> HTTPResponse = HTTPServer.jsonError
    /// Called for each request answered, with the status sent (for access logs).
    public var onResponse: ((HTTPRequest, Int) -> Void)?
    public private(set) var stats = HTTPServerStats()

    private var listeners: [Listener] = []
    private var connections: [UInt64: ServerConnection] = [:]
    private(set) var streams = 0
    private var isClosed = false

    public init(loop: EventLoop, limits: HTTPServerLimits = HTTPServerLimits(),
                clock: @escaping () -> Int64 = EventLoop.wallClockMs, handler: @escaping Handler) {
        self.loop = loop
        self.limits = limits
        self.clock = clock
        self.handler = handler
    }

    /// A server whose handler answers every request at once.
    public convenience init(loop: EventLoop, limits: HTTPServerLimits = HTTPServerLimits(),
                            respond: @escaping (HTTPRequest) -> HTTPResponse) {
        self.init(loop: loop, limits: limits) { request, responder in responder.respond(respond(request)) }
    }

    /// Listens on `host:port` (an IP literal, or "*"); port 0 picks one. Returns the bound port.
    @discardableResult
    public func listen(host: String, port: Int) throws(SocketError) -> Int {
        let listener = try loop.listen(host: host, port: port) { [weak self] connection in
            guard let self else { return connection.close() }
            self.accept(connection)
        }
        listeners.append(listener)
        return listener.port
    }

    public var connectionCount: Int { connections.count }
    public var streamCount: Int { streams }

    /// Stops listening and closes every connection (streams included).
    public func close() {
        isClosed = true
        for listener in listeners { listener.close() }
        listeners = []
        for connection in connections.values { connection.connection.close() }
    }

    public static func jsonError(status: Int, message: String) -> HTTPResponse {
        let body: JSONValue = ["error": ["status": .int(status), "message": .string(message)]]
        return HTTPResponse(status: status, headers: ["Content-Type": "application/json"], body: body.encoded + [0x0A])
    }

    /// The Date field, formatted once per second.
    func dateField() -> String {
        let second = clock() / 1000
        if second != cachedDate.second { cachedDate = (second, HTTPDate.format(unixSeconds: second)) }
        return cachedDate.text
    }

    private var cachedDate: (second: Int64, text: String) = (Int64.min, "")

    private func accept(_ connection: Connection) {
        stats.connectionsAccepted &+= 1
        connection.outputLimit = limits.outputLimitBytes
        if connections.count >= limits.maxConnections || isClosed {
            stats.connectionsRejected &+= 1
            let response = errorResponse(503, "too many connections")
            connection.write(HTTPEncoder.encode(response, keepAlive: false, date: dateField()))
            connection.closeAfterWriting()
            return
        }
        let serverConnection = ServerConnection(server: self, connection: connection)
        connections[connection.id] = serverConnection
        connection.onRead = { [unowned serverConnection] bytes in serverConnection.received(bytes) }
        connection.onClose = { [weak self, unowned serverConnection] _ in
            serverConnection.closed()
            self?.connections[connection.id] = nil
        }
        serverConnection.armTimer()
    }

    // MARK: Used by the connections

    func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        stats.requests &+= 1
        handler(request, responder)
    }

    func counted(status: Int) {
        stats.responsesByClass[min(max(status / 100, 1), 5)] &+= 1
    }

    func countBadRequest() { stats.badRequests &+= 1 }
    func countRequestTimeout() { stats.requestTimeouts &+= 1 }
    func countIdleTimeout() { stats.idleTimeouts &+= 1 }
    func countHandlerTimeout() { stats.handlerTimeouts &+= 1 }
    func countLimitClosure() { stats.limitClosures &+= 1 }

    func streamStarted() -> Bool {
        guard streams < limits.maxStreams else { return false }
        streams += 1
        stats.streamsStarted &+= 1
        return true
    }

    func streamEnded() { streams -= 1 }
    var closing: Bool { isClosed }
}

/// One accepted connection: parses requests, hands them out one at a time, writes the
/// answers in order, and keeps the timers.
final class ServerConnection {
    unowned let server: HTTPServer
    let connection: Connection
    private var parser: HTTPRequestParser
    private var state = State.reading
    private var timer: TimerID?
    private var timerKind: TimerKind?
    private var requestsServed = 0
    /// True while `process()` runs, so a synchronous answer does not recurse into it.
    private var processing = false
    private(set) var stream: HTTPStream?

    enum State {
        case reading
        case awaiting(HTTPResponder)
        case streaming
        case closing
    }

    private enum TimerKind { case request, idle, handler, keepAlive }

    init(server: HTTPServer, connection: Connection) {
        self.server = server
        self.connection = connection
        parser = HTTPRequestParser(limits: server.limits.parser)
    }

    func received(_ bytes: UnsafeRawBufferPointer) {
        switch state {
        case .streaming, .closing:
            return   // nothing more is read from a stream's client or a closing connection
        case .reading, .awaiting:
            parser.append(bytes)
            if parser.bufferedByteCount > server.limits.maxBufferedInputBytes {
                server.countLimitClosure()
                return shut()
            }
            if case .reading = state { process() }
        }
    }

    /// Parses and hands out requests until one is awaited or more bytes are needed.
    private func process() {
        guard !processing else { return }
        processing = true
        defer { processing = false }
        while case .reading = state {
            let request: HTTPRequest?
            do {
                request = try parser.next()
            } catch {
                server.countBadRequest()
                sendError(error.status, error.reason)
                return
            }
            guard let request else {
                if parser.takeContinueRequest() { connection.write(HTTPEncoder.continueResponse) }
                armTimer()
                return
            }
            requestsServed += 1
            let responder = HTTPResponder(connection: self, request: request)
            state = .awaiting(responder)
            armTimer()
            server.handle(request, responder)
        }
    }

    /// Writes the answer to the request awaited, then goes on with the next one.
    func respond(_ responder: HTTPResponder, _ response: HTTPResponse) {
        guard case .awaiting(let awaited) = state, awaited === responder else { return }
        let request = responder.request
        let keepAlive = request.keepAlive && requestsServed < server.limits.maxRequestsPerConnection && !server.closing
        connection.write(HTTPEncoder.encode(response, keepAlive: keepAlive, requestVersion: request.version,
                                            headRequest: request.method == "HEAD", date: server.dateField()))
        server.counted(status: response.status)
        server.onResponse?(request, response.status)
        guard keepAlive else { return shut(afterWriting: true) }
        state = .reading
        armTimer()
        process()
    }

    func startStream(_ responder: HTTPResponder, status: Int, headers: HTTPHeaders) -> HTTPStream? {
        guard case .awaiting(let awaited) = state, awaited === responder else { return nil }
        guard server.streamStarted() else {
            respond(responder, server.errorResponse(503, "too many event streams"))
            return nil
        }
        let chunked = responder.request.version == .http1_1
        var fields = headers
        if !fields.contains("cache-control") { fields.set("Cache-Control", "no-cache") }
        connection.write(HTTPEncoder.encodeStreamHead(status: status, headers: fields, chunked: chunked, date: server.dateField()))
        server.counted(status: status)
        server.onResponse?(responder.request, status)
        state = .streaming
        let stream = HTTPStream(connection: self, chunked: chunked && responder.request.method != "HEAD")
        self.stream = stream
        if responder.request.method == "HEAD" {
            stream.close()
            return nil
        }
        armTimer()
        return stream
    }

    func writeStream(_ bytes: [UInt8], chunked: Bool) {
        guard case .streaming = state, !bytes.isEmpty else { return }
        connection.write(chunked ? HTTPEncoder.chunk(bytes) : bytes)
        armTimer()
    }

    func endStream(chunked: Bool) {
        guard case .streaming = state else { return }
        if chunked { connection.write(HTTPEncoder.lastChunk) }
        shut(afterWriting: true)
    }

    var isOpen: Bool {
        if case .closing = state { return false }
        return connection.isConnected
    }

    /// The connection is gone (from its onClose).
    func closed() {
        cancelTimer()
        state = .closing
        if let stream {
            self.stream = nil
            server.streamEnded()
            stream.didClose()
        }
    }

    private func sendError(_ status: Int, _ message: String) {
        let response = server.errorResponse(status, message)
        connection.write(HTTPEncoder.encode(response, keepAlive: false, date: server.dateField()))
        server.counted(status: status)
        shut(afterWriting: true)
    }

    private func shut(afterWriting: Bool = false) {
        state = .closing
        cancelTimer()
        if afterWriting { connection.closeAfterWriting() } else { connection.close() }
    }

    // MARK: Timers

    /// The one timer that applies in the current state.
    func armTimer() {
        let limits = server.limits
        let kind: TimerKind
        let delay: Int64
        switch state {
        case .closing:
            return cancelTimer()
        case .streaming:
            (kind, delay) = (.keepAlive, limits.streamKeepAliveMs)
        case .awaiting:
            (kind, delay) = (.handler, limits.handlerTimeoutMs)
        case .reading:
            if parser.isReceivingRequest || requestsServed == 0 {
                // The request deadline runs from its first byte: only armed once.
                if timerKind == .request { return }
                (kind, delay) = (.request, limits.requestTimeoutMs)
            } else {
                (kind, delay) = (.idle, limits.idleTimeoutMs)
            }
        }
        if timerKind == kind && kind != .keepAlive && kind != .idle { return }
        cancelTimer()
        timerKind = kind
        timer = server.loop.schedule(afterMs: delay) { [weak self] in self?.timerFired(kind) }
    }

    private func cancelTimer() {
        if let timer { server.loop.cancel(timer) }
        timer = nil
        timerKind = nil
    }

    private func timerFired(_ kind: TimerKind) {
        timer = nil
        timerKind = nil
        switch kind {
        case .request:
            server.countRequestTimeout()
            if parser.isReceivingRequest {
                sendError(408, "request not received in time")
            } else {
                shut()
            }
        case .idle:
            server.countIdleTimeout()
            shut()
        case .handler:
            guard case .awaiting(let responder) = state else { return }
            server.countHandlerTimeout()
            respond(responder, server.errorResponse(503, "no answer in time"))
        case .keepAlive:
            writeStream(ServerSentEvent.comment("keep-alive"), chunked: stream?.chunked ?? false)
        }
    }
}

/// Answers one request. Loop thread only; the first answer wins, later ones are ignored.
public final class HTTPResponder {
    public let request: HTTPRequest
    private weak var owner: ServerConnection?

    init(connection: ServerConnection, request: HTTPRequest) {
        self.owner = connection
        self.request = request
    }

    /// The client's address ("127.0.0.1", "::1") and port.
    public var remoteHost: String { owner?.connection.remoteHost ?? "" }
    public var remotePort: Int { owner?.connection.remotePort ?? 0 }
    /// False once the client has gone.
    public var isConnected: Bool { owner?.isOpen ?? false }

    public func respond(_ response: HTTPResponse) {
        owner?.respond(self, response)
    }

    /// Starts an event stream (`Content-Type: text/event-stream` unless given): the
    /// head is written now, events follow with `HTTPStream.send`. Nil when the client
    /// is gone or the server has `maxStreams` open (then it answered 503).
    public func startStream(status: Int = 200, headers: HTTPHeaders = ["Content-Type": ServerSentEvent.contentType]) -> HTTPStream? {
        owner?.startStream(self, status: status, headers: headers)
    }
}

/// An open response body written in pieces: a Server-Sent Events stream. Loop thread only.
public final class HTTPStream {
    private weak var owner: ServerConnection?
    let chunked: Bool
    /// Called once when the stream ends: the client went away, `close()`, or the server closed.
    public var onClose: (() -> Void)?

    init(connection: ServerConnection, chunked: Bool) {
        self.owner = connection
        self.chunked = chunked
    }

    public var isOpen: Bool { owner?.isOpen ?? false }

    public func send(_ bytes: [UInt8]) {
        owner?.writeStream(bytes, chunked: chunked)
    }

    public func send(_ event: ServerSentEvent) {
        send(event.encoded)
    }

    /// Ends the body and closes the connection once it is sent.
    public func close() {
        owner?.endStream(chunked: chunked)
    }

    func didClose() {
        let callback = onClose
        onClose = nil
        callback?()
    }
}
