@testable import EventLoop
import Foundation
import XCTest

/// How a `Connection` holds its output: memory that follows the bytes queued, and the
/// output limit checked before anything that cannot fit is copied.
final class ConnectionOutputTests: XCTestCase {
    private var runner: LoopRunner!
    private var loop: EventLoop { runner.loop }
    private let chunk = OutputQueue.defaultChunkSize

    override func setUpWithError() throws {
        runner = try LoopRunner()
    }

    override func tearDown() {
        runner.stop()
        runner = nil
    }

    /// Listens, and runs `accepted` on the loop thread for every accepted connection.
    private func listen(_ accepted: @escaping (Connection) -> Void) throws -> Listener {
        try runner.sync { try self.loop.listen(host: "127.0.0.1", port: 0, onAccept: accepted) }
    }

    private static func pattern(_ count: Int, salt: Int = 0) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: ($0 &+ salt) &* 131 &+ $0 >> 11) }
    }

    func testAWriteBiggerThanTheLimitIsNeverCopiedInFull() throws {
        let limit = 256 * 1024
        let payload = [UInt8](repeating: 0x41, count: 16 << 20)
        let closed = expectation(description: "dropped at the limit")
        let outcome = Locked<(CloseReason, Int)?>(nil)
        let listener = try listen { connection in
            connection.outputLimit = limit
            connection.onClose = { reason in
                outcome.with { $0 = (reason, connection.outputPeakBytes) }
                closed.fulfill()
            }
            connection.write(payload)
        }
        let peer = try RawSocket.connect(port: listener.port)
        defer { close(peer) }
        wait(for: [closed], timeout: 10)
        let (reason, peak) = try XCTUnwrap(outcome.current)
        XCTAssertEqual(reason, .outputLimit)
        XCTAssertGreaterThan(peak, 0)
        XCTAssertLessThanOrEqual(peak, limit + 2 * chunk, "only what fits under the limit is copied")
    }

    func testAWriteThatFitsOnceTheKernelTakesTheQueueIsKept() throws {
        // The queue is exactly at the limit (nothing sent yet: sends wait for the end of the
        // iteration); the next write first offers the queue to the kernel, which makes room.
        let limit = 64 * 1024
        let first = Self.pattern(limit)
        let second = Self.pattern(1000, salt: 7)
        let state = Locked<(pendingAtLimit: Int, connected: Bool, closeReason: CloseReason?)>((0, false, nil))
        let listener = try listen { connection in
            connection.outputLimit = limit
            connection.onClose = { reason in state.with { $0.closeReason = reason } }
            connection.write(first)
            let pending = connection.pendingOutputBytes
            connection.write(second)
            state.with { $0.pendingAtLimit = pending; $0.connected = connection.isConnected }
        }
        let peer = try RawSocket.connect(port: listener.port)
        defer { close(peer) }
        let received = try RawSocket.receive(peer, count: first.count + second.count)
        XCTAssertTrue(received == first + second, "bytes arrive whole and in order")
        let (pendingAtLimit, connected, closeReason) = state.current
        XCTAssertEqual(pendingAtLimit, limit)
        XCTAssertTrue(connected)
        XCTAssertNil(closeReason)
    }

    func testQueuedMemoryFollowsTheQueueAndIsFreedOnceDrained() throws {
        // More than loopback's socket buffers can take (they grow to several MB).
        let payload = Self.pattern(32 << 20)
        let server = Unchecked<Connection?>(nil)
        let listener = try listen { connection in
            server.value = connection
            connection.write(payload)
            connection.flush()
        }
        let peer = try RawSocket.connect(port: listener.port)
        defer { close(peer) }
        try waitUntil("the server wrote") { try runner.sync { server.value != nil } }
        // The peer has not read anything: the kernel took part, the rest is queued.
        let (pending, allocated) = try runner.sync {
            (server.value!.pendingOutputBytes, server.value!.outputAllocatedBytes)
        }
        XCTAssertGreaterThan(pending, 0)
        XCTAssertLessThan(pending, payload.count)
        XCTAssertGreaterThanOrEqual(allocated, pending)
        XCTAssertLessThanOrEqual(allocated, pending + 2 * chunk)

        let received = try RawSocket.receive(peer, count: payload.count)
        XCTAssertTrue(received == payload, "bytes arrive whole and in order")
        let (pendingAfter, allocatedAfter) = try runner.sync {
            (server.value!.pendingOutputBytes, server.value!.outputAllocatedBytes)
        }
        XCTAssertEqual(pendingAfter, 0)
        XCTAssertEqual(allocatedAfter, 0, "every chunk is freed once sent")
        try runner.sync { server.value!.close() }
    }

    func testOutputLimitAlsoHoldsForManySmallWrites() throws {
        let limit = 1 << 20
        let closed = expectation(description: "dropped at the limit")
        let outcome = Locked<(CloseReason, Int, Int)?>(nil)
        let listener = try listen { connection in
            connection.outputLimit = limit
            var maxPending = 0
            connection.onClose = { reason in
                outcome.with { $0 = (reason, maxPending, connection.outputPeakBytes) }
                closed.fulfill()
            }
            // One callback of Pub/Sub-sized messages, up to 16 MB, to a peer that never reads.
            let message = Self.pattern(97)
            for _ in 0..<(16 * limit / message.count) where connection.isConnected {
                connection.write(message)
                maxPending = max(maxPending, connection.pendingOutputBytes)
            }
        }
        let peer = try RawSocket.connect(port: listener.port)
        defer { close(peer) }
        wait(for: [closed], timeout: 10)
        let (reason, maxPending, peak) = try XCTUnwrap(outcome.current)
        XCTAssertEqual(reason, .outputLimit)
        XCTAssertLessThanOrEqual(maxPending, limit)
        XCTAssertLessThanOrEqual(peak, limit + 2 * chunk)
    }
}
