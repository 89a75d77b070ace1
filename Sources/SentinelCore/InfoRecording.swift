/// What an INFO reply says about a master or replica, recorded: run id (a change
/// is a reboot), replicas a master lists (discovery), a replica's master address,
/// link state, priority and offset, and the role reported. Acting on it is
/// InfoActions.swift's.
extension Sentinel {
    func refreshInfo(_ node: DataNode, _ text: String) {
        let info = InfoReport.parse(text)
        record(info, text: text, of: node)
        if let m = node as? Master { masterInfoRecorded(m, info) }
        // Nothing acts while in TILT.
        guard mayAct, let r = node as? Replica else { return }
        actOnInfo(of: r, role: info.role)
        // A failover waiting for this answer to choose a replica goes on at once.
        if r.master.failoverState == .selectSlave { failoverStateMachine(r.master) }
    }

    func record(_ info: InfoReport, text: String, of node: DataNode) {
        node.cachedInfo = text
        if let runID = info.runID {
            if let old = node.runID, old != runID {
                emit(.notice, "+reboot", node)
                if let m = node as? Master, m.settings.masterRebootDownAfterPeriod != 0 {
                    m.flags.insert(.masterReboot)
                    m.masterRebootSince = now
                }
            }
            node.runID = runID
        }
        if let m = node as? Master {
            for line in info.replicas where lookupReplica(m, Address(line.ip, line.port)) == nil {
                if let r = addReplica(to: m, Address(line.ip, line.port)) {
                    emit(.notice, "+slave", r)
                    changed()
                }
            }
        }
        let role = info.role
        if let r = node as? Replica {
            r.masterLinkDownTime = info.masterLinkDownSinceSeconds.map { $0 *| 1000 } ?? 0
            if role == .replica {
                if let host = info.masterHost, host.lowercased() != r.replicaMasterHost?.lowercased() {
                    r.replicaMasterHost = host
                    r.replicaConfChangeTime = now
                    requestResolution(host)
                }
                if let port = info.masterPort, port != r.replicaMasterPort {
                    r.replicaMasterPort = port
                    r.replicaConfChangeTime = now
                }
                if let up = info.masterLinkUp { r.replicaMasterLinkUp = up }
                if let p = info.replicaPriority { r.replicaPriority = p }
                if let o = info.replicaReplOffset { r.replicaReplOffset = o }
                if let a = info.replicaAnnounced { r.replicaAnnounced = a }
            }
        }
        node.infoRefresh = now

        if let role, role != node.roleReported {
            node.roleReportedTime = now
            node.roleReported = role
            if role == .replica, let r = node as? Replica { r.replicaConfChangeTime = now }
            let coherent = (node is Master) == (role == .master)
            emit(.verbose, coherent ? "+role-change" : "-role-change", node,
                 extra: " new reported role is \(role == .master ? "master" : "slave")")
        }
    }
}
