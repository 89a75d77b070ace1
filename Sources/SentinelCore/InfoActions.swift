/// What a replica's INFO makes us do (never in TILT):
/// - the promoted replica reports role:master: the promotion is confirmed;
/// - another replica reports role:master on its own: once our master looks sane
///   and nothing went down for 4 hello periods, `+convert-to-slave`;
/// - a replica follows the wrong address for longer than failover-timeout:
///   `+fix-slave-config`;
/// - a replica being re-pointed during a failover reports the promoted replica as
///   its master (`+slave-reconf-inprog`), then its link up (`+slave-reconf-done`).
extension Sentinel {
    func actOnInfo(of r: Replica, role: InfoReport.Role?) {
        let m = r.master
        if role == .master {
            if r.flags.contains(.promoted), m.flags.contains(.failoverInProgress),
               m.failoverState == .waitPromotion {
                promotionConfirmed(m, r)
            } else {
                let wait = timing.publishPeriod *| 4
                if !r.flags.contains(.promoted), masterLooksSane(m), noDown(r, for: wait),
                   elapsed(since: r.roleReportedTime) > wait {
                    if sendReplicaOf(r, m.address) {
                        emit(.notice, "+convert-to-slave", r)
                    }
                }
            }
        }

        guard role == .replica else { return }
        if r.replicaMasterPort != m.address.port || !sameHost(m.address.host, r.replicaMasterHost) {
            let wait = failoverTimeout(m)
            if masterLooksSane(m), noDown(r, for: wait), elapsed(since: r.replicaConfChangeTime) > wait {
                if sendReplicaOf(r, m.address) {
                    emit(.notice, "+fix-slave-config", r)
                }
            }
        }

        if !r.flags.isDisjoint(with: [.reconfSent, .reconfInProgress]), let promoted = m.promotedReplica {
            if r.flags.contains(.reconfSent), sameHost(promoted.address.host, r.replicaMasterHost),
               r.replicaMasterPort == promoted.address.port {
                r.flags.remove(.reconfSent)
                r.flags.insert(.reconfInProgress)
                emit(.notice, "+slave-reconf-inprog", r)
            }
            if r.flags.contains(.reconfInProgress), r.replicaMasterLinkUp {
                r.flags.remove(.reconfInProgress)
                r.flags.insert(.reconfDone)
                emit(.notice, "+slave-reconf-done", r)
            }
        }
    }

    /// Our master says it is a master, is not down, and its INFO is fresh.
    func masterLooksSane(_ m: Master) -> Bool {
        m.roleReported == .master && !m.flags.contains(.sDown)
            && !m.flags.contains(.oDown) && elapsed(since: m.infoRefresh) < timing.infoPeriod *| 2
    }

    /// No SDOWN (or, for a master, ODOWN) began in the last `ms` milliseconds.
    func noDown(_ ri: Instance, for ms: Millis) -> Bool {
        let recent = max(ri.sDownSince, (ri as? Master)?.oDownSince ?? 0)
        return recent == 0 || elapsed(since: recent) > ms
    }
}
