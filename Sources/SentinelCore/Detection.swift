/// SDOWN: an instance is subjectively down when it gave no valid reply for more
/// than down-after-milliseconds (counted from the oldest unanswered PING, or from
/// the last valid reply while its link is down), when a master has claimed to be
/// a replica for longer than down-after + 2 INFO periods, or when a master rebooted
/// and has not answered PONG for master-reboot-down-after-period. Links that look
/// stuck are dropped here too, to be reopened by the next tick.
extension Sentinel {
    func checkSubjectivelyDown(_ ri: Instance) {
        var unanswered: Millis = 0
        if ri.activePingTime != 0 {
            unanswered = elapsed(since: ri.activePingTime)
        } else if ri.linkDisconnected {
            unanswered = elapsed(since: ri.lastAvailableTime)
        }

        // A command link up for a while whose ping has been pending for half the
        // down-after period is probably stuck: reconnect it.
        if ri.commandLink.connected,
           elapsed(since: ri.commandLink.connectedAt) > timing.minLinkReconnectPeriod,
           ri.activePingTime != 0,
           elapsed(since: ri.activePingTime) > ri.downAfter / 2,
           elapsed(since: ri.lastPongTime) > ri.downAfter / 2 {
            closeLink(ri, pubsub: false)
        }
        // A Pub/Sub link that has been silent for three hello periods (we receive
        // our own hellos on it) is probably stuck too.
        if ri.pubsubLink.connected,
           elapsed(since: ri.pubsubLink.connectedAt) > timing.minLinkReconnectPeriod,
           elapsed(since: ri.pubsubLink.lastActivity) > timing.publishPeriod *| 3 {
            closeLink(ri, pubsub: true)
        }

        let m = ri as? Master
        let notAnswering = unanswered > ri.downAfter
        let claimsReplica = m.map { $0.roleReported == .replica
            && elapsed(since: $0.roleReportedTime) > $0.downAfter +| timing.infoPeriod *| 2 } ?? false
        let rebooted = m.map { $0.flags.contains(.masterReboot)
            && elapsed(since: $0.masterRebootSince) > $0.settings.masterRebootDownAfterPeriod } ?? false
        if notAnswering || claimsReplica || rebooted {
            if !ri.flags.contains(.sDown) {
                emit(.warning, "+sdown", ri)
                ri.sDownSince = now
                ri.flags.insert(.sDown)
                if let m { masterWentSubjectivelyDown(m) }
            }
        } else if ri.flags.contains(.sDown) {
            emit(.warning, "-sdown", ri)
            ri.flags.remove([.sDown, .scriptKillSent])
        }
    }

    /// Warden: the moment the master looks down, refresh what we know of its
    /// replicas (a failover will need it) and ask the peers at once.
    func masterWentSubjectivelyDown(_ m: Master) {
        m.replicas.forEach(requestInfo)
        askMasterStateToOtherSentinels(m, forced: true)
    }
}
