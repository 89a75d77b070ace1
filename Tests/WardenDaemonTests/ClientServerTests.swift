import XCTest
import Configuration
import EventLoop
import RESP
import SentinelCore
import WardenCrypto
@testable import WardenDaemon

/// The sentinel port driven through in-memory transports: a real `ClientServer` and a
/// real SentinelCore `Sentinel`, no socket, no event loop, a clock the test moves.
final class ClientServerTests: XCTestCase {
    private func monitor(_ client: EmbeddedTransport, _ name: String = "mymaster") throws {
        client.send("SENTINEL", "MONITOR", name, "127.0.0.1", "6379", "2")
        XCTAssertEqual(try client.replies(), [.ok])
    }

    private func message(_ channel: String, _ payload: String) -> RESPValue {
        .array([.bulk("message"), .bulk(channel), .bulk(payload)])
    }

    // MARK: - Requests and replies

    func testPipelinedRequestsAreAnsweredInOrder() throws {
        let sentinel = try EmbeddedSentinel()
        var pipeline = Array("PING\r\n".utf8)
        for command in [["PING", "hello"],
                        ["SENTINEL", "MONITOR", "mymaster", "127.0.0.1", "6379", "2"],
                        ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "mymaster"],
                        ["CLIENT", "SETNAME", "pipeliner"],
                        ["CLIENT", "GETNAME"],
                        ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", "nosuchmaster"],
                        ["PING", "last"]] {
            RESPEncoder.encodeCommand(command, into: &pipeline)
        }
        let expected: [RESPValue] = [
            .simpleString("PONG"), .bulk("hello"), .ok, .array([.bulk("127.0.0.1"), .bulk("6379")]),
            .ok, .bulk("pipeliner"), .array(nil), .bulk("last"),
        ]

        // All in one read.
        let whole = sentinel.connect()
        whole.feed(pipeline)
        XCTAssertEqual(try whole.replies(), expected)

        // One byte per read: the same replies (MONITOR now says the name is taken).
        let trickle = sentinel.connect()
        for byte in pipeline { trickle.feed([byte]) }
        var replies = try trickle.replies()
        XCTAssertEqual(replies.count, expected.count)
        XCTAssertEqual(replies[2].errorText, "ERR Duplicate master name.")
        replies[2] = .ok
        XCTAssertEqual(replies, expected)
        XCTAssertTrue(whole.isConnected && trickle.isConnected)
    }

    func testAnUnknownCommandOrWrongArityIsAnErrorAndTheSessionGoesOn() throws {
        let sentinel = try EmbeddedSentinel()
        let client = sentinel.connect()
        client.send("FLUSHALL", "now")
        client.send("PING", "a", "b")
        client.send("SENTINEL", "NOSUCHTHING")
        client.send("PING")
        let replies = try client.replies()
        XCTAssertEqual(replies.map(\.errorText), [
            "ERR unknown command 'FLUSHALL', with args beginning with: 'now' ",
            "ERR wrong number of arguments for 'ping' command",
            "ERR unknown subcommand 'NOSUCHTHING'. Try SENTINEL HELP.",
            nil,
        ])
        XCTAssertEqual(replies.last, .simpleString("PONG"))
        XCTAssertTrue(client.isConnected)
    }

    /// As redis-server: what came before the bad bytes is answered, then the protocol
    /// error, then the connection is closed (after the replies are written); nothing after
    /// the bad bytes runs.
    func testAProtocolErrorIsAnsweredAndClosesTheConnection() throws {
        let sentinel = try EmbeddedSentinel()
        for (bad, error) in [("*1\r\n$x\r\n", "ERR Protocol error: invalid bulk length"),
                             ("*x\r\n", "ERR Protocol error: invalid multibulk length"),
                             ("PING \"unbalanced\r\n", "ERR Protocol error: unbalanced quotes in request")] {
            let client = sentinel.connect()
            client.feed("PING\r\n" + bad + "PING\r\n")
            XCTAssertEqual(try client.replies(), [.simpleString("PONG"), .error(error)], bad)
            XCTAssertEqual(client.closeReason, .closedLocally, bad)
        }
        XCTAssertEqual(sentinel.server.sessions.count, 0)

        // A peer that stops reading still gets its error before the close.
        let slow = sentinel.connect()
        slow.peerReads = false
        slow.feed("*1\r\n$x\r\n")
        XCTAssertTrue(slow.isConnected)
        slow.peerReads = true
        XCTAssertEqual(try slow.replies(), [.error("ERR Protocol error: invalid bulk length")])
        XCTAssertEqual(slow.closeReason, .closedLocally)
    }

    /// A command bigger than the query buffer limit (1 MB a command) closes the
    /// connection without a reply, as redis-server does past client-query-buffer-limit.
    func testTheQueryBufferLimitClosesTheConnection() throws {
        let sentinel = try EmbeddedSentinel()
        let limit = RESPLimits.default.maxQueryBuffer

        // Announced: a bulk longer than the limit.
        let announced = sentinel.connect()
        announced.feed("PING\r\n*2\r\n$4\r\nPING\r\n$\(limit)\r\n")
        XCTAssertEqual(try announced.replies(), [.simpleString("PONG")])
        XCTAssertEqual(announced.closeReason, .closedLocally)

        // Accumulated: many bulks, each small, a command that never ends.
        let accumulated = sentinel.connect()
        accumulated.feed("*1000\r\n")
        let bulk = Array("$60000\r\n".utf8) + Array(repeating: UInt8(ascii: "a"), count: 60_000) + Array("\r\n".utf8)
        var sent = 0
        while accumulated.isConnected && sent <= 2 * limit {
            accumulated.feed(bulk)
            sent += bulk.count
            if sent < limit { XCTAssertTrue(accumulated.isConnected, "closed after \(sent) bytes") }
        }
        XCTAssertEqual(accumulated.closeReason, .closedLocally)
        XCTAssertGreaterThan(sent, limit)
        XCTAssertLessThanOrEqual(sent, limit + bulk.count)
        XCTAssertEqual(try accumulated.replies(), [])
        XCTAssertEqual(sentinel.server.sessions.count, 0)
    }

    func testQuitRepliesAndCloses() throws {
        let sentinel = try EmbeddedSentinel()
        let client = sentinel.connect()
        client.feed("QUIT\r\nPING\r\n")
        XCTAssertEqual(try client.replies(), [.ok])
        XCTAssertEqual(client.closeReason, .closedLocally)
    }

    // MARK: - Pub/Sub

    func testASubscriberReceivesTheCoresEventsAsMessageFrames() throws {
        let sentinel = try EmbeddedSentinel()
        let subscriber = sentinel.connect()
        subscriber.send("SUBSCRIBE", "+monitor", "-monitor")
        XCTAssertEqual(try subscriber.replies(), [
            .array([.bulk("subscribe"), .bulk("+monitor"), .integer(1)]),
            .array([.bulk("subscribe"), .bulk("-monitor"), .integer(2)]),
        ])
        let patterns = sentinel.connect()
        patterns.send("HELLO", "3")
        XCTAssertEqual(try patterns.replies().count, 1)
        patterns.send("PSUBSCRIBE", "*monitor")
        XCTAssertEqual(try patterns.replies(), [.push([.bulk("psubscribe"), .bulk("*monitor"), .integer(1)])])

        let admin = sentinel.connect()
        try monitor(admin)
        let payload = "master mymaster 127.0.0.1 6379 quorum 2"
        XCTAssertEqual(try subscriber.replies(), [message("+monitor", payload)])
        XCTAssertEqual(try patterns.replies(),
                       [.push([.bulk("pmessage"), .bulk("*monitor"), .bulk("+monitor"), .bulk(payload)])])

        admin.send("SENTINEL", "REMOVE", "mymaster")
        XCTAssertEqual(try admin.replies(), [.ok])
        XCTAssertEqual(try subscriber.replies(), [message("-monitor", "master mymaster 127.0.0.1 6379")])

        // A RESP2 subscriber may only manage subscriptions and PING.
        subscriber.send("SENTINEL", "MASTERS")
        subscriber.send("PING")
        subscriber.send("UNSUBSCRIBE")
        let replies = try subscriber.replies()
        XCTAssertEqual(replies.first?.errorText?.hasPrefix("ERR Can't execute 'sentinel|masters'"), true)
        XCTAssertEqual(Array(replies.dropFirst()), [
            .array([.bulk("pong"), .bulk("")]),
            .array([.bulk("unsubscribe"), .bulk("+monitor"), .integer(1)]),
            .array([.bulk("unsubscribe"), .bulk("-monitor"), .integer(0)]),
        ])
        try monitor(admin, "other")
        XCTAssertEqual(try subscriber.replies(), [])
    }

    /// A sentinel with these pubsub output limits, and two subscribers of `channel`: one
    /// that reads, one that reads nothing.
    private func subscribers(_ channel: String, limit: OutputBufferLimit) throws
        -> (sentinel: EmbeddedSentinel, reader: EmbeddedTransport, stalled: EmbeddedTransport) {
        var settings = ServerSettings()
        settings.outputBufferLimits[.pubsub] = limit
        let sentinel = try EmbeddedSentinel(server: settings)
        let reader = sentinel.connect()
        let stalled = sentinel.connect()
        for client in [reader, stalled] {
            client.send("SUBSCRIBE", channel)
            XCTAssertEqual(try client.replies().count, 1)
        }
        XCTAssertEqual(stalled.outputLimit, Int(limit.hard))
        stalled.peerReads = false
        return (sentinel, reader, stalled)
    }

    private func publish(_ sentinel: EmbeddedSentinel, _ channel: String, _ index: Int) -> Int {
        let receivers = sentinel.server.publish(channel: channel, message: "master mymaster 127.0.0.1 \(index)")
        sentinel.settle()
        return receivers
    }

    func testASlowSubscriberIsDisconnectedAtThePubsubHardLimit() throws {
        let (sentinel, reader, stalled) = try subscribers("+sdown", limit: OutputBufferLimit(hard: 8192, soft: 0, softSeconds: 0))

        var published = 0
        while stalled.isConnected && published < 1000 {
            published += 1
            XCTAssertEqual(publish(sentinel, "+sdown", published), 2)
            XCTAssertLessThanOrEqual(stalled.pendingOutputBytes, 8192)
        }
        XCTAssertEqual(stalled.closeReason, .outputLimit)
        XCTAssertGreaterThan(published, 100)
        XCTAssertEqual(sentinel.server.sessions.count, 1)
        XCTAssertEqual(sentinel.server.channelSubscribers["+sdown"]?.count, 1)

        for _ in 0..<10 {
            published += 1
            XCTAssertEqual(publish(sentinel, "+sdown", published), 1)
        }
        let received = try reader.replies()
        XCTAssertEqual(received.count, published)
        XCTAssertEqual(received.last, message("+sdown", "master mymaster 127.0.0.1 \(published)"))
    }

    func testASlowSubscriberIsDisconnectedAfterItsSecondsOverThePubsubSoftLimit() throws {
        let (sentinel, reader, stalled) = try subscribers("+odown", limit: OutputBufferLimit(hard: 0, soft: 4096, softSeconds: 2))

        var published = 0
        while stalled.pendingOutputBytes <= 4096 {
            published += 1
            _ = publish(sentinel, "+odown", published)
        }
        // Over the soft limit since now: closed once that has lasted more than 2 s.
        for step: Millis in [1000, 1000] {
            sentinel.now += step
            published += 1
            XCTAssertEqual(publish(sentinel, "+odown", published), 2)
            XCTAssertTrue(stalled.isConnected)
        }
        sentinel.now += 1
        published += 1
        _ = publish(sentinel, "+odown", published)
        XCTAssertEqual(stalled.closeReason, .closedLocally)
        XCTAssertEqual(sentinel.server.sessions.count, 1)

        published += 1
        XCTAssertEqual(publish(sentinel, "+odown", published), 1)
        XCTAssertEqual(try reader.replies().count, published)
        XCTAssertTrue(reader.isConnected)
    }

    /// Back under the soft limit, the clock starts again.
    func testASubscriberThatCatchesUpIsNotDisconnectedBySoftLimit() throws {
        let (sentinel, _, stalled) = try subscribers("+odown", limit: OutputBufferLimit(hard: 0, soft: 4096, softSeconds: 2))
        var published = 0
        func overTheSoftLimit() {
            while stalled.pendingOutputBytes <= 4096 {
                published += 1
                _ = publish(sentinel, "+odown", published)
            }
        }
        overTheSoftLimit()
        sentinel.now += 1500
        stalled.peerReads = true
        published += 1
        _ = publish(sentinel, "+odown", published)
        stalled.peerReads = false
        overTheSoftLimit()
        sentinel.now += 1500
        published += 1
        _ = publish(sentinel, "+odown", published)
        XCTAssertTrue(stalled.isConnected)
    }

    /// A normal client that stops reading a pipeline's replies passes its hard limit; the
    /// rest of the pipeline does not run.
    func testANormalClientPastItsHardLimitIsClosedMidPipeline() throws {
        var settings = ServerSettings()
        settings.outputBufferLimits[.normal] = OutputBufferLimit(hard: 100_000, soft: 0, softSeconds: 0)
        let sentinel = try EmbeddedSentinel(server: settings)
        let admin = sentinel.connect()
        try monitor(admin)
        let before = sentinel.server.stats.commandsProcessed
        let client = sentinel.connect()
        client.peerReads = false
        var pipeline: [UInt8] = []
        for _ in 0..<1000 { RESPEncoder.encodeCommand(["SENTINEL", "MASTERS"], into: &pipeline) }
        client.feed(pipeline)
        XCTAssertEqual(client.closeReason, .outputLimit)
        XCTAssertEqual(sentinel.server.sessions.count, 1)
        XCTAssertLessThan(sentinel.server.stats.commandsProcessed - before, 1000)
    }

    // MARK: - Authentication, CLIENT

    func testRequirepassGatesCommandsUntilAuth() throws {
        var config = SentinelConfig()
        config.requirepass = Secret("s3cret")
        let sentinel = try EmbeddedSentinel(config: config)
        let client = sentinel.connect()
        client.send("PING")
        client.send("SENTINEL", "MASTERS")
        client.send("AUTH", "wrong")
        client.send("AUTH", "default", "wrong")
        client.send("PING")
        XCTAssertEqual(try client.replies().map(\.errorText), [
            "NOAUTH Authentication required.",
            "NOAUTH Authentication required.",
            "WRONGPASS invalid username-password pair or user is disabled.",
            "WRONGPASS invalid username-password pair or user is disabled.",
            "NOAUTH Authentication required.",
        ])
        client.send("AUTH", "s3cret")
        client.send("PING")
        client.send("SENTINEL", "MASTERS")
        XCTAssertEqual(try client.replies(), [.ok, .simpleString("PONG"), .array([])])

        let other = sentinel.connect()
        other.send("AUTH", "default", "s3cret")
        other.send("PING")
        XCTAssertEqual(try other.replies(), [.ok, .simpleString("PONG")])

        // Before AUTH, a big bulk is a protocol error (as redis-server).
        let stranger = sentinel.connect()
        stranger.feed("*2\r\n$4\r\nAUTH\r\n$20000\r\n")
        XCTAssertEqual(try stranger.replies(), [.error("ERR Protocol error: unauthenticated bulk length")])
        XCTAssertEqual(stranger.closeReason, .closedLocally)
    }

    func testClientListShowsTheClients() throws {
        let sentinel = try EmbeddedSentinel()
        let watcher = sentinel.connect()
        watcher.send("CLIENT", "SETNAME", "watcher")
        watcher.send("SUBSCRIBE", "+switch-master")
        XCTAssertEqual(try watcher.replies().count, 2)
        let admin = sentinel.connect()
        admin.send("CLIENT", "ID")
        guard case .integer(let adminID) = try admin.replies().first else { return XCTFail("no CLIENT ID") }

        sentinel.now += 5000
        admin.send("CLIENT", "LIST")
        admin.send("CLIENT", "LIST", "TYPE", "pubsub")
        let replies = try admin.replies().map { $0.string ?? "" }
        XCTAssertEqual(replies.count, 2)
        let lines = replies[0].split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 2)
        XCTAssertTrue(lines[0].hasPrefix("id=\(adminID - 1) addr=127.0.0.1:\(watcher.remotePort) laddr=127.0.0.1:26379 fd=-1 name=watcher age=5 idle=5 flags=P"),
                      lines[0])
        XCTAssertTrue(lines[0].contains(" sub=1 psub=0 "), lines[0])
        XCTAssertTrue(lines[0].contains(" cmd=subscribe user=default "), lines[0])
        XCTAssertTrue(lines[1].hasPrefix("id=\(adminID) addr=127.0.0.1:\(admin.remotePort) "), lines[1])
        XCTAssertTrue(lines[1].contains(" name= age=5 idle=0 flags=N "), lines[1])
        XCTAssertTrue(lines[1].contains(" cmd=client|list "), lines[1])
        XCTAssertEqual(replies[1].split(separator: "\n").count, 1)
        XCTAssertTrue(replies[1].contains("name=watcher"))

        // CLIENT KILL closes the other transport; the list follows.
        admin.send("CLIENT", "KILL", "ADDR", "127.0.0.1:\(watcher.remotePort)")
        XCTAssertEqual(try admin.replies(), [.integer(1)])
        XCTAssertEqual(watcher.closeReason, .closedLocally)
        sentinel.settle()
        admin.send("CLIENT", "LIST")
        XCTAssertEqual(try admin.replies().first?.string?.split(separator: "\n").count, 1)
    }

    func testAPeerThatLeavesIsForgotten() throws {
        let sentinel = try EmbeddedSentinel()
        let client = sentinel.connect()
        client.send("SUBSCRIBE", "+tilt")
        XCTAssertEqual(sentinel.server.channelSubscribers["+tilt"]?.count, 1)
        client.peerCloses()
        XCTAssertEqual(sentinel.server.sessions.count, 0)
        XCTAssertNil(sentinel.server.channelSubscribers["+tilt"])
        XCTAssertEqual(sentinel.server.publish(channel: "+tilt", message: "#tilt mode entered"), 0)
    }

    func testShutdownIsHandedToTheHost() throws {
        let sentinel = try EmbeddedSentinel()
        let client = sentinel.connect()
        client.send("SHUTDOWN", "NOSAVE")
        XCTAssertEqual(sentinel.shutdownReason, "User requested shutdown...")
        XCTAssertEqual(try client.replies(), [])
    }
}
