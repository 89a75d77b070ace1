import RESP
import SentinelCore

/// The safety invariants, checked as the world runs (convergence, the liveness
/// half, is `convergenceProblems()` in World+Redis.swift):
/// - one vote per sentinel per master per epoch, across restarts too (votes are
///   seen where they are revealed: replies to IS-MASTER-DOWN-BY-ADDR and
///   `+vote-for-leader`);
/// - no vote is revealed that is not on the voter's disk (its last successful
///   save holds a leader-epoch at least the vote's), and a restarted sentinel's
///   vote epochs are never behind a vote it revealed before;
/// - one leader per master per epoch (`+elected-leader`);
/// - epochs (current, and each master's config epoch) never go back on a sentinel;
/// - no failover (`+try-failover`) without ODOWN, unless a client forced it.
/// Each broken one is a sentence in `observations.violations`.
extension World {
    /// Looks at one event a sentinel emitted (the driver's view of it).
    func observe(_ event: Event, from s: SentinelProcess, core: Sentinel) {
        observations.events.append(.init(time: elapsed, sentinel: s.index, event: event))
        switch event.name {
        case "+new-epoch":
            s.lastNewEpoch = UInt64(event.payload) ?? s.lastNewEpoch
        case "+odown":
            if let name = Self.masterName(in: event) { s.oDown.insert(name) }
        case "-odown":
            if let name = Self.masterName(in: event) { s.oDown.remove(name) }
        case "+try-failover":
            guard let name = Self.masterName(in: event) else { break }
            s.failoverEpoch[name] = s.lastNewEpoch
            if !s.oDown.contains(name) && s.forcedFailover.remove(name) == nil {
                violation("sentinel\(s.index) started a failover of \(name) in epoch \(s.lastNewEpoch) without ODOWN")
            }
        case "+vote-for-leader":
            let parts = event.payload.split(separator: " ")
            if parts.count == 2, let epoch = UInt64(parts[1]) {
                let candidate = String(parts[0])
                // The event names no master (as in Redis): the masters whose vote it is.
                for m in core.masters where m.leader == candidate && m.leaderEpoch == epoch {
                    checkVoteIsOnDisk(s, master: m.name, candidate: candidate, epoch: epoch, how: "+vote-for-leader")
                    recordVote(s, core, master: m.name, candidate: candidate, epoch: epoch)
                }
            }
            if let delay = s.crashAfterVote {
                s.crashAfterVote = nil
                crashSentinel(s.index)
                queue.schedule(.restartSentinel(s.index), at: now + delay)
            }
        case "+elected-leader":
            guard let name = Self.masterName(in: event) else { break }
            observations.recordElection(.init(time: elapsed, sentinel: s.index, sentinelID: core.myID,
                                              master: name, epoch: s.failoverEpoch[name] ?? 0))
        default:
            break
        }
    }

    /// `master <name> <ip> <port> ...`: the name.
    static func masterName(in event: Event) -> String? {
        let parts = event.payload.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0] == "master" else { return nil }
        return String(parts[1])
    }

    func violation(_ text: String) {
        observations.violations.append("t=\(elapsed): \(text)")
    }

    /// A peer's IS-MASTER-DOWN-BY-ADDR reaches sentinel `s`: remember which master
    /// it is about, to look at the vote its reply carries.
    func noteVoteRequest(_ s: SentinelProcess, _ id: RequestID, _ args: [String]) {
        guard args.count == 6, args[0].uppercased() == "SENTINEL",
              args[1].lowercased() == "is-master-down-by-addr" || args[1].lowercased() == "is-primary-down-by-addr",
              let port = Int(args[3]) else { return }
        s.voteRequests[id] = Address(args[2], port)
    }

    /// SENTINEL FAILOVER from a client: that failover needs no ODOWN.
    func noteForcedFailover(_ s: SentinelProcess, _ args: [String]) {
        if args.count == 3, args[0].uppercased() == "SENTINEL", args[1].lowercased() == "failover" {
            s.forcedFailover.insert(args[2])
        }
    }

    /// The reply to an IS-MASTER-DOWN-BY-ADDR leaves sentinel `s` (whether or not
    /// it reaches the peer): a vote in it must be on disk, and must be the only one
    /// of its epoch.
    func checkRevealedVote(_ s: SentinelProcess, _ core: Sentinel, master address: Address, reply: RESPValue) {
        guard let parts = reply.elements, parts.count == 3, let leader = parts[1].string, leader != "*",
              case .integer(let e) = parts[2], e >= 0,
              let m = core.masters.first(where: { $0.address == address }) else { return }
        let epoch = UInt64(e)
        checkVoteIsOnDisk(s, master: m.name, candidate: leader, epoch: epoch, how: "a reply to is-master-down-by-addr")
        recordVote(s, core, master: m.name, candidate: leader, epoch: epoch)
    }

    private func checkVoteIsOnDisk(_ s: SentinelProcess, master: String, candidate: String, epoch: UInt64, how: String) {
        let onDisk = s.disk.masters.first { $0.name == master }?.leaderEpoch ?? 0
        if onDisk < epoch {
            violation("sentinel\(s.index) revealed its vote for \(candidate.prefix(8)) in epoch \(epoch) (\(master)) in \(how) before it was on disk (leader-epoch \(onDisk) saved)")
        }
    }

    private func recordVote(_ s: SentinelProcess, _ core: Sentinel, master: String, candidate: String, epoch: UInt64) {
        s.maxRevealedVoteEpoch[master] = max(s.maxRevealedVoteEpoch[master] ?? 0, epoch)
        observations.recordVote(.init(time: elapsed, voter: s.index, voterID: core.myID, master: master,
                                      candidate: candidate, epoch: epoch))
    }

    /// A sentinel (re)starts from its disk: for every master it knows at least the
    /// epoch of every vote it revealed before, or it could vote again in it.
    func checkRestartedVotes(_ s: SentinelProcess, _ core: Sentinel) {
        for m in core.masters {
            let revealed = s.maxRevealedVoteEpoch[m.name] ?? 0
            if m.leaderEpoch < revealed {
                violation("sentinel\(s.index) restarted with leader-epoch \(m.leaderEpoch) for \(m.name), behind the vote it revealed in epoch \(revealed)")
            }
        }
    }

    /// Epochs only move forward: on a sentinel's disk, across restarts (a restart
    /// loads the last save, never older), and in its running core. A crash may
    /// lose epochs that were not saved yet (a failing disk), and the restarted core
    /// then starts from the disk's; no vote depends on them (votes are checked
    /// against the disk above).
    func checkEpochs(_ s: SentinelProcess, _ config: SentinelConfig, durable: Bool) {
        let what = durable ? "saved" : "running"
        for problem in durable ? s.durableEpochs.advance(to: config) : s.liveEpochs.advance(to: config) {
            violation("sentinel\(s.index) \(what) \(problem)")
        }
    }
}

/// The largest current epoch and config epochs seen so far.
struct EpochMarks {
    var current: UInt64 = 0
    var config: [String: UInt64] = [:]

    /// Takes in `c`'s epochs; says which went back.
    mutating func advance(to c: SentinelConfig) -> [String] {
        var problems: [String] = []
        if c.currentEpoch < current {
            problems.append("current epoch went back from \(current) to \(c.currentEpoch)")
        }
        current = max(current, c.currentEpoch)
        for m in c.masters {
            let before = config[m.name] ?? 0
            if m.configEpoch < before {
                problems.append("config epoch of \(m.name) went back from \(before) to \(m.configEpoch)")
            }
            config[m.name] = max(before, m.configEpoch)
        }
        return problems
    }
}
