import SentinelCore
import WardenHTTP
import WardenHTTPIO
import WardenWebhooks

/// What an event's text says, read the way Redis formats it: `<type> <name> <ip> <port>`
/// with ` @ <master> <ip> <port>` for replicas and sentinels, or for +switch-master
/// `<master> <old ip> <old port> <new ip> <new port>`. Master names are matched against
/// the monitored ones, so a name with spaces is still found.
struct EventFacts: Equatable {
    var master: String?
    var instanceType: String?
    var instanceName: String?
    var instanceAddress: Address?
    var oldAddress: Address?
    var newAddress: Address?

    static func parse(name: String, payload: String, masters: [String]) -> EventFacts {
        var facts = EventFacts()
        if name == "+switch-master" {
            let known = masters.filter { payload.hasPrefix($0 + " ") }.max { $0.utf8.count < $1.utf8.count }
            let fallback = payload.split(separator: " ").first.map(String.init)
            guard let master = known ?? fallback else { return facts }
            facts.master = master
            let rest = payload.dropFirst(master.count).split(separator: " ").map(String.init)
            if rest.count == 4 {
                facts.oldAddress = address(rest[0], rest[1])
                facts.newAddress = address(rest[2], rest[3])
            }
            return facts
        }
        let words = payload.split(separator: " ").map(String.init)
        guard words.count >= 4, ["master", "slave", "sentinel"].contains(words[0]) else { return facts }
        facts.instanceType = words[0]
        if words[0] == "master" {
            let known = masters.filter { payload.hasPrefix("master \($0) ") }.max { $0.utf8.count < $1.utf8.count }
            let master = known ?? words[1]
            facts.master = master
            facts.instanceName = master
            let rest = payload.dropFirst("master ".count + master.count).split(separator: " ").map(String.init)
            if rest.count >= 2 { facts.instanceAddress = address(rest[0], rest[1]) }
            return facts
        }
        facts.instanceName = words[1]
        facts.instanceAddress = address(words[2], words[3])
        if let tail = afterLastAt(payload) {
            let known = masters.filter { tail.hasPrefix($0 + " ") }.max { $0.utf8.count < $1.utf8.count }
            facts.master = known ?? tail.split(separator: " ").first.map(String.init)
        }
        return facts
    }

    /// What follows the last ` @ ` of the text.
    private static func afterLastAt(_ text: String) -> Substring? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 3 else { return nil }
        for i in stride(from: bytes.count - 3, through: 0, by: -1)
        where bytes[i] == 0x20 && bytes[i + 1] == 0x40 && bytes[i + 2] == 0x20 {
            return Substring(String(decoding: bytes[(i + 3)...], as: UTF8.self))
        }
        return nil
    }

    private static func address(_ host: String, _ port: String) -> Address? {
        guard let p = Int(port), (0...65535).contains(p) else { return nil }
        return Address(host, p)
    }
}

/// One event as the HTTP API shows it.
struct EventRecord {
    /// 1, 2, 3 ... in this process; the id of the Server-Sent Event.
    let seq: UInt64
    let timeMs: Int64
    let name: String
    let payload: String
    let master: String?

    var json: JSONValue {
        ["seq": .int(Int64(clamping: seq)), "time": .string(UTCDateTime.rfc3339(unixMs: timeMs)), "event": .string(name),
         "text": .string(payload), "master": .optional(master)]
    }
}

/// The recent events (for GET /v1/events) and the open event streams (the HTTP twin of
/// PSUBSCRIBE). Loop thread only.
final class EventFeed {
    /// Events kept for GET /v1/events and for streams that reconnect with Last-Event-ID.
    static let capacity = 1000
    /// A stream's event patterns, at most.
    static let maxPatterns = 64

    private var ring: [EventRecord] = []
    private var start = 0
    private(set) var lastSeq: UInt64 = 0
    private var streams: [ObjectIdentifier: Subscriber] = [:]

    struct Subscriber {
        let stream: HTTPStream
        let patterns: [EventPattern]
    }

    var streamCount: Int { streams.count }

    @discardableResult
    func record(name: String, payload: String, master: String?, timeMs: Int64) -> EventRecord {
        lastSeq &+= 1
        let record = EventRecord(seq: lastSeq, timeMs: timeMs, name: name, payload: payload, master: master)
        if ring.count < Self.capacity {
            ring.append(record)
        } else {
            ring[start] = record
            start = (start + 1) % Self.capacity
        }
        for subscriber in streams.values where Self.wanted(name, subscriber.patterns) {
            subscriber.stream.send(Self.serverSentEvent(record))
        }
        return record
    }

    /// The events after `since` (oldest first) that match `patterns`, the newest `limit`.
    func recent(since: UInt64 = 0, limit: Int, patterns: [EventPattern]) -> [EventRecord] {
        var out: [EventRecord] = []
        for index in 0..<ring.count {
            let record = ring[(start + index) % ring.count]
            if record.seq > since && Self.wanted(record.name, patterns) { out.append(record) }
        }
        return Array(out.suffix(max(limit, 0)))
    }

    /// Sends what the stream missed since `since`, then every new event that matches.
    func addStream(_ stream: HTTPStream, patterns: [EventPattern], since: UInt64?) {
        let key = ObjectIdentifier(stream)
        stream.onClose = { [weak self] in self?.streams[key] = nil }
        // The reconnection delay a browser's EventSource should use.
        stream.send(ServerSentEvent(data: "warden event stream", retryMs: 2000).encodedAsComment)
        if let since {
            for record in recent(since: since, limit: Self.capacity, patterns: patterns) {
                stream.send(Self.serverSentEvent(record))
            }
        }
        if stream.isOpen { streams[key] = Subscriber(stream: stream, patterns: patterns) }
    }

    func closeStreams() {
        for subscriber in streams.values { subscriber.stream.close() }
        streams = [:]
    }

    static func wanted(_ name: String, _ patterns: [EventPattern]) -> Bool {
        patterns.isEmpty || patterns.contains { $0.matches(name) }
    }

    static func serverSentEvent(_ record: EventRecord) -> ServerSentEvent {
        ServerSentEvent(id: String(record.seq), event: record.name, data: record.json.text)
    }
}

extension ServerSentEvent {
    /// A `retry:` field and a comment, with no data: sets the client's reconnection delay
    /// without dispatching an event.
    var encodedAsComment: [UInt8] {
        var out: [UInt8] = []
        if let retryMs { out += Array("retry: \(retryMs)\n".utf8) }
        out += ServerSentEvent.comment(data)
        return out
    }
}

/// The failovers this sentinel took part in or saw, per master, built from its events:
/// the timeline of the last one (for GET /v1/masters/{name}) and what the metrics count.
struct FailoverLog {
    /// Events kept in one failover's timeline.
    static let maxTimeline = 64

    struct Failover {
        var startedAtMs: Int64
        var endedAtMs: Int64?
        /// `in_progress`, then `ok`, `timeout` (ended by failover-timeout), `aborted`,
        /// `not_elected` (this sentinel tried and another won) or `observed` (another led it).
        var result: String
        /// True when this sentinel ran (or tried to run) it.
        var attempted = false
        var elected = false
        var epoch: UInt64 = 0
        var oldAddress: Address?
        var newAddress: Address?
        var timeline: [EventRecord] = []
    }

    /// What closing a failover means for the metrics.
    struct Outcome {
        let master: String
        /// The result of this sentinel's own attempt (nil when it only saw another's).
        let attemptResult: String?
        /// Seconds from +try-failover to the end of a failover this sentinel led.
        let durationSeconds: Double?
    }

    private(set) var open: [String: Failover] = [:]
    private(set) var last: [String: Failover] = [:]

    /// Feeds one event; returns the outcome when it ends a failover.
    mutating func observe(_ record: EventRecord, facts: EventFacts, view: MasterView?) -> Outcome? {
        guard let master = record.master else { return nil }
        let name = record.name
        let isMasterItself = facts.instanceType == "master"
        let starts = (name == "+sdown" && isMasterItself) || name == "+odown" || name == "+try-failover"
            || name == "+switch-master" || name == "+elected-leader"
        if open[master] == nil {
            guard starts else { return nil }
            open[master] = Failover(startedAtMs: record.timeMs, result: "in_progress")
        }
        guard var current = open[master] else { return nil }
        if current.timeline.count < Self.maxTimeline { current.timeline.append(record) }
        defer { if open[master] != nil { open[master] = current } }

        func close(_ result: String) -> Outcome {
            current.result = result
            current.endedAtMs = record.timeMs
            open[master] = nil
            last[master] = current
            let led = current.elected && (result == "ok" || result == "timeout")
            return Outcome(master: master, attemptResult: current.attempted ? result : nil,
                           durationSeconds: led ? Double(max(record.timeMs - current.startedAtMs, 0)) / 1000 : nil)
        }

        switch name {
        case "+try-failover":
            current.attempted = true
            current.startedAtMs = record.timeMs
            current.epoch = view?.failoverEpoch ?? 0
        case "+elected-leader":
            current.attempted = true
            current.elected = true
            current.epoch = view?.failoverEpoch ?? current.epoch
        case "+failover-end":
            current.result = "ok"
        case "+failover-end-for-timeout":
            current.result = "timeout"
        case "-failover-abort-not-elected":
            return close("not_elected")
        case _ where name.hasPrefix("-failover-abort-"):
            return close("aborted")
        case "+switch-master":
            current.oldAddress = facts.oldAddress
            current.newAddress = facts.newAddress
            current.epoch = view?.configEpoch ?? current.epoch
            // Only the elected leader ran it; a sentinel still asking for votes when another's
            // switch reached it (by a hello) lost the election.
            let result: String
            if current.elected {
                result = current.result == "in_progress" ? "ok" : current.result
            } else {
                result = current.attempted ? "not_elected" : "observed"
            }
            return close(result)
        case "-odown" where !current.attempted, "-sdown" where isMasterItself && !current.attempted:
            // The master came back before any failover: not a failover after all.
            open[master] = nil
            return nil
        default:
            break
        }
        return nil
    }

    /// The failover under way, or else the last one, of `master`.
    func latest(_ master: String) -> Failover? { open[master] ?? last[master] }

    mutating func forget(_ master: String) {
        open[master] = nil
        last[master] = nil
    }
}
