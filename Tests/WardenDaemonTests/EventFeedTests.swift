@testable import SentinelCore
import WardenHTTP
import WardenWebhooks
import XCTest
@testable import WardenDaemon

/// What the daemon reads from events (their text, in Redis's formats), the failovers it
/// builds from them, the recent-events ring, the bearer token and the webhook event ids.
final class EventFeedTests: XCTestCase {
    let masters = ["mymaster", "my master"]

    func testFactsOfInstanceEvents() {
        let master = EventFacts.parse(name: "+sdown", payload: "master mymaster 127.0.0.1 6379", masters: masters)
        XCTAssertEqual(master.master, "mymaster")
        XCTAssertEqual(master.instanceType, "master")
        XCTAssertEqual(master.instanceAddress, Address("127.0.0.1", 6379))

        let replica = EventFacts.parse(name: "+slave", payload: "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379",
                                       masters: masters)
        XCTAssertEqual(replica.master, "mymaster")
        XCTAssertEqual(replica.instanceType, "slave")
        XCTAssertEqual(replica.instanceName, "127.0.0.1:6380")
        XCTAssertEqual(replica.instanceAddress, Address("127.0.0.1", 6380))

        let odown = EventFacts.parse(name: "+odown", payload: "master mymaster 127.0.0.1 6379 #quorum 2/2", masters: masters)
        XCTAssertEqual(odown.master, "mymaster")
        XCTAssertEqual(odown.instanceAddress, Address("127.0.0.1", 6379))

        // A master name with a space is found among the monitored ones.
        let spaced = EventFacts.parse(name: "+sdown", payload: "sentinel abc 127.0.0.1 26380 @ my master 127.0.0.1 6379",
                                      masters: masters)
        XCTAssertEqual(spaced.master, "my master")
        XCTAssertEqual(EventFacts.parse(name: "+sdown", payload: "master my master 127.0.0.1 6379", masters: masters).master,
                       "my master")
    }

    func testFactsOfSwitchMasterAndGlobalEvents() {
        let facts = EventFacts.parse(name: "+switch-master", payload: "mymaster 127.0.0.1 6379 127.0.0.1 6380", masters: masters)
        XCTAssertEqual(facts.master, "mymaster")
        XCTAssertEqual(facts.oldAddress, Address("127.0.0.1", 6379))
        XCTAssertEqual(facts.newAddress, Address("127.0.0.1", 6380))
        XCTAssertNil(EventFacts.parse(name: "+tilt", payload: "#tilt mode entered", masters: masters).master)
        XCTAssertNil(EventFacts.parse(name: "+new-epoch", payload: "7", masters: masters).master)
        // Garbage never traps.
        for payload in ["", "master", "slave a b", "x y z w", "master m 1.2.3.4 99999999999999999999", " @ ", "@"] {
            _ = EventFacts.parse(name: "+sdown", payload: payload, masters: masters)
            _ = EventFacts.parse(name: "+switch-master", payload: payload, masters: masters)
        }
    }

    func record(_ seq: UInt64, _ name: String, _ payload: String, at time: Int64) -> EventRecord {
        EventRecord(seq: seq, timeMs: time, name: name, payload: payload, master: "mymaster")
    }

    func facts(_ record: EventRecord) -> EventFacts {
        EventFacts.parse(name: record.name, payload: record.payload, masters: masters)
    }

    func testFailoverLedHere() {
        var log = FailoverLog()
        let events = [
            record(1, "+sdown", "master mymaster 127.0.0.1 6379", at: 1000),
            record(2, "+odown", "master mymaster 127.0.0.1 6379 #quorum 2/2", at: 1010),
            record(3, "+try-failover", "master mymaster 127.0.0.1 6379", at: 1020),
            record(4, "+elected-leader", "master mymaster 127.0.0.1 6379", at: 1030),
            record(5, "+failover-end", "master mymaster 127.0.0.1 6379", at: 1200),
        ]
        for event in events { XCTAssertNil(log.observe(event, facts: facts(event), view: nil)) }
        XCTAssertEqual(log.latest("mymaster")?.result, "ok")
        let end = record(6, "+switch-master", "mymaster 127.0.0.1 6379 127.0.0.1 6380", at: 1220)
        let outcome = log.observe(end, facts: facts(end), view: nil)
        XCTAssertEqual(outcome?.attemptResult, "ok")
        XCTAssertEqual(outcome?.durationSeconds ?? 0, 0.2, accuracy: 0.0001)
        let last = log.latest("mymaster")
        XCTAssertEqual(last?.timeline.map(\.seq), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(last?.newAddress, Address("127.0.0.1", 6380))
        XCTAssertEqual(last?.elected, true)
        XCTAssertEqual(last?.endedAtMs, 1220)
    }

    func testFailoverSeenAndFalseAlarms() {
        var log = FailoverLog()
        // The master came back: no failover.
        for event in [record(1, "+sdown", "master mymaster 127.0.0.1 6379", at: 1),
                      record(2, "-sdown", "master mymaster 127.0.0.1 6379", at: 2)] {
            XCTAssertNil(log.observe(event, facts: facts(event), view: nil))
        }
        XCTAssertNil(log.latest("mymaster"))
        // A replica going down opens nothing.
        let replica = record(3, "+sdown", "slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379", at: 3)
        XCTAssertNil(log.observe(replica, facts: facts(replica), view: nil))
        XCTAssertNil(log.latest("mymaster"))
        // Another sentinel led it.
        let seen = record(4, "+switch-master", "mymaster 127.0.0.1 6379 127.0.0.1 6380", at: 4)
        let outcome = log.observe(seen, facts: facts(seen), view: nil)
        XCTAssertNil(outcome?.attemptResult)
        XCTAssertEqual(log.latest("mymaster")?.result, "observed")
        // Tried, and the winner's switch came before any abort: not elected, not a success.
        for event in [record(7, "+try-failover", "master mymaster 127.0.0.1 6380", at: 7)] {
            _ = log.observe(event, facts: facts(event), view: nil)
        }
        let overtaken = record(8, "+switch-master", "mymaster 127.0.0.1 6380 127.0.0.1 6381", at: 8)
        let outcome2 = log.observe(overtaken, facts: facts(overtaken), view: nil)
        XCTAssertEqual(outcome2?.attemptResult, "not_elected")
        XCTAssertNil(outcome2?.durationSeconds)
        // Tried, lost the election.
        for event in [record(5, "+try-failover", "master mymaster 127.0.0.1 6380", at: 5)] {
            _ = log.observe(event, facts: facts(event), view: nil)
        }
        let lost = record(6, "-failover-abort-not-elected", "master mymaster 127.0.0.1 6380", at: 6)
        XCTAssertEqual(log.observe(lost, facts: facts(lost), view: nil)?.attemptResult, "not_elected")
    }

    func testFeedKeepsTheLatestAndFilters() {
        let feed = EventFeed()
        for i in 0..<(EventFeed.capacity + 10) {
            feed.record(name: i % 2 == 0 ? "+sdown" : "+odown", payload: "\(i)", master: nil, timeMs: Int64(i))
        }
        XCTAssertEqual(feed.lastSeq, UInt64(EventFeed.capacity + 10))
        let all = feed.recent(limit: EventFeed.capacity, patterns: [])
        XCTAssertEqual(all.count, EventFeed.capacity)
        XCTAssertEqual(all.first?.seq, 11)
        XCTAssertEqual(all.last?.seq, feed.lastSeq)
        XCTAssertEqual(feed.recent(limit: 3, patterns: []).map(\.seq), [feed.lastSeq - 2, feed.lastSeq - 1, feed.lastSeq])
        XCTAssertTrue(feed.recent(limit: 50, patterns: [EventPattern("+o*")]).allSatisfy { $0.name == "+odown" })
        XCTAssertEqual(feed.recent(since: feed.lastSeq - 1, limit: 10, patterns: []).map(\.seq), [feed.lastSeq])
    }

    func testBearerToken() {
        XCTAssertEqual(HTTPAPI.bearerToken("Bearer abc"), Array("abc".utf8))
        XCTAssertEqual(HTTPAPI.bearerToken("bearer  abc"), Array("abc".utf8))
        XCTAssertNil(HTTPAPI.bearerToken("Basic abc"))
        XCTAssertNil(HTTPAPI.bearerToken("Bearer"))
        XCTAssertNil(HTTPAPI.bearerToken("Bearer "))
        XCTAssertNil(HTTPAPI.bearerToken(nil))
    }

    func testParseAddress() {
        XCTAssertEqual(HTTPAPI.parseAddress("127.0.0.1:6379"), Address("127.0.0.1", 6379))
        XCTAssertEqual(HTTPAPI.parseAddress("[::1]:6379"), Address("::1", 6379))
        XCTAssertNil(HTTPAPI.parseAddress("127.0.0.1"))
        XCTAssertNil(HTTPAPI.parseAddress(":6379"))
        XCTAssertNil(HTTPAPI.parseAddress("h:99999999999999999999"))
    }

    func testEventIDs() {
        let switchRecord = EventRecord(seq: 9, timeMs: 5, name: "+switch-master",
                                       payload: "mymaster 127.0.0.1 6379 127.0.0.1 6380", master: "mymaster")
        let switchFacts = facts(switchRecord)
        // The same switch from two sentinels (other seq, time and id): the same event id.
        let other = EventRecord(seq: 77, timeMs: 900, name: switchRecord.name, payload: switchRecord.payload, master: "mymaster")
        let view = sampleView(configEpoch: 3, failoverEpoch: 0)
        XCTAssertEqual(WebhookService.eventID(switchRecord, facts: switchFacts, view: view, myID: "a"),
                       WebhookService.eventID(other, facts: switchFacts, view: view, myID: "b"))
        XCTAssertNotEqual(WebhookService.eventID(switchRecord, facts: switchFacts, view: view, myID: "a"),
                          WebhookService.eventID(switchRecord, facts: switchFacts, view: sampleView(configEpoch: 4, failoverEpoch: 0),
                                                 myID: "a"))
        // Events of one sentinel only are unique.
        let sdown = EventRecord(seq: 1, timeMs: 5, name: "+sdown", payload: "master mymaster 127.0.0.1 6379", master: "mymaster")
        let again = EventRecord(seq: 2, timeMs: 5, name: "+sdown", payload: sdown.payload, master: "mymaster")
        XCTAssertNotEqual(WebhookService.eventID(sdown, facts: facts(sdown), view: view, myID: "a"),
                          WebhookService.eventID(again, facts: facts(again), view: view, myID: "a"))
        let id = WebhookService.eventID(sdown, facts: facts(sdown), view: view, myID: "a")
        XCTAssertFalse(id.contains("."), "a webhook-id has no dots")
    }

    func testCloudEventBody() throws {
        let record = EventRecord(seq: 9, timeMs: 1_700_000_000_123, name: "+switch-master",
                                 payload: "mymaster 127.0.0.1 6379 127.0.0.1 6380", master: "mymaster")
        let summary = SentinelSummary(myID: "abc", currentEpoch: 3, tilt: false, tiltForMs: 0, runningScripts: 0,
                                      scriptsQueueLength: 0, simulateFailureFlags: 0)
        let event = WebhookService.cloudEvent(record, facts: facts(record), view: sampleView(configEpoch: 3, failoverEpoch: 3),
                                              summary: summary, port: 26379)
        let json = try JSONParser.parse(event.body)
        XCTAssertEqual(json["specversion"], "1.0")
        XCTAssertEqual(json["type"], "io.warden.+switch-master")
        XCTAssertEqual(json["source"], "/warden/masters/mymaster")
        XCTAssertEqual(json["time"], "2023-11-14T22:13:20.123Z")
        XCTAssertEqual(json["data"]?["old_address"]?["port"]?.intValue, 6379)
        XCTAssertEqual(json["data"]?["new_address"]?["port"]?.intValue, 6380)
        XCTAssertEqual(json["data"]?["config_epoch"]?.intValue, 3)
        XCTAssertEqual(json["data"]?["sentinel"]?["id"], "abc")
        XCTAssertEqual(json["data"]?["text"]?.stringValue, record.payload)
    }

    func sampleView(configEpoch: UInt64, failoverEpoch: UInt64) -> MasterView {
        MasterView(name: "mymaster", address: Address("127.0.0.1", 6380), flags: [.master], runID: nil, quorum: 2,
                   configEpoch: configEpoch, failoverState: .none, failoverEpoch: failoverEpoch, failoverStartedMsAgo: nil,
                   leader: nil, leaderEpoch: 0, roleReported: .master, lastOKPingMsAgo: 0, sDownForMs: nil, oDownForMs: nil,
                   infoAgeMs: nil, replicationOffset: nil, downAfterMs: 1000, failoverTimeoutMs: 1000, parallelSyncs: 1,
                   replicas: [], sentinels: [])
    }
}
