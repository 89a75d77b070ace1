/// Re-pointing instances: the SLAVEOF transaction (with CONFIG REWRITE and CLIENT
/// KILL, using renamed commands), the reconf_slaves state (at most parallel-syncs
/// replicas in flight; a replica told more than slave-reconf-timeout ago counts as
/// done), the end of a failover, and the switch of the master entry to the
/// promoted replica. Used also by `+convert-to-slave` and `+fix-slave-config`.
extension Sentinel {
    func failoverReconfNextReplica(_ m: Master) {
        guard let promoted = m.promotedReplica else { return }
        var inProgress = m.replicas.filter { !$0.flags.isDisjoint(with: [.reconfSent, .reconfInProgress]) }.count
        let parallel = m.settings.parallelSyncs
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

    func failoverDetectEnd(_ m: Master) {
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
    func switchToPromotedReplica(_ m: Master) {
        let ref = m.promotedReplica ?? m
        emit(.warning, "+switch-master",
             payload: "\(m.name) \(announced(m.address.host)) \(m.address.port) \(announced(ref.address.host)) \(ref.address.port)",
             master: m)
        resetMasterAndChangeAddress(m, to: ref.address)
    }


    /// Makes an instance a replica of `address` (or a master, when nil) in one
    /// transaction that also rewrites its config and drops its clients so they
    /// reconnect to the right place. Renamed commands are honoured.
    @discardableResult
    func sendReplicaOf(_ ri: Instance, _ address: Address?) -> Bool {
        guard ri.commandLink.connected else { return false }
        let target = address.map { [announced($0.host), String($0.port)] } ?? ["NO", "ONE"]
        send(ri, [mapped(ri, "MULTI")], expect: .discard)
        send(ri, [mapped(ri, "SLAVEOF")] + target, expect: .discard)
        send(ri, [mapped(ri, "CONFIG"), "REWRITE"], expect: .discard)
        send(ri, [mapped(ri, "CLIENT"), "KILL", "TYPE", "normal"], expect: .discard)
        send(ri, [mapped(ri, "CLIENT"), "KILL", "TYPE", "pubsub"], expect: .discard)
        send(ri, [mapped(ri, "EXEC")], expect: .exec)
        return true
    }
}
