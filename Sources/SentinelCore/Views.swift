import RESP

/// Read-only views of the sentinel's state, as redis-sentinel shows them: the
/// instance maps of SENTINEL MASTER / REPLICAS / SENTINELS (field names, order and
/// conditional fields as Redis prints them), the `# Sentinel` section of INFO, and
/// ROLE. They change nothing and may be read between inputs.
extension Sentinel {
    /// The monitored masters' names, in the order they were added.
    public var masterNames: [String] { masters.map(\.name) }

    /// `ROLE` in sentinel mode: `["sentinel", [master names]]`.
    public func roleReply() -> RESPValue {
        .array([.bulk("sentinel"), .array(masters.map { .bulk($0.name) })])
    }

    /// The `# Sentinel` section of INFO, lines ending in `\r\n`.
    public func infoSentinelSection(now: Millis) -> String {
        var s = "# Sentinel\r\n"
        s += "sentinel_masters:\(masters.count)\r\n"
        s += "sentinel_tilt:\(tilt ? 1 : 0)\r\n"
        s += "sentinel_tilt_since_seconds:\(tilt ? (now -| tiltStartTime) / 1000 : -1)\r\n"
        s += "sentinel_running_scripts:\(scripts.running)\r\n"
        s += "sentinel_scripts_queue_length:\(scripts.jobs.count)\r\n"
        s += "sentinel_simulate_failure_flags:\(simulateFailure.rawValue)\r\n"
        for (i, m) in masters.enumerated() {
            let status = m.flags.contains(.oDown) ? "odown" : m.flags.contains(.sDown) ? "sdown" : "ok"
            s += "master\(i):name=\(m.name),status=\(status),address=\(announced(m.address.host)):\(m.address.port),"
            s += "slaves=\(m.replicas.count),sentinels=\(m.sentinels.count + 1)\r\n"
        }
        return s
    }

    /// What `SENTINEL MASTER` / `REPLICAS` / `SENTINELS` show for one instance.
    /// Times are "milliseconds ago" as of `now`. Also the source of the HTTP view.
    public func instanceFields(_ ri: Instance, now: Millis) -> [(String, String)] {
        func ago(_ t: Millis) -> String { String(now -| t) }
        var f: [(String, String)] = [
            ("name", ri.name),
            ("ip", announced(ri.address.host)),
            ("port", String(ri.address.port)),
            ("runid", ri.runID ?? ""),
            ("flags", ri.flags.redisNames),
            ("link-pending-commands", String(ri.pendingCommands)),
            // Warden never shares links between masters: one owner per link.
            ("link-refcount", "1"),
        ]
        let m = ri as? Master
        if let m, m.flags.contains(.failoverInProgress) {
            f.append(("failover-state", m.failoverState.redisName))
        }
        f.append(("last-ping-sent", ri.activePingTime != 0 ? ago(ri.activePingTime) : "0"))
        f.append(("last-ok-ping-reply", ago(ri.lastAvailableTime)))
        f.append(("last-ping-reply", ago(ri.lastPongTime)))
        if ri.flags.contains(.sDown) { f.append(("s-down-time", ago(ri.sDownSince))) }
        if let m, m.flags.contains(.oDown) { f.append(("o-down-time", ago(m.oDownSince))) }
        f.append(("down-after-milliseconds", String(ri.downAfter)))

        if let node = ri as? DataNode {
            f.append(("info-refresh", node.infoRefresh != 0 ? ago(node.infoRefresh) : "0"))
            f.append(("role-reported", node.roleReported == .master ? "master" : "slave"))
            f.append(("role-reported-time", ago(node.roleReportedTime)))
        }
        if let m {
            f.append(("config-epoch", String(m.configEpoch)))
            f.append(("num-slaves", String(m.replicas.count)))
            f.append(("num-other-sentinels", String(m.sentinels.count)))
            f.append(("quorum", String(m.quorum)))
            f.append(("failover-timeout", String(m.settings.failoverTimeout)))
            f.append(("parallel-syncs", String(m.settings.parallelSyncs)))
            if let script = m.settings.notificationScript { f.append(("notification-script", script)) }
            if let script = m.settings.clientReconfigScript { f.append(("client-reconfig-script", script)) }
        }
        if let r = ri as? Replica {
            f.append(("master-link-down-time", String(r.masterLinkDownTime)))
            f.append(("master-link-status", r.replicaMasterLinkUp ? "ok" : "err"))
            f.append(("master-host", r.replicaMasterHost ?? "?"))
            f.append(("master-port", String(r.replicaMasterPort)))
            f.append(("slave-priority", String(r.replicaPriority)))
            f.append(("slave-repl-offset", String(r.replicaReplOffset)))
            f.append(("replica-announced", r.replicaAnnounced ? "1" : "0"))
        }
        if let s = ri as? Peer {
            f.append(("last-hello-message", ago(s.lastHelloReceivedTime)))
            f.append(("voted-leader", s.leader ?? "?"))
            f.append(("voted-leader-epoch", String(s.leaderEpoch)))
        }
        return f
    }
}
