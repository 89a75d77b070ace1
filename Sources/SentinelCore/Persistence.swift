/// Saving the configuration, and holding back what must not be revealed before it
/// is on disk.
///
/// Every change that sentinel.conf must keep (an epoch, a vote, a discovered
/// replica, a setting) calls `changed()`, which numbers it. At the end of each input
/// one `.save` covering every change so far goes out, unless one is already
/// outstanding (then the next goes out when it is answered). What the core must not
/// reveal until a change is durable is held with the number of that change:
/// - the reply that carries a vote, and the `+vote-for-leader` event;
/// - the reply to a command that changed the configuration (`+OK` only once saved,
///   `-ERR Failed to save config file` otherwise, as redis-sentinel answers).
/// `.saved(ok: true)` releases what it covers. `.saved(ok: false)` answers the
/// held replies with their failure form and takes back any vote that is not on
/// disk, so that it is never counted or revealed; saving is retried a second later.
/// A candidate counts its own vote only once it is durable (see Voting.swift).
struct Persistence {
    /// Changes made so far (a sequence number).
    var changes: UInt64 = 0
    /// Changes covered by the last save that succeeded.
    var durable: UInt64 = 0
    var inFlight: InFlight?
    var nextSaveID = 0
    /// FLUSHCONFIG: the next save writes even an unchanged file.
    var forceNext = false
    /// After a failed save, the next attempt waits until then.
    var retryAt: Millis = 0
    /// Failed saves since the last success, and when that was last logged.
    var failures = 0
    var lastFailureLog: Millis = 0
    var held: [Held] = []

    struct InFlight {
        let id: SaveID
        /// The changes this save covers.
        let covers: UInt64
        /// Each master's vote as written by this save.
        let votes: [String: (leader: String?, epoch: UInt64)]
    }

    /// An effect waiting for the change `needs` to be durable, and what to do
    /// instead if the save covering it fails (nil: nothing).
    struct Held {
        let needs: UInt64
        let effect: Effect
        let onFailure: Effect?
    }

    var pendingChanges: Bool { changes > (inFlight?.covers ?? durable) || forceNext }
}

extension Sentinel {
    /// Records that the configuration to save has changed; returns the change's number.
    @discardableResult
    func changed() -> UInt64 {
        persistence.changes += 1
        return persistence.changes
    }

    /// `effect` once change `needs` is on disk (at once if it already is).
    func afterSave(_ needs: UInt64, _ effect: Effect, otherwise: Effect? = nil) {
        if persistence.durable >= needs {
            out.append(effect)
        } else {
            persistence.held.append(.init(needs: needs, effect: effect, onFailure: otherwise))
        }
    }

    /// Whether change `n` is on disk.
    func isDurable(_ n: UInt64) -> Bool { persistence.durable >= n }

    /// Called at the end of every input: starts a save if there is something to save
    /// and none is outstanding.
    func saveIfNeeded() {
        guard persistence.inFlight == nil, persistence.pendingChanges, now >= persistence.retryAt else { return }
        persistence.nextSaveID += 1
        let id = SaveID(persistence.nextSaveID)
        var votes: [String: (String?, UInt64)] = [:]
        for m in masters { votes[m.name] = (m.leader, m.leaderEpoch) }
        persistence.inFlight = .init(id: id, covers: persistence.changes, votes: votes)
        let force = persistence.forceNext
        persistence.forceNext = false
        out.append(.save(SaveRequest(id: id, config: configSnapshot(), evenIfUnchanged: force)))
    }

    func saveCompleted(_ id: SaveID, ok: Bool) {
        guard let save = persistence.inFlight, save.id == id else { return }
        persistence.inFlight = nil
        if ok {
            persistence.durable = save.covers
            persistence.failures = 0
            for m in masters {
                if let v = save.votes[m.name] { (m.durableLeader, m.durableLeaderEpoch) = v }
            }
            release(covering: save.covers, succeeded: true)
            announceDurableVotes()
            // A candidate waiting for its own vote to be durable may be elected now.
            for m in masters where m.failoverState == .waitStart && mayAct {
                failoverStateMachine(m)
            }
        } else {
            persistence.failures += 1
            persistence.retryAt = now +| timing.saveRetryPeriod
            if persistence.failures == 1 || elapsed(since: persistence.lastFailureLog) >= 10_000 {
                log(.warning, "WARNING: Sentinel was not able to save the new configuration on disk (\(persistence.failures) attempt(s) failed); retrying every \(timing.saveRetryPeriod) ms")
                persistence.lastFailureLog = now
            }
            // A vote that did not reach the disk is taken back: nobody has seen it.
            // The replies holding it go out without it now, even those waiting for
            // a later save than this one (the vote was cast while this save was
            // under way): once withdrawn, a vote may go to another candidate, and a
            // later save must not release the old one.
            var withdrawn: Set<UInt64> = []
            for m in masters where !isDurable(m.voteChange) {
                if m.leaderEpoch != m.durableLeaderEpoch || m.leader != m.durableLeader {
                    log(.warning, "Vote for \(m.leader ?? "?") in epoch \(m.leaderEpoch) withdrawn: the configuration could not be saved")
                }
                withdrawn.insert(m.voteChange)
                m.leader = m.durableLeader
                m.leaderEpoch = m.durableLeaderEpoch
                m.voteChange = 0
            }
            release(covering: save.covers, succeeded: false, alsoFailing: withdrawn)
        }
    }

    /// Emits, in order, the held effects (or their failure forms) that a save
    /// covering changes up to `covers` decides, and those waiting for one of the
    /// changes `alsoFailing` (withdrawn votes), and forgets them.
    private func release(covering covers: UInt64, succeeded: Bool, alsoFailing: Set<UInt64> = []) {
        var kept: [Persistence.Held] = []
        for h in persistence.held {
            guard h.needs <= covers || alsoFailing.contains(h.needs) else {
                kept.append(h)
                continue
            }
            if succeeded {
                out.append(h.effect)
            } else if let f = h.onFailure {
                out.append(f)
            }
        }
        persistence.held = kept
    }
}

extension Sentinel {
    /// Everything to write to sentinel.conf now: the loaded settings plus the state
    /// learned since (myid, epochs, known replicas and sentinels).
    public func configSnapshot() -> SentinelConfig {
        var c = settings
        c.myid = myID
        c.currentEpoch = currentEpoch
        c.masters = masters.map { m in
            var mc = m.settings
            // Once a promotion is confirmed the saved config epoch is the new
            // one, so the saved address must be the promoted replica's, with the
            // old master among the replicas (as Redis writes it). Otherwise a
            // restart in the middle of reconfiguring the replicas would bring
            // back the old address under the new config epoch, which no hello
            // can ever correct.
            // Addresses are saved as they are announced (names with
            // announce-hostnames, IPs otherwise), as Redis writes them.
            let current = currentMasterAddress(m)
            mc.address = announced(current)
            mc.quorum = m.quorum
            mc.configEpoch = m.configEpoch
            mc.leaderEpoch = m.leaderEpoch
            mc.knownReplicas = m.replicas.map { announced(sameAddress($0.address, current) ? m.address : $0.address) }
            mc.knownSentinels = m.sentinels.compactMap { s in
                s.runID.map { KnownSentinel(address: announced(s.address), runID: $0) }
            }
            return mc
        }
        return c
    }
}
