import RESP

/// The periodic commands every instance gets while its link is up: INFO (masters
/// and replicas), PING, and our hello; and the replies to them.
///
/// How often (docs/architecture.md argues the schedule):
/// - PING every down-after / 10, within [fast-ping-period, ping-period] (100 ms to
///   1 s) and never less often than down-after; every 100 ms while the instance is
///   suspect (a PING unanswered, SDOWN, disconnected) or its master is failing
///   over. A healthy instance with the default down-after of 30 s costs what
///   redis-sentinel's 1 s PING costs; SDOWN is seen at most one period after a
///   freeze, and a crash (a closed connection) starts the count at once.
/// - INFO every 10 s; to replicas every second while their master is SDOWN,
///   ODOWN or failing over, or their own link to it is down; every 100 ms to a
///   replica being re-pointed.
/// - A hello every 2 s, about each master, on every instance and to every peer.
extension Sentinel {
    static let maxPendingCommands = 100

    /// The PING period of an instance now (see the type's documentation).
    func pingPeriod(_ ri: Instance) -> Millis {
        let fast = min(ri.downAfter, timing.fastPingPeriod)
        let m = ri.owningMaster
        let suspect = ri.link.activePingTime != 0 || ri.flags.contains(.sDown) || ri.linkDisconnected
            || m.flags.contains(.failoverInProgress)
            || !ri.flags.isDisjoint(with: [.reconfSent, .reconfInProgress])
        if suspect { return fast }
        return min(ri.downAfter, max(fast, min(timing.pingPeriod, ri.downAfter / 10)))
    }

    /// The PING period of a link: that of its user, or for a peer's link shared by
    /// its entries under several masters the shortest of theirs.
    func pingPeriod(_ link: InstanceLink) -> Millis {
        var period = Millis.max
        for u in link.users { period = min(period, pingPeriod(u.instance)) }
        return period
    }

    /// Whether `ri` looks after its link's PINGs: its first user does (a master or
    /// replica is the only user of its link), so that a PING due on a peer's link
    /// brings one entry to the agenda, not one per master.
    func pingsLink(_ ri: Instance) -> Bool {
        ri.link.users.first?.instance === ri
    }

    /// The INFO period of a master or replica now.
    func infoPeriod(_ node: DataNode) -> Millis {
        guard let r = node as? Replica else { return timing.infoPeriod }
        if !r.flags.isDisjoint(with: [.reconfSent, .reconfInProgress]) {
            return min(timing.infoPeriod, timing.reconfInfoPeriod)
        }
        if !r.master.flags.isDisjoint(with: [.sDown, .oDown, .failoverInProgress]) || r.masterLinkDownTime != 0 {
            return min(timing.infoPeriod, timing.replicaInfoPeriod)
        }
        return timing.infoPeriod
    }

    func sendPeriodicCommands(_ ri: Instance) {
        guard ri.commandLink.connected else { return }
        guard ri.pendingCommands < Self.maxPendingCommands else { return }

        if let node = ri as? DataNode, node.infoRefresh == 0 || elapsed(since: node.infoRefresh) > infoPeriod(node) {
            requestInfo(node)
        }
        if pingsLink(ri) {
            let period = pingPeriod(ri.link)
            if elapsed(since: ri.lastPongTime) > period && elapsed(since: ri.lastPingTime) > period / 2 {
                sendPing(ri)
            }
        }
        if elapsed(since: ri.lastHelloSentTime) > timing.publishPeriod
            && !ri.commandLink.pending.contains(.publishHello(master: ri.owningMaster.name)) {
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
        let masterAddr = announced(currentMasterAddress(m))
        let hello = Hello(
            sentinelAddress: Address(ip, settings.helloPort),
            runID: myID, currentEpoch: currentEpoch, masterName: m.name,
            masterAddress: masterAddr, masterConfigEpoch: m.configEpoch)
        return send(ri, [mapped(ri, "PUBLISH"), Timing.helloChannel, hello.payload],
                    expect: .publishHello(master: m.name))
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
        for ri in everyone where !ri.commandLink.pending.contains(.publishHello(master: m.name)) {
            sendHello(ri)
        }
    }

    // MARK: - Replies

    func linkReply(_ id: LinkID, _ value: RESPValue) {
        guard let owner = linkOwners[id] else { return }
        let link = owner.link
        if owner.isPubSub {
            link.pubsub.lastActivity = now
            let isMessage = value.elements?.first?.string == "message"
            guard !isMessage, !link.pubsub.pending.isEmpty else { return receivePubSub(value) }
            // An instance that refuses our SUBSCRIBE (wrong or missing password,
            // an ACL without the channel) gets its Pub/Sub link dropped and retried,
            // so it shows as disconnected, as redis-sentinel's does.
            if link.pubsub.pending.removeFirst() == .subscribe, value.isError,
               let ri = link.users.first?.instance {
                log(.verbose, "Pub/Sub link of \(ri.name) refused SUBSCRIBE: \(value.string ?? "")")
                closeLink(ri, pubsub: true)
            }
            return
        }
        guard !link.command.pending.isEmpty else { return }
        let what = link.command.pending.removeFirst()
        switch what {
        case .discard, .exec, .subscribe:
            break
        case .ping:
            pingReply(link, value)
        case .info:
            if let node = link.users.first?.instance as? DataNode, let text = value.string {
                refreshInfo(node, text)
            }
        case .publishHello(let name):
            if !value.isError, let ri = user(of: link, master: name) { ri.lastHelloSentTime = now }
        case .isMasterDown(let name, let voteEpoch):
            if let peer = user(of: link, master: name) as? Peer {
                isMasterDownReply(from: peer, masterName: name, voteEpoch: voteEpoch, value)
            }
        case .switchoverExec(let name):
            if let m = user(of: link, master: name) as? Master { switchoverExecReply(m, value) }
        case .forget(let name, let what):
            if let peer = user(of: link, master: name) as? Peer {
                forgetReply(from: peer, what: what, value)
            }
        }
    }

    /// The instance using `link` that belongs to the master named `name`.
    func user(of link: InstanceLink, master name: String) -> Instance? {
        link.users.first { $0.instance.owningMaster.name == name }?.instance
    }

    /// A reply to PING: PONG, LOADING and MASTERDOWN are valid. A BUSY instance
    /// that is SDOWN gets one SCRIPT KILL per SDOWN period.
    func pingReply(_ link: InstanceLink, _ value: RESPValue) {
        link.lastPongTime = now
        let text: String
        switch value {
        case .simpleString(let s): text = s
        case .error(let s): text = s
        default: return
        }
        if text.hasPrefix("PONG") || text.hasPrefix("LOADING") || text.hasPrefix("MASTERDOWN") {
            link.lastAvailableTime = now
            link.activePingTime = 0
            for u in link.users {
                let ri = u.instance
                if ri.flags.contains(.masterReboot) && text.hasPrefix("PONG") {
                    ri.flags.remove(.masterReboot)
                }
                // -sdown is decided at its next look.
                if ri.flags.contains(.sDown) { wake(ri) }
            }
            // The look planned while the PING was pending (for a suspect link, soon)
            // moves to the next PING's time.
            if let first = link.users.first?.instance { agenda.replan(first, at: nextLook(first), now: now) }
        } else if text.hasPrefix("BUSY"), let ri = link.users.first?.instance as? DataNode,
                  ri.flags.contains(.sDown), !ri.flags.contains(.scriptKillSent) {
            send(ri, [mapped(ri, "SCRIPT"), "KILL"], expect: .discard)
            ri.flags.insert(.scriptKillSent)
        }
    }

    /// A message on a Pub/Sub link: only hellos from other sentinels matter.
    func receivePubSub(_ value: RESPValue) {
        guard let parts = value.elements, parts.count == 3,
              parts[0].string == "message", let payload = parts[2].string else { return }
        // Our own hellos come back too: skipped by the run id field before any
        // parsing (Redis looks for its id anywhere in the payload, a costly
        // substring search).
        guard !Hello.isSent(by: myID, payload) else { return }
        processHello(payload)
    }

}
