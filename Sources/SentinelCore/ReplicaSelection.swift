/// Which replica to promote: none that is down, disconnected, silent for 5 s,
/// unpromotable (priority 0), with INFO older than 5 s (master SDOWN) or 30 s, or
/// that lost its master too long ago; of the rest, the lowest priority, then the
/// largest replication offset, then the smallest run id.
extension Sentinel {

    /// The best replica to promote, or nil. Skips replicas that are down,
    /// disconnected, silent, stale, unpromotable (priority 0) or that lost their
    /// master too long ago; then prefers lower priority, larger replication
    /// offset, and the smaller run id.
    public func selectReplica(_ m: Master) -> Replica? {
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
            if infoIsStale(r, of: m) { return false }
            if r.masterLinkDownTime > maxMasterDownTime { return false }
            return true
        }
        return candidates.min(by: Self.betterForPromotion)
    }

    func infoIsStale(_ r: Replica, of m: Master) -> Bool {
        let validity = m.flags.contains(.sDown) ? 5_000 : timing.infoPeriod *| 3
        return elapsed(since: r.infoRefresh) > validity
    }

    /// True when no replica qualifies now but one may once the INFO we already
    /// asked it for arrives: a promotable, connected replica whose last INFO is
    /// too old. Warden can be elected a few milliseconds after the master went
    /// SDOWN, before the replicas have answered the INFO sent to them then (Redis,
    /// a second or more later, would have the answers).
    func awaitingFreshInfo(_ m: Master) -> Bool {
        m.replicas.contains { r in
            r.flags.isDisjoint(with: [.sDown, .oDown]) && !r.linkDisconnected && r.replicaPriority != 0
                && infoIsStale(r, of: m) && r.commandLink.pending.contains(.info)
        }
    }

    /// The promotion order: true when `a` should be promoted before `b`.
    static func betterForPromotion(_ a: Replica, _ b: Replica) -> Bool {
        if a.replicaPriority != b.replicaPriority { return a.replicaPriority < b.replicaPriority }
        if a.replicaReplOffset != b.replicaReplOffset { return a.replicaReplOffset > b.replicaReplOffset }
        switch (a.runID, b.runID) {
        case (nil, nil): return false
        case (nil, _): return false
        case (_, nil): return true
        case (let x?, let y?): return x.lowercased() < y.lowercased()
        }
    }

}
