import RESP
import SentinelCore

/// Faults the world can suffer, each as one call (ChaosRun draws them; tests
/// call them directly). Every fault has its way back (restart, resume, heal,
/// repair), and `heal()` ends them all. A new kind of fault belongs here, with
/// its state in the node it affects.
extension World {
    // MARK: - Redis nodes


    /// Kills a Redis node: its connections drop and new ones are refused.
    public func killRedis(_ i: Int) {
        let n = redis[i]
        guard n.state != .killed else { return }
        observations.trace.append("t=\(elapsed) kill redis\(i)")
        n.state = .killed
        n.pausedInbox = []
        n.busy = false
        for c in conns where c.target == .redis(i) { serverCloses(c) }
    }

    /// Restarts a killed Redis node with its configured role and a new run id.
    public func restartRedis(_ i: Int) {
        let n = redis[i]
        guard n.state == .killed else { return }
        observations.trace.append("t=\(elapsed) restart redis\(i) as \(n.configuredRole)")
        n.state = .running
        n.runID = randomRunID()
        n.role = n.configuredRole
        n.startedAt = now
        n.linkUp = false
        n.linkDownSince = nil
        if !n.isMaster { n.syncingUntil = now + random(options.syncDelay) }
    }

    /// SIGSTOP: connections are accepted, nothing is answered.
    public func pauseRedis(_ i: Int) {
        guard redis[i].state == .running else { return }
        observations.trace.append("t=\(elapsed) pause redis\(i)")
        redis[i].state = .paused
    }

    /// SIGCONT: everything received meanwhile is answered, in order.
    public func resumeRedis(_ i: Int) {
        let n = redis[i]
        guard n.state == .paused else { return }
        observations.trace.append("t=\(elapsed) resume redis\(i)")
        n.state = .running
        let inbox = n.pausedInbox
        n.pausedInbox = []
        for (c, command) in inbox where !c.isDead {
            redisReceives(n, c, command)
        }
    }

    /// The node gets stuck in a script: -BUSY to everything until SCRIPT KILL.
    public func makeBusy(_ i: Int) {
        guard redis[i].state != .killed else { return }
        observations.trace.append("t=\(elapsed) redis\(i) busy in a script")
        redis[i].busy = true
    }

    // MARK: - Network

    /// Splits the network: nodes in different groups cannot talk. Nodes in no
    /// group form one more group together.
    public func partition(_ groups: [[NodeID]]) {
        observations.trace.append("t=\(elapsed) partition \(groups)")
        group = [:]
        for (g, nodes) in groups.enumerated() {
            for n in nodes { group[n] = g + 1 }
        }
    }

    /// Cuts the network one way: messages from each node of `from` to each node of
    /// `to` are held back, those the other way pass. Connections already open go on
    /// carrying the other direction (commands arrive and are carried out, their
    /// replies do not come back); new connections cannot be opened (the handshake
    /// needs both directions). Adds to any cut already in place.
    public func cutOneWay(from: [NodeID], to: [NodeID]) {
        observations.trace.append("t=\(elapsed) one-way cut \(from) -> \(to)")
        for a in from {
            for b in to where a != b { oneWayCuts.insert(DirectedPair(from: a, to: b)) }
        }
    }

    /// Heals every partition and one-way cut: what was held back is delivered.
    public func healPartition() {
        guard !group.isEmpty || !oneWayCuts.isEmpty else { return }
        observations.trace.append("t=\(elapsed) heal partition")
        group = [:]
        oneWayCuts = []
        for c in conns where !c.stalledToServer.isEmpty || !c.stalledToClient.isEmpty {
            queue.schedule(.flushStalled(c), at: now + random(networkDelay))
        }
    }

    // MARK: - Sentinel processes

    /// Crashes a sentinel (as kill -9): what it did not save is lost, and a save
    /// still in progress never lands.
    public func crashSentinel(_ j: Int) {
        let s = sentinels[j]
        guard let core = s.core else { return }
        observations.trace.append("t=\(elapsed) crash sentinel\(j)")
        checkEpochs(s, core.configSnapshot(), durable: false)
        stopSentinel(s)
    }

    /// Restarts a crashed sentinel from its last successful save, and nothing else.
    public func restartSentinel(_ j: Int) {
        let s = sentinels[j]
        guard s.core == nil else { return }
        s.restarts += 1
        boot(s, firstTick: nil)
    }

    /// Replaces what a crashed sentinel will load when it restarts (a lost or
    /// stale disk, to check that the checkers notice).
    public func replaceDisk(of j: Int, with config: SentinelConfig) {
        precondition(sentinels[j].core == nil, "only the disk of a crashed sentinel can be replaced")
        observations.trace.append("t=\(elapsed) sentinel\(j) disk replaced")
        sentinels[j].disk = config
    }

    /// Crashes the sentinel right after it next casts a vote: the vote is on its
    /// disk but the reply carrying it is never sent. It restarts `delay` ms later.
    public func crashAfterNextVote(sentinel j: Int, restartAfter delay: Millis) {
        observations.trace.append("t=\(elapsed) sentinel\(j) will crash after its next vote")
        sentinels[j].crashAfterVote = delay
    }

    /// Moves one sentinel's clock (forwards or backwards).
    public func jumpClock(sentinel j: Int, by delta: Millis) {
        observations.trace.append("t=\(elapsed) clock of sentinel\(j) jumps \(delta) ms")
        sentinels[j].skew += delta
    }

    // MARK: - Disks

    /// Every save this sentinel starts until `until` fails (EIO, ENOSPC).
    public func failSaves(sentinel j: Int, until: Millis) {
        observations.trace.append("t=\(elapsed) sentinel\(j) disk fails saves until t=\(until - startTime)")
        sentinels[j].diskFailsUntil = until
    }

    /// Saves this sentinel starts until `until` complete only then (a stalled fsync).
    public func hangSaves(sentinel j: Int, until: Millis) {
        observations.trace.append("t=\(elapsed) sentinel\(j) disk hangs saves until t=\(until - startTime)")
        sentinels[j].diskHangsUntil = until
    }

    /// Saves never complete from now on: the sentinel waits on its save (its votes
    /// and config changes held back) until it crashes; the save never lands.
    public func hangSavesUntilCrash(sentinel j: Int) {
        observations.trace.append("t=\(elapsed) sentinel\(j) disk hangs until the process dies")
        sentinels[j].diskHungForever = true
    }

    /// The disk works normally again (a save hung forever stays hung: only a
    /// crash ends it).
    public func repairDisk(sentinel j: Int) {
        let s = sentinels[j]
        guard s.diskFailsUntil > now || s.diskHangsUntil > now || s.diskHungForever else { return }
        observations.trace.append("t=\(elapsed) sentinel\(j) disk repaired")
        s.diskFailsUntil = 0
        s.diskHangsUntil = 0
        s.diskHungForever = false
        if s.savesInFlight > 0, s.isRunning, s.core != nil {
            // The hung save is still pending in the process: it takes a crash.
            crashSentinel(j)
            restartSentinel(j)
        }
    }

    // MARK: - Replication

    /// A replica stops receiving its master's stream (a slow disk, a full
    /// output buffer) while its link looks up: its offset falls behind until `until`.
    public func stallReplica(_ i: Int, until: Millis) {
        guard !redis[i].isMaster else { return }
        observations.trace.append("t=\(elapsed) redis\(i) replication stalls until t=\(until - startTime)")
        redis[i].stalledUntil = until
    }
}
