import EventLoop
import Foundation
import XCTest

/// TLS connections end to end over loopback: handshakes driven by the loop, transfers
/// through partial writes, failures that close one connection only, context replacement.
final class TLSTests: XCTestCase {
    private var runner: LoopRunner!
    private var certs: TestCertificates!
    private var loop: EventLoop { runner.loop }

    /// Made once for the whole class (a second or so of `openssl` runs).
    private static let shared = Result { try TestCertificates() }

    override func setUpWithError() throws {
        certs = try Self.shared.get()
        runner = try LoopRunner()
    }

    override func tearDown() {
        runner?.stop()
        runner = nil
    }

    override class func tearDown() {
        try? shared.get().remove()
    }

    private func serverContext(_ authority: TestCertificates.Authority,
                               keyFile: String? = nil, password: String? = nil,
                               protocols: TLSProtocols = .standard) throws -> TLSContext {
        var options = TLSContextOptions(certFile: authority.serverCert, keyFile: keyFile ?? authority.serverKey,
                                        isServer: true)
        options.caFile = authority.ca
        options.keyPassword = password
        options.protocols = protocols
        return try TLSContext(options)
    }

    /// A client presenting `identity`'s client certificate and trusting `trusting`'s CA.
    private func clientContext(trusting: TestCertificates.Authority, identity: TestCertificates.Authority,
                               protocols: TLSProtocols = .standard) throws -> TLSContext {
        var options = TLSContextOptions(certFile: identity.clientCert, keyFile: identity.clientKey, isServer: false)
        options.caFile = trusting.ca
        options.protocols = protocols
        return try TLSContext(options)
    }

    /// A TLS listener that echoes every byte; records how each accepted connection ended.
    private func startEchoServer(_ settings: TLSServerSettings, closes: Locked<[CloseReason]>) throws -> Listener {
        try runner.sync {
            try self.loop.listen(host: "127.0.0.1", port: 0, tls: settings) { connection in
                XCTAssertTrue(connection.isTLS)
                XCTAssertFalse(connection.isConnected, "accepted before its handshake")
                connection.onRead = { bytes in connection.write(bytes) }
                connection.onClose = { reason in closes.with { $0.append(reason) } }
            }
        }
    }

    /// What one client saw: whether it connected, the bytes it got back, how it ended.
    struct ClientOutcome {
        var connected = false
        var received: [UInt8] = []
        var reason: CloseReason?
    }

    /// Connects with `context`, sends `payload` once connected, closes when it has all of it
    /// back (or when the server closes). Returns after the client's `onClose`.
    private func runClient(port: Int, context: TLSContext, payload: [UInt8],
                           timeoutMs: Int64 = 5000) throws -> ClientOutcome {
        let outcome = Locked(ClientOutcome())
        let closed = expectation(description: "client closed")
        try runner.sync {
            let client = self.loop.connect(host: "127.0.0.1", port: port, timeoutMs: timeoutMs, tls: context)
            client.onConnect = {
                outcome.with { $0.connected = true }
                client.write(payload)
            }
            client.onRead = { bytes in
                let total = outcome.with { $0.received += bytes; return $0.received.count }
                if total >= payload.count { client.close() }
            }
            client.onClose = { reason in
                outcome.with { $0.reason = reason }
                closed.fulfill()
            }
        }
        wait(for: [closed], timeout: 15)
        return outcome.current
    }

    private func waitFor(_ what: String, timeout: TimeInterval = 10, _ condition: () -> Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() > deadline {
                XCTFail("timed out waiting for \(what)")
                return
            }
            usleep(5_000)
        }
    }

    private func isTLSFailure(_ reason: CloseReason?, containing text: String) -> Bool {
        if case .tlsFailed(let message) = reason { return message.contains(text) }
        return false
    }

    // MARK: Transfers

    func testLargeTransferBothWaysThroughPartialWrites() throws {
        let closes = Locked<[CloseReason]>([])
        let listener = try startEchoServer(TLSServerSettings(context: serverContext(certs.first), clientAuth: .required),
                                           closes: closes)
        let payload = (0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 11) }
        let outcome = try runClient(port: listener.port,
                                    context: clientContext(trusting: certs.first, identity: certs.first),
                                    payload: payload, timeoutMs: 10_000)
        XCTAssertTrue(outcome.connected)
        XCTAssertEqual(outcome.received.count, payload.count)
        XCTAssertTrue(outcome.received == payload, "echoed bytes differ")
        XCTAssertEqual(outcome.reason, .closedLocally)
        // Our close sends close_notify: the server sees an orderly close.
        waitFor("the server side to close") { closes.current.count == 1 }
        XCTAssertEqual(closes.current, [.closedByPeer])
    }

    func testEncryptedKeyLoadsWithItsPassword() throws {
        XCTAssertThrowsError(try serverContext(certs.first, keyFile: certs.encryptedServerKey)) { error in
            XCTAssertTrue("\(error)".hasPrefix("Failed to load private key: \(certs.encryptedServerKey)"), "\(error)")
        }
        XCTAssertThrowsError(try serverContext(certs.first, keyFile: certs.encryptedServerKey, password: "wrong"))
        let context = try serverContext(certs.first, keyFile: certs.encryptedServerKey, password: certs.keyPassword)
        let closes = Locked<[CloseReason]>([])
        let listener = try startEchoServer(TLSServerSettings(context: context, clientAuth: .none), closes: closes)
        let outcome = try runClient(port: listener.port,
                                    context: clientContext(trusting: certs.first, identity: certs.second),
                                    payload: Array("PING\r\n".utf8))
        XCTAssertEqual(outcome.received, Array("PING\r\n".utf8))
    }

    func testContextErrorsNameTheFileAndTheReason() throws {
        var options = TLSContextOptions(certFile: "/nonexistent/cert.pem", keyFile: certs.first.serverKey, isServer: true)
        XCTAssertThrowsError(try TLSContext(options)) { error in
            XCTAssertTrue("\(error)".hasPrefix("Failed to load certificate: /nonexistent/cert.pem: "), "\(error)")
        }
        options.certFile = certs.first.serverCert
        options.keyFile = certs.second.serverKey
        XCTAssertThrowsError(try TLSContext(options)) { error in
            XCTAssertTrue("\(error)".hasPrefix("Failed to load private key: \(certs.second.serverKey)"), "\(error)")
        }
        options.keyFile = certs.first.serverKey
        options.ciphers = "NO-SUCH-CIPHER"
        XCTAssertThrowsError(try TLSContext(options)) { error in
            XCTAssertTrue("\(error)".hasPrefix("Failed to configure ciphers: NO-SUCH-CIPHER"), "\(error)")
        }
        options.ciphers = nil
        options.caFile = "/nonexistent/ca.pem"
        XCTAssertThrowsError(try TLSContext(options)) { error in
            XCTAssertTrue("\(error)".hasPrefix("Failed to configure CA certificate(s) file/directory"), "\(error)")
        }
        options.caFile = nil
        options.dhParamsFile = "/nonexistent/dh.pem"
        XCTAssertThrowsError(try TLSContext(options)) { error in
            XCTAssertTrue("\(error)".hasPrefix("Failed to load /nonexistent/dh.pem: "), "\(error)")
        }
        options.dhParamsFile = nil
        options.protocols = []
        XCTAssertThrowsError(try TLSContext(options))
        options.protocols = .standard
        XCTAssertNoThrow(try TLSContext(options))
    }

    // MARK: Failures close one connection only

    func testUntrustedServerFailsTheClientHandshakeOnly() throws {
        let closes = Locked<[CloseReason]>([])
        let listener = try startEchoServer(TLSServerSettings(context: serverContext(certs.first), clientAuth: .none),
                                           closes: closes)
        let refused = try runClient(port: listener.port,
                                    context: clientContext(trusting: certs.second, identity: certs.second),
                                    payload: Array("hello".utf8))
        XCTAssertFalse(refused.connected)
        XCTAssertTrue(isTLSFailure(refused.reason, containing: "certificate verify failed"), "\(String(describing: refused.reason))")
        // The listener goes on serving.
        let good = try runClient(port: listener.port,
                                 context: clientContext(trusting: certs.first, identity: certs.second),
                                 payload: Array("hello".utf8))
        XCTAssertEqual(good.received, Array("hello".utf8))
        waitFor("both server sides to close") { closes.current.count == 2 }
        XCTAssertTrue(closes.current[0] != .closedLocally, "\(closes.current)")
    }

    func testRequiredClientCertificateMustVerify() throws {
        let closes = Locked<[CloseReason]>([])
        let listener = try startEchoServer(TLSServerSettings(context: serverContext(certs.first), clientAuth: .required),
                                           closes: closes)
        // Trusts the server, but presents a certificate from a CA the server does not know.
        let refused = try runClient(port: listener.port,
                                    context: clientContext(trusting: certs.first, identity: certs.second),
                                    payload: Array("hello".utf8))
        XCTAssertEqual(refused.received, [])
        XCTAssertNotEqual(refused.reason, .closedLocally)
        waitFor("the server side to close") { closes.current.count == 1 }
        XCTAssertTrue(isTLSFailure(closes.current.first, containing: "certificate verify failed"), "\(closes.current)")
    }

    func testProtocolMismatchFailsTheHandshake() throws {
        let closes = Locked<[CloseReason]>([])
        let context = try serverContext(certs.first, protocols: [.tlsv1_2])
        let listener = try startEchoServer(TLSServerSettings(context: context, clientAuth: .none), closes: closes)
        let refused = try runClient(port: listener.port,
                                    context: clientContext(trusting: certs.first, identity: certs.first, protocols: [.tlsv1_3]),
                                    payload: Array("hello".utf8))
        XCTAssertFalse(refused.connected)
        XCTAssertTrue(isTLSFailure(refused.reason, containing: "protocol version"), "\(String(describing: refused.reason))")
        waitFor("the server side to close") { closes.current.count == 1 }
        XCTAssertTrue(isTLSFailure(closes.current.first, containing: "unsupported protocol"), "\(closes.current)")
    }

    func testPlainTextClientIsClosedWithTheReason() throws {
        let closes = Locked<[CloseReason]>([])
        let listener = try startEchoServer(TLSServerSettings(context: serverContext(certs.first), clientAuth: .none),
                                           closes: closes)
        let fd = try RawSocket.connect(port: listener.port)
        defer { close(fd) }
        _ = "PING\r\n".withCString { send(fd, $0, 6, 0) }
        waitFor("the server side to close") { closes.current.count == 1 }
        XCTAssertTrue(isTLSFailure(closes.current.first, containing: "wrong version number"), "\(closes.current)")
    }

    func testStalledHandshakeTimesOutWithoutBlockingOthers() throws {
        let closes = Locked<[CloseReason]>([])
        let settings = TLSServerSettings(context: try serverContext(certs.first), clientAuth: .none, handshakeTimeoutMs: 400)
        let listener = try startEchoServer(settings, closes: closes)
        let started = Date()
        let stalled = try RawSocket.connect(port: listener.port)
        defer { close(stalled) }
        // While that handshake waits for a hello that never comes, others are served.
        let good = try runClient(port: listener.port,
                                 context: clientContext(trusting: certs.first, identity: certs.first),
                                 payload: Array("hello".utf8))
        XCTAssertEqual(good.received, Array("hello".utf8))
        waitFor("the stalled handshake to time out") { closes.current.contains(.timeout) }
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.35)
    }

    func testOutgoingHandshakeToSilentServerTimesOut() throws {
        // A listener that accepts at the TCP level (backlog) but never speaks TLS.
        let (fd, port) = try RawSocket.listen(backlog: 4)
        defer { close(fd) }
        let started = Date()
        let outcome = try runClient(port: port, context: clientContext(trusting: certs.first, identity: certs.first),
                                    payload: [], timeoutMs: 300)
        XCTAssertFalse(outcome.connected)
        XCTAssertEqual(outcome.reason, .timeout)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.25)
    }

    func testBytesQueuedDuringTheHandshakeAreSentBeforeClosing() throws {
        let context = try serverContext(certs.first)
        let message = Array("-ERR max number of clients reached\r\n".utf8)
        let listener = try runner.sync {
            try self.loop.listen(host: "127.0.0.1", port: 0, tls: TLSServerSettings(context: context, clientAuth: .none)) { c in
                c.write(message)
                c.closeAfterWriting()
            }
        }
        let outcome = try runClient(port: listener.port,
                                    context: clientContext(trusting: certs.first, identity: certs.first),
                                    payload: Array(repeating: 0x41, count: 1000))
        XCTAssertEqual(outcome.received, message)
        XCTAssertEqual(outcome.reason, .closedByPeer)
    }

    func testWritingToAPeerThatLeftEndsTheConnection() throws {
        let context = try serverContext(certs.first)
        let listener = try runner.sync {
            try self.loop.listen(host: "127.0.0.1", port: 0, tls: TLSServerSettings(context: context, clientAuth: .none)) { c in
                // Gone as soon as the handshake is done, without reading anything.
                c.onConnect = { c.close() }
            }
        }
        let payload = [UInt8](repeating: 0x42, count: 8 << 20)
        let outcome = try runClient(port: listener.port,
                                    context: clientContext(trusting: certs.first, identity: certs.first),
                                    payload: payload)
        XCTAssertTrue(outcome.connected)
        XCTAssertEqual(outcome.received, [])
        XCTAssertNotEqual(outcome.reason, .closedLocally, "\(String(describing: outcome.reason))")
    }

    // MARK: Reload

    func testReplacedContextServesNewConnectionsOnly() throws {
        let closes = Locked<[CloseReason]>([])
        let listener = try startEchoServer(TLSServerSettings(context: serverContext(certs.first), clientAuth: .required),
                                           closes: closes)
        // A long-lived connection made with the first certificates.
        let echoes = Locked<Int>(0)
        let clientClosed = Locked<CloseReason?>(nil)
        let firstClient = try clientContext(trusting: certs.first, identity: certs.first)
        let connected = expectation(description: "first connection up")
        let client = try runner.sync { () -> Connection in
            let c = self.loop.connect(host: "127.0.0.1", port: listener.port, timeoutMs: 5000, tls: firstClient)
            c.onConnect = { connected.fulfill() }
            c.onRead = { bytes in echoes.with { $0 += bytes.count } }
            c.onClose = { reason in clientClosed.with { $0 = reason } }
            return c
        }
        wait(for: [connected], timeout: 10)

        let replacement = TLSServerSettings(context: try serverContext(certs.second), clientAuth: .required)
        try runner.sync { listener.tls = replacement }

        // New connections get the new certificate: a client trusting only the first CA fails...
        let old = try runClient(port: listener.port, context: firstClient, payload: Array("x".utf8))
        XCTAssertTrue(isTLSFailure(old.reason, containing: "certificate verify failed"), "\(String(describing: old.reason))")
        // ...one trusting the second succeeds...
        let new = try runClient(port: listener.port, context: clientContext(trusting: certs.second, identity: certs.second),
                                payload: Array("y".utf8))
        XCTAssertEqual(new.received, Array("y".utf8))
        // ...and the connection made before the swap still works.
        try runner.sync { client.write(Array("still here".utf8)) }
        waitFor("the old connection's echo") { echoes.current == 10 }
        XCTAssertNil(clientClosed.current)
        try runner.sync { client.close() }
    }
}
