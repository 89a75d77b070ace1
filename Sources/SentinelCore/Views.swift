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
            // Warden's settings, shown (like the scripts) only when set, so that the
            // default reply has redis-sentinel's fields.
            if m.settings.switchoverTimeout != MasterConfig.defaultSwitchoverTimeout {
                f.append(("switchover-timeout", String(m.settings.switchoverTimeout)))
            }
            if m.settings.maxPromotionLag != 0 { f.append(("max-promotion-lag", String(m.settings.maxPromotionLag))) }
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

// MARK: - Structured views (the daemon's HTTP API and metrics)

/// A sentinel's global state, as INFO's `# Sentinel` section shows it.
public struct SentinelSummary: Equatable, Sendable {
    public let myID: String
    public let currentEpoch: UInt64
    public let tilt: Bool
    /// Milliseconds in TILT so far (0 outside TILT).
    public let tiltForMs: Millis
    public let runningScripts: Int
    public let scriptsQueueLength: Int
    public let simulateFailureFlags: Int
}

/// One monitored master as this sentinel sees it. Times are "milliseconds ago".
public struct MasterView: Equatable, Sendable {
    public let name: String
    /// Where clients should go (GET-MASTER-ADDR-BY-NAME): the promoted replica once
    /// a failover reconfigures the others.
    public let address: Address
    public let flags: InstanceFlags
    public let runID: String?
    public let quorum: Int
    public let configEpoch: UInt64
    public let failoverState: FailoverState
    /// The epoch of this sentinel's latest failover attempt for this master (0: none).
    public let failoverEpoch: UInt64
    /// When that attempt began, ms ago (nil: no attempt since the last reset).
    public let failoverStartedMsAgo: Millis?
    /// This sentinel's vote for this master's failovers (nil: none since the last reset).
    public let leader: String?
    public let leaderEpoch: UInt64
    public let roleReported: InfoReport.Role
    public let lastOKPingMsAgo: Millis
    public let sDownForMs: Millis?
    public let oDownForMs: Millis?
    /// nil: no INFO received since the last reset.
    public let infoAgeMs: Millis?
    /// `master_repl_offset` of the last INFO (only when the view was asked for offsets).
    public let replicationOffset: Int64?
    public let downAfterMs: Millis
    public let failoverTimeoutMs: Millis
    public let parallelSyncs: Int
    public let replicas: [ReplicaView]
    public let sentinels: [PeerView]
}

public struct ReplicaView: Equatable, Sendable {
    public let address: Address
    public let runID: String?
    public let flags: InstanceFlags
    public let roleReported: InfoReport.Role
    public let masterLinkUp: Bool
    public let masterHost: String?
    public let masterPort: Int
    /// `master_link_down_since_seconds` × 1000 (0 when up).
    public let masterLinkDownMs: Millis
    public let priority: Int
    /// `slave_repl_offset`.
    public let replicationOffset: Int64
    public let infoAgeMs: Millis?
    public let lastOKPingMsAgo: Millis
    /// False when the replica reports `replica-announced no` (hidden from SENTINEL REPLICAS).
    public let announced: Bool
}

public struct PeerView: Equatable, Sendable {
    public let runID: String
    public let address: Address
    public let flags: InstanceFlags
    public let lastHelloMsAgo: Millis
    public let lastOKPingMsAgo: Millis
    public let votedLeader: String?
    public let votedLeaderEpoch: UInt64
}

extension Sentinel {
    public func summary(now: Millis) -> SentinelSummary {
        SentinelSummary(myID: myID, currentEpoch: currentEpoch, tilt: tilt, tiltForMs: tilt ? now -| tiltStartTime : 0,
                        runningScripts: scripts.running, scriptsQueueLength: scripts.jobs.count,
                        simulateFailureFlags: simulateFailure.rawValue)
    }

    /// Every master, in the order they were added. `withOffset` reads the master's
    /// replication offset from its last INFO (a parse of the whole text: leave it out
    /// where it is not shown).
    public func masterViews(now: Millis, withOffset: Bool = false) -> [MasterView] {
        masters.map { masterView($0, now: now, withOffset: withOffset) }
    }

    public func masterView(named name: String, now: Millis, withOffset: Bool = false) -> MasterView? {
        master(named: name).map { masterView($0, now: now, withOffset: withOffset) }
    }

    public func masterView(_ m: Master, now: Millis, withOffset: Bool = false) -> MasterView {
        func ago(_ t: Millis) -> Millis { now -| t }
        let info = withOffset ? m.cachedInfo.map(InfoReport.parse) : nil
        return MasterView(
            name: m.name, address: currentMasterAddress(m), flags: m.flags, runID: m.runID, quorum: m.quorum,
            configEpoch: m.configEpoch, failoverState: m.failoverState, failoverEpoch: m.failoverEpoch,
            failoverStartedMsAgo: m.failoverStartTime != 0 ? ago(m.failoverStartTime) : nil,
            leader: m.leader, leaderEpoch: m.leaderEpoch, roleReported: m.roleReported,
            lastOKPingMsAgo: ago(m.lastAvailableTime),
            sDownForMs: m.flags.contains(.sDown) ? ago(m.sDownSince) : nil,
            oDownForMs: m.flags.contains(.oDown) ? ago(m.oDownSince) : nil,
            infoAgeMs: m.infoRefresh != 0 ? ago(m.infoRefresh) : nil,
            replicationOffset: info?.masterReplOffset,
            downAfterMs: m.downAfter, failoverTimeoutMs: m.settings.failoverTimeout,
            parallelSyncs: m.settings.parallelSyncs,
            replicas: m.replicas.map { r in
                ReplicaView(address: r.address, runID: r.runID, flags: r.flags, roleReported: r.roleReported,
                            masterLinkUp: r.replicaMasterLinkUp, masterHost: r.replicaMasterHost,
                            masterPort: r.replicaMasterPort, masterLinkDownMs: r.masterLinkDownTime,
                            priority: r.replicaPriority, replicationOffset: r.replicaReplOffset,
                            infoAgeMs: r.infoRefresh != 0 ? ago(r.infoRefresh) : nil,
                            lastOKPingMsAgo: ago(r.lastAvailableTime), announced: r.replicaAnnounced)
            },
            sentinels: m.sentinels.map { p in
                PeerView(runID: p.runID ?? p.name, address: p.address, flags: p.flags,
                         lastHelloMsAgo: ago(p.lastHelloReceivedTime), lastOKPingMsAgo: ago(p.lastAvailableTime),
                         votedLeader: p.leader, votedLeaderEpoch: p.leaderEpoch)
            })
    }

    /// SENTINEL CKQUORUM's verdict: whether it is OK, and its text (`OK 3 usable
    /// Sentinels. ...` or `NOQUORUM ...`). Nil for an unknown master.
    public func quorumCheck(named name: String) -> (ok: Bool, message: String)? {
        guard let m = master(named: name) else { return nil }
        switch checkQuorum(m) {
        case .simpleString(let text): return (true, text)
        case .error(let text): return (false, text)
        default: return (false, "")
        }
    }
}
