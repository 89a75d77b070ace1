import RESP

/// Votes and leader election. Safety rests on two rules that hold whatever the
/// timing:
/// - a sentinel votes at most once per epoch per master, and a vote counts or is
///   revealed only once it is on disk (Persistence.swift holds the reply and the
///   `+vote-for-leader` event until the save that covers it succeeds);
/// - a leader needs votes from a majority of all sentinels it knows for the
///   master (itself included) and at least `quorum` votes.
/// So no epoch can have two leaders, and the promoted replica's config epoch
/// (the leader's epoch) orders every competing configuration.
extension Sentinel {
    /// The IS-MASTER-DOWN-BY-ADDR command: our view of the master at that address,
    /// and our vote for `runID` in `requestEpoch` if it asks for one (nil: an epoch
    /// out of range, answered without a vote). A reply carrying a vote waits until
    /// the vote is on disk; if the save fails it goes without the vote.
    func isMasterDownByAddr(host: String, port: Int, requestEpoch: UInt64?, runID: String) -> CommandResult {
        let m = masters.first { sameAddress($0.address, Address(host, port)) }
        let isDown: RESPValue = .integer(mayAct && m?.flags.contains(.sDown) == true ? 1 : 0)
        let noVote = RESPValue.array([isDown, .bulk("*"), .integer(0)])
        // No vote for a sentinel we forgot (see "Forgetting sentinels safely").
        guard let m, runID != "*", let requestEpoch, !isForgotten(m, runID: runID) else { return .reply(noVote) }
        voteLeader(m, epoch: requestEpoch, candidate: runID)
        // After a restart the epoch of our vote is known but not whom it went to
        // (Redis saves only the epoch): "*" with that epoch, as Redis answers.
        let vote = RESPValue.array([isDown, .bulk(m.leader ?? "*"), .integer(Int64(m.leaderEpoch))])
        return isDurable(m.voteChange) ? .reply(vote) : .afterSave(m.voteChange, vote, otherwise: noVote)
    }

    /// Votes for `candidate` in `epoch` unless we already voted in that epoch or a
    /// later one. The vote counts, and is revealed, only once it is on disk
    /// (`+vote-for-leader` then; see Persistence.swift).
    func voteLeader(_ m: Master, epoch: UInt64, candidate: String) {
        if epoch > currentEpoch {
            currentEpoch = epoch
            changed()
            emit(.warning, "+new-epoch", payload: "\(currentEpoch)", master: m)
        }
        guard m.leaderEpoch < epoch && currentEpoch <= epoch else { return }
        m.leader = candidate
        m.leaderEpoch = currentEpoch
        m.voteChange = changed()
        m.voteAnnounced = false
        if candidate != myID {
            // Give the candidate time to fail over before trying ourselves.
            m.failoverNotBefore = now + Millis(rng.next() % 1000) +| failoverTimeout(m) *| 2
        }
    }

    /// `+vote-for-leader` for every vote that has reached the disk and was not announced.
    func announceDurableVotes() {
        for m in masters where !m.voteAnnounced && isDurable(m.voteChange) {
            m.voteAnnounced = true
            if let leader = m.leader {
                emit(.warning, "+vote-for-leader", payload: "\(leader) \(m.leaderEpoch)", master: m)
            }
        }
    }

    /// The leader for `epoch`, if one has a majority of all known sentinels and at
    /// least quorum votes. Casts our own vote first (for the peer most voted for,
    /// or ourselves).
    func electedLeader(_ m: Master, epoch: UInt64) -> String? {
        let (counts, winner, _) = tallyVotes(m, epoch: epoch, castOwnVote: true)
        guard let winner, let votes = counts[winner] else { return nil }
        let voters = electorate(m)
        return votes >= voters / 2 + 1 && votes >= m.quorum ? winner : nil
    }

    /// Counts the votes known for this epoch (peers' votes in any other epoch do
    /// not count: Redis counts those of the current epoch, which let a candidate
    /// whose epoch was overtaken win with votes cast for the newer epoch, while
    /// promoting with its own older epoch as config epoch). With `castOwnVote`,
    /// votes first.
    func tallyVotes(_ m: Master, epoch: UInt64, castOwnVote: Bool)
        -> (counts: [String: Int], winner: String?, known: Int) {
        var counts: [String: Int] = [:]
        var order: [String] = []
        var known = 0
        for s in m.sentinels {
            if let l = s.leader, s.leaderEpoch == epoch {
                if counts[l] == nil { order.append(l) }
                counts[l, default: 0] += 1
                known += 1
            }
        }
        var winner: String? = nil
        var max = 0
        for c in order where counts[c]! > max {
            max = counts[c]!
            winner = c
        }
        if castOwnVote {
            voteLeader(m, epoch: epoch, candidate: winner ?? myID)
            // Our own vote counts only once it is on disk.
            if let myVote = m.leader, m.leaderEpoch == epoch, isDurable(m.voteChange) {
                if counts[myVote] == nil { order.append(myVote) }
                counts[myVote, default: 0] += 1
                known += 1
                if counts[myVote]! > max {
                    winner = myVote
                }
            }
        }
        return (counts, winner, known)
    }

    /// True when the votes known for `epoch`, plus those the peers we can still
    /// reach may yet cast, leave nobody able to reach a majority: the election is
    /// lost and is retried soon in a new epoch (see failoverWaitStart). A peer that
    /// answered our request without a vote in our epoch will not cast one (with
    /// several masters failing over at once the shared epoch moves past ours). A
    /// peer whose link is down is counted as not voting in time; if it votes for another
    /// candidate after all, that candidate's failover and ours are ordered by their
    /// config epochs, as any two competing failovers are. Safety does not depend on
    /// this guess (votes are per epoch); only how soon a split is retried does.
    func electionIsSplit(_ m: Master, epoch: UInt64) -> Bool {
        let (counts, _, _) = tallyVotes(m, epoch: epoch, castOwnVote: false)
        var all = counts
        if m.leaderEpoch == epoch, let myVote = m.leader {
            all[myVote, default: 0] += 1
        }
        let pending = m.sentinels.filter { s in
            !(s.leader != nil && s.leaderEpoch == epoch) && !s.linkDisconnected && s.refusedEpoch != epoch
        }.count
        let voters = electorate(m)
        let needed = max(voters / 2 + 1, m.quorum)
        return (all.values.max() ?? 0) + pending < needed
    }

}
