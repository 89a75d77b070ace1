import RESP
import WardenCrypto

/// Connections to instances: each master and replica has a command link and a
/// Pub/Sub link (subscribed to the hello channel), each peer sentinel one command
/// link. A link that is down is reopened at most once per reconnect period; on
/// connect the handshake is AUTH (when set), CLIENT SETNAME, then PING (command
/// link) or SUBSCRIBE (Pub/Sub link). Each command link keeps a FIFO of what its
/// pending replies answer (`PendingReply`).
extension Sentinel {
    func newLink(for ri: Instance, pubsub: Bool) -> LinkID {
        nextLinkNumber += 1
        let id = LinkID(nextLinkNumber)
        linkOwners[id] = LinkOwner(instance: ri, isPubSub: pubsub)
        return id
    }

    /// Opens whichever links of the instance are down, at most once per reconnect period.
    func reconnect(_ ri: Instance) {
        guard ri.address.port != 0 else { return }
        let needsCommand = ri.commandLink.id == nil
        let needsPubSub = !(ri is Peer) && ri.pubsubLink.id == nil
        guard needsCommand || needsPubSub else { return }
        guard elapsed(since: ri.commandLink.lastReconnectAttempt) >= timing.reconnectPeriod else { return }
        ri.commandLink.lastReconnectAttempt = now
        if needsCommand {
            let id = newLink(for: ri, pubsub: false)
            ri.commandLink.id = id
            ri.commandLink.pending = []
            out.append(.connect(id, ri.address))
        }
        if needsPubSub {
            let id = newLink(for: ri, pubsub: true)
            ri.pubsubLink.id = id
            out.append(.connect(id, ri.address))
        }
    }

    func linkConnected(_ id: LinkID, localHost: String) {
        guard let owner = linkOwners[id] else { return }
        let ri = owner.instance
        if owner.isPubSub {
            ri.pubsubLink.connected = true
            ri.pubsubLink.connectedAt = now
            ri.pubsubLink.lastActivity = now
            ri.pubsubLink.localHost = localHost
            sendAuthIfNeeded(ri, id, pubsub: true)
            send(ri, id, [mapped(ri, "CLIENT"), "SETNAME", clientName(pubsub: true)], expect: .discard, pubsub: true)
            send(ri, id, [mapped(ri, "SUBSCRIBE"), Timing.helloChannel], expect: .discard, pubsub: true)
        } else {
            ri.commandLink.connected = true
            ri.commandLink.connectedAt = now
            ri.commandLink.localHost = localHost
            sendAuthIfNeeded(ri, id, pubsub: false)
            send(ri, id, [mapped(ri, "CLIENT"), "SETNAME", clientName(pubsub: false)], expect: .discard)
            sendPing(ri)
        }
        if ri.commandLink.connected && (ri is Peer || ri.pubsubLink.connected) {
            ri.flags.remove(.disconnected)
        }
    }

    func linkDropped(_ id: LinkID) {
        guard let owner = linkOwners.removeValue(forKey: id) else { return }
        let ri = owner.instance
        if owner.isPubSub {
            ri.pubsubLink = LinkState(lastReconnectAttempt: ri.pubsubLink.lastReconnectAttempt)
        } else {
            ri.commandLink = LinkState(lastReconnectAttempt: ri.commandLink.lastReconnectAttempt)
        }
        ri.flags.insert(.disconnected)
    }

    /// Closes both links of an instance (they are reopened by the next tick).
    func closeLinks(_ ri: Instance) {
        closeLink(ri, pubsub: false)
        closeLink(ri, pubsub: true)
    }

    func closeLink(_ ri: Instance, pubsub: Bool) {
        let link = pubsub ? ri.pubsubLink : ri.commandLink
        guard let id = link.id else { return }
        linkOwners[id] = nil
        out.append(.close(id))
        if pubsub {
            ri.pubsubLink = LinkState(lastReconnectAttempt: link.lastReconnectAttempt)
        } else {
            ri.commandLink = LinkState(lastReconnectAttempt: link.lastReconnectAttempt)
        }
        ri.flags.insert(.disconnected)
    }

    /// Forgets an instance entirely: its links are closed and never reported again.
    func releaseInstance(_ ri: Instance) {
        closeLinks(ri)
        if let m = ri as? Master {
            m.replicas.forEach(releaseInstance)
            m.sentinels.forEach(releaseInstance)
        }
    }

    func clientName(pubsub: Bool) -> String {
        "sentinel-\(myID.prefix(8))-\(pubsub ? "pubsub" : "cmd")"
    }

    /// A command name as the instance knows it (rename-command of its master).
    func mapped(_ ri: Instance, _ command: String) -> String {
        // Commands to peer sentinels are never renamed.
        guard !(ri is Peer) else { return command }
        let lower = command.lowercased()
        for r in ri.owningMaster.settings.renamedCommands where r.original == lower {
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
        send(ri, id, RESPCommand(args), expect: .discard, pubsub: pubsub)
    }

    /// Sends a command on the instance's command link (or the given Pub/Sub link)
    /// and remembers what its reply will answer. Returns false when the link is down.
    @discardableResult
    func send(_ ri: Instance, _ args: [String], expect: PendingReply) -> Bool {
        guard let id = ri.commandLink.id, ri.commandLink.connected else { return false }
        send(ri, id, args, expect: expect)
        return true
    }

    func send(_ ri: Instance, _ id: LinkID, _ args: [String], expect: PendingReply, pubsub: Bool = false) {
        send(ri, id, RESPCommand(args), expect: expect, pubsub: pubsub)
    }

    func send(_ ri: Instance, _ id: LinkID, _ command: RESPCommand, expect: PendingReply, pubsub: Bool = false) {
        if !pubsub { ri.commandLink.pending.append(expect) }
        out.append(.send(id, command))
    }

}

extension LinkState {
    init(lastReconnectAttempt: Millis) {
        self.init()
        self.lastReconnectAttempt = lastReconnectAttempt
    }
}
