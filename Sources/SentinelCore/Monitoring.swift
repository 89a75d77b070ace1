/// Watching instances: SDOWN, ODOWN, TILT, INFO and hello processing, discovery,
/// and the instance table (add, reset, switch address, persist).
extension Sentinel {

    // MARK: - Events

    /// `%@` in Redis's event formats: `<type> <name> <ip> <port>`, plus
    /// ` @ <master> <ip> <port>` for replicas and sentinels.
    func describe(_ ri: Instance) -> String {
        var s = "\(ri.typeName) \(ri.name) \(ri.address.host) \(ri.address.port)"
        if let m = ri.master {
            s += " @ \(m.name) \(m.address.host) \(m.address.port)"
        }
        return s
    }

    /// An event about an instance (`%@` followed by `extra`).
    func emit(_ level: LogLevel, _ name: String, _ ri: Instance, extra: String = "") {
        publish(Event(level: level, name: name, payload: describe(ri) + extra), master: ri.owningMaster)
    }

    /// An event with a free-form payload, about a master (for its notification script).
    func emit(_ level: LogLevel, _ name: String, payload: String, master: Instance) {
        publish(Event(level: level, name: name, payload: payload), master: master)
    }

    /// An event about no instance (+tilt, -tilt).
    func emitGlobal(_ level: LogLevel, _ name: String, _ payload: String) {
        out.append(.event(Event(level: level, name: name, payload: payload)))
    }

    private func publish(_ event: Event, master: Instance) {
        out.append(.event(event))
        // Warnings also go to the master's notification script, as in Redis.
        if event.level == .warning, let script = master.settings?.notificationScript {
            scheduleScript(path: script, args: [event.name, event.payload])
        }
    }

    // MARK: - SDOWN

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

        let notAnswering = unanswered > ri.downAfter
        let masterClaimsReplica = ri.isMaster && ri.roleReported == .replica
            && elapsed(since: ri.roleReportedTime) > ri.downAfter +| timing.infoPeriod *| 2
        let rebooted = ri.flags.contains(.masterReboot)
            && elapsed(since: ri.masterRebootSince) > (ri.owningMaster.settings?.masterRebootDownAfterPeriod ?? 0)
        if notAnswering || masterClaimsReplica || rebooted {
            if !ri.flags.contains(.sDown) {
                emit(.warning, "+sdown", ri)
                ri.sDownSince = now
                ri.flags.insert(.sDown)
                if ri.isMaster { masterWentSubjectivelyDown(ri) }
            }
        } else if ri.flags.contains(.sDown) {
            emit(.warning, "-sdown", ri)
            ri.flags.remove([.sDown, .scriptKillSent])
        }
    }

    /// Warden: the moment the master looks down, refresh what we know of its
    /// replicas (a failover will need it) and ask the peers at once.
    func masterWentSubjectivelyDown(_ m: Instance) {
        m.replicas.forEach(requestInfo)
        askMasterStateToOtherSentinels(m, forced: true)
    }

    // MARK: - ODOWN

    /// ODOWN: we see the master down and enough peers said so recently.
    func checkObjectivelyDown(_ m: Instance) {
        var votes = 0
        var down = false
        if m.flags.contains(.sDown) {
            votes = 1
            for s in m.sentinels where s.flags.contains(.masterDown) { votes += 1 }
            down = votes >= m.quorum
        }
        if down {
            if !m.flags.contains(.oDown) {
                emit(.warning, "+odown", m, extra: " #quorum \(votes)/\(m.quorum)")
                m.flags.insert(.oDown)
                m.oDownSince = now
            }
        } else if m.flags.contains(.oDown) {
            emit(.warning, "-odown", m)
            m.flags.remove(.oDown)
        }
    }

    // MARK: - INFO

    func refreshInfo(_ ri: Instance, _ text: String) {
        let info = InfoReport.parse(text)
        ri.cachedInfo = text
        ri.masterLinkDownTime = 0

        if let runID = info.runID {
            if let old = ri.runID, old != runID {
                emit(.notice, "+reboot", ri)
                if ri.isMaster, let period = ri.settings?.masterRebootDownAfterPeriod, period != 0 {
                    ri.flags.insert(.masterReboot)
                    ri.masterRebootSince = now
                }
            }
            ri.runID = runID
        }
        if ri.isMaster {
            for line in info.replicas where lookupReplica(ri, Address(line.ip, line.port)) == nil {
                if let r = addReplica(to: ri, Address(line.ip, line.port)) {
                    emit(.notice, "+slave", r)
                    changed()
                }
            }
        }
        if let down = info.masterLinkDownSinceSeconds {
            ri.masterLinkDownTime = down *| 1000
        }
        let role = info.role
        if role == .replica {
            if let host = info.masterHost, host.lowercased() != ri.replicaMasterHost?.lowercased() {
                ri.replicaMasterHost = host
                ri.replicaConfChangeTime = now
            }
            if let port = info.masterPort, port != ri.replicaMasterPort {
                ri.replicaMasterPort = port
                ri.replicaConfChangeTime = now
            }
            if let up = info.masterLinkUp { ri.replicaMasterLinkUp = up }
            if let p = info.replicaPriority { ri.replicaPriority = p }
            if let o = info.replicaReplOffset { ri.replicaReplOffset = o }
            if let a = info.replicaAnnounced { ri.replicaAnnounced = a }
        }
        ri.infoRefresh = now

        if role != ri.roleReported {
            ri.roleReportedTime = now
            ri.roleReported = role
            if role == .replica { ri.replicaConfChangeTime = now }
            let coherent = (ri.isMaster && role == .master) || (ri.isReplica && role == .replica)
            emit(.verbose, coherent ? "+role-change" : "-role-change", ri,
                 extra: " new reported role is \(role == .master ? "master" : "slave")")
        }

        // Nothing below acts while in TILT.
        guard mayAct else { return }
        guard ri.isReplica, let m = ri.master else { return }

        if role == .master {
            if ri.flags.contains(.promoted), m.flags.contains(.failoverInProgress),
               m.failoverState == .waitPromotion {
                promotionConfirmed(m, ri)
            } else {
                // A replica turned master on its own: once our master looks sane and
                // things have been quiet for a while, turn it back into a replica.
                let wait = timing.publishPeriod *| 4
                if !ri.flags.contains(.promoted), masterLooksSane(m), noDown(ri, for: wait),
                   elapsed(since: ri.roleReportedTime) > wait {
                    if sendReplicaOf(ri, m.address) {
                        emit(.notice, "+convert-to-slave", ri)
                    }
                }
            }
        }

        // A replica replicating from the wrong address.
        if role == .replica,
           ri.replicaMasterPort != m.address.port || !sameHost(m.address.host, ri.replicaMasterHost) {
            let wait = m.settings?.failoverTimeout ?? timing.defaultFailoverTimeout
            if masterLooksSane(m), noDown(ri, for: wait), elapsed(since: ri.replicaConfChangeTime) > wait {
                if sendReplicaOf(ri, m.address) {
                    emit(.notice, "+fix-slave-config", ri)
                }
            }
        }

        // A replica being moved to the promoted one during a failover.
        if role == .replica, ri.flags.contains(.reconfSent) || ri.flags.contains(.reconfInProgress),
           let promoted = m.promotedReplica {
            if ri.flags.contains(.reconfSent), sameHost(promoted.address.host, ri.replicaMasterHost),
               ri.replicaMasterPort == promoted.address.port {
                ri.flags.remove(.reconfSent)
                ri.flags.insert(.reconfInProgress)
                emit(.notice, "+slave-reconf-inprog", ri)
            }
            if ri.flags.contains(.reconfInProgress), ri.replicaMasterLinkUp {
                ri.flags.remove(.reconfInProgress)
                ri.flags.insert(.reconfDone)
                emit(.notice, "+slave-reconf-done", ri)
            }
        }
    }

    func sameHost(_ a: String, _ b: String?) -> Bool {
        guard let b else { return false }
        return a.lowercased() == b.lowercased()
    }

    /// Our master is a master, says so itself, is not down, and its INFO is fresh.
    func masterLooksSane(_ m: Instance) -> Bool {
        m.isMaster && m.roleReported == .master && !m.flags.contains(.sDown)
            && !m.flags.contains(.oDown) && elapsed(since: m.infoRefresh) < timing.infoPeriod *| 2
    }

    /// No SDOWN or ODOWN began in the last `ms` milliseconds.
    func noDown(_ ri: Instance, for ms: Millis) -> Bool {
        let recent = max(ri.sDownSince, ri.oDownSince)
        return recent == 0 || elapsed(since: recent) > ms
    }

    // MARK: - Hello

    /// A hello from another sentinel, via a master's or replica's Pub/Sub channel
    /// or PUBLISHed to us directly: learn the sender, adopt a newer epoch, and
    /// follow a master address with a newer config epoch.
    func processHello(_ payload: String) {
        guard let hello = Hello.parse(payload), hello.runID != myID,
              let m = master(named: hello.masterName) else { return }
        let epoch = max(hello.currentEpoch, hello.masterConfigEpoch)
        guard epoch <= Epoch.adoptionLimit(current: currentEpoch) else {
            refusedEpoch("a hello from \(hello.runID) at \(hello.sentinelAddress)", epoch: String(epoch))
            return
        }

        var si = m.sentinels.first { $0.address == hello.sentinelAddress && $0.runID == hello.runID }
        if si == nil {
            // Same runid at a new address: the sentinel moved.
            let moved = removeSentinels(from: m, runID: hello.runID)
            if moved {
                emit(.notice, "+sentinel-address-switch", m,
                     extra: " ip \(hello.sentinelAddress.host) port \(hello.sentinelAddress.port) for \(hello.runID)")
            } else if let other = m.sentinels.first(where: { $0.address == hello.sentinelAddress }) {
                // Another runid at this address: the old one is gone, everywhere.
                emit(.notice, "+sentinel-invalid-addr", other)
                let obsolete = other.runID
                for master in masters { _ = removeSentinels(from: master, runID: obsolete) }
            }
            si = addSentinel(to: m, runID: hello.runID, address: hello.sentinelAddress)
            if let si {
                if !moved { emit(.notice, "+sentinel", si) }
                if moved { updateSentinelAddressEverywhere(runID: hello.runID, address: hello.sentinelAddress) }
                changed()
            }
        }

        if hello.currentEpoch > currentEpoch {
            currentEpoch = hello.currentEpoch
            changed()
            emit(.warning, "+new-epoch", payload: "\(currentEpoch)", master: m)
        }

        if let si, m.configEpoch < hello.masterConfigEpoch {
            m.configEpoch = hello.masterConfigEpoch
            // A failover of ours from an older epoch (say one frozen by TILT) is
            // superseded: left running it would later switch to its own promoted
            // replica under this newer config epoch, and the sentinels would
            // disagree for good when the newer config kept the same address.
            if m.flags.contains(.failoverInProgress), m.failoverEpoch < hello.masterConfigEpoch {
                log(.warning, "Failover of \(m.name) in epoch \(m.failoverEpoch) superseded by config epoch \(hello.masterConfigEpoch)")
                abortFailover(m)
            }
            if hello.masterAddress != m.address {
                emit(.warning, "+config-update-from", si)
                let old = m.address
                emit(.warning, "+switch-master",
                     payload: "\(m.name) \(old.host) \(old.port) \(hello.masterAddress.host) \(hello.masterAddress.port)",
                     master: m)
                resetMasterAndChangeAddress(m, to: hello.masterAddress)
                callClientReconfigScript(m, role: "observer", state: "start", from: old, to: m.address)
            }
            changed()
        }
        si?.lastHelloReceivedTime = now
    }

    /// A message carried an epoch beyond `Epoch.adoptionLimit`: it is ignored (a
    /// hello) or answered without a vote. Logged at most once per 10 s, with the
    /// count, since a forged stream of them would otherwise flood the log.
    func refusedEpoch(_ what: String, epoch: String) {
        refusedEpochs.count += 1
        guard refusedEpochs.lastLog == 0 || elapsed(since: refusedEpochs.lastLog) >= 10_000 else { return }
        log(.warning, "Ignored \(refusedEpochs.count) message(s) with an epoch above \(Epoch.adoptionLimit(current: currentEpoch)), the largest this sentinel adopts now; the last one: \(what) with epoch \(epoch)")
        refusedEpochs = (0, now)
    }

    // MARK: - The instance table

    /// Adds a master from its config block (monitor line and everything persisted).
    @discardableResult
    func addMaster(_ c: MasterConfig) -> Instance {
        let m = Instance(kind: .master, name: c.name, address: c.address, master: nil,
                         downAfter: c.downAfter, now: now)
        m.quorum = c.quorum
        m.settings = c
        m.configEpoch = c.configEpoch
        m.leaderEpoch = c.leaderEpoch
        m.durableLeaderEpoch = c.leaderEpoch
        masters.append(m)
        for a in c.knownReplicas where lookupReplica(m, a) == nil {
            addReplica(to: m, a)
        }
        for s in c.knownSentinels where s.runID != myID {
            addSentinel(to: m, runID: s.runID, address: s.address)
        }
        m.settings?.knownReplicas = []
        m.settings?.knownSentinels = []
        return m
    }

    func lookupReplica(_ m: Instance, _ a: Address) -> Instance? {
        m.replicas.first { $0.address == a }
    }

    @discardableResult
    func addReplica(to m: Instance, _ a: Address) -> Instance? {
        guard a.port > 0, a.port < 65536, lookupReplica(m, a) == nil else { return nil }
        let r = Instance(kind: .replica, name: a.description, address: a, master: m,
                         downAfter: m.downAfter, now: now)
        m.replicas.append(r)
        return r
    }

    @discardableResult
    func addSentinel(to m: Instance, runID: String, address: Address) -> Instance? {
        guard address.port > 0, address.port < 65536,
              !m.sentinels.contains(where: { $0.runID == runID }) else { return nil }
        let s = Instance(kind: .sentinel, name: runID, address: address, master: m,
                         downAfter: m.downAfter, now: now)
        s.runID = runID
        m.sentinels.append(s)
        return s
    }

    func removeSentinels(from m: Instance, runID: String?) -> Bool {
        let gone = m.sentinels.filter { $0.runID == runID }
        gone.forEach(releaseInstance)
        m.sentinels.removeAll { $0.runID == runID }
        return !gone.isEmpty
    }

    func updateSentinelAddressEverywhere(runID: String, address: Address) {
        for m in masters {
            for s in m.sentinels where s.runID == runID && s.address != address {
                closeLinks(s)
                s.address = address
            }
        }
    }

    /// SENTINEL RESET and address switches: forget replicas (and, unless told
    /// otherwise, sentinels), drop the links and every failover state.
    func resetMaster(_ m: Instance, keepSentinels: Bool = false, event: Bool = false) {
        m.replicas.forEach(releaseInstance)
        m.replicas = []
        if !keepSentinels {
            m.sentinels.forEach(releaseInstance)
            m.sentinels = []
        }
        closeLinks(m)
        m.flags = [.master, .disconnected]
        m.leader = nil
        m.failoverState = .none
        m.failoverStateChangeTime = 0
        m.failoverStartTime = 0
        m.failoverNotBefore = 0
        m.promotedReplica = nil
        m.runID = nil
        m.replicaMasterHost = nil
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
    func resetMasterAndChangeAddress(_ m: Instance, to newAddress: Address) {
        var replicaAddresses = m.replicas.map(\.address).filter { $0 != newAddress }
        if newAddress != m.address { replicaAddresses.append(m.address) }
        resetMaster(m, keepSentinels: true)
        m.address = newAddress
        m.settings?.address = newAddress
        m.oDownSince = 0
        m.sDownSince = 0
        for a in replicaAddresses {
            if let r = addReplica(to: m, a) {
                emit(.notice, "+slave", r)
            }
        }
        changed()
    }

    // MARK: - Persisted state

    /// Everything to write to sentinel.conf now: the loaded settings plus the state
    /// learned since (myid, epochs, known replicas and sentinels).
    public func configSnapshot() -> SentinelConfig {
        var c = settings
        c.myid = myID
        c.currentEpoch = currentEpoch
        c.masters = masters.map { m in
            var mc = m.settings!
            // Once a promotion is confirmed the saved config epoch is the new
            // one, so the saved address must be the promoted replica's, with the
            // old master among the replicas (as Redis writes it). Otherwise a
            // restart in the middle of reconfiguring the replicas would bring
            // back the old address under the new config epoch, which no hello
            // can ever correct.
            let current = currentMasterAddress(m)
            mc.address = current
            mc.quorum = m.quorum
            mc.configEpoch = m.configEpoch
            mc.leaderEpoch = m.leaderEpoch
            mc.knownReplicas = m.replicas.map { $0.address == current ? m.address : $0.address }
            mc.knownSentinels = m.sentinels.compactMap { s in
                s.runID.map { KnownSentinel(address: s.address, runID: $0) }
            }
            return mc
        }
        return c
    }
}
