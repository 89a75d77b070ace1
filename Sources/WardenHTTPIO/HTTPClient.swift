import EventLoop
import Glibc
import WardenHTTP

/// A request for `HTTPClient`.
public struct HTTPClientRequest: Sendable {
    public var method: String
    public var url: HTTPURL
    /// Host, Content-Length and Connection are written by the client.
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The deadline of the whole exchange: name lookup, connect, sending, and the
    /// complete response.
    public var timeoutMs: Int64

    public init(method: String = "POST", url: HTTPURL, headers: HTTPHeaders = [:], body: [UInt8] = [], timeoutMs: Int64 = 10_000) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutMs = timeoutMs
    }
}

/// Why a request got no response.
public enum HTTPClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The deadline passed.
    case timeout
    /// The host name could not be resolved.
    case resolve(String)
    /// No connection could be made (refused, unreachable, TLS handshake failed).
    case connect(String)
    /// https, and the client has no TLS connector.
    case tlsUnavailable
    /// The connection broke before the response was complete.
    case connectionLost(String)
    /// The peer's answer is not HTTP.
    case invalidResponse(HTTPParseError)
    /// `maxConcurrentRequests` are already under way.
    case tooManyRequests
    /// `HTTPClientTask.cancel()` or `HTTPClient.cancelAll()`.
    case cancelled

    public var description: String {
        switch self {
        case .timeout: return "timed out"
        case .resolve(let reason): return reason
        case .connect(let reason): return "connect failed: \(reason)"
        case .tlsUnavailable: return "https is not available (no TLS connector)"
        case .connectionLost(let reason): return "connection lost: \(reason)"
        case .invalidResponse(let error): return "invalid response: \(error.reason)"
        case .tooManyRequests: return "too many requests under way"
        case .cancelled: return "cancelled"
        }
    }
}

/// An HTTP/1.1 client on an `EventLoop` for webhook deliveries: one request per
/// connection (`Connection: close`), never blocking the loop (names are resolved by a
/// `HostResolver` off the loop thread), with one deadline for the whole exchange.
/// Loop thread only; every completion runs on the loop thread, never from inside `send`.
///
/// TLS is plugged in through `connector`: the default opens plain TCP and refuses
/// https with `.tlsUnavailable`. With TLS in the event loop, pass a connector that
/// opens a TLS connection for `url.isSecure` (see `HTTPClient.Connector`).
public final class HTTPClient {
    /// Opens the connection to `address` (an IP literal the resolver found) and `port`
    /// for `url`, with a connect (and handshake) timeout; nil when it cannot (https
    /// without TLS). A TLS connector uses `url.host` for SNI and certificate checks.
    public typealias Connector = (_ loop: EventLoop, _ address: String, _ port: Int, _ url: HTTPURL, _ timeoutMs: Int64) -> Connection?

    /// HTTPS through `context` (made with `TLSContext(verifyingServersWithCAFile:)`): the
    /// host name is sent as SNI and the certificate must be valid for it (for an IP literal,
    /// for that address); http stays plain TCP.
    public static func tlsConnector(_ context: TLSContext) -> Connector {
        { loop, address, port, url, timeoutMs in
            guard url.isSecure else { return loop.connect(host: address, port: port, timeoutMs: timeoutMs) }
            return loop.connect(host: address, port: port, timeoutMs: timeoutMs, tls: context,
                                peerName: TLSPeerName(host: url.host, isIPAddress: url.hostKind != .name))
        }
    }

    /// Plain TCP; nil (so `.tlsUnavailable`) for https.
    public static func plainConnector(_ loop: EventLoop, _ address: String, _ port: Int, _ url: HTTPURL,
                                      _ timeoutMs: Int64) -> Connection? {
        url.isSecure ? nil : loop.connect(host: address, port: port, timeoutMs: timeoutMs)
    }

    public struct Limits: Sendable {
        /// Requests under way at once; more fail with `.tooManyRequests`.
        public var maxConcurrentRequests: Int
        /// Limits of the response parser (the body beyond `maxBodyBytes` is read and dropped).
        public var response: HTTPLimits
        /// Addresses tried, in order, when connecting to one fails.
        public var maxAddressesTried: Int
        public init(maxConcurrentRequests: Int = 64, response: HTTPLimits = .client, maxAddressesTried: Int = 4) {
            self.maxConcurrentRequests = maxConcurrentRequests
            self.response = response
            self.maxAddressesTried = maxAddressesTried
        }
    }

    public let loop: EventLoop
    public let limits: Limits
    private let resolver: HostResolver
    private let connector: Connector
    private var tasks: [ObjectIdentifier: HTTPClientTask] = [:]

    public init(loop: EventLoop, limits: Limits = Limits(), resolver: HostResolver? = nil,
                connector: @escaping Connector = HTTPClient.plainConnector) {
        self.loop = loop
        self.limits = limits
        self.resolver = resolver ?? HostResolver(loop: loop)
        self.connector = connector
    }

    /// Requests under way.
    public var activeRequests: Int { tasks.count }

    /// Starts a request; `completion` runs exactly once, on the loop thread, later.
    @discardableResult
    public func send(_ request: HTTPClientRequest,
                     completion: @escaping (Result<HTTPClientResponse, HTTPClientError>) -> Void) -> HTTPClientTask {
        let task = HTTPClientTask(client: self, request: request, completion: completion)
        guard tasks.count < limits.maxConcurrentRequests else {
            loop.schedule(afterMs: 0) { task.finish(.failure(.tooManyRequests)) }
            return task
        }
        tasks[ObjectIdentifier(task)] = task
        // Started on the next loop turn, so that no outcome (https without TLS, a bad
        // address) can reach `completion` from inside this call.
        loop.schedule(afterMs: 0) { task.start() }
        return task
    }

    /// Ends every request under way with `.cancelled`.
    public func cancelAll() {
        for task in Array(tasks.values) { task.cancel() }
    }

    // MARK: Used by the tasks

    func resolve(_ host: String, _ completion: @escaping (Result<[String], HostResolverError>) -> Void) {
        resolver.resolve(host, completion: completion)
    }

    func open(_ address: String, _ port: Int, _ url: HTTPURL, _ timeoutMs: Int64) -> Connection? {
        connector(loop, address, port, url, timeoutMs)
    }

    func forget(_ task: HTTPClientTask) {
        tasks[ObjectIdentifier(task)] = nil
    }
}

/// One request under way.
public final class HTTPClientTask {
    private weak var client: HTTPClient?
    private let request: HTTPClientRequest
    private var completion: ((Result<HTTPClientResponse, HTTPClientError>) -> Void)?
    private var deadline: TimerID?
    private var deadlineAt: Int64 = 0
    private var connection: Connection?
    private var addresses: [String] = []
    private var connected = false
    private var parser: HTTPResponseParser

    init(client: HTTPClient, request: HTTPClientRequest, completion: @escaping (Result<HTTPClientResponse, HTTPClientError>) -> Void) {
        self.client = client
        self.request = request
        self.completion = completion
        parser = HTTPResponseParser(limits: client.limits.response, requestMethod: request.method)
    }

    public var isFinished: Bool { completion == nil }

    /// Ends the request with `.cancelled` (nothing happens if it has finished).
    public func cancel() {
        finish(.failure(.cancelled))
    }

    func start() {
        guard let client, !isFinished else { return }
        let timeout = max(request.timeoutMs, 1)
        deadlineAt = EventLoop.monotonicMs() &+ timeout
        deadline = client.loop.schedule(afterMs: timeout) { [weak self] in
            self?.deadline = nil
            self?.finish(.failure(.timeout))
        }
        let url = request.url
        if url.hostKind == .name {
            client.resolve(url.host) { [weak self] result in
                guard let self, !self.isFinished else { return }
                switch result {
                case .success(let addresses):
                    self.addresses = Array(addresses.prefix(client.limits.maxAddressesTried))
                    self.connectNext(lastError: "no address")
                case .failure(let error):
                    self.finish(.failure(.resolve(error.reason)))
                }
            }
        } else {
            addresses = [url.host]
            connectNext(lastError: "no address")
        }
    }

    private func connectNext(lastError: String) {
        guard let client, !isFinished else { return }
        guard !addresses.isEmpty else { return finish(.failure(.connect(lastError))) }
        let address = addresses.removeFirst()
        let remaining = max(deadlineAt - EventLoop.monotonicMs(), 1)
        guard let connection = client.open(address, request.url.port, request.url, remaining) else {
            return finish(.failure(.tlsUnavailable))
        }
        self.connection = connection
        connection.onConnect = { [weak self] in self?.connected = true }
        connection.onRead = { [weak self] bytes in self?.received(bytes) }
        connection.onClose = { [weak self] reason in self?.closed(reason) }
        var headers = request.headers
        headers.remove("content-length")
        connection.write(HTTPEncoder.encodeRequest(method: request.method, target: request.url.target,
                                                   authority: request.url.authority, headers: headers, body: request.body))
    }

    private func received(_ bytes: UnsafeRawBufferPointer) {
        connected = true
        parser.append(bytes)
        do {
            if let response = try parser.next() { finish(.success(response)) }
        } catch {
            finish(.failure(.invalidResponse(error)))
        }
    }

    private func closed(_ reason: CloseReason) {
        guard !isFinished else { return }
        connection = nil
        if !connected {
            // The connect itself failed: try the next address, if any.
            switch reason {
            case .timeout: return finish(.failure(.timeout))
            case .error(let code): return connectNext(lastError: errnoText(code))
            case .tlsFailed(let text): return connectNext(lastError: "TLS: \(text)")
            default: return connectNext(lastError: "\(reason)")
            }
        }
        parser.finish()
        do {
            if let response = try parser.next() { return finish(.success(response)) }
        } catch {
            if case .closedByPeer = reason { return finish(.failure(.invalidResponse(error))) }
        }
        switch reason {
        case .error(let code): finish(.failure(.connectionLost(errnoText(code))))
        case .timeout: finish(.failure(.timeout))
        default: finish(.failure(.connectionLost("\(reason)")))
        }
    }

    func finish(_ result: Result<HTTPClientResponse, HTTPClientError>) {
        guard let completion else { return }
        self.completion = nil
        if let deadline, let client { client.loop.cancel(deadline) }
        deadline = nil
        if let connection {
            self.connection = nil
            connection.onRead = nil
            connection.onClose = nil
            connection.close()
        }
        client?.forget(self)
        completion(result)
    }
}

func errnoText(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return String(cString: text)
}
