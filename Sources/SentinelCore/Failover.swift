import RESP

/// Agreement and failover: asking peers, voting, electing a leader per epoch,
/// and the failover state machine that promotes a replica and re-points the rest.
///
/// Safety rests on two rules that hold whatever the timing:
/// - a sentinel votes at most once per epoch per master, and the vote is
///   persisted (`.persist` precedes the reply) before anyone learns of it;
/// - a leader needs votes from a majority of all sentinels it knows for the
///   master (itself included) and at least `quorum` votes.
/// So no epoch can have two leaders, and the promoted replica's config epoch
/// (the leader's epoch) orders every competing configuration.
///
/// Warden's speed-ups over Redis change only *when* things happen, never these
/// rules: no random 0–1 s start delay, peers asked the moment SDOWN is seen, a
/// proven split vote retried after a short random back-off instead of waiting
/// 2 × failover-timeout, and promotion confirmed by an INFO sent right behind
/// SLAVEOF NO ONE instead of the next periodic INFO.
extension Sentinel {

    // MARK: - Asking peers

    /// Sends IS-MASTER-DOWN-BY-ADDR to every connected peer while the master is
    /// SDOWN: with `*` to learn their view, with our runid to ask for a vote
    /// once we are trying to fail over. Replies older than 5 ask periods expire.
    func askMasterStateToOtherSentinels(_ m: Instance, forced: Bool) {
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
            send(s, ["SENTINEL", "is-master-down-by-addr", m.address.host, String(m.address.port),
                     String(epoch), runID],
                 expect: .isMasterDown(master: m.name))
        }
    }

    func isMasterDownReply(from s: Instance, masterName: String, _ value: RESPValue) {
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
        if mayAct, let m = s.master, m.name == masterName {
            actOnMaster(m)
        }
    }

    // MARK: - Voting

    /// The IS-MASTER-DOWN-BY-ADDR command: our view of the master at that address,
    /// and our vote for `runID` in `requestEpoch` if it asks for one (nil: an epoch
    /// out of range, answered without a vote). A reply carrying a vote waits until
    /// the vote is on disk; if the save fails it goes without the vote.
    func isMasterDownByAddr(host: String, port: Int, requestEpoch: UInt64?, runID: String) -> CommandResult {
        let m = masters.first { $0.address.host == host && $0.address.port == port }
        let isDown: RESPValue = .integer(mayAct && m?.flags.contains(.sDown) == true ? 1 : 0)
        let noVote = RESPValue.array([isDown, .bulk("*"), .integer(0)])
        guard let m, runID != "*", let requestEpoch else { return .reply(noVote) }
        voteLeader(m, epoch: requestEpoch, candidate: runID)
        // After a restart the epoch of our vote is known but not whom it went to
        // (Redis saves only the epoch): "*" with that epoch, as Redis answers.
        let vote = RESPValue.array([isDown, .bulk(m.leader ?? "*"), .integer(Int64(m.leaderEpoch))])
        return isDurable(m.voteChange) ? .reply(vote) : .afterSave(m.voteChange, vote, otherwise: noVote)
    }

    /// Votes for `candidate` in `epoch` unless we already voted in that epoch or a
    /// later one. The vote counts, and is revealed, only once it is on disk
    /// (`+vote-for-leader` then; see Persistence.swift).
    func voteLeader(_ m: Instance, epoch: UInt64, candidate: String) {
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
    func electedLeader(_ m: Instance, epoch: UInt64) -> String? {
        let (counts, winner, _) = tallyVotes(m, epoch: epoch, castOwnVote: true)
        guard let winner, let votes = counts[winner] else { return nil }
        let voters = m.sentinels.count + 1
        return votes >= voters / 2 + 1 && votes >= m.quorum ? winner : nil
    }

    /// Counts the votes known for this epoch (peers' votes in any other epoch do
    /// not count: Redis counts those of the current epoch, which let a candidate
    /// whose epoch was overtaken win with votes cast for the newer epoch, while
    /// promoting with its own older epoch as config epoch). With `castOwnVote`,
    /// votes first.
    func tallyVotes(_ m: Instance, epoch: UInt64, castOwnVote: Bool)
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

    /// True when the votes already known for `epoch` leave nobody able to reach
    /// a majority: the election is lost for everyone and can be retried at once.
    func electionIsSplit(_ m: Instance, epoch: UInt64) -> Bool {
        let (counts, _, known) = tallyVotes(m, epoch: epoch, castOwnVote: false)
        let myVote = m.leaderEpoch == epoch ? m.leader : nil
        var all = counts
        var knownAll = known
        if let myVote {
            all[myVote, default: 0] += 1
            knownAll += 1
        }
        let voters = m.sentinels.count + 1
        let needed = max(voters / 2 + 1, m.quorum)
        let unknown = voters - knownAll
        return (all.values.max() ?? 0) + unknown < needed
    }

    // MARK: - Starting

    func startFailoverIfNeeded(_ m: Instance) -> Bool {
        guard m.flags.contains(.oDown), !m.flags.contains(.failoverInProgress) else { return false }
        if now < m.failoverNotBefore {
            if m.failoverDelayLogged != m.failoverNotBefore {
                m.failoverDelayLogged = m.failoverNotBefore
                log(.warning, "Next failover delay: I will not start a failover before \(m.failoverNotBefore) (unix ms)")
            }
            return false
        }
        return startFailover(m)
    }

    /// Begins a failover in a new epoch. Refused (and logged) only when the epoch
    /// cannot be incremented any more, which needs 2^62 failovers after the
    /// largest epoch a peer can make us adopt (see `Epoch`).
    @discardableResult
    func startFailover(_ m: Instance) -> Bool {
        guard currentEpoch < Epoch.max else {
            log(.warning, "Cannot start a failover of \(m.name): the current epoch \(currentEpoch) is the largest there is")
            return false
        }
        m.failoverState = .waitStart
        m.flags.insert(.failoverInProgress)
        currentEpoch += 1
        m.failoverEpoch = currentEpoch
        changed()
        emit(.warning, "+new-epoch", payload: "\(currentEpoch)", master: m)
        emit(.warning, "+try-failover", m)
        // Redis waits a random 0–1 s here; Warden asks for votes at once.
        m.failoverStartTime = now
        m.failoverNotBefore = now +| failoverTimeout(m) *| 2
        m.failoverStateChangeTime = now
        return true
    }

    // MARK: - The state machine

    func failoverStateMachine(_ m: Instance) {
        guard m.flags.contains(.failoverInProgress) else { return }
        // Each step may complete at once (e.g. election won, replica chosen):
        // keep going while the state advances.
        var previous: FailoverState
        repeat {
            previous = m.failoverState
            switch m.failoverState {
            case .waitStart: failoverWaitStart(m)
            case .selectSlave: failoverSelectReplica(m)
            case .sendSlaveofNoOne: failoverSendReplicaOfNoOne(m)
            case .waitPromotion: failoverWaitPromotion(m)
            case .reconfSlaves: failoverReconfNextReplica(m)
            case .none, .updateConfig: break
            }
        } while m.failoverState != previous && m.flags.contains(.failoverInProgress)
            && m.failoverState != .waitPromotion
    }

    func failoverWaitStart(_ m: Instance) {
        let leader = electedLeader(m, epoch: m.failoverEpoch)
        // Our own vote in this epoch is on disk before we act on the election (and
        // announced first, as in Redis); the save's answer runs this again.
        if m.leaderEpoch == m.failoverEpoch && !isDurable(m.voteChange) { return }
        let isLeader = leader == myID
        if !isLeader && !m.flags.contains(.forceFailover) {
            let timeout = min(timing.electionTimeout, failoverTimeout(m))
            if elapsed(since: m.failoverStartTime) > timeout {
                emit(.warning, "-failover-abort-not-elected", m)
                abortFailover(m)
            } else if electionIsSplit(m, epoch: m.failoverEpoch) {
                // Nobody can win this epoch: retry soon in a new one, after a random
                // back-off so the candidates do not collide again.
                emit(.warning, "-failover-abort-not-elected", m)
                abortFailover(m)
                m.failoverNotBefore = now + splitVoteBackoff()
            }
            return
        }
        emit(.warning, "+elected-leader", m)
        if simulateFailure.contains(.crashAfterElection) { simulatedCrash() }
        m.failoverState = .selectSlave
        m.failoverStateChangeTime = now
        emit(.warning, "+failover-state-select-slave", m)
    }

    /// 50–300 ms: long enough for one candidate's request to reach the others first.
    func splitVoteBackoff() -> Millis {
        50 + Millis(rng.next() % 250)
    }

    func failoverSelectReplica(_ m: Instance) {
        guard let r = selectReplica(m) else {
            emit(.warning, "-failover-abort-no-good-slave", m)
            abortFailover(m)
            return
        }
        emit(.warning, "+selected-slave", r)
        r.flags.insert(.promoted)
        m.promotedReplica = r
        m.failoverState = .sendSlaveofNoOne
        m.failoverStateChangeTime = now
        emit(.notice, "+failover-state-send-slaveof-noone", r)
    }

    func failoverSendReplicaOfNoOne(_ m: Instance) {
        guard let r = m.promotedReplica else { return }
        if r.linkDisconnected || !r.commandLink.connected {
            if elapsed(since: m.failoverStateChangeTime) > failoverTimeout(m) {
                emit(.warning, "-failover-abort-slave-timeout", m)
                abortFailover(m)
            }
            return
        }
        guard sendReplicaOf(r, nil) else { return }
        // Warden: ask for INFO right behind the transaction so the promotion is
        // seen one round trip later, not at the next periodic INFO.
        requestInfo(r)
        emit(.notice, "+failover-state-wait-promotion", r)
        m.failoverState = .waitPromotion
        m.failoverStateChangeTime = now
    }

    func failoverWaitPromotion(_ m: Instance) {
        if elapsed(since: m.failoverStateChangeTime) > failoverTimeout(m) {
            emit(.warning, "-failover-abort-slave-timeout", m)
            abortFailover(m)
        } else if let r = m.promotedReplica {
            // Keep polling the promoted replica until it reports role:master.
            requestInfo(r)
        }
    }

    /// INFO says the promoted replica is a master now: the failover is done in
    /// substance. Record the new config epoch and tell everyone at once.
    func promotionConfirmed(_ m: Instance, _ r: Instance) {
        m.configEpoch = m.failoverEpoch
        m.failoverState = .reconfSlaves
        m.failoverStateChangeTime = now
        changed()
        emit(.warning, "+promoted-slave", r)
        if simulateFailure.contains(.crashAfterPromotion) { simulatedCrash() }
        emit(.warning, "+failover-state-reconf-slaves", m)
        callClientReconfigScript(m, role: "leader", state: "start", from: m.address, to: r.address)
        broadcastHello(m)
        failoverStateMachine(m)
    }

    func failoverReconfNextReplica(_ m: Instance) {
        guard let promoted = m.promotedReplica else { return }
        var inProgress = m.replicas.filter { !$0.flags.isDisjoint(with: [.reconfSent, .reconfInProgress]) }.count
        let parallel = m.settings?.parallelSyncs ?? 1
        for r in m.replicas where inProgress < parallel {
            if !r.flags.isDisjoint(with: [.promoted, .reconfDone]) { continue }
            if r.flags.contains(.reconfSent), elapsed(since: r.reconfSentTime) > timing.slaveReconfTimeout {
                emit(.notice, "-slave-reconf-sent-timeout", r)
                r.flags.remove(.reconfSent)
                r.flags.insert(.reconfDone)
            }
            if !r.flags.isDisjoint(with: [.reconfSent, .reconfInProgress]) { continue }
            if r.linkDisconnected { continue }
            if sendReplicaOf(r, promoted.address) {
                r.flags.insert(.reconfSent)
                r.reconfSentTime = now
                emit(.notice, "+slave-reconf-sent", r)
                inProgress += 1
                requestInfo(r)
            }
        }
        failoverDetectEnd(m)
    }

    func failoverDetectEnd(_ m: Instance) {
        guard let promoted = m.promotedReplica, !promoted.flags.contains(.sDown) else { return }
        var notReconfigured = m.replicas.filter {
            $0.flags.isDisjoint(with: [.promoted, .reconfDone]) && !$0.flags.contains(.sDown)
        }.count
        var timedOut = false
        if elapsed(since: m.failoverStateChangeTime) > failoverTimeout(m) {
            notReconfigured = 0
            timedOut = true
            emit(.warning, "+failover-end-for-timeout", m)
        }
        if notReconfigured == 0 {
            emit(.warning, "+failover-end", m)
            m.failoverState = .updateConfig
            m.failoverStateChangeTime = now
        }
        if timedOut {
            // Best effort: point every replica not yet told at the new master.
            for r in m.replicas where r.flags.isDisjoint(with: [.promoted, .reconfDone, .reconfSent])
                && !r.linkDisconnected {
                if sendReplicaOf(r, promoted.address) {
                    emit(.notice, "+slave-reconf-sent-be", r)
                    r.flags.insert(.reconfSent)
                }
            }
        }
    }

    /// The failover is over: the master entry takes the promoted replica's address.
    func switchToPromotedReplica(_ m: Instance) {
        let ref = m.promotedReplica ?? m
        emit(.warning, "+switch-master",
             payload: "\(m.name) \(m.address.host) \(m.address.port) \(ref.address.host) \(ref.address.port)",
             master: m)
        resetMasterAndChangeAddress(m, to: ref.address)
    }

    func abortFailover(_ m: Instance) {
        m.flags.remove([.failoverInProgress, .forceFailover])
        m.failoverState = .none
        m.failoverStateChangeTime = now
        if let p = m.promotedReplica {
            p.flags.remove(.promoted)
            m.promotedReplica = nil
        }
    }

    func failoverTimeout(_ m: Instance) -> Millis {
        m.settings?.failoverTimeout ?? timing.defaultFailoverTimeout
    }

    func simulatedCrash() {
        log(.warning, "Sentinel CRASH because of SENTINEL simulate-failure")
        out.append(.exit(code: 99))
    }

    // MARK: - Replica selection

    /// The best replica to promote, or nil. Skips replicas that are down,
    /// disconnected, silent, stale, unpromotable (priority 0) or that lost their
    /// master too long ago; then prefers lower priority, larger replication
    /// offset, and the smaller run id.
    public func selectReplica(_ m: Instance) -> Instance? {
        var maxMasterDownTime: Millis = 0
        if m.flags.contains(.sDown) { maxMasterDownTime += elapsed(since: m.sDownSince) }
        maxMasterDownTime = maxMasterDownTime +| m.downAfter *| 10
        // Redis's limits are five ping periods; Warden pings faster but keeps
        // Redis's absolute windows (5 s).
        let redisPingPeriod: Millis = 1000
        let candidates = m.replicas.filter { r in
            if !r.flags.isDisjoint(with: [.sDown, .oDown]) { return false }
            if r.linkDisconnected { return false }
            if elapsed(since: r.lastAvailableTime) > redisPingPeriod * 5 { return false }
            if r.replicaPriority == 0 { return false }
            let validity = m.flags.contains(.sDown) ? redisPingPeriod * 5 : timing.infoPeriod *| 3
            if elapsed(since: r.infoRefresh) > validity { return false }
            if r.masterLinkDownTime > maxMasterDownTime { return false }
            return true
        }
        return candidates.min(by: Self.betterForPromotion)
    }

    /// The promotion order: true when `a` should be promoted before `b`.
    static func betterForPromotion(_ a: Instance, _ b: Instance) -> Bool {
        if a.replicaPriority != b.replicaPriority { return a.replicaPriority < b.replicaPriority }
        if a.replicaReplOffset != b.replicaReplOffset { return a.replicaReplOffset > b.replicaReplOffset }
        switch (a.runID, b.runID) {
        case (nil, nil): return false
        case (nil, _): return false
        case (_, nil): return true
        case (let x?, let y?): return x.lowercased() < y.lowercased()
        }
    }

    // MARK: - Reconfiguring instances

    /// Makes an instance a replica of `address` (or a master, when nil) in one
    /// transaction that also rewrites its config and drops its clients so they
    /// reconnect to the right place. Renamed commands are honoured.
    @discardableResult
    func sendReplicaOf(_ ri: Instance, _ address: Address?) -> Bool {
        guard ri.commandLink.connected else { return false }
        let target = address.map { [$0.host, String($0.port)] } ?? ["NO", "ONE"]
        send(ri, [mapped(ri, "MULTI")], expect: .discard)
        send(ri, [mapped(ri, "SLAVEOF")] + target, expect: .discard)
        send(ri, [mapped(ri, "CONFIG"), "REWRITE"], expect: .discard)
        send(ri, [mapped(ri, "CLIENT"), "KILL", "TYPE", "normal"], expect: .discard)
        send(ri, [mapped(ri, "CLIENT"), "KILL", "TYPE", "pubsub"], expect: .discard)
        send(ri, [mapped(ri, "EXEC")], expect: .exec)
        return true
    }
}
