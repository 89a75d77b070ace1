/// Which replica to promote: none that is down, disconnected, silent for 5 s,
/// unpromotable (priority 0), with INFO older than 5 s (master SDOWN) or 30 s, or
/// that lost its master too long ago; of the rest, the lowest priority, then the
/// largest replication offset, then the smallest run id.
///
/// Warden's lag guard (`max-promotion-lag`, off by default): a candidate more than
/// that many bytes behind is passed over while one within it exists. The yardstick
/// is the larger of the master's last reported `master_repl_offset` and the
/// largest `slave_repl_offset` among the candidates (data a candidate has was
/// written, whatever the master's last INFO said).
extension Sentinel {

    /// The outcome of choosing: the best replica within the lag guard, or the
    /// best one there is when every candidate lags beyond it, or none at all.
    enum ReplicaChoice {
        case chosen(Replica)
        case lagging(Replica)
        case none
    }

    /// The best replica to promote, with the lag guard applied.
    func chooseReplica(_ m: Master) -> ReplicaChoice {
        let candidates = promotionCandidates(m)
        guard let best = candidates.min(by: Self.betterForPromotion) else { return .none }
        let limit = m.settings.maxPromotionLag
        guard limit > 0 else { return .chosen(best) }
        let yardstick = promotionYardstick(m, candidates)
        let caughtUp = candidates.filter { Self.promotionLag($0, yardstick) <= limit }
        if let r = caughtUp.min(by: Self.betterForPromotion) { return .chosen(r) }
        return .lagging(best)
    }

    /// The offset replicas are measured against (see the type's documentation).
    func promotionYardstick(_ m: Master, _ candidates: [Replica]) -> Int64 {
        let replicas = candidates.map(\.replicaReplOffset).max() ?? 0
        return max(m.lastMasterReplOffset ?? replicas, replicas)
    }

    /// How many bytes `r` is behind `yardstick`; never negative, never overflowing
    /// (offsets come from INFO and may be anything).
    static func promotionLag(_ r: Replica, _ yardstick: Int64) -> Int64 {
        max(0, yardstick -| r.replicaReplOffset)
    }

    /// The best replica to promote, or nil. Skips replicas that are down,
    /// disconnected, silent, stale, unpromotable (priority 0) or that lost their
    /// master too long ago, and those beyond the lag guard; then prefers lower
    /// priority, larger replication offset, and the smaller run id.
    public func selectReplica(_ m: Master) -> Replica? {
        if case .chosen(let r) = chooseReplica(m) { return r }
        return nil
    }

    /// The replicas that may be promoted at all (before the lag guard).
    func promotionCandidates(_ m: Master) -> [Replica] {
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
        return candidates
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
