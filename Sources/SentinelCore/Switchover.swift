import RESP

/// A coordinated switchover in progress (`SENTINEL FAILOVER <name> COORDINATED [TO ip port]`,
/// Valkey 9's spelling): a failover in which the master, alive, hands over to the
/// replica itself, so no acknowledged write is lost.
///
/// It is an ordinary failover (new epoch, the same election by a majority of the known
/// sentinels and the quorum, the same select_slave, reconf_slaves and +switch-master
/// with the new config epoch) except for the promotion. Instead of SLAVEOF NO ONE to
/// the replica, the leader sends the master
///
///     MULTI / FAILOVER TO <replica-ip> <replica-port> TIMEOUT <switchover-timeout> / EXEC
///
/// Redis's FAILOVER (6.2+) pauses writes on the master, waits for the replica to have
/// every byte, demotes the master and hands over with PSYNC FAILOVER; writes that
/// arrive meanwhile wait and are then refused with -READONLY, never acknowledged and
/// lost. The leader follows it through INFO (the master's `master_failover_state`, the
/// replica's role): the replica reporting role:master is the promotion, as for any
/// failover. Then the old master (now a replica of the new one) gets CONFIG REWRITE and
/// its clients are disconnected, as SLAVEOF's transaction does, so they ask the
/// sentinels again.
///
/// It is aborted, the master keeping its role and its writes resuming, with
/// - `-failover-abort-switchover-refused`: EXEC, or FAILOVER in it, answered an error
///   (a Redis before 6.2, an ACL without +failover, a target the master does not see
///   as its replica, a failover already running there);
/// - `-failover-abort-switchover-failed`: the master reports role:master and
///   `no-failover` after it accepted (it gave up: the replica did not catch up within
///   the TIMEOUT, or refused the PSYNC FAILOVER);
/// - `-failover-abort-switchover-timeout`: no promotion seen within switchover-timeout
///   (plus a one-second grace for the master's own TIMEOUT to act first), or the
///   master's link was down for that long before the request could go: FAILOVER ABORT
///   is sent to the master.
/// A master that is down (SDOWN/ODOWN) or not reachable cannot hand over; COORDINATED
/// is then refused with -NOGOODMASTER and the ordinary SENTINEL FAILOVER is the tool.
struct Switchover: Equatable {
    enum Phase: Equatable {
        /// Elected? (wait_start, select_slave, send_slaveof_noone)
        case preparing
        /// The transaction went out; waiting for EXEC's answer.
        case requested
        /// The master accepted: following it through INFO.
        case following
    }

    /// The replica asked for with TO, or nil for the best one.
    var target: Address?
    var phase: Phase = .preparing
    /// When the transaction went out.
    var requestedAt: Millis = 0

    /// After switchover-timeout, this long is left for the master's own TIMEOUT to
    /// abort (and say so in INFO) before the leader sends FAILOVER ABORT itself.
    static let grace: Millis = 1_000
    /// The TIMEOUT given to FAILOVER, at most (Redis adds it to its clock unchecked).
    static let maxServerTimeout: Millis = Millis(Int32.max)
}

extension Sentinel {

    // MARK: - The command

    /// `SENTINEL FAILOVER <name> [COORDINATED [TO <ip> <port>] | FORCE]`.
    func failoverCommand(_ m: Master, _ args: [String]) -> RESPValue {
        let options = args.dropFirst(3).map { $0.lowercased() }
        switch options.count {
        case 0:
            return forcedFailoverCommand(m, allowLagging: false)
        case 1 where options[0] == "force":
            return forcedFailoverCommand(m, allowLagging: true)
        case 1 where options[0] == "coordinated":
            return coordinatedFailoverCommand(m, target: nil)
        case 4 where options[0] == "coordinated" && options[1] == "to":
            guard let port = Self.parseInteger(args[6]), (1...65535).contains(port) else {
                return Self.error("ERR Invalid port number.")
            }
            // An IP literal in the form Redis prints (`127.1` is 127.0.0.1); anything else
            // can only match a replica known by that name (resolve-hostnames).
            let host = IPAddress.normalizeNumericHost(args[5]) ?? args[5]
            return coordinatedFailoverCommand(m, target: Address(host, Int(port)))
        default:
            return Self.error("ERR syntax error. Usage: SENTINEL FAILOVER <master-name> [COORDINATED [TO <ip> <port>] | FORCE]")
        }
    }

    /// SENTINEL FAILOVER without agreement (Redis's), and with FORCE (Warden) also past
    /// the lag guard.
    func forcedFailoverCommand(_ m: Master, allowLagging: Bool) -> RESPValue {
        if m.flags.contains(.failoverInProgress) {
            return .error("INPROG Failover already in progress")
        }
        switch chooseReplica(m) {
        case .none:
            return .error("NOGOODSLAVE No suitable replica to promote")
        case .lagging where !allowLagging:
            return .error("NOGOODSLAVE No suitable replica within max-promotion-lag; FORCE promotes one anyway")
        case .chosen, .lagging:
            break
        }
        log(.warning, "Executing user requested FAILOVER of '\(m.name)'")
        guard startFailover(m) else { return Self.error("ERR The current epoch cannot be incremented") }
        m.flags.insert(.forceFailover)
        m.allowLaggingPromotion = allowLagging
        // No election to wait for: go as far as the state machine can right now
        // (outside TILT, where it would not act at all).
        if mayAct { failoverStateMachine(m) }
        return .ok
    }

    func coordinatedFailoverCommand(_ m: Master, target: Address?) -> RESPValue {
        if m.flags.contains(.failoverInProgress) {
            return .error("INPROG Failover already in progress")
        }
        if !m.flags.isDisjoint(with: [.sDown, .oDown]) || !m.commandLink.connected || m.roleReported != .master {
            return .error("NOGOODMASTER The master is down or unreachable: a coordinated failover needs it; use SENTINEL FAILOVER \(Self.clip(m.name)) without COORDINATED")
        }
        if let target {
            guard let r = lookupReplica(m, target) else {
                return Self.error("ERR No such replica \(Self.clip(Self.instanceName(target))) of master '\(Self.clip(m.name))'")
            }
            guard canTakeOver(r) else {
                return .error("NOGOODSLAVE Replica \(r.name) cannot be promoted (down, disconnected or priority 0)")
            }
        } else if case .none = chooseReplica(m) {
            return .error("NOGOODSLAVE No suitable replica to promote")
        }
        log(.warning, "Executing user requested COORDINATED FAILOVER of '\(m.name)'")
        guard startFailover(m) else { return Self.error("ERR The current epoch cannot be incremented") }
        m.switchover = Switchover(target: target)
        // The election is asked for at once (peers vote whether or not they see the
        // master down, as redis-sentinel's do).
        if mayAct {
            askMasterStateToOtherSentinels(m, forced: true)
            failoverStateMachine(m)
        }
        return .ok
    }

    /// A replica named with TO may take over: up, connected, promotable.
    func canTakeOver(_ r: Replica) -> Bool {
        r.flags.isDisjoint(with: [.sDown, .oDown]) && !r.linkDisconnected && r.replicaPriority != 0
    }

    // MARK: - The state machine's steps

    /// select_slave of a switchover: the replica asked for, or the best one (the lag
    /// guard chooses among candidates, but a lagging one is acceptable: FAILOVER waits
    /// for it to catch up, bounded by switchover-timeout).
    func switchoverChoice(_ m: Master, _ s: Switchover) -> ReplicaChoice {
        guard let target = s.target else {
            let choice = chooseReplica(m)
            if case .lagging(let r) = choice { return .chosen(r) }
            return choice
        }
        guard let r = lookupReplica(m, target), canTakeOver(r) else { return .none }
        return .chosen(r)
    }

    /// send_slaveof_noone of a switchover: the FAILOVER transaction to the master.
    func sendSwitchoverRequest(_ m: Master, _ r: Replica) {
        guard m.commandLink.connected else {
            if elapsed(since: m.failoverStateChangeTime) > m.settings.switchoverTimeout {
                abortSwitchover(m, "-failover-abort-switchover-timeout", reason: "the master's link is down",
                                sendAbort: false)
            }
            return
        }
        let timeout = min(max(1, m.settings.switchoverTimeout), Switchover.maxServerTimeout)
        send(m, [mapped(m, "MULTI")], expect: .discard)
        send(m, [mapped(m, "FAILOVER"), "TO", r.address.host, String(r.address.port), "TIMEOUT", String(timeout)],
             expect: .discard)
        send(m, [mapped(m, "EXEC")], expect: .switchoverExec(master: m.name))
        // Pipelined behind EXEC: the first answers tell how it went.
        requestInfo(m)
        requestInfo(r)
        m.switchover?.phase = .requested
        m.switchover?.requestedAt = now
        emit(.notice, "+failover-state-wait-promotion", r)
        m.failoverState = .waitPromotion
        m.failoverStateChangeTime = now
    }

    /// EXEC's answer: an array whose one element is FAILOVER's reply, or an error
    /// (EXECABORT: FAILOVER unknown or refused when queued; NOPERM; no MULTI).
    func switchoverExecReply(_ m: Master, _ value: RESPValue) {
        guard m.flags.contains(.failoverInProgress), m.switchover?.phase == .requested else { return }
        if value.isError {
            // Had MULTI itself been refused, FAILOVER would have run on its own:
            // FAILOVER ABORT makes sure nothing is left running (an error if none is).
            abortSwitchover(m, "-failover-abort-switchover-refused", reason: value.errorText ?? "EXEC failed",
                            sendAbort: true)
            return
        }
        guard let results = value.elements, let first = results.first else {
            abortSwitchover(m, "-failover-abort-switchover-refused", reason: "the transaction was discarded",
                            sendAbort: false)
            return
        }
        if first.isError {
            abortSwitchover(m, "-failover-abort-switchover-refused", reason: first.errorText ?? "FAILOVER failed",
                            sendAbort: false)
            return
        }
        m.switchover?.phase = .following
        emit(.notice, "+switchover-accepted", m)
        if mayAct { failoverStateMachine(m) }
    }

    /// wait_promotion of a switchover: poll both ends; give up after the timeout.
    func followSwitchover(_ m: Master, _ s: Switchover) {
        let deadline = s.requestedAt +| m.settings.switchoverTimeout +| Switchover.grace
        if now > deadline {
            abortSwitchover(m, "-failover-abort-switchover-timeout",
                            reason: "no promotion within \(m.settings.switchoverTimeout) ms", sendAbort: true)
            return
        }
        requestInfo(m)
        if let r = m.promotedReplica { requestInfo(r) }
    }

    /// The master's INFO while it hands over. Role master with no failover running,
    /// once it has accepted, means it gave up.
    func switchoverMasterInfo(_ m: Master, _ info: InfoReport) {
        guard mayAct, m.flags.contains(.failoverInProgress), let s = m.switchover, s.phase == .following,
              m.failoverState == .waitPromotion else { return }
        let state = info.masterFailoverState ?? "no-failover"
        if info.role == .master && state == "no-failover" {
            abortSwitchover(m, "-failover-abort-switchover-failed",
                            reason: "the master gave up (replica not in sync in time, or PSYNC FAILOVER refused)",
                            sendAbort: false)
        } else if info.role == .replica, let r = m.promotedReplica {
            // Demoted: the promotion should show in the replica's next INFO.
            requestInfo(r)
        }
    }

    /// The promotion is seen: leave the old master (now a replica) as SLAVEOF would
    /// have (config rewritten, clients told to reconnect), and the new one with its
    /// config rewritten.
    func switchoverPromoted(_ m: Master, _ r: Replica) {
        guard m.switchover != nil else { return }
        m.switchover = nil
        if m.commandLink.connected {
            send(m, [mapped(m, "MULTI")], expect: .discard)
            send(m, [mapped(m, "CONFIG"), "REWRITE"], expect: .discard)
            send(m, [mapped(m, "CLIENT"), "KILL", "TYPE", "normal"], expect: .discard)
            send(m, [mapped(m, "CLIENT"), "KILL", "TYPE", "pubsub"], expect: .discard)
            send(m, [mapped(m, "EXEC")], expect: .discard)
        }
        send(r, [mapped(r, "CONFIG"), "REWRITE"], expect: .discard)
    }

    /// Ends the switchover without a promotion; `sendAbort` sends FAILOVER ABORT first.
    func abortSwitchover(_ m: Master, _ event: String, reason: String, sendAbort: Bool) {
        if sendAbort && m.commandLink.connected {
            send(m, [mapped(m, "FAILOVER"), "ABORT"], expect: .discard)
        }
        log(.warning, "Coordinated failover of '\(m.name)' aborted: \(Self.clip(reason))")
        emit(.warning, event, m)
        abortFailover(m)
    }

    /// What abortFailover undoes of Warden's additions. A switchover that did not
    /// happen does not hold back an ordinary failover, should the master fail now.
    func clearFailoverExtras(_ m: Master) {
        if m.switchover != nil {
            m.switchover = nil
            m.failoverNotBefore = now
        }
        m.lagWaitAnnounced = false
        m.allowLaggingPromotion = false
    }

    // MARK: - The lag guard's wait

    /// Every candidate lags beyond max-promotion-lag: wait (saying so once) for one
    /// to catch up, until failover-timeout.
    func waitForLaggingReplicas(_ m: Master) {
        if !m.lagWaitAnnounced {
            m.lagWaitAnnounced = true
            emit(.warning, "+failover-wait-lagging-slaves", m)
        }
        if elapsed(since: m.failoverStateChangeTime) > failoverTimeout(m) {
            emit(.warning, "-failover-abort-lagging-slaves", m)
            abortFailover(m)
        }
    }

    /// A master's INFO, for Warden's features: its offset (the lag guard's
    /// yardstick) and, during a switchover, how the hand-over goes.
    func masterInfoRecorded(_ m: Master, _ info: InfoReport) {
        if info.role == .master, let offset = info.masterReplOffset { m.lastMasterReplOffset = offset }
        if m.switchover != nil { switchoverMasterInfo(m, info) }
    }
}
