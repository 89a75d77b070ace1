import SentinelCore

/// What the world saw happen, for the tests to assert on, and the safety
/// invariants checked as it happened.
///
/// Votes are keyed by voter (its run id, kept across restarts), master and
/// epoch; leaders by master and epoch.
public final class Observations {
    /// One event a sentinel emitted (`+sdown`, `+switch-master`, ...), at virtual time.
    public struct EventRecord: Sendable, CustomStringConvertible {
        public let time: Millis
        public let sentinel: Int
        public let event: Event
        public var description: String { "\(time) s\(sentinel) \(event)" }
    }

    /// A vote cast (`+vote-for-leader <runid> <epoch>`).
    public struct Vote: Sendable {
        public let time: Millis
        public let voter: Int
        public let voterID: String
        public let master: String
        public let candidate: String
        public let epoch: UInt64
    }

    /// A sentinel that won an election (`+elected-leader`), with its failover epoch.
    public struct Election: Sendable {
        public let time: Millis
        public let sentinel: Int
        public let sentinelID: String
        public let master: String
        public let epoch: UInt64
    }

    /// A replica turned master by `SLAVEOF NO ONE` (applied at EXEC).
    public struct Promotion: Sendable {
        public let time: Millis
        public let node: Int
        /// The sentinel whose transaction did it.
        public let by: Int
    }

    public internal(set) var events: [EventRecord] = []
    public internal(set) var votes: [Vote] = []
    public internal(set) var elections: [Election] = []
    public internal(set) var promotions: [Promotion] = []
    /// Sentinels that exited (`.exit` effect), with the time.
    public internal(set) var exits: [(time: Millis, sentinel: Int)] = []
    /// Faults and other world actions, as text, in order.
    public internal(set) var trace: [String] = []
    /// Broken invariants, each a sentence with the virtual time.
    public internal(set) var violations: [String] = []

    private var voteByVoterEpoch: [String: String] = [:]
    private var leaderByEpoch: [String: String] = [:]

    /// Events with this name, in order.
    public func events(named name: String) -> [EventRecord] {
        events.filter { $0.event.name == name }
    }

    /// Events with this name emitted by one sentinel.
    public func events(named name: String, by sentinel: Int) -> [EventRecord] {
        events.filter { $0.event.name == name && $0.sentinel == sentinel }
    }

    /// A vote seen (each distinct vote is listed once in `votes`).
    func recordVote(_ v: Vote) {
        let key = "\(v.voterID) \(v.master) \(v.epoch)"
        if let earlier = voteByVoterEpoch[key] {
            if earlier != v.candidate {
                violations.append("t=\(v.time): sentinel\(v.voter) (\(v.voterID.prefix(8))) voted twice in epoch \(v.epoch) for \(v.master): for \(earlier.prefix(8)) and for \(v.candidate.prefix(8))")
            }
            return
        }
        voteByVoterEpoch[key] = v.candidate
        votes.append(v)
    }

    func recordElection(_ e: Election) {
        elections.append(e)
        let key = "\(e.master) \(e.epoch)"
        if let other = leaderByEpoch[key], other != e.sentinelID {
            violations.append("t=\(e.time): two leaders elected in epoch \(e.epoch) for \(e.master): \(other.prefix(8)) and \(e.sentinelID.prefix(8)) (sentinel\(e.sentinel))")
        }
        leaderByEpoch[key] = e.sentinelID
    }
}
