/// The failover state machine of a master, in Redis's states:
/// wait_start (elected?) → select_slave → send_slaveof_noone → wait_promotion →
/// reconf_slaves (Reconfiguration.swift) → update_config (the switch). It starts
/// when the master is ODOWN, no failover is in progress and `failoverNotBefore`
/// has passed, in a new epoch. Aborts are possible until the promotion is seen.
///
/// Warden's speed-ups over Redis change only *when* things happen, never the
/// voting rules: candidates take turns in run-id order (`candidacyRank`) where
/// Redis lets every sentinel that sees ODOWN ask for votes in the same tick (its
/// random 0–1 s only shifts the start time its retry waits from); a proven split
/// vote is retried after a short random back-off instead of waiting
/// 2 × failover-timeout; and promotion is confirmed by an INFO sent right behind
/// SLAVEOF NO ONE.
///
/// Two Warden additions ride on the same states: a coordinated switchover
/// (Switchover.swift) asks the master for FAILOVER TO in send_slaveof_noone and
/// follows it in wait_promotion; the lag guard (max-promotion-lag) may hold a
/// failover in select_slave until a replica is close enough, or failover-timeout.
extension Sentinel {
    func startFailoverIfNeeded(_ m: Master) -> Bool {
        guard m.flags.contains(.oDown), !m.flags.contains(.failoverInProgress) else { return false }
        if now < m.failoverNotBefore {
            if m.failoverDelayLogged != m.failoverNotBefore {
                m.failoverDelayLogged = m.failoverNotBefore
                log(.warning, "Next failover delay: I will not start a failover before \(m.failoverNotBefore) (unix ms)")
            }
            return false
        }
        if now < m.oDownSince +| Millis(candidacyRank(m)) *| timing.candidacyStagger { return false }
        // A sentinel that cannot save cannot lead: its epoch and its own vote must
        // be on disk before it acts. Asking for votes anyway would only hold its
        // peers back (they wait 2 x failover-timeout after voting for it), epoch
        // after epoch, while the disk keeps failing.
        if persistence.failures > 0 {
            if !persistence.failoverRefusalLogged {
                persistence.failoverRefusalLogged = true
                log(.warning, "Not starting a failover of \(m.name) while the configuration cannot be saved")
            }
            return false
        }
        return startFailover(m)
    }

    /// How many reachable peers of `m` come before us in run-id order. The first
    /// starts a failover as soon as it sees ODOWN, the next `candidacyStagger`
    /// later and so on, so sentinels that see ODOWN together do not all ask for
    /// votes in the same instant and split them (Redis does, and relies on the
    /// retry after 2 × failover-timeout). A peer whose link is down or that is
    /// SDOWN is skipped: if the first one died with the master, the next one does
    /// not wait for it.
    func candidacyRank(_ m: Master) -> Int {
        m.sentinels.count { s in
            !s.linkDisconnected && !s.flags.contains(.sDown) && (s.runID ?? s.name) < myID
        }
    }

    /// Begins a failover in a new epoch. Refused (and logged) only when the epoch
    /// cannot be incremented any more, which needs 2^62 failovers after the
    /// largest epoch a peer can make us adopt (see `Epoch`).
    @discardableResult
    func startFailover(_ m: Master) -> Bool {
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
        // Votes are asked for at once, as in Redis (whose random 0–1 s only shifts
        // the start time its retry waits from); candidates took turns before this
        // (candidacyRank).
        m.failoverStartTime = now
        m.failoverNotBefore = now +| failoverTimeout(m) *| 2
        m.failoverStateChangeTime = now
        return true
    }

    // MARK: - The state machine

    func failoverStateMachine(_ m: Master) {
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

    func failoverWaitStart(_ m: Master) {
        // Casts our own vote first.
        let leader = electedLeader(m, epoch: m.failoverEpoch)
        // Our own vote in this epoch is on disk before we act on the election (and
        // announced first, as in Redis); the save's answer runs this again. The
        // election timeout runs meanwhile: a candidate whose saves keep failing
        // gives up in time instead of acting, much later, on an old election.
        let ownVotePending = m.leaderEpoch == m.failoverEpoch && !isDurable(m.voteChange)
        let forced = m.flags.contains(.forceFailover)
        if ownVotePending || (!forced && leader != myID) {
            if forced { return }
            if elapsed(since: m.failoverStartTime) > min(timing.electionTimeout, failoverTimeout(m)) {
                emit(.warning, "-failover-abort-not-elected", m)
                abortFailover(m)
            } else if !ownVotePending && electionIsSplit(m, epoch: m.failoverEpoch) {
                // Nobody can win this epoch: retry soon in a new one, after a random
                // back-off so the candidates do not collide again.
                emit(.warning, "-failover-abort-not-elected", m)
                abortFailover(m)
                m.splitVotes += 1
                m.failoverNotBefore = now +| splitVoteBackoff(m.splitVotes)
            }
            return
        }
        m.splitVotes = 0
        emit(.warning, "+elected-leader", m)
        if simulateFailure.contains(.crashAfterElection) { simulatedCrash() }
        m.failoverState = .selectSlave
        m.failoverStateChangeTime = now
        emit(.warning, "+failover-state-select-slave", m)
    }

    /// 50–300 ms after the first split, long enough for one candidate's request to
    /// reach the others first; doubled after each further split in a row, up to
    /// the election timeout, so that a peer that keeps refusing (one whose disk
    /// fails cannot vote) does not make us burn an epoch every few milliseconds.
    func splitVoteBackoff(_ splits: Int) -> Millis {
        let first = 50 + Millis(rng.next() % 250)
        return min(first << Millis(min(max(splits - 1, 0), 8)), max(timing.electionTimeout, first))
    }

    func failoverSelectReplica(_ m: Master) {
        let r: Replica
        switch m.switchover.map({ switchoverChoice(m, $0) }) ?? chooseReplica(m) {
        case .chosen(let chosen):
            r = chosen
        case .lagging(let lagging) where m.allowLaggingPromotion:
            // SENTINEL FAILOVER <name> FORCE: the lag guard is overruled, and says so.
            emit(.warning, "+selected-lagging-slave", lagging)
            r = lagging
        case .lagging:
            waitForLaggingReplicas(m)
            return
        case .none:
            if awaitingFreshInfo(m) && elapsed(since: m.failoverStateChangeTime) < timing.replicaInfoPeriod { return }
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

    func failoverSendReplicaOfNoOne(_ m: Master) {
        guard let r = m.promotedReplica else { return }
        // A coordinated switchover asks the master instead (Switchover.swift).
        if m.switchover != nil { return sendSwitchoverRequest(m, r) }
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

    func failoverWaitPromotion(_ m: Master) {
        if let s = m.switchover { return followSwitchover(m, s) }
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
    func promotionConfirmed(_ m: Master, _ r: Replica) {
        m.configEpoch = m.failoverEpoch
        m.failoverState = .reconfSlaves
        m.failoverStateChangeTime = now
        changed()
        emit(.warning, "+promoted-slave", r)
        switchoverPromoted(m, r)
        if simulateFailure.contains(.crashAfterPromotion) { simulatedCrash() }
        emit(.warning, "+failover-state-reconf-slaves", m)
        callClientReconfigScript(m, role: "leader", state: "start", from: m.address, to: r.address)
        broadcastHello(m)
        failoverStateMachine(m)
    }

    func abortFailover(_ m: Master) {
        m.flags.remove([.failoverInProgress, .forceFailover])
        clearFailoverExtras(m)
        m.failoverState = .none
        m.failoverStateChangeTime = now
        if let p = m.promotedReplica {
            p.flags.remove(.promoted)
            m.promotedReplica = nil
        }
    }

    func failoverTimeout(_ m: Master) -> Millis {
        m.settings.failoverTimeout
    }

    func simulatedCrash() {
        log(.warning, "Sentinel CRASH because of SENTINEL simulate-failure")
        out.append(.exit(code: 99))
    }

}
