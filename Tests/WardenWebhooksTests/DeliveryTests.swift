import WardenHTTP
import WardenTestSupport
import WardenWebhooks
import XCTest

final class DeliveryTests: XCTestCase {
    let config = try! WebhookConfig(arguments: ["recv", "http://127.0.0.1:9/hook"])

    func delivery(_ id: String, at now: Int64 = 0, type: String = "+switch-master") -> WebhookDelivery {
        WebhookDelivery(id: id, eventType: type, body: Array("{\"id\":\"\(id)\"}".utf8), createdAtMs: now)
    }

    func status(_ code: Int, retryAfter: RetryAfter? = nil) -> DeliveryOutcome {
        .response(status: code, retryAfter: retryAfter)
    }

    func testRetriesThreeTimesThenSucceeds() throws {
        var endpoint = WebhookEndpoint(config: config, seed: 1)
        XCTAssertEqual(endpoint.enqueue(delivery("e1")), .queued)
        var now: Int64 = 0
        var sentIDs: [String] = []
        for (attempt, outcome) in [status(500), status(502), status(503), status(200)].enumerated() {
            let wake = try XCTUnwrap(endpoint.nextWakeUpMs(now: now))
            XCTAssertNil(endpoint.startAttempt(now: wake - 1), "not before its time")
            now = wake
            let d = try XCTUnwrap(endpoint.startAttempt(now: now))
            XCTAssertNil(endpoint.startAttempt(now: now), "one in flight at a time")
            XCTAssertNil(endpoint.nextWakeUpMs(now: now))
            XCTAssertEqual(d.attempts, attempt + 1)
            sentIDs.append(d.id)
            let disposition = endpoint.complete(deliveryID: d.id, outcome: outcome, now: now)
            if attempt < 3 {
                guard case .retrying(let at) = disposition else { return XCTFail("\(disposition)") }
                XCTAssertGreaterThanOrEqual(at - now, endpoint.policy.minBackoffMs)
            } else {
                XCTAssertEqual(disposition, .delivered)
            }
        }
        XCTAssertEqual(sentIDs, ["e1", "e1", "e1", "e1"])
        XCTAssertNil(endpoint.nextWakeUpMs(now: now))
        XCTAssertNil(endpoint.startAttempt(now: now + 1_000_000))
        XCTAssertEqual(endpoint.stats.delivered, 1)
        XCTAssertEqual(endpoint.stats.attempts, ["5xx": 3, "2xx": 1])
    }

    func testBackoffIsFullJitterWithinExponentialCaps() {
        let policy = WebhookRetryPolicy(maxAttempts: 100, initialBackoffMs: 500, maxBackoffMs: 8000, minBackoffMs: 100)
        var maxima = [Int64](repeating: 0, count: 8)
        for seed in 0..<200 {
            var endpoint = WebhookEndpoint(config: config, policy: policy, seed: UInt64(seed))
            _ = endpoint.enqueue(delivery("e"))
            var now: Int64 = 0
            for attempt in 1...8 {
                guard let d = endpoint.startAttempt(now: now),
                      case .retrying(let at) = endpoint.complete(deliveryID: d.id, outcome: .timeout, now: now) else {
                    return XCTFail("attempt \(attempt)")
                }
                let delay = at - now
                let cap = min(Int64(500) << Int64(attempt - 1), 8000)
                XCTAssertGreaterThanOrEqual(delay, 100)
                XCTAssertLessThanOrEqual(delay, cap)
                maxima[attempt - 1] = max(maxima[attempt - 1], delay)
                now = at
            }
        }
        // The spread really grows with the attempts and reaches near each cap.
        for (index, cap) in [500, 1000, 2000, 4000, 8000, 8000, 8000, 8000].enumerated() {
            XCTAssertGreaterThan(maxima[index], Int64(cap) * 9 / 10, "attempt \(index + 1)")
        }
    }

    func testSameSeedSameSchedule() {
        func schedule(_ seed: UInt64) -> [Int64] {
            var endpoint = WebhookEndpoint(config: config, seed: seed)
            _ = endpoint.enqueue(delivery("e"))
            var times: [Int64] = []
            var now: Int64 = 0
            for _ in 0..<6 {
                guard let d = endpoint.startAttempt(now: now),
                      case .retrying(let at) = endpoint.complete(deliveryID: d.id, outcome: .connectionFailed("refused"), now: now) else { break }
                times.append(at)
                now = at
            }
            return times
        }
        XCTAssertEqual(schedule(42), schedule(42))
        XCTAssertNotEqual(schedule(42), schedule(43))
    }

    func testRetryAfterHonoured() throws {
        var endpoint = WebhookEndpoint(config: config, seed: 3)
        _ = endpoint.enqueue(delivery("e"))
        var d = try XCTUnwrap(endpoint.startAttempt(now: 1_000_000))
        XCTAssertEqual(endpoint.complete(deliveryID: d.id, outcome: status(429, retryAfter: .seconds(7)), now: 1_000_000),
                       .retrying(atMs: 1_007_000))
        XCTAssertNil(endpoint.startAttempt(now: 1_006_999))
        d = try XCTUnwrap(endpoint.startAttempt(now: 1_007_000))
        // An HTTP-date, on a 503.
        XCTAssertEqual(endpoint.complete(deliveryID: d.id, outcome: status(503, retryAfter: .date(1_030)), now: 1_007_000),
                       .retrying(atMs: 1_030_000))
        d = try XCTUnwrap(endpoint.startAttempt(now: 1_030_000))
        // Retry-After: 0 still waits the least back-off; a huge one is cut to maxRetryAfterMs.
        XCTAssertEqual(endpoint.complete(deliveryID: d.id, outcome: status(503, retryAfter: .seconds(0)), now: 1_030_000),
                       .retrying(atMs: 1_030_100))
        d = try XCTUnwrap(endpoint.startAttempt(now: 1_030_100))
        XCTAssertEqual(endpoint.complete(deliveryID: d.id, outcome: status(429, retryAfter: .seconds(1_000_000_000_000)), now: 1_030_100),
                       .retrying(atMs: 1_030_100 + 600_000))
        XCTAssertEqual(endpoint.stats.attempts, ["429": 2, "5xx": 2])
    }

    func test410DisablesTheEndpoint() throws {
        var endpoint = WebhookEndpoint(config: config, seed: 4)
        for id in ["a", "b", "c"] { _ = endpoint.enqueue(delivery(id)) }
        let d = try XCTUnwrap(endpoint.startAttempt(now: 0))
        XCTAssertEqual(endpoint.complete(deliveryID: d.id, outcome: status(410), now: 0), .endpointDisabled)
        XCTAssertTrue(endpoint.isDisabled)
        XCTAssertTrue(endpoint.queue.isEmpty)
        XCTAssertNil(endpoint.startAttempt(now: 1_000_000))
        XCTAssertNil(endpoint.nextWakeUpMs(now: 0))
        XCTAssertEqual(endpoint.enqueue(delivery("d")), .rejected("endpoint disabled (410 Gone)"))
        XCTAssertEqual(endpoint.stats.droppedDisabled, 4)
        // A configuration change enables it again.
        endpoint.reconfigure(try WebhookConfig(arguments: ["recv", "http://127.0.0.1:10/hook"]))
        XCTAssertEqual(endpoint.enqueue(delivery("e")), .queued)
        XCTAssertNotNil(endpoint.startAttempt(now: 0))
    }

    func testOtherClientErrorsAndRedirectsAreFinal() throws {
        var endpoint = WebhookEndpoint(config: config, seed: 5)
        for id in ["a", "b", "c", "d"] { _ = endpoint.enqueue(delivery(id)) }
        for (code, label) in [(400, "4xx"), (404, "4xx"), (301, "3xx")] {
            let d = try XCTUnwrap(endpoint.startAttempt(now: 0))
            XCTAssertEqual(endpoint.complete(deliveryID: d.id, outcome: status(code), now: 0), .failed("HTTP \(code)"))
            XCTAssertNotNil(endpoint.stats.attempts[label])
        }
        // The next one goes at once: a final failure does not hold the queue.
        XCTAssertEqual(endpoint.startAttempt(now: 0)?.id, "d")
        XCTAssertEqual(endpoint.stats.failed, 3)
    }

    func testGivesUpAfterMaxAttempts() throws {
        var endpoint = WebhookEndpoint(config: config, policy: WebhookRetryPolicy(maxAttempts: 3), seed: 6)
        _ = endpoint.enqueue(delivery("a"))
        _ = endpoint.enqueue(delivery("b"))
        var now: Int64 = 0
        var last = DeliveryDisposition.stale
        for _ in 0..<3 {
            now = endpoint.nextWakeUpMs(now: now) ?? now
            let d = try XCTUnwrap(endpoint.startAttempt(now: now))
            XCTAssertEqual(d.id, "a")
            last = endpoint.complete(deliveryID: d.id, outcome: .invalidResponse("garbage"), now: now)
        }
        XCTAssertEqual(last, .failed("gave up after 3 attempts"))
        XCTAssertEqual(endpoint.stats.expired, 1)
        XCTAssertEqual(endpoint.startAttempt(now: now)?.id, "b")
    }

    func testTooOldIsGivenUp() {
        var endpoint = WebhookEndpoint(config: config, policy: WebhookRetryPolicy(maxAgeMs: 1000), seed: 7)
        _ = endpoint.enqueue(delivery("old", at: 0))
        _ = endpoint.enqueue(delivery("new", at: 900))
        XCTAssertEqual(endpoint.startAttempt(now: 1500)?.id, "new")
        XCTAssertEqual(endpoint.stats.expired, 1)
    }

    func testFullQueueDropsTheOldestNotInFlight() throws {
        var endpoint = WebhookEndpoint(config: config, policy: WebhookRetryPolicy(maxQueueLength: 3), seed: 8)
        for id in ["1", "2", "3"] { XCTAssertEqual(endpoint.enqueue(delivery(id)), .queued) }
        XCTAssertEqual(endpoint.enqueue(delivery("4")), .queuedDroppingOldest("1"))
        let d = try XCTUnwrap(endpoint.startAttempt(now: 0))
        XCTAssertEqual(d.id, "2")
        XCTAssertEqual(endpoint.enqueue(delivery("5")), .queuedDroppingOldest("3"))
        XCTAssertEqual(endpoint.queue.map(\.id), ["2", "4", "5"])
        XCTAssertEqual(endpoint.stats.droppedQueueFull, 2)
        XCTAssertEqual(endpoint.complete(deliveryID: "2", outcome: status(204), now: 0), .delivered)
        XCTAssertEqual(endpoint.startAttempt(now: 0)?.id, "4")

        var single = WebhookEndpoint(config: config, policy: WebhookRetryPolicy(maxQueueLength: 1), seed: 8)
        _ = single.enqueue(delivery("a"))
        _ = single.startAttempt(now: 0)
        XCTAssertEqual(single.enqueue(delivery("b")), .rejected("queue full"))
    }

    func testRejectedAtEnqueue() {
        var endpoint = WebhookEndpoint(config: config, policy: WebhookRetryPolicy(maxBodyBytes: 4), seed: 9)
        XCTAssertEqual(endpoint.enqueue(WebhookDelivery(id: "a", eventType: "+x", body: [1, 2, 3, 4, 5], createdAtMs: 0)),
                       .rejected("body larger than 4 bytes"))
        XCTAssertEqual(endpoint.enqueue(WebhookDelivery(id: "a.b", eventType: "+x", body: [], createdAtMs: 0)),
                       .rejected("malformed delivery id or event type"))
        XCTAssertEqual(endpoint.enqueue(WebhookDelivery(id: "a", eventType: "+x y", body: [], createdAtMs: 0)),
                       .rejected("malformed delivery id or event type"))
        XCTAssertEqual(endpoint.stats.failed, 3)
    }

    func testStaleCompletionsAndAbandon() throws {
        var endpoint = WebhookEndpoint(config: config, seed: 10)
        _ = endpoint.enqueue(delivery("a"))
        XCTAssertEqual(endpoint.complete(deliveryID: "a", outcome: status(200), now: 0), .stale)
        let d = try XCTUnwrap(endpoint.startAttempt(now: 0))
        XCTAssertEqual(endpoint.complete(deliveryID: "zzz", outcome: status(200), now: 0), .stale)
        endpoint.abandonInFlight()
        XCTAssertEqual(endpoint.complete(deliveryID: d.id, outcome: status(200), now: 0), .stale)
        let again = try XCTUnwrap(endpoint.startAttempt(now: 0))
        XCTAssertEqual(again.attempts, 2)
        XCTAssertEqual(endpoint.complete(deliveryID: again.id, outcome: status(200), now: 0), .delivered)
    }

    func testClockSetBackDoesNotStallDeliveries() throws {
        var endpoint = WebhookEndpoint(config: config, seed: 11)
        _ = endpoint.enqueue(delivery("a", at: 10_000_000))
        let d = try XCTUnwrap(endpoint.startAttempt(now: 10_000_000))
        _ = endpoint.complete(deliveryID: d.id, outcome: .timeout, now: 10_000_000)
        // The clock jumps back a day: the retry is no further away than the longest wait.
        let now: Int64 = 10_000_000 - 86_400_000
        let wake = try XCTUnwrap(endpoint.nextWakeUpMs(now: now))
        XCTAssertLessThanOrEqual(wake - now, 600_000)
        XCTAssertNotNil(endpoint.startAttempt(now: wake))
    }

    func testExtremeTimesNeverTrap() {
        var endpoint = WebhookEndpoint(config: config, seed: 12)
        _ = endpoint.enqueue(WebhookDelivery(id: "a", eventType: "+x", body: [], createdAtMs: Int64.min, attempts: Int.max,
                                             nextAttemptAtMs: Int64.max))
        for now in [Int64.min, -1, 0, Int64.max] {
            if let d = endpoint.startAttempt(now: now) {
                _ = endpoint.complete(deliveryID: d.id, outcome: status(429, retryAfter: .seconds(Int64.max)), now: now)
            }
            _ = endpoint.nextWakeUpMs(now: now)
        }
    }
}

final class DispatcherTests: XCTestCase {
    let secret = try! WebhookSecret(parsing: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")

    func configs() throws -> [WebhookConfig] {
        [try WebhookConfig(arguments: ["all", "http://127.0.0.1:9001/a", "secret", secret.revealedText]),
         try WebhookConfig(arguments: ["switch", "https://hooks.example.com/b", "events", "+switch-master"])]
    }

    func testPublishFiltersAndAttemptsAreSigned() throws {
        var dispatcher = WebhookDispatcher(configs: try configs(), seed: 1, userAgent: "warden/test")
        let body = Array(#"{"specversion":"1.0"}"#.utf8)
        let results = dispatcher.publish(id: "evt1", eventType: "+odown", body: body, now: 5_000)
        XCTAssertEqual(results.map(\.0), ["all"])
        dispatcher.publish(id: "evt2", eventType: "+switch-master", body: body, now: 5_000)
        XCTAssertEqual(dispatcher.pendingCount, 3)
        let attempts = dispatcher.startAttempts(now: 6_000)
        XCTAssertEqual(attempts.map(\.endpointID), ["all", "switch"])
        XCTAssertEqual(attempts.map(\.delivery.id), ["evt1", "evt2"])
        let signed = attempts[0]
        XCTAssertEqual(signed.url.description, "http://127.0.0.1:9001/a")
        XCTAssertEqual(signed.headers["content-type"], "application/cloudevents+json; charset=utf-8")
        XCTAssertEqual(signed.headers["user-agent"], "warden/test")
        XCTAssertEqual(signed.headers["webhook-id"], "evt1")
        XCTAssertEqual(signed.headers["webhook-timestamp"], "6")
        XCTAssertTrue(StandardWebhooks.verify(id: "evt1", timestamp: "6", signatureHeader: signed.headers["webhook-signature"] ?? "",
                                              body: body, secrets: [secret], nowSeconds: 6))
        XCTAssertNil(attempts[1].headers["webhook-signature"])
        XCTAssertEqual(attempts[1].timeoutMs, 10_000)
        XCTAssertTrue(dispatcher.startAttempts(now: 6_000).isEmpty)
        XCTAssertNil(dispatcher.nextWakeUpMs(now: 6_000))

        XCTAssertEqual(dispatcher.complete(endpointID: "all", deliveryID: "evt1", outcome: .timeout, now: 7_000),
                       dispatcher.endpoint("all").map { DeliveryDisposition.retrying(atMs: $0.queue[0].nextAttemptAtMs) })
        XCTAssertEqual(dispatcher.complete(endpointID: "nope", deliveryID: "evt1", outcome: .timeout, now: 7_000), .stale)
        // A retry is signed again with the time of its own attempt.
        let retry = try XCTUnwrap(dispatcher.startAttempts(now: 100_000).first)
        XCTAssertEqual(retry.headers["webhook-id"], "evt1")
        XCTAssertEqual(retry.headers["webhook-timestamp"], "100")
    }

    func testReconfigureKeepsQueues() throws {
        var dispatcher = WebhookDispatcher(configs: try configs(), seed: 2)
        dispatcher.publish(id: "e", eventType: "+switch-master", body: [], now: 0)
        let attempt = try XCTUnwrap(dispatcher.startAttempts(now: 0).first)
        _ = dispatcher.complete(endpointID: attempt.endpointID, deliveryID: "e", outcome: .response(status: 410, retryAfter: nil), now: 0)
        XCTAssertTrue(dispatcher.endpoint("all")?.isDisabled ?? false)
        var changed = try configs()
        changed[1].timeoutMs = 20_000
        changed.append(try WebhookConfig(arguments: ["new", "http://h/"]))
        dispatcher.configure(changed)
        XCTAssertTrue(dispatcher.endpoint("all")?.isDisabled ?? false, "unchanged: stays disabled")
        XCTAssertEqual(dispatcher.endpoint("switch")?.queue.map(\.id), ["e"])
        XCTAssertEqual(dispatcher.endpoint("switch")?.config.timeoutMs, 20_000)
        dispatcher.configure([changed[2]])
        XCTAssertEqual(dispatcher.endpoints.map(\.id), ["new"])
        XCTAssertEqual(dispatcher.pendingCount, 0)
    }

    /// A restart: what was waiting (in flight included) and a 410 come back.
    func testRecordsSurviveARestartThroughTheFile() throws {
        var dispatcher = WebhookDispatcher(configs: try configs(), seed: 3)
        dispatcher.publish(id: "e1", eventType: "+switch-master", body: Array("é\n\"".utf8), now: 1_000)
        dispatcher.publish(id: "e2", eventType: "+odown", body: [0, 255], now: 2_000)
        let inFlight = dispatcher.startAttempts(now: 3_000)
        XCTAssertEqual(inFlight.count, 2)
        _ = dispatcher.complete(endpointID: "switch", deliveryID: "e1", outcome: .response(status: 410, retryAfter: nil), now: 3_000)

        let file = WebhookQueueFile.encode(dispatcher.records)
        let (records, discarded) = WebhookQueueFile.decode(file)
        XCTAssertEqual(discarded, 0)
        XCTAssertEqual(records, dispatcher.records)

        var restarted = WebhookDispatcher(configs: try configs(), seed: 4)
        XCTAssertEqual(restarted.restore(records), 2)
        XCTAssertEqual(restarted.endpoint("all")?.queue.map(\.id), ["e1", "e2"])
        XCTAssertEqual(restarted.endpoint("all")?.queue.first?.attempts, 1)
        XCTAssertTrue(restarted.endpoint("switch")?.isDisabled ?? false)
        let resent = try XCTUnwrap(restarted.startAttempts(now: 4_000).first)
        XCTAssertEqual(resent.delivery.id, "e1")
        XCTAssertEqual(resent.delivery.body, Array("é\n\"".utf8))
        XCTAssertEqual(resent.delivery.attempts, 2)

        // Restoring twice adds nothing; a 410 for another URL is not carried over.
        XCTAssertEqual(restarted.restore(records), 0)
        var moved = try configs()
        moved[1] = try WebhookConfig(arguments: ["switch", "https://hooks.example.com/new", "events", "+switch-master"])
        var other = WebhookDispatcher(configs: moved, seed: 5)
        other.restore(records)
        XCTAssertFalse(other.endpoint("switch")?.isDisabled ?? true)
    }
}

final class QueueFileTests: XCTestCase {
    let records: [WebhookQueueRecord] = [
        .delivery(endpointID: "a", WebhookDelivery(id: "id1", eventType: "+switch-master", body: Array("{\"x\":1}".utf8),
                                                   createdAtMs: 1_700_000_000_000, attempts: 3, nextAttemptAtMs: 1_700_000_005_000)),
        .delivery(endpointID: "b.c", WebhookDelivery(id: "id2", eventType: "-odown", body: [], createdAtMs: -5)),
        .disabled(endpointID: "d", url: "http://h/x y", reason: "410 Gone"),
        .delivery(endpointID: "a", WebhookDelivery(id: "id3", eventType: "+tilt", body: Array(0...255), createdAtMs: 7)),
    ]

    func testFormat() {
        let text = String(decoding: WebhookQueueFile.encode(Array(records.prefix(2))), as: UTF8.self)
        let lines = text.split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        XCTAssertEqual(lines[0], "warden-webhook-queue 1")
        XCTAssertTrue(lines[1].hasPrefix("d a id1 +switch-master 1700000000000 3 1700000005000 eyJ4IjoxfQ== "))
        XCTAssertTrue(text.hasSuffix("\n"))
    }

    func testRoundTrip() {
        let (decoded, discarded) = WebhookQueueFile.decode(WebhookQueueFile.encode(records))
        XCTAssertEqual(decoded, records)
        XCTAssertEqual(discarded, 0)
        XCTAssertEqual(WebhookQueueFile.decode([]).records, [])
        XCTAssertEqual(WebhookQueueFile.decode([]).discarded, 0)
    }

    func testMalformedRecordsAreNotWritten() {
        let bad: [WebhookQueueRecord] = [.delivery(endpointID: "bad id", WebhookDelivery(id: "x", eventType: "+x", body: [], createdAtMs: 0)),
                                         .delivery(endpointID: "a", WebhookDelivery(id: "x y", eventType: "+x", body: [], createdAtMs: 0))]
        XCTAssertEqual(WebhookQueueFile.encode(bad), Array("warden-webhook-queue 1\n".utf8))
    }

    func testEveryTruncationKeepsTheCompleteLines() {
        let file = WebhookQueueFile.encode(records)
        let lineEnds = file.indices.filter { file[$0] == 0x0A }
        for length in 0...file.count {
            let (decoded, discarded) = WebhookQueueFile.decode(Array(file.prefix(length)))
            let completeRecords = max(lineEnds.filter { $0 < length }.count - 1, 0)
            XCTAssertEqual(decoded, Array(records.prefix(completeRecords)), "length \(length)")
            let partial = length > 0 && !lineEnds.contains(length - 1)
            XCTAssertEqual(discarded, partial ? 1 : 0, "length \(length)")
        }
    }

    func testCorruptLinesAreSkipped() {
        var file = WebhookQueueFile.encode(records)
        let secondLine = file.firstIndex(of: 0x0A)! + 1
        file[secondLine + 5] ^= 0x01    // inside the first record
        let (decoded, discarded) = WebhookQueueFile.decode(file)
        XCTAssertEqual(decoded, Array(records.dropFirst()))
        XCTAssertEqual(discarded, 1)
        XCTAssertEqual(WebhookQueueFile.decode(Array("warden-webhook-queue 2\nd a b c 1 2 3 x 0\n".utf8)).discarded, 1)
        XCTAssertEqual(WebhookQueueFile.decode(Array("garbage\n".utf8)).records, [])
    }

    func testRandomDamageNeverTraps() {
        var random = TestRandom(seed: 99)
        let file = WebhookQueueFile.encode(records)
        for _ in 0..<2000 {
            var damaged = file
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                damaged[Int.random(in: 0..<damaged.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            let (decoded, discarded) = WebhookQueueFile.decode(damaged)
            XCTAssertLessThanOrEqual(decoded.count + discarded, records.count + 2)
            for record in decoded { XCTAssertTrue(records.contains(record), "a damaged record was read as valid") }
        }
    }
}
