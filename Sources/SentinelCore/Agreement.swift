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
            if sinceReply > timing.askPeriod *| 5 {
                s.flags.remove(.masterDown)
                s.leader = nil
            }
            guard m.flags.contains(.sDown), s.commandLink.connected else { continue }
            if !forced && sinceReply < timing.askPeriod { continue }
            // One question in flight per peer is enough.
            if s.commandLink.pending.contains(.isMasterDown(master: m.name)) && !forced { continue }
            // A vote request names the epoch of our failover, not a newer epoch
            // we may have learned since: votes only count in the epoch they were
            // cast for (see tallyVotes).
            let candidate = m.failoverState > .none
            let runID = candidate ? myID : "*"
            let epoch = candidate ? m.failoverEpoch : currentEpoch
            send(s, ["SENTINEL", "is-master-down-by-addr", announced(m.address.host), String(m.address.port),
                     String(epoch), runID],
                 expect: .isMasterDown(master: m.name))
        }
    }

    func isMasterDownReply(from s: Peer, masterName: String, _ value: RESPValue) {
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
            m.flags.remove(.oDown)
        }
    }
}
