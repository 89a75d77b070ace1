import EventLoop
import RESP
@testable import WardenDaemon

/// A client connection in memory, for driving `ClientServer` without sockets (in the
/// manner of SwiftNIO's EmbeddedChannel): the test feeds request bytes, reads what the
/// server wrote, and decides whether the peer reads at all.
///
/// It keeps `Connection`'s contract: output over `outputLimit` that the peer does not take
/// closes the transport with `.outputLimit`; `closeAfterWriting` closes once the peer has
/// read everything; `onClose` runs once, never inside the `write` or `close` that caused
/// it, but when `deliverClose()` runs (`feed` calls it after the read, as the event loop
/// does after each callback; `EmbeddedSentinel.settle()` calls it for every transport).
final class EmbeddedTransport: ClientTransport {
    var onRead: ((UnsafeRawBufferPointer) -> Void)?
    var onClose: ((CloseReason) -> Void)?
    var outputLimit = 0
    let remoteHost: String
    let remotePort: Int
    let localHost: String
    let localPort: Int
    let isTLS: Bool

    /// False: a peer that reads nothing (its receive window full), so output stays queued.
    /// Setting it back to true reads what is queued.
    var peerReads = true {
        didSet { drain() }
    }
    /// Why the transport closed, once it has.
    private(set) var closeReason: CloseReason?
    /// Bytes the peer has read and `replies()`/`takeBytes()` not yet handed out.
    private var received: [UInt8] = []
    /// Bytes written and not read by the peer.
    private var queued: [UInt8] = []
    /// Every byte the peer has read, for totals.
    private(set) var receivedByteCount = 0
    private var closingAfterWriting = false
    private var closeDelivered = false
    private var replyParser = RESPReplyParser()

    init(remoteHost: String = "127.0.0.1", remotePort: Int, localHost: String = "127.0.0.1",
         localPort: Int = 26379, isTLS: Bool = false) {
        self.remoteHost = remoteHost
        self.remotePort = remotePort
        self.localHost = localHost
        self.localPort = localPort
        self.isTLS = isTLS
    }

    // MARK: ClientTransport

    var pendingOutputBytes: Int { queued.count }
    var isConnected: Bool { closeReason == nil }

    func write(_ bytes: [UInt8]) {
        guard isConnected, !closingAfterWriting, !bytes.isEmpty else { return }
        queued += bytes
        drain()
        if outputLimit > 0 && queued.count > outputLimit { tearDown(.outputLimit) }
    }

    func close() {
        tearDown(.closedLocally)
    }

    func closeAfterWriting() {
        guard isConnected, !closingAfterWriting else { return }
        closingAfterWriting = true
        drain()
    }

    // MARK: The peer's side

    /// Bytes from the peer, delivered as one read (ignored once closed or closing, as a
    /// connection that stopped reading).
    func feed(_ bytes: [UInt8]) {
        guard isConnected, !closingAfterWriting else { return }
        bytes.withUnsafeBytes { onRead?($0) }
        deliverClose()
    }

    func feed(_ text: String) {
        feed(Array(text.utf8))
    }

    /// One command, encoded as a RESP multibulk, in one read.
    func send(_ args: String...) {
        feed(RESPEncoder.encodeCommand(args))
    }

    /// The replies read so far and not handed out before.
    func replies() throws -> [RESPValue] {
        replyParser.append(takeBytes())
        var values: [RESPValue] = []
        while let value = try replyParser.next() { values.append(value) }
        return values
    }

    /// The bytes read so far and not handed out before.
    func takeBytes() -> [UInt8] {
        defer { received = [] }
        return received
    }

    /// The peer goes away (end of file on the server's side).
    func peerCloses() {
        tearDown(.closedByPeer)
        deliverClose()
    }

    /// Runs `onClose` if the transport closed and it has not run yet.
    func deliverClose() {
        guard let reason = closeReason, !closeDelivered else { return }
        closeDelivered = true
        let callback = onClose
        onClose = nil
        callback?(reason)
    }

    // MARK: Inside

    private func drain() {
        guard isConnected else { return }
        if peerReads && !queued.isEmpty {
            received += queued
            receivedByteCount += queued.count
            queued = []
        }
        if closingAfterWriting && queued.isEmpty { tearDown(.closedLocally) }
    }

    private func tearDown(_ reason: CloseReason) {
        guard closeReason == nil else { return }
        closeReason = reason
        queued = []
        onRead = nil
    }
}
