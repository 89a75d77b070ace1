import RESP
import WardenCrypto

/// Connections to instances: each master and replica has a command link and a
/// Pub/Sub link (subscribed to the hello channel); each peer sentinel one command
/// link, shared by its entries under every master (`InstanceLink`). A link that is
/// down is reopened at most once per reconnect period; on connect the handshake is
/// AUTH (when set), CLIENT SETNAME, then PING (command link) or SUBSCRIBE (Pub/Sub
/// link). Each command link keeps a FIFO of what its pending replies answer
/// (`PendingReply`).
extension Sentinel {
    func newLink(for link: InstanceLink, pubsub: Bool) -> LinkID {
        nextLinkNumber += 1
        let id = LinkID(nextLinkNumber)
        linkOwners[id] = LinkOwner(link: link, isPubSub: pubsub)
        return id
    }

    /// Opens whichever links of the instance are down, at most once per reconnect period.
    func reconnect(_ ri: Instance) {
        guard ri.address.port != 0 else { return }
        let link = ri.link
        let needsCommand = link.command.id == nil
        let needsPubSub = !link.isPeerLink && link.pubsub.id == nil
        guard needsCommand || needsPubSub else { return }
        guard elapsed(since: link.command.lastReconnectAttempt) >= timing.reconnectPeriod else { return }
        link.command.lastReconnectAttempt = now
        // A name may have moved to another IP meanwhile.
        requestResolution(ri.address.host)
        if needsCommand {
            let id = newLink(for: link, pubsub: false)
            link.command.id = id
            link.command.pending = []
            out.append(.connect(id, ri.address))
        }
        if needsPubSub {
            let id = newLink(for: link, pubsub: true)
            link.pubsub.id = id
            out.append(.connect(id, ri.address))
        }
    }

    func linkConnected(_ id: LinkID, localHost: String) {
        guard let owner = linkOwners[id], let ri = owner.link.users.first?.instance else { return }
        let link = owner.link
        if owner.isPubSub {
            link.pubsub.connected = true
            link.pubsub.connectedAt = now
            link.pubsub.lastActivity = now
            link.pubsub.localHost = localHost
            sendAuthIfNeeded(ri, id, pubsub: true)
            send(link, id, [mapped(ri, "CLIENT"), "SETNAME", clientName(pubsub: true)], expect: .discard, pubsub: true)
            send(link, id, [mapped(ri, "SUBSCRIBE"), Timing.helloChannel], expect: .subscribe, pubsub: true)
        } else {
            link.command.connected = true
            link.command.connectedAt = now
            link.command.localHost = localHost
            sendAuthIfNeeded(ri, id, pubsub: false)
            send(link, id, [mapped(ri, "CLIENT"), "SETNAME", clientName(pubsub: false)], expect: .discard)
            sendPing(ri)
        }
        wakeUsers(of: link)
    }

    func linkDropped(_ id: LinkID) {
        guard let owner = linkOwners.removeValue(forKey: id) else { return }
        reset(owner.link, pubsub: owner.isPubSub)
    }

    /// Closes both links of an instance (they are reopened when it is next looked at).
    func closeLinks(_ ri: Instance) {
        closeLink(ri, pubsub: false)
        closeLink(ri, pubsub: true)
    }

    func closeLink(_ ri: Instance, pubsub: Bool) {
        let link = ri.link
        guard let id = pubsub ? link.pubsub.id : link.command.id else { return }
        linkOwners[id] = nil
        out.append(.close(id))
        reset(link, pubsub: pubsub)
    }

    /// A connection of the link is gone. While it is down, SDOWN counts from the
    /// last valid reply (or the oldest unanswered PING), as in Redis.
    private func reset(_ link: InstanceLink, pubsub: Bool) {
        if pubsub {
            link.pubsub = LinkState(lastReconnectAttempt: link.pubsub.lastReconnectAttempt)
        } else {
            link.command = LinkState(lastReconnectAttempt: link.command.lastReconnectAttempt)
        }
        wakeUsers(of: link)
    }

    /// Forgets an instance entirely: it stops using its link (closed when nobody
    /// uses it any more) and is never reported again.
    func releaseInstance(_ ri: Instance) {
        if let m = ri as? Master {
            m.replicas.forEach(releaseInstance)
            m.sentinels.forEach(releaseInstance)
        }
        detach(ri)
        ri.dueSerial = 0
        ri.released = true
    }

    /// `ri` stops using its link, which is closed when nobody uses it any more.
    func detach(_ ri: Instance) {
        let link = ri.link
        let wasFirst = link.users.first?.instance === ri
        link.users.removeAll { $0.instance === ri }
        if let first = link.users.first?.instance {
            // The next entry takes over the link's PINGs (`pingsLink`).
            if wasFirst { wake(first) }
            return
        }
        closeLinks(ri)
        if let peer = ri as? Peer { peerLinks[PeerKey(peer)] = nil }
    }

    /// The link a new entry for the peer `runID` at `address` uses: the one its
    /// entries under other masters already use, or a new one.
    func peerLink(runID: String, address: Address) -> InstanceLink {
        let key = PeerKey(runID: runID, address: address)
        if let link = peerLinks[key] { return link }
        let link = InstanceLink(peer: true, now: now)
        peerLinks[key] = link
        return link
    }

    func clientName(pubsub: Bool) -> String {
        "sentinel-\(myID.prefix(8))-\(pubsub ? "pubsub" : "cmd")"
    }

    /// A command name as the instance knows it (rename-command of its master).
    func mapped(_ ri: Instance, _ command: String) -> String {
        // Commands to peer sentinels are never renamed.
        guard !(ri is Peer) else { return command }
        let renamed = ri.owningMaster.settings.renamedCommands
        guard !renamed.isEmpty else { return command }
        let lower = command.lowercased()
        for r in renamed where r.original == lower {
            return r.renamed
        }
        return command
    }

    func sendAuthIfNeeded(_ ri: Instance, _ id: LinkID, pubsub: Bool) {
        let user: String?
        let pass: Secret?
        if ri is Peer {
            user = settings.sentinelUser
            pass = settings.sentinelPass
        } else {
            user = ri.owningMaster.settings.authUser
            pass = ri.owningMaster.settings.authPass
        }
        guard let pass else { return }
        var args = [Array(mapped(ri, "AUTH").utf8)]
        if let user { args.append(Array(user.utf8)) }
        args.append(pass.bytes)
        send(ri.link, id, RESPCommand(args), expect: .discard, pubsub: pubsub)
    }

    /// Sends a command on the instance's command link and remembers what its reply
    /// will answer. Returns false when the link is down.
    @discardableResult
    func send(_ ri: Instance, _ args: [String], expect: PendingReply) -> Bool {
        guard let id = ri.commandLink.id, ri.commandLink.connected else { return false }
        send(ri.link, id, RESPCommand(args), expect: expect)
        return true
    }

    func send(_ link: InstanceLink, _ id: LinkID, _ args: [String], expect: PendingReply, pubsub: Bool = false) {
        send(link, id, RESPCommand(args), expect: expect, pubsub: pubsub)
    }

    func send(_ link: InstanceLink, _ id: LinkID, _ command: RESPCommand, expect: PendingReply, pubsub: Bool = false) {
        if pubsub { link.pubsub.pending.append(expect) } else { link.command.pending.append(expect) }
        out.append(.send(id, command))
    }
}

/// A peer's link is shared by its entries with the same run id and address.
struct PeerKey: Hashable {
    let runID: String
    let address: Address

    init(runID: String, address: Address) {
        self.runID = runID
        self.address = address
    }

    init(_ peer: Peer) {
        self.init(runID: peer.runID ?? peer.name, address: peer.address)
    }
}

extension LinkState {
    init(lastReconnectAttempt: Millis) {
        self.init()
        self.lastReconnectAttempt = lastReconnectAttempt
    }
}
