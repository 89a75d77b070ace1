/// When each instance wants its next look: per-instance deadlines in a min-heap,
/// so that a tick handles only the instances that have something due (a PING,
/// an INFO, a hello, a reconnect, an SDOWN deadline, a failover step) instead of
/// all of them. After each look the instance computes its next deadline
/// (`nextLook`); an input that concerns it (a reply, a link event, a command that
/// changed its settings) wakes it for the next tick. No instance waits longer
/// than `Timing.maxLookInterval` between looks.
struct Agenda {
    /// A strong reference: a weak one costs an atomic side-table operation at
    /// every move in the heap. A released instance is marked (`released`) and its
    /// entries, at most `maxLookInterval` away, are skipped when they come up.
    struct Entry {
        let time: Millis
        let serial: UInt64
        let instance: Instance
    }

    private var heap: [Entry] = []
    private var nextSerial: UInt64 = 0

    var count: Int { heap.count }

    /// Looks at `ri` at `time`, unless an earlier look is already planned.
    mutating func schedule(_ ri: Instance, at time: Millis) {
        if ri.released || (ri.dueSerial != 0 && ri.dueAt <= time) { return }
        nextSerial += 1
        ri.dueAt = time
        ri.dueSerial = nextSerial
        heap.append(Entry(time: time, serial: nextSerial, instance: ri))
        siftUp(heap.count - 1)
    }

    /// Moves the planned look of `ri` to `time`, later or earlier, unless it is due
    /// by the next tick anyway (it was woken) or is under way. The entry replaced
    /// stays in the heap until its time and is skipped then.
    mutating func replan(_ ri: Instance, at time: Millis, now: Millis) {
        if ri.released || ri.dueSerial == 0 || ri.dueAt <= now + 1 || ri.dueAt == time { return }
        ri.dueSerial = 0
        schedule(ri, at: time)
    }

    /// The next instance whose look is due at or before `now`, taken off the agenda.
    mutating func popDue(_ now: Millis) -> Instance? {
        while let top = heap.first, top.time <= now {
            let entry = removeTop()
            // Stale entries (the instance was rescheduled or released) are skipped.
            let ri = entry.instance
            if !ri.released && ri.dueSerial == entry.serial {
                ri.dueSerial = 0
                return ri
            }
        }
        return nil
    }

    private mutating func removeTop() -> Entry {
        let top = heap[0]
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        return top
    }

    private func before(_ a: Entry, _ b: Entry) -> Bool {
        a.time != b.time ? a.time < b.time : a.serial < b.serial
    }

    private mutating func siftUp(_ i: Int) {
        var child = i
        while child > 0 {
            let parent = (child - 1) / 2
            guard before(heap[child], heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ i: Int) {
        var parent = i
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var smallest = left
            if left + 1 < heap.count && before(heap[left + 1], heap[left]) { smallest = left + 1 }
            guard before(heap[smallest], heap[parent]) else { return }
            heap.swapAt(smallest, parent)
            parent = smallest
        }
    }
}

extension Sentinel {
    /// Looks at `ri` at the next tick.
    func wake(_ ri: Instance) {
        agenda.schedule(ri, at: now + 1)
    }

    /// Looks at everything that uses `link` at the next tick.
    func wakeUsers(of link: InstanceLink) {
        for u in link.users { wake(u.instance) }
    }

    /// Looks at a master, its replicas and its peers at the next tick.
    func wakeAll(_ m: Master) {
        wake(m)
        m.replicas.forEach(wake)
        m.sentinels.forEach(wake)
    }

    /// The earliest time something is due for `ri`, from its deadlines; at least
    /// the next millisecond, at most `maxLookInterval` away.
    func nextLook(_ ri: Instance) -> Millis {
        var t = now +| timing.maxLookInterval
        // Conditions elsewhere are strict (`elapsed > period`): one past each deadline.
        func by(_ deadline: Millis) { t = min(t, deadline +| 1) }
        let link = ri.link
        if link.command.id == nil || (!link.isPeerLink && link.pubsub.id == nil) {
            by(link.command.lastReconnectAttempt +| timing.reconnectPeriod)
        }
        if link.command.connected {
            if pingsLink(ri) {
                let period = pingPeriod(link)
                by(max(link.lastPongTime +| period, link.lastPingTime +| period / 2))
            }
            // A hello or INFO on its way has no deadline: its reply sets the time the
            // next one counts from, and the next look (at most maxLookInterval away)
            // plans it. (Counted from the previous one, it was due at every tick
            // until the reply came.)
            let pending = link.command.pending
            if !pending.contains(.publishHello(master: ri.owningMaster.name)) {
                by(ri.lastHelloSentTime +| timing.publishPeriod)
            }
            if let node = ri as? DataNode, !pending.contains(.info) { by(node.infoRefresh +| infoPeriod(node)) }
            // A stuck command link is dropped once all three of Detection's
            // conditions hold, so the look is due when the last of them does.
            if link.activePingTime != 0 {
                by(max(link.command.connectedAt +| timing.minLinkReconnectPeriod,
                       link.activePingTime +| ri.downAfter / 2,
                       link.lastPongTime +| ri.downAfter / 2))
            }
        }
        // Likewise a silent Pub/Sub link: up long enough and silent long enough. (Each
        // of the two alone passes for good after 15 s; taken apart, they made every
        // link due at every tick.)
        if link.pubsub.connected {
            by(max(link.pubsub.connectedAt +| timing.minLinkReconnectPeriod,
                   link.pubsub.lastActivity +| timing.publishPeriod *| 3))
        }
        // SDOWN, counted as Detection counts it.
        if link.activePingTime != 0 {
            by(link.activePingTime +| ri.downAfter)
        } else if link.disconnected {
            by(link.lastAvailableTime +| ri.downAfter)
        }
        if let m = ri as? Master {
            // A master in trouble is looked at every tick: agreement, the election
            // and the failover steps run from here.
            if !m.flags.isDisjoint(with: [.sDown, .oDown, .failoverInProgress]) { by(now) }
            if m.roleReported == .replica { by(m.roleReportedTime +| m.downAfter +| timing.infoPeriod *| 2) }
            if m.flags.contains(.masterReboot) { by(m.masterRebootSince +| m.settings.masterRebootDownAfterPeriod) }
        }
        return max(t, now + 1)
    }
}
