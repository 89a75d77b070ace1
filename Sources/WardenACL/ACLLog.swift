/// The ACL security log (ACL LOG): refused commands, channels and failed
/// authentications, newest first, with Redis 7.0's grouping of repeated events.
/// Pure: the time of each event is handed in.
public struct ACLLog: Sendable {
    public enum Reason: String, Sendable {
        case command, key, channel, auth
    }

    public struct Entry: Equatable, Sendable {
        public var count: Int
        public var reason: Reason
        /// Always `toplevel` here: Warden has no MULTI, scripts or modules.
        public var context: String
        /// The command's full name, the channel, or for `auth` the command used.
        public var object: String
        public var username: String
        /// Wall-clock milliseconds of the latest occurrence.
        public var time: Int64
        /// CLIENT INFO of the latest client it happened to.
        public var clientInfo: String
    }

    /// Newest first.
    public private(set) var entries: [Entry] = []
    /// `acllog-max-len`.
    public var maxLength: Int

    /// Redis groups an event with an earlier one of the same kind within 60 s,
    /// looking at the 10 most recent entries only.
    static let groupingWindowMs: Int64 = 60_000
    static let groupingScan = 10

    public init(maxLength: Int = 128) {
        self.maxLength = maxLength
    }

    public mutating func add(reason: Reason, object: String, username: String, clientInfo: String, now: Int64) {
        for index in entries.indices.prefix(Self.groupingScan) {
            let e = entries[index]
            let delta = e.time > now ? e.time - now : now - e.time
            guard e.reason == reason, e.object == object, e.username == username,
                  delta <= Self.groupingWindowMs else { continue }
            var updated = entries.remove(at: index)
            updated.count += 1
            updated.time = now
            updated.clientInfo = clientInfo
            entries.insert(updated, at: 0)
            return
        }
        entries.insert(Entry(count: 1, reason: reason, context: "toplevel", object: object,
                             username: username, time: now, clientInfo: clientInfo), at: 0)
        trim()
    }

    public mutating func reset() { entries = [] }

    /// Applies a changed `maxLength` at the next event, as Redis does; called for tests.
    mutating func trim() {
        if entries.count > max(maxLength, 0) { entries.removeLast(entries.count - max(maxLength, 0)) }
    }
}
