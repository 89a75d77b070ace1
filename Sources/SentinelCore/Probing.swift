import RESP

/// The periodic commands every instance gets while its link is up: INFO (masters
/// and replicas), PING, and our hello; and the replies to them. Periods are in
/// `Timing`.
extension Sentinel {
    static let maxPendingCommands = 100

    func sendPeriodicCommands(_ ri: Instance) {
        guard ri.commandLink.connected else { return }
        guard ri.pendingCommands < Self.maxPendingCommands else { return }

        if let node = ri as? DataNode {
            var period = node is Replica ? timing.replicaInfoPeriod : timing.infoPeriod
            if !node.flags.isDisjoint(with: [.reconfSent, .reconfInProgress]) {
                period = min(period, timing.reconfInfoPeriod)
            }
            if node.infoRefresh == 0 || elapsed(since: node.infoRefresh) > period {
                requestInfo(node)
            }
        }
        let pingPeriod = min(ri.downAfter, timing.pingPeriod)
        if elapsed(since: ri.lastPongTime) > pingPeriod && elapsed(since: ri.lastPingTime) > pingPeriod / 2 {
            sendPing(ri)
        }
        if elapsed(since: ri.lastHelloSentTime) > timing.publishPeriod
            && !ri.commandLink.pending.contains(.publishHello) {
            sendHello(ri)
        }
    }

    /// Sends INFO now unless one is already on its way (Warden polls out of period
    /// when a failover is waiting for news from an instance).
    func requestInfo(_ ri: Instance) {
        guard ri.commandLink.connected, !ri.commandLink.pending.contains(.info) else { return }
        send(ri, [mapped(ri, "INFO")], expect: .info)
    }

    func sendPing(_ ri: Instance) {
        guard send(ri, [mapped(ri, "PING")], expect: .ping) else { return }
        ri.lastPingTime = now
        if ri.activePingTime == 0 { ri.activePingTime = now }
    }

    /// PUBLISHes our hello (who we are, our epoch, and our view of the master) to
    /// the instance: masters and replicas relay it on `__sentinel__:hello`, peer
    /// sentinels process it directly.
    @discardableResult
    func sendHello(_ ri: Instance) -> Bool {
        guard ri.commandLink.connected else { return false }
        guard let ip = settings.announceIP ?? ri.commandLink.localHost else { return false }
        let m = ri.owningMaster
        let masterAddr = currentMasterAddress(m)
        let hello = Hello(
            sentinelAddress: Address(ip, settings.announcePort != 0 ? settings.announcePort : settings.port),
            runID: myID, currentEpoch: currentEpoch, masterName: m.name,
            masterAddress: masterAddr, masterConfigEpoch: m.configEpoch)
        return send(ri, [mapped(ri, "PUBLISH"), Timing.helloChannel, hello.payload], expect: .publishHello)
    }

    /// Makes the next tick send hellos for this master to every instance at once
    /// (after a promotion or a configuration change).
    func forceHelloUpdate(_ m: Master) {
        m.lastHelloSentTime = 0
        for r in m.replicas { r.lastHelloSentTime = 0 }
        for s in m.sentinels { s.lastHelloSentTime = 0 }
    }

    /// Sends hellos for this master to every peer and instance right now.
    func broadcastHello(_ m: Master) {
        forceHelloUpdate(m)
        let everyone: [Instance] = [m] + m.replicas + m.sentinels
        for ri in everyone where !ri.commandLink.pending.contains(.publishHello) {
            sendHello(ri)
        }
    }

    // MARK: - Replies

    func linkReply(_ id: LinkID, _ value: RESPValue) {
        guard let owner = linkOwners[id] else { return }
        let ri = owner.instance
        if owner.isPubSub {
            ri.pubsubLink.lastActivity = now
            receivePubSub(ri, value)
            return
        }
        guard !ri.commandLink.pending.isEmpty else { return }
        let what = ri.commandLink.pending.removeFirst()
        switch what {
        case .discard, .exec:
            break
        case .ping:
            pingReply(ri, value)
        case .info:
            if let node = ri as? DataNode, let text = value.string {
                refreshInfo(node, text)
            }
        case .publishHello:
            if !value.isError { ri.lastHelloSentTime = now }
        case .isMasterDown(let masterName):
            if let peer = ri as? Peer { isMasterDownReply(from: peer, masterName: masterName, value) }
        }
    }

    func pingReply(_ ri: Instance, _ value: RESPValue) {
        let text: String
        switch value {
        case .simpleString(let s): text = s
        case .error(let s): text = s
        default:
            ri.lastPongTime = now
            return
        }
        if text.hasPrefix("PONG") || text.hasPrefix("LOADING") || text.hasPrefix("MASTERDOWN") {
            ri.lastAvailableTime = now
            ri.activePingTime = 0
            if ri.flags.contains(.masterReboot) && text.hasPrefix("PONG") {
                ri.flags.remove(.masterReboot)
            }
        } else if text.hasPrefix("BUSY") && ri.flags.contains(.sDown) && !ri.flags.contains(.scriptKillSent) {
            // The instance is stuck in a script: one SCRIPT KILL per SDOWN period.
            send(ri, [mapped(ri, "SCRIPT"), "KILL"], expect: .discard)
            ri.flags.insert(.scriptKillSent)
        }
        ri.lastPongTime = now
    }

    /// A message on a Pub/Sub link: only hellos from other sentinels matter.
    func receivePubSub(_ ri: Instance, _ value: RESPValue) {
        guard let parts = value.elements, parts.count == 3,
              parts[0].string == "message", let payload = parts[2].string else { return }
        if payload.contains(myID) { return }
        processHello(payload)
    }

}
