import RESP

/// A peer sentinel this sentinel has forgotten for one master: a tombstone.
///
/// While it lives, the forgotten run id is not re-added by hellos (stale ones still
/// relayed by a master or a replica, or the peer itself coming back) and gets no
/// vote from us. A tombstone is *confirmed* once every peer that was left in the
/// table when it was made (`awaiting`, by run id) has answered that it applied the
/// same forget, and every older tombstone of the master is confirmed; until then
/// the forgotten sentinel still counts in the majority an election needs (see
/// `electorate`). That is the rule of docs/architecture.md, "Forgetting sentinels
/// safely".
public struct ForgottenSentinel: Equatable, Sendable {
    public var runID: String
    /// Where it was last known to be (for the event and `SENTINEL DEBUG`-style views).
    public var address: Address
    /// Run ids of the peers that must still confirm; empty once all have.
    public var awaiting: [String]
    /// Wall-clock ms when the confirmed tombstone goes; 0 while not confirmed
    /// (an unconfirmed tombstone never expires).
    public var until: Millis

    public init(runID: String, address: Address, awaiting: [String], until: Millis) {
        self.runID = runID
        self.address = address
        self.awaiting = awaiting
        self.until = until
    }
}

/// A replica this sentinel has forgotten: not re-added from a master's INFO (or a
/// failover's end) until `until`. `awaiting`: peers not yet told.
public struct ForgottenReplica: Equatable, Sendable {
    public var address: Address
    public var awaiting: [String]
    public var until: Millis

    public init(address: Address, awaiting: [String], until: Millis) {
        self.address = address
        self.awaiting = awaiting
        self.until = until
    }
}

/// Per-master forgetting state, persisted with the master (`sentinel auto-forget-after`,
/// `sentinel forgotten-sentinel`, `sentinel forgotten-replica`).
public struct ForgetSettings: Equatable, Sendable {
    /// Forget peers unseen for longer than this (ms); 0: never automatically.
    public var autoForgetAfter: Millis = 0
    /// In the order they were forgotten (they are confirmed in that order).
    public var sentinels: [ForgottenSentinel] = []
    public var replicas: [ForgottenReplica] = []

    public init() {}

    /// Tombstones kept per master: beyond these, new forgets are refused.
    public static let maxSentinels = 16
    public static let maxReplicas = 64
    /// How long a confirmed sentinel tombstone lives.
    public static let sentinelTombstoneLifetime: Millis = 3_600_000
    /// How long a replica tombstone lives (stale INFO from the master lasts at most
    /// its repl-timeout, 60 s by default).
    public static let replicaTombstoneLifetime: Millis = 300_000
    /// Smallest `auto-forget-after` accepted (and largest).
    public static let autoForgetRange: ClosedRange<Millis> = 1_000...(365 * 86_400_000)
}

extension Sentinel {
    // MARK: - The rule

    /// The number of sentinels a leader's majority is counted over: us, the peers in
    /// the table, and every forgotten peer whose forget is not confirmed yet (the
    /// first unconfirmed tombstone and all after it).
    func electorate(_ m: Master) -> Int {
        let tombstones = m.settings.forgetting.sentinels
        let unconfirmed = tombstones.firstIndex { $0.until == 0 }.map { tombstones.count - $0 } ?? 0
        return m.sentinels.count + 1 + unconfirmed
    }

    /// Whether `runID` is forgotten for this master (its hellos are ignored and it
    /// gets no vote).
    func isForgotten(_ m: Master, runID: String) -> Bool {
        m.settings.forgetting.sentinels.contains { $0.runID == runID }
    }

    func isForgotten(_ m: Master, replica a: Address) -> Bool {
        m.settings.forgetting.replicas.contains { sameAddress($0.address, a) }
    }

    // MARK: - Commands

    /// `SENTINEL FORGET-SENTINEL <master> <runid> [<from-runid>]`. Without the last
    /// argument it is an operator's command; with it, a peer (`from`) telling us it
    /// has applied the forget. Answered `+OK` once the tombstone is on disk: that
    /// answer is the confirmation the peer waits for.
    func forgetSentinelCommand(_ args: [String]) -> CommandResult {
        guard args.count <= 5 else {
            return .reply(Self.error("ERR wrong number of arguments for 'sentinel|forget-sentinel' command"))
        }
        return withMaster(args[2]) { m in
            forgetSentinel(m, runID: args[3], from: args.count == 5 ? args[4] : nil)
        }
    }

    func forgetSentinel(_ m: Master, runID: String, from: String?, automatic: Bool = false) -> CommandResult {
        guard runID.utf8.count == 40, runID.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            return .reply(Self.error("ERR Invalid run id"))
        }
        if let from, from.utf8.count != 40 || from == runID {
            return .reply(Self.error("ERR Invalid sender run id"))
        }
        guard runID != myID else { return .reply(Self.error("ERR A sentinel cannot forget itself")) }
        var forgetting = m.settings.forgetting
        if let i = forgetting.sentinels.firstIndex(where: { $0.runID == runID }) {
            // Already applied: the answer is the confirmation; the sender applied it too.
            if let from, forgetting.sentinels[i].awaiting.contains(from) {
                forgetting.sentinels[i].awaiting.removeAll { $0 == from }
                m.settings.forgetting = forgetting
                confirmForgets(m)
                return savedReply(.ok)
            }
            // Answered once everything so far (the tombstone included) is on disk.
            return .afterSave(persistence.changes, .ok, otherwise: Self.saveFailed)
        }
        let peer = m.sentinels.first { $0.runID == runID }
        if peer == nil && from == nil {
            return .reply(Self.error("ERR No such sentinel for this master"))
        }
        if let peer, !peer.flags.contains(.sDown) {
            return .reply(Self.error("BUSY Sentinel \(runID) is reachable from here (not s_down): only a sentinel that is down can be forgotten"))
        }
        guard m.sentinels.count >= 2 || peer == nil else {
            return .reply(Self.error("ERR Cannot forget the last other sentinel of this master"))
        }
        guard forgetting.sentinels.count < ForgetSettings.maxSentinels else {
            return .reply(Self.error("BUSY Too many sentinels forgotten for this master (at most \(ForgetSettings.maxSentinels) at a time)"))
        }
        // Applied even while a failover is under way: the election counts the
        // forgotten peer until the forget is confirmed, whenever it comes.
        let address = peer?.address ?? Address("0.0.0.0", 0)
        if let peer {
            emit(.warning, "+forget-sentinel", peer, extra: automatic ? " auto" : "")
            _ = removeSentinels(from: m, runID: runID)
        } else {
            emit(.warning, "+forget-sentinel", payload: "sentinel \(runID) 0.0.0.0 0 @ \(m.name) \(announced(m.address.host)) \(m.address.port)", master: m)
        }
        let awaiting = m.sentinels.compactMap(\.runID).filter { $0 != from }
        forgetting.sentinels.append(ForgottenSentinel(runID: runID, address: address, awaiting: awaiting, until: 0))
        m.settings.forgetting = forgetting
        confirmForgets(m)
        pushForgets(m, force: true)
        return savedReply(.ok)
    }

    /// `SENTINEL FORGET-REPLICA <master> <ip> <port> [<from-runid>]`: the replica goes
    /// from the table (it must be down, or unknown when a peer tells us), is not
    /// re-added from INFO for `replicaTombstoneLifetime`, and the peers are told.
    func forgetReplicaCommand(_ args: [String]) -> CommandResult {
        guard args.count <= 6 else {
            return .reply(Self.error("ERR wrong number of arguments for 'sentinel|forget-replica' command"))
        }
        return withMaster(args[2]) { m in
            guard let port = Self.parseInteger(args[4]), (1...65535).contains(port),
                  let host = acceptedHost(args[3]) else {
                return .reply(Self.error("ERR Invalid replica address"))
            }
            let from = args.count == 6 ? args[5] : nil
            if let from, from.utf8.count != 40 { return .reply(Self.error("ERR Invalid sender run id")) }
            return forgetReplica(m, Address(host, Int(port)), from: from)
        }
    }

    func forgetReplica(_ m: Master, _ a: Address, from: String?) -> CommandResult {
        var forgetting = m.settings.forgetting
        if let i = forgetting.replicas.firstIndex(where: { sameAddress($0.address, a) }) {
            if let from { forgetting.replicas[i].awaiting.removeAll { $0 == from } }
            m.settings.forgetting = forgetting
            return .reply(.ok)
        }
        let replica = lookupReplica(m, a)
        if replica == nil && from == nil { return .reply(Self.error("ERR No such replica for this master")) }
        if let replica, !replica.flags.contains(.sDown) {
            return .reply(Self.error("BUSY Replica \(replica.name) is reachable from here (not s_down): only a replica that is down can be forgotten"))
        }
        if m.flags.contains(.failoverInProgress), let replica, replica === m.promotedReplica {
            return .reply(Self.error("INPROG Failover in progress: this replica is being promoted"))
        }
        guard forgetting.replicas.count < ForgetSettings.maxReplicas else {
            return .reply(Self.error("BUSY Too many replicas forgotten for this master"))
        }
        if let replica {
            emit(.warning, "+forget-slave", replica)
            releaseInstance(replica)
            m.replicas.removeAll { $0 === replica }
        }
        let awaiting = m.sentinels.compactMap(\.runID).filter { $0 != from }
        forgetting.replicas.append(ForgottenReplica(address: a, awaiting: awaiting,
                                                    until: now +| ForgetSettings.replicaTombstoneLifetime))
        m.settings.forgetting = forgetting
        pushForgets(m, force: true)
        return savedReply(.ok)
    }

    // MARK: - Confirmation, propagation, expiry

    /// Marks confirmed, in order, each tombstone whose peers all confirmed and whose
    /// older tombstones are confirmed; drops expired ones.
    func confirmForgets(_ m: Master) {
        var forgetting = m.settings.forgetting
        var changedAny = false
        for i in forgetting.sentinels.indices {
            let t = forgetting.sentinels[i]
            if t.until != 0 { continue }
            guard t.awaiting.isEmpty else { break }
            forgetting.sentinels[i].until = now +| ForgetSettings.sentinelTombstoneLifetime
            emit(.warning, "+forget-confirmed",
                 payload: "sentinel \(t.runID) \(announced(t.address.host)) \(t.address.port) @ \(m.name) \(announced(m.address.host)) \(m.address.port)",
                 master: m)
            changedAny = true
        }
        let before = forgetting.sentinels.count + forgetting.replicas.count
        forgetting.sentinels.removeAll { $0.until != 0 && now >= $0.until }
        forgetting.replicas.removeAll { now >= $0.until }
        if changedAny || before != forgetting.sentinels.count + forgetting.replicas.count {
            m.settings.forgetting = forgetting
            changed()
        }
    }

    /// Tells every awaited peer of each tombstone, at most once per publish period per
    /// peer (at once with `force`): `SENTINEL FORGET-SENTINEL <master> <runid> <myid>`.
    /// A redis-sentinel peer answers an error and never confirms: its tombstones stay
    /// unconfirmed and the majority stays the old one, which is safe.
    func pushForgets(_ m: Master, force: Bool) {
        guard force || elapsed(since: m.forgetPushedAt) >= timing.publishPeriod else { return }
        m.forgetPushedAt = now
        for s in m.sentinels where s.commandLink.connected {
            guard let peerID = s.runID else { continue }
            for t in m.settings.forgetting.sentinels where t.awaiting.contains(peerID) {
                let expect = PendingReply.forget(master: m.name, what: t.runID)
                guard !s.commandLink.pending.contains(expect) else { continue }
                send(s, ["SENTINEL", "FORGET-SENTINEL", m.name, t.runID, myID], expect: expect)
            }
            for r in m.settings.forgetting.replicas where r.awaiting.contains(peerID) {
                let expect = PendingReply.forget(master: m.name, what: Self.instanceName(r.address))
                guard !s.commandLink.pending.contains(expect) else { continue }
                send(s, ["SENTINEL", "FORGET-REPLICA", m.name, announced(r.address.host), String(r.address.port), myID],
                     expect: expect)
            }
        }
    }

    /// A peer's answer to our FORGET-SENTINEL / FORGET-REPLICA: `+OK` means it has
    /// applied it (and saved it).
    func forgetReply(from s: Peer, what: String, _ value: RESPValue) {
        guard !value.isError, let peerID = s.runID else { return }
        let m = s.master
        var forgetting = m.settings.forgetting
        var changedAny = false
        for i in forgetting.sentinels.indices where forgetting.sentinels[i].runID == what {
            if forgetting.sentinels[i].awaiting.contains(peerID) {
                forgetting.sentinels[i].awaiting.removeAll { $0 == peerID }
                changedAny = true
            }
        }
        for i in forgetting.replicas.indices where Self.instanceName(forgetting.replicas[i].address) == what {
            if forgetting.replicas[i].awaiting.contains(peerID) {
                forgetting.replicas[i].awaiting.removeAll { $0 == peerID }
                changedAny = true
            }
        }
        guard changedAny else { return }
        m.settings.forgetting = forgetting
        changed()
        confirmForgets(m)
    }

    /// The master's periodic look: expiry, confirmation, propagation, and the
    /// automatic mode (outside TILT and failovers, one peer at a time, only once
    /// every earlier forget is confirmed, and only when that peer is the one peer
    /// down here).
    func forgettingTick(_ m: Master) {
        let f = m.settings.forgetting
        if !f.sentinels.isEmpty || !f.replicas.isEmpty {
            confirmForgets(m)
            pushForgets(m, force: false)
        }
        guard f.autoForgetAfter > 0 else { return }
        // Only a peer that has been the only one down here for the whole period:
        // then every peer that must confirm is reachable, a sentinel cut off from
        // the others (which sees several down) forgets nobody, and neither does one
        // that sees the others come back one by one after a partition heals.
        let down = m.sentinels.filter { $0.flags.contains(.sDown) }
        guard down.count == 1, let only = down.first?.runID else {
            m.autoForgetCandidate = nil
            return
        }
        if m.autoForgetCandidate?.runID != only { m.autoForgetCandidate = (only, now) }
        guard mayAct, !m.flags.contains(.failoverInProgress), m.sentinels.count >= 2,
              !m.settings.forgetting.sentinels.contains(where: { $0.until == 0 }),
              let stale = down.first, let since = m.autoForgetCandidate?.since,
              elapsed(since: since) > f.autoForgetAfter,
              elapsed(since: max(stale.lastHelloReceivedTime, stale.lastAvailableTime)) > f.autoForgetAfter
        else { return }
        m.autoForgetCandidate = nil
        if let runID = stale.runID {
            log(.warning, "Sentinel \(runID) of \(m.name) unseen for more than \(f.autoForgetAfter) ms: forgetting it")
            _ = forgetSentinel(m, runID: runID, from: nil, automatic: true)
        }
    }
}
