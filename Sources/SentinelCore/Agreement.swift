import RESP

/// Agreement that a master is down: while we see it SDOWN we ask every peer with
/// IS-MASTER-DOWN-BY-ADDR (at once, then every ask period; Redis every second),
/// and it is ODOWN when we and enough peers (quorum, counting us) said so
/// recently. Once we are trying to fail over, the same question asks for a vote.
extension Sentinel {
    /// Sends IS-MASTER-DOWN-BY-ADDR to every connected peer while the master is
    /// SDOWN: with `*` to learn their view, with our runid to ask for a vote
    /// once we are trying to fail over. Replies older than 5 ask periods expire.
    func askMasterStateToOtherSentinels(_ m: Master, forced: Bool) {
        for s in m.sentinels {
            let sinceReply = elapsed(since: s.lastMasterDownReplyTime)
            if sinceReply > timing.askPeriod *| 5 && (s.leader != nil || s.flags.contains(.masterDown)) {
                s.flags.remove(.masterDown)
                s.leader = nil
            }
            // A coordinated switchover asks for votes with the master up (Switchover.swift).
            guard m.flags.contains(.sDown) || m.switchover != nil, s.commandLink.connected else { continue }
            if !forced && sinceReply < timing.askPeriod { continue }
            // One question in flight per peer is enough.
            let inFlight = s.commandLink.pending.contains {
                if case .isMasterDown(m.name, _) = $0 { return true } else { return false }
            }
            if inFlight && !forced { continue }
            // A vote request names the epoch of our failover, not a newer epoch
            // we may have learned since: votes only count in the epoch they were
            // cast for (see tallyVotes).
            let candidate = m.failoverState > .none
            let runID = candidate ? myID : "*"
            let epoch = candidate ? m.failoverEpoch : currentEpoch
            send(s, ["SENTINEL", "is-master-down-by-addr", announced(m.address.host), String(m.address.port),
                     String(epoch), runID],
                 expect: .isMasterDown(master: m.name, voteEpoch: candidate ? epoch : nil))
        }
    }

    func isMasterDownReply(from s: Peer, masterName: String, voteEpoch: UInt64?, _ value: RESPValue) {
        guard let parts = value.elements, parts.count == 3,
              case .integer(let down) = parts[0],
              let leader = parts[1].string, !parts[1].isError,
              case .integer(let leaderEpoch) = parts[2] else { return }
        s.lastMasterDownReplyTime = now
        if down == 1 { s.flags.insert(.masterDown) } else { s.flags.remove(.masterDown) }
        if leader != "*" {
            s.leader = leader
            s.leaderEpoch = UInt64(max(0, leaderEpoch))
        }
        // Asked for a vote in our epoch, it answered without one: it had voted for
        // this master in a later epoch or its current epoch had moved past ours (as
        // it does when several masters fail over at once), and it will not vote in
        // ours, since a peer's epochs only grow. (The one exception, a vote whose
        // save failed and was withdrawn, only makes us retry a little early.)
        if let voteEpoch, UInt64(max(0, leaderEpoch)) != voteEpoch {
            s.refusedEpoch = voteEpoch
        }
        // Act on the answer now rather than at the next tick.
        if mayAct, s.master.name == masterName {
            actOnMaster(s.master)
        }
    }

    /// ODOWN: we see the master down and enough peers said so recently.
    func checkObjectivelyDown(_ m: Master) {
        var votes = 0
        var down = false
        if m.flags.contains(.sDown) {
            votes = 1
            for s in m.sentinels where s.flags.contains(.masterDown) { votes += 1 }
            down = votes >= m.quorum
        }
        if down {
            if !m.flags.contains(.oDown) {
                emit(.warning, "+odown", m, extra: " #quorum \(votes)/\(m.quorum)")
                m.flags.insert(.oDown)
                m.oDownSince = now
            }
        } else if m.flags.contains(.oDown) {
            emit(.warning, "-odown", m)
            m.splitVotes = 0
            m.flags.remove(.oDown)
        }
    }
}
