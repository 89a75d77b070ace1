import EventLoop
import Foundation
import XCTest

/// The reactor end to end over loopback sockets, with the loop on its own thread.
final class EventLoopTests: XCTestCase {
    private var runner: LoopRunner!
    private var loop: EventLoop { runner.loop }

    override func setUpWithError() throws {
        runner = try LoopRunner()
    }

    override func tearDown() {
        runner.stop()
        runner = nil
    }

    /// A listener that echoes every byte back; records how each server-side connection ended.
    private func startEchoServer(host: String = "127.0.0.1", closes: Locked<[CloseReason]>? = nil) throws -> Listener {
        try runner.sync {
            try self.loop.listen(host: host, port: 0) { connection in
                connection.onRead = { bytes in connection.write(bytes) }
                connection.onClose = { reason in closes?.with { $0.append(reason) } }
            }
        }
    }

    // MARK: Round trips

    func testEchoRoundTripReportsAddresses() throws {
        let listener = try startEchoServer()
        XCTAssertGreaterThan(listener.port, 0)
        let echoed = expectation(description: "echo received")
        let closed = expectation(description: "client closed")
        let received = Locked<[UInt8]>([])
        let addresses = Locked<(String, Int, Int, Bool)?>(nil)
        let closeReason = Locked<CloseReason?>(nil)
        let message = Array("hello, warden".utf8)

        try runner.sync {
            let client = self.loop.connect(host: "127.0.0.1", port: listener.port, timeoutMs: 2000)
            XCTAssertFalse(client.isConnected)
            client.onConnect = {
                addresses.with { $0 = (client.remoteHost, client.remotePort, client.localPort, client.isConnected) }
                client.write(message)
            }
            client.onRead = { bytes in
                let total = received.with { $0 += bytes; return $0.count }
                if total >= message.count {
                    echoed.fulfill()
                    client.close()
                }
            }
            client.onClose = { reason in
                closeReason.with { $0 = reason }
                closed.fulfill()
            }
        }
        wait(for: [echoed, closed], timeout: 10)
        XCTAssertEqual(received.current, message)
        XCTAssertEqual(closeReason.current, .closedLocally)
        let (host, port, localPort, connected) = try XCTUnwrap(addresses.current)
        XCTAssertEqual(host, "127.0.0.1")
        XCTAssertEqual(port, listener.port)
        XCTAssertGreaterThan(localPort, 0)
        XCTAssertTrue(connected)
    }

    func testLargeTransferSurvivesPartialWrites() throws {
        let listener = try startEchoServer()
        let payload = (0..<(8 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let done = expectation(description: "all bytes echoed")
        let received = Unchecked<[UInt8]>([])
        let queuedAfterWrite = Locked<(Int, Int)>((0, 0))

        try runner.sync {
            let client = self.loop.connect(host: "127.0.0.1", port: listener.port, timeoutMs: 2000)
            client.onConnect = {
                client.write(payload)
                let queued = client.pendingOutputBytes
                client.flush()
                queuedAfterWrite.with { $0 = (queued, client.pendingOutputBytes) }
            }
            client.onRead = { bytes in
                received.value += bytes
                if received.value.count == payload.count {
                    client.close()
                    done.fulfill()
                }
            }
        }
        wait(for: [done], timeout: 30)
        XCTAssertTrue(received.value == payload, "echoed bytes differ")
        let (queued, afterFlush) = queuedAfterWrite.current
        XCTAssertEqual(queued, payload.count, "write() queues until the end of the iteration")
        XCTAssertLessThan(afterFlush, payload.count, "flush() sends at once")
    }

    func testWritesDuringACallbackAreQueuedUntilTheIterationEnds() throws {
        let replies = 16
        let pendingInCallback = Locked<Int>(-1)
        let received = Locked<Int>(0)
        let done = expectation(description: "pipelined replies received")
        let listener = try runner.sync {
            try self.loop.listen(host: "127.0.0.1", port: 0) { connection in
                connection.onRead = { _ in
                    for _ in 0..<replies { connection.write(Array("+PONG\r\n".utf8)) }
                    pendingInCallback.with { $0 = connection.pendingOutputBytes }
                }
            }
        }
        try runner.sync {
            let client = self.loop.connect(host: "127.0.0.1", port: listener.port, timeoutMs: 2000)
            client.onConnect = { client.write(Array("PING\r\n".utf8)) }
            client.onRead = { bytes in
                if received.with({ $0 += bytes.count; return $0 }) == replies * 7 {
                    client.close()
                    done.fulfill()
                }
            }
        }
        wait(for: [done], timeout: 10)
        XCTAssertEqual(pendingInCallback.current, replies * 7)
    }

    func testWritesBeforeConnectCompletionAreSentAfterIt() throws {
        let listener = try startEchoServer()
        let done = expectation(description: "echo")
        let received = Locked<[UInt8]>([])
        try runner.sync {
            let client = self.loop.connect(host: "127.0.0.1", port: listener.port, timeoutMs: 2000)
            client.write(Array("early".utf8))
            client.onRead = { bytes in
                if received.with({ $0 += bytes; return $0.count }) == 5 {
                    client.close()
                    done.fulfill()
                }
            }
        }
        wait(for: [done], timeout: 10)
        XCTAssertEqual(received.current, Array("early".utf8))
    }

    func testIPv6AndWildcardListeners() throws {
        for (listenHost, connectHost) in [("::1", "::1"), ("*", "127.0.0.1"), ("*", "::1"), ("0.0.0.0", "127.0.0.1")] {
            let serverSawHost = Locked<String?>(nil)
            let listener = try runner.sync {
                try self.loop.listen(host: listenHost, port: 0) { connection in
                    serverSawHost.with { $0 = connection.remoteHost }
                    connection.onRead = { bytes in connection.write(bytes) }
                }
            }
            let done = expectation(description: "echo over \(listenHost) -> \(connectHost)")
            try runner.sync {
                let client = self.loop.connect(host: connectHost, port: listener.port, timeoutMs: 2000)
                client.onConnect = { client.write([1, 2, 3]) }
                client.onRead = { _ in
                    client.close()
                    listener.close()
                    done.fulfill()
                }
            }
            wait(for: [done], timeout: 10)
            XCTAssertEqual(serverSawHost.current, connectHost, "listening on \(listenHost)")
        }
    }

    func testManyConnections() throws {
        let count = 200
        let serverCloses = Locked<[CloseReason]>([])
        let listener = try startEchoServer(closes: serverCloses)
        let clientResults = Locked<[UInt64: Bool]>([:])
        let clientCloses = Locked<[CloseReason]>([])
        let allEchoed = expectation(description: "every client got its own bytes back")
        allEchoed.expectedFulfillmentCount = count
        let allClosed = expectation(description: "every client closed")
        allClosed.expectedFulfillmentCount = count

        try runner.sync {
            for index in 0..<count {
                let client = self.loop.connect(host: "127.0.0.1", port: listener.port, timeoutMs: 5000)
                let message = Array("client-\(index);".utf8)
                var received: [UInt8] = []
                client.onConnect = { client.write(message) }
                client.onRead = { bytes in
                    received += bytes
                    if received.count >= message.count {
                        clientResults.with { $0[client.id] = received == message }
                        allEchoed.fulfill()
                        client.close()
                    }
                }
                client.onClose = { reason in
                    clientCloses.with { $0.append(reason) }
                    allClosed.fulfill()
                }
            }
        }
        wait(for: [allEchoed, allClosed], timeout: 30)
        XCTAssertEqual(clientResults.current.count, count, "connection ids are unique")
        XCTAssertTrue(clientResults.current.values.allSatisfy { $0 })
        XCTAssertEqual(clientCloses.current, Array(repeating: .closedLocally, count: count))
        try waitUntil("server saw every peer close") { serverCloses.current.count == count }
        XCTAssertEqual(serverCloses.current, Array(repeating: .closedByPeer, count: count))
    }

    // MARK: Failures

    func testConnectToClosedPortIsRefused() throws {
        let port = try runner.sync { () throws -> Int in
            let listener = try self.loop.listen(host: "127.0.0.1", port: 0) { _ in }
            listener.close()
            return listener.port
        }
        let closed = expectation(description: "refused")
        let events = Locked<[String]>([])
        try runner.sync {
            let client = self.loop.connect(host: "127.0.0.1", port: port, timeoutMs: 2000)
            client.onConnect = { events.with { $0.append("connect") } }
            client.onClose = { reason in
                events.with { $0.append("close \(reason)") }
                closed.fulfill()
            }
        }
        wait(for: [closed], timeout: 10)
        XCTAssertEqual(events.current, ["close \(CloseReason.error(ECONNREFUSED))"])
    }

    func testConnectTimesOutWhenTheListenQueueIsFull() throws {
        // A listener with backlog 0 that never accepts holds one connection; after that the
        // kernel drops SYNs, so the next connect stays pending until our timeout.
        let (listenFD, port) = try RawSocket.listen(backlog: 0)
        defer { close(listenFD) }
        let fillerConnected = expectation(description: "filler connection established")
        try runner.sync {
            let filler = self.loop.connect(host: "127.0.0.1", port: port, timeoutMs: 2000)
            filler.onConnect = { fillerConnected.fulfill() }
        }
        wait(for: [fillerConnected], timeout: 10)

        let timedOut = expectation(description: "connect timed out")
        let outcome = Locked<(CloseReason, Int64)?>(nil)
        try runner.sync {
            let started = EventLoop.monotonicMs()
            let probe = self.loop.connect(host: "127.0.0.1", port: port, timeoutMs: 150)
            probe.onConnect = { XCTFail("the probe should not connect") }
            probe.onClose = { reason in
                outcome.with { $0 = (reason, EventLoop.monotonicMs() - started) }
                timedOut.fulfill()
            }
        }
        wait(for: [timedOut], timeout: 10)
        let (reason, elapsed) = try XCTUnwrap(outcome.current)
        XCTAssertEqual(reason, .timeout)
        XCTAssertGreaterThanOrEqual(elapsed, 150)
        XCTAssertLessThan(elapsed, 900, "fired long before the kernel's 1 s SYN retry")
    }

    func testInvalidAddresses() throws {
        XCTAssertThrowsError(try runner.sync { try self.loop.listen(host: "localhost", port: 0) { _ in } }) {
            XCTAssertEqual($0 as? SocketError, .invalidAddress("localhost"))
        }
        XCTAssertThrowsError(try runner.sync { try self.loop.listen(host: "127.0.0.1", port: 70000) { _ in } })
        let closed = expectation(description: "bad connect closed")
        let reason = Locked<CloseReason?>(nil)
        try runner.sync {
            let client = self.loop.connect(host: "not an ip", port: 6379, timeoutMs: 1000)
            client.onClose = { closeReason in
                reason.with { $0 = closeReason }
                closed.fulfill()
            }
        }
        wait(for: [closed], timeout: 10)
        XCTAssertEqual(reason.current, .error(EINVAL))
        XCTAssertTrue(SocketError.system(call: "bind", errno: EADDRINUSE).description.hasPrefix("bind: Address already in use"))
    }

    func testListeningTwiceOnAPortFailsWithAddressInUse() throws {
        let listener = try startEchoServer()
        XCTAssertThrowsError(try runner.sync { try self.loop.listen(host: "127.0.0.1", port: listener.port) { _ in } }) {
            XCTAssertEqual($0 as? SocketError, .system(call: "bind", errno: EADDRINUSE))
        }
    }

    func testOutputLimitDropsAPeerThatNeverReads() throws {
        let limit = 256 * 1024
        let closed = expectation(description: "slow reader dropped")
        let outcome = Locked<(CloseReason, Int)?>(nil)
        let listener = try runner.sync {
            try self.loop.listen(host: "127.0.0.1", port: 0) { connection in
                connection.outputLimit = limit
                let chunk = [UInt8](repeating: 0x2a, count: 64 * 1024)
                var maxPending = 0
                func pump() {
                    guard connection.isConnected else { return }
                    connection.write(chunk)
                    maxPending = max(maxPending, connection.pendingOutputBytes)
                    self.loop.schedule(afterMs: 1, pump)
                }
                connection.onClose = { reason in
                    outcome.with { $0 = (reason, maxPending) }
                    closed.fulfill()
                }
                pump()
            }
        }
        let peer = try RawSocket.connect(port: listener.port)
        defer { close(peer) }
        wait(for: [closed], timeout: 30)
        let (reason, maxPending) = try XCTUnwrap(outcome.current)
        XCTAssertEqual(reason, .outputLimit)
        XCTAssertLessThanOrEqual(maxPending, limit)
    }

    func testAcceptBacksOffWhenOutOfDescriptors() throws {
        // While the limit is tight nothing else in the process may need a descriptor, so this
        // test waits on a semaphore (a futex), not on an XCTest expectation (a run loop).
        let accepted = DispatchSemaphore(value: 0)
        let acceptedWhileLimited = Locked<Bool>(false)
        let limited = Locked<Bool>(false)
        let loopCPUWhileLimitedMs = Locked<Int64?>(nil)
        let listener = try runner.sync {
            try self.loop.listen(host: "127.0.0.1", port: 0) { connection in
                acceptedWhileLimited.with { $0 = limited.current }
                connection.close()
                accepted.signal()
            }
        }
        var saved = rlimit()
        XCTAssertEqual(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved), 0)
        try runner.sync {
            _ = self.loop.connect(host: "127.0.0.1", port: listener.port, timeoutMs: 2000)
            // No descriptor at or above the lowest free one: accept4 fails with EMFILE.
            let lowestFree = dup(0)
            close(lowestFree)
            var tight = saved
            tight.rlim_cur = rlim_t(lowestFree)
            limited.with { $0 = true }
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &tight)
            let cpuAtStart = Self.threadCPUMs()
            self.loop.schedule(afterMs: 250) {
                loopCPUWhileLimitedMs.with { $0 = Self.threadCPUMs() - cpuAtStart }
                limited.with { $0 = false }
                var restored = saved
                setrlimit(Int32(RLIMIT_NOFILE.rawValue), &restored)
            }
        }
        XCTAssertEqual(accepted.wait(timeout: .now() + 10), .success, "accepted once descriptors are available")
        XCTAssertFalse(acceptedWhileLimited.current)
        let cpu = try XCTUnwrap(loopCPUWhileLimitedMs.current)
        XCTAssertLessThan(cpu, 100, "the loop must not spin on EMFILE")
    }

    /// CPU time used by the calling thread, in milliseconds.
    private static func threadCPUMs() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    // MARK: Timers, tasks, stopping

    func testTimersFireInOrderAndCancelWorks() throws {
        let done = expectation(description: "last timer")
        let fired = Locked<[(String, Int64)]>([])
        let start = try runner.sync { () -> Int64 in
            let start = EventLoop.monotonicMs()
            func record(_ name: String) { fired.with { $0.append((name, EventLoop.monotonicMs() - start)) } }
            self.loop.schedule(afterMs: 30) { record("c") }
            self.loop.schedule(afterMs: 10) { record("a") }
            self.loop.schedule(afterMs: 20) { record("b1") }
            self.loop.schedule(afterMs: 20) { record("b2") }
            let cancelled = self.loop.schedule(afterMs: 15) { record("cancelled") }
            self.loop.cancel(cancelled)
            let cancelledLater = self.loop.schedule(afterMs: 40) { record("cancelled later") }
            self.loop.schedule(afterMs: 25) { self.loop.cancel(cancelledLater) }
            self.loop.schedule(afterMs: 0) {
                record("zero")
                self.loop.schedule(afterMs: 0) { record("zero again") }
            }
            self.loop.schedule(afterMs: 60) { done.fulfill() }
            return start
        }
        XCTAssertGreaterThan(start, 0)
        wait(for: [done], timeout: 10)
        XCTAssertEqual(fired.current.map(\.0), ["zero", "zero again", "a", "b1", "b2", "c"])
        let minimum: [String: Int64] = ["a": 10, "b1": 20, "b2": 20, "c": 30]
        for (name, elapsed) in fired.current {
            XCTAssertGreaterThanOrEqual(elapsed, minimum[name] ?? 0, name)
        }
    }

    func testClocks() {
        let wall = EventLoop.wallClockMs()
        XCTAssertLessThan(abs(wall - Int64(time(nil)) * 1000), 2000)
        let first = EventLoop.monotonicMs()
        XCTAssertGreaterThanOrEqual(EventLoop.monotonicMs(), first)
    }

    func testExecuteFromOtherThreadsRunsOnTheLoopInOrder() {
        let threads = 8
        let perThread = 200
        let ran = expectation(description: "all tasks ran")
        ran.expectedFulfillmentCount = threads * perThread
        let seen = Locked<[[Int]]>(Array(repeating: [], count: threads))
        let offLoop = Locked<Int>(0)
        let loop = self.loop
        for thread in 0..<threads {
            Thread {
                for index in 0..<perThread {
                    loop.execute {
                        if !loop.isInLoopThread { offLoop.with { $0 += 1 } }
                        seen.with { $0[thread].append(index) }
                        ran.fulfill()
                    }
                }
            }.start()
        }
        wait(for: [ran], timeout: 10)
        XCTAssertEqual(offLoop.current, 0)
        XCTAssertFalse(loop.isInLoopThread)
        for sequence in seen.current { XCTAssertEqual(sequence, Array(0..<perThread)) }
    }

    func testStopReturnsRunAndTheLoopCanRunAgain() throws {
        let loop = try EventLoop()
        for round in 0..<3 {
            let returned = DispatchSemaphore(value: 0)
            let ran = expectation(description: "task ran in round \(round)")
            Thread {
                loop.run()
                returned.signal()
            }.start()
            loop.execute { ran.fulfill() }
            wait(for: [ran], timeout: 10)
            loop.stop()
            XCTAssertEqual(returned.wait(timeout: .now() + 10), .success, "round \(round)")
        }
        // A stop requested before run() makes the next run() return at once.
        loop.stop()
        let returned = DispatchSemaphore(value: 0)
        Thread {
            loop.run()
            returned.signal()
        }.start()
        XCTAssertEqual(returned.wait(timeout: .now() + 10), .success)
    }

    func testStopFromALoopCallback() throws {
        let loop = try EventLoop()
        let returned = DispatchSemaphore(value: 0)
        Thread {
            loop.run()
            returned.signal()
        }.start()
        loop.execute { loop.schedule(afterMs: 5) { loop.stop() } }
        XCTAssertEqual(returned.wait(timeout: .now() + 10), .success)
    }

    // MARK: Closing inside callbacks

    func testServerClosingInsideOnReadStopsReadsAndNotifiesOnce() throws {
        let serverEvents = Locked<[String]>([])
        let clientClosed = expectation(description: "client saw the close")
        let clientReason = Locked<CloseReason?>(nil)
        let listener = try runner.sync {
            try self.loop.listen(host: "127.0.0.1", port: 0) { connection in
                connection.onRead = { _ in
                    serverEvents.with { $0.append("read") }
                    connection.close()
                    connection.write(Array("ignored".utf8))
                    connection.close()
                    serverEvents.with { $0.append("connected=\(connection.isConnected)") }
                }
                connection.onClose = { reason in
                    serverEvents.with { $0.append("close \(reason)") }
                    connection.close()
                }
            }
        }
        try runner.sync {
            let client = self.loop.connect(host: "127.0.0.1", port: listener.port, timeoutMs: 2000)
            client.onConnect = {
                // Two sends, so the server has data pending after it closes.
                client.write(Array("first".utf8))
                client.flush()
                client.write(Array("second".utf8))
            }
            client.onRead = { _ in XCTFail("the server never writes") }
            client.onClose = { reason in
                clientReason.with { $0 = reason }
                clientClosed.fulfill()
            }
        }
        wait(for: [clientClosed], timeout: 10)
        XCTAssertTrue([.closedByPeer, .error(ECONNRESET)].contains(clientReason.current))
        try waitUntil("server notified") { serverEvents.current.count == 3 }
        XCTAssertEqual(serverEvents.current, ["read", "connected=false", "close closedLocally"])
    }

    func testClosingInsideOnConnect() throws {
        let listener = try startEchoServer()
        let closed = expectation(description: "closed")
        let events = Locked<[String]>([])
        try runner.sync {
            let client = self.loop.connect(host: "127.0.0.1", port: listener.port, timeoutMs: 2000)
            client.onConnect = {
                client.write(Array("x".utf8))
                client.close()
                events.with { $0.append("connect") }
            }
            client.onRead = { _ in events.with { $0.append("read") } }
            client.onClose = { reason in
                events.with { $0.append("close \(reason)") }
                closed.fulfill()
            }
        }
        wait(for: [closed], timeout: 10)
        // Give a stray read or second close a chance to show up.
        try runner.sync { () -> Void in }
        XCTAssertEqual(events.current, ["connect", "close closedLocally"])
    }

    func testACallbackCanCloseAnotherConnectionOfTheSameIteration() throws {
        let serverConnections = Unchecked<[Connection]>([])
        let serverLog = Locked<[UInt64: [String]]>([:])
        let bothAccepted = expectation(description: "both accepted")
        bothAccepted.expectedFulfillmentCount = 2
        let listener = try runner.sync {
            try self.loop.listen(host: "127.0.0.1", port: 0) { connection in
                serverConnections.value.append(connection)
                serverLog.with { $0[connection.id] = [] }
                connection.onRead = { _ in
                    serverLog.with { $0[connection.id]!.append("read") }
                    for other in serverConnections.value where other !== connection {
                        other.close()
                        other.write(Array("ignored".utf8))
                    }
                }
                connection.onClose = { reason in serverLog.with { $0[connection.id]!.append("close \(reason)") } }
                bothAccepted.fulfill()
            }
        }
        let clients = try runner.sync {
            (0..<2).map { _ in self.loop.connect(host: "127.0.0.1", port: listener.port, timeoutMs: 2000) }
        }
        wait(for: [bothAccepted], timeout: 10)
        try runner.sync {
            // Both requests leave in the same flush, so the server usually sees them in one epoll batch.
            for client in clients { client.write(Array("go".utf8)) }
        }
        try waitUntil("one server connection closed the other") {
            serverLog.current.values.contains { $0.last == "close closedLocally" }
        }
        try runner.sync { () -> Void in }
        // Exactly one connection read; the other was closed before it could, whichever order
        // the events came in.
        let logs = serverLog.current.values.sorted { $0.joined() < $1.joined() }
        XCTAssertEqual(logs, [["close closedLocally"], ["read"]])
        try runner.sync { for client in clients { client.close() } }
    }

    func testCloseAfterWritingDeliversEverythingThenCloses() throws {
        let payload = [UInt8](repeating: 0x62, count: 1 << 20)
        let serverReason = Locked<CloseReason?>(nil)
        let listener = try runner.sync {
            try self.loop.listen(host: "127.0.0.1", port: 0) { connection in
                connection.onClose = { reason in serverReason.with { $0 = reason } }
                connection.write(payload)
                connection.closeAfterWriting()
                connection.write(Array("after".utf8))
            }
        }
        let closed = expectation(description: "client saw the close")
        let received = Locked<Int>(0)
        let clientReason = Locked<CloseReason?>(nil)
        try runner.sync {
            let client = self.loop.connect(host: "127.0.0.1", port: listener.port, timeoutMs: 2000)
            client.onRead = { bytes in
                received.with { $0 += bytes.count }
                if bytes.contains(where: { $0 != 0x62 }) { XCTFail("unexpected byte") }
            }
            client.onClose = { reason in
                clientReason.with { $0 = reason }
                closed.fulfill()
            }
        }
        wait(for: [closed], timeout: 10)
        XCTAssertEqual(received.current, payload.count)
        XCTAssertEqual(clientReason.current, .closedByPeer)
        try waitUntil("server closed") { serverReason.current != nil }
        XCTAssertEqual(serverReason.current, .closedLocally)
    }

    func testWritesFromOnCloseAreFlushed() throws {
        let serverConnections = Unchecked<[Connection]>([])
        let listener = try runner.sync {
            try self.loop.listen(host: "127.0.0.1", port: 0) { connection in
                serverConnections.value.append(connection)
                connection.onClose = { _ in
                    for other in serverConnections.value where other.isConnected {
                        other.write(Array("peer left".utf8))
                    }
                }
            }
        }
        let notified = expectation(description: "survivor told")
        let received = Locked<[UInt8]>([])
        let clients = try runner.sync {
            (0..<2).map { _ in self.loop.connect(host: "127.0.0.1", port: listener.port, timeoutMs: 2000) }
        }
        try runner.sync {
            clients[1].onRead = { bytes in
                if received.with({ $0 += bytes; return $0.count }) == 9 { notified.fulfill() }
            }
        }
        try waitUntil("both accepted") { (try? self.runner.sync { serverConnections.value.count }) == 2 }
        try runner.sync { clients[0].close() }
        wait(for: [notified], timeout: 10)
        XCTAssertEqual(received.current, Array("peer left".utf8))
        try runner.sync { clients[1].close() }
    }
}
