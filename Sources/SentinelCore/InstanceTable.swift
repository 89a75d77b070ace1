/// The instance table: masters from the configuration or SENTINEL MONITOR,
/// replicas discovered from INFO, peers from hellos; reset (SENTINEL RESET, a
/// failover's end, a newer configuration) and moving a master to a new address.
extension Sentinel {
    /// Adds a master from its config block (monitor line and everything persisted).
    @discardableResult
    func addMaster(_ c: MasterConfig) -> Master {
        let m = Master(c, now: now)
        masters.append(m)
        wake(m)
        requestResolution(c.address.host)
        for a in c.knownReplicas where lookupReplica(m, a) == nil {
            addReplica(to: m, a)
        }
        for s in c.knownSentinels where s.runID != myID {
            addSentinel(to: m, runID: s.runID, address: s.address)
        }
        return m
    }

    func lookupReplica(_ m: Master, _ a: Address) -> Replica? {
        m.replicas.first { sameAddress($0.address, a) }
    }

    @discardableResult
    func addReplica(to m: Master, _ a: Address) -> Replica? {
        guard a.port > 0, a.port < 65536, acceptableHost(a.host), lookupReplica(m, a) == nil,
              !isForgotten(m, replica: a) else { return nil }
        requestResolution(a.host)
        let r = Replica(a, name: Self.instanceName(announced(a)), of: m, now: now)
        m.replicas.append(r)
        wake(r)
        return r
    }

    @discardableResult
    func addSentinel(to m: Master, runID: String, address: Address) -> Peer? {
        guard address.port > 0, address.port < 65536, acceptableHost(address.host),
              !m.sentinels.contains(where: { $0.runID == runID }) else { return nil }
        requestResolution(address.host)
        let s = Peer(runID: runID, address: address, of: m, link: peerLink(runID: runID, address: address), now: now)
        m.sentinels.append(s)
        wake(s)
        return s
    }

    func removeSentinels(from m: Master, runID: String?) -> Bool {
        let gone = m.sentinels.filter { $0.runID == runID }
        gone.forEach(releaseInstance)
        m.sentinels.removeAll { $0.runID == runID }
        return !gone.isEmpty
    }

    func updateSentinelAddressEverywhere(runID: String, address: Address) {
        for m in masters {
            for s in m.sentinels where s.runID == runID && s.address != address {
                // Off the old address's link, onto the new one's.
                detach(s)
                s.address = address
                s.link = peerLink(runID: runID, address: address)
                s.link.users.append(.init(instance: s))
                wake(s)
            }
        }
    }

    /// SENTINEL RESET and address switches: forget replicas (and, unless told
    /// otherwise, sentinels), drop the links and every failover state.
    func resetMaster(_ m: Master, keepSentinels: Bool = false, event: Bool = false) {
        m.replicas.forEach(releaseInstance)
        m.replicas = []
        if !keepSentinels {
            m.sentinels.forEach(releaseInstance)
            m.sentinels = []
            // RESET starts the membership afresh: tombstones go too.
            m.settings.forgetting.sentinels = []
            m.settings.forgetting.replicas = []
        }
        closeLinks(m)
        m.flags = [.master, .disconnected]
        m.leader = nil
        m.failoverState = .none
        m.failoverStateChangeTime = 0
        m.failoverStartTime = 0
        m.failoverNotBefore = 0
        m.promotedReplica = nil
        m.switchover = nil
        m.lastMasterReplOffset = nil
        m.lagWaitAnnounced = false
        m.allowLaggingPromotion = false
        m.runID = nil
        m.activePingTime = now
        m.lastPingTime = 0
        m.lastAvailableTime = now
        m.lastPongTime = now
        m.roleReportedTime = now
        m.roleReported = .master
        m.infoRefresh = 0
        m.cachedInfo = nil
        if event { emit(.warning, "+reset-master", m) }
    }

    /// The master moved (failover, or a newer config from a peer): same name, new
    /// address; the old address and the other replicas become its replicas.
    func resetMasterAndChangeAddress(_ m: Master, to newAddress: Address) {
        var replicaAddresses = m.replicas.map(\.address).filter { !sameAddress($0, newAddress) }
        if !sameAddress(newAddress, m.address) { replicaAddresses.append(m.address) }
        resetMaster(m, keepSentinels: true)
        m.address = newAddress
        m.settings.address = newAddress
        // A new address is connected at once, not a reconnect period after the
        // last attempt to the old one (which, dead, was being retried).
        m.link.command.lastReconnectAttempt = 0
        m.oDownSince = 0
        m.sDownSince = 0
        for a in replicaAddresses {
            if let r = addReplica(to: m, a) {
                emit(.notice, "+slave", r)
            }
        }
        changed()
    }

    /// The master's address as clients should see it: the promoted replica's once
    /// the failover has reached reconfiguring the other replicas.
    public func currentMasterAddress(_ m: Master) -> Address {
        if m.flags.contains(.failoverInProgress), let p = m.promotedReplica, m.failoverState >= .reconfSlaves {
            return p.address
        }
        return m.address
    }

    /// A replica's name, `host:port` (`[host]:port` for an IPv6 address), as Redis names it.
    static func instanceName(_ a: Address) -> String {
        a.host.contains(":") ? "[\(a.host)]:\(a.port)" : "\(a.host):\(a.port)"
    }

    /// What GET-MASTER-ADDR-BY-NAME answers for `name` (nil: no such master).
    public func masterAddress(named name: String) -> Address? {
        master(named: name).map(currentMasterAddress)
    }
}
