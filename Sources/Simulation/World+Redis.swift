import RESP
import SentinelCore

/// The fake Redis nodes' side of the world: answering commands, Pub/Sub,
/// applying SLAVEOF, and replication between nodes.
extension World {

    func redisReceives(_ n: FakeRedis, _ c: Conn, _ command: [String]) {
        switch n.state {
        case .paused:
            n.pausedInbox.append((c, command))
        case .killed:
            break
        case .running:
            sendToClient(c, .value(redisCommand(n, c, command)))
        }
    }

    /// One command on a client connection, with MULTI/EXEC around the others.
    private func redisCommand(_ n: FakeRedis, _ c: Conn, _ command: [String]) -> RESPValue {
        guard let name = command.first?.uppercased() else { return .error("ERR empty command") }
        if n.busy && name != "SCRIPT" {
            return .error("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
        }
        if c.transaction != nil && name != "EXEC" && name != "MULTI" && name != "DISCARD" {
            c.transaction?.append(command)
            return .simpleString("QUEUED")
        }
        switch name {
        case "MULTI":
            if c.transaction != nil { return .error("ERR MULTI calls can not be nested") }
            c.transaction = []
            return .ok
        case "EXEC":
            guard let queued = c.transaction else { return .error("ERR EXEC without MULTI") }
            c.transaction = nil
            return .array(queued.map { execute(n, c, $0) })
        case "DISCARD":
            guard c.transaction != nil else { return .error("ERR DISCARD without MULTI") }
            c.transaction = nil
            return .ok
        default:
            return execute(n, c, command)
        }
    }

    private func execute(_ n: FakeRedis, _ c: Conn, _ command: [String]) -> RESPValue {
        let name = command[0].uppercased()
        let sub = command.count > 1 ? command[1].uppercased() : ""
        switch (name, command.count) {
        case ("PING", _):
            return .simpleString("PONG")
        case ("AUTH", _):
            return .ok
        case ("CLIENT", 3) where sub == "SETNAME":
            return .ok
        case ("CLIENT", 4) where sub == "KILL" && command[2].uppercased() == "TYPE":
            return .integer(Int64(killClients(of: n, type: command[3].lowercased(), except: c)))
        case ("INFO", _):
            return .bulk(n.info(now: now, replicas: connectedReplicas(of: n)))
        case ("SUBSCRIBE", 2):
            c.subscribed = true
            return .array([.bulk("subscribe"), .bulk(command[1]), .integer(1)])
        case ("PUBLISH", 3):
            return .integer(Int64(publish(on: n, channel: command[1], payload: command[2], hops: 0)))
        case ("SLAVEOF", 3), ("REPLICAOF", 3):
            return replicaOf(n, c, host: command[1], port: command[2])
        case ("CONFIG", 2) where sub == "REWRITE":
            n.configuredRole = n.role
            return .ok
        case ("SCRIPT", 2) where sub == "KILL":
            guard n.busy else { return .error("NOTBUSY No scripts in execution right now.") }
            n.busy = false
            return .ok
        default:
            return .error("ERR unknown command '\(command[0])', with args beginning with: ")
        }
    }

    /// CLIENT KILL TYPE normal|pubsub: every such client but the caller.
    private func killClients(of n: FakeRedis, type: String, except caller: Conn) -> Int {
        var killed = 0
        for c in conns where c !== caller && c.target == .redis(n.index) && c.established && !c.isDead {
            let matches = type == "pubsub" ? c.subscribed : (type == "normal" && !c.subscribed)
            if matches {
                serverCloses(c)
                killed += 1
            }
        }
        return killed
    }

    private func replicaOf(_ n: FakeRedis, _ c: Conn, host: String, port: String) -> RESPValue {
        if host.uppercased() == "NO" && port.uppercased() == "ONE" {
            if !n.isMaster {
                n.role = .master
                n.linkUp = false
                observations.promotions.append(.init(time: elapsed, node: n.index, by: c.owner))
                observations.trace.append("t=\(elapsed) redis\(n.index) promoted to master by sentinel\(c.owner)")
            }
            return .ok
        }
        guard let p = Int(port) else { return .error("ERR value is not an integer or out of range") }
        let target = Address(host, p)
        if target == n.address { return .error("ERR Can't replicate to myself") }
        if n.role == .replica(of: target) { return .simpleString("OK Already connected to specified master") }
        n.role = .replica(of: target)
        n.linkUp = false
        n.linkDownSince = now
        n.syncingUntil = now + random(options.syncDelay)
        observations.trace.append("t=\(elapsed) redis\(n.index) now replicates \(target) (sentinel\(c.owner))")
        return .ok
    }

    /// Delivers a message to the node's subscribers and, as Redis propagates
    /// PUBLISH down the replication stream, to its replicas' subscribers.
    /// Returns the number of subscribers reached on this node.
    private func publish(on n: FakeRedis, channel: String, payload: String, hops: Int) -> Int {
        var receivers = 0
        for c in conns where c.target == .redis(n.index) && c.subscribed && !c.isDead {
            sendToClient(c, .value(.array([.bulk("message"), .bulk(channel), .bulk(payload)])))
            receivers += 1
        }
        if hops < 4 {
            for r in redis where r.state == .running && r.linkUp && r.masterAddress == n.address
                && canSend(.redis(n.index), .redis(r.index)) {
                _ = publish(on: r, channel: channel, payload: payload, hops: hops + 1)
            }
        }
        return receivers
    }

    /// The replicas a master's INFO lists: attached and reachable, synced or syncing.
    func connectedReplicas(of n: FakeRedis) -> [(FakeRedis, online: Bool)] {
        redis.compactMap { r in
            guard r !== n, r.state != .killed, r.masterAddress == n.address,
                  !separated(.redis(r.index), .redis(n.index)),
                  r.linkUp || now < r.syncingUntil else { return nil }
            return (r, r.linkUp)
        }
    }

    /// Every 100 ms: masters take writes; replicas follow a reachable master, or
    /// lose the link (at once if it died, after the replication timeout if it is
    /// silent).
    func replicationStep() {
        for n in redis where n.state == .running && n.isMaster {
            n.offset += Int64(rng.next() % 2000)
        }
        for n in redis where n.state == .running {
            guard let upstreamAddress = n.masterAddress, now >= n.syncingUntil else { continue }
            let upstream = redis.first { $0.address == upstreamAddress }
            if let u = upstream, u.state == .running, !separated(.redis(n.index), .redis(u.index)) {
                n.lastMasterContact = now
                n.linkUp = true
                n.linkDownSince = nil
                if now >= n.stalledUntil {
                    n.offset = max(0, u.offset - Int64(rng.next() % UInt64(max(1, n.lag))))
                }
            } else if upstream == nil || upstream?.state == .killed {
                if n.linkUp {
                    n.linkUp = false
                    n.linkDownSince = now
                }
            } else if n.linkUp && now - n.lastMasterContact > options.replicationTimeout {
                n.linkUp = false
                n.linkDownSince = n.lastMasterContact + options.replicationTimeout
            }
        }
    }

    // MARK: - Convergence

    /// Invariant (c), to check once faults have healed and time has passed: in
    /// every group exactly one live node is master, every other live node of the
    /// group replicates from it with its link up, and every running sentinel
    /// gives its address for that master. Returns what is wrong (empty when converged).
    public func convergenceProblems() -> [String] {
        var problems: [String] = []
        for g in groups {
            let live = g.nodes.map { redis[$0] }.filter { $0.state != .killed }
            let masters = live.filter(\.isMaster)
            guard masters.count == 1, let m = masters.first else {
                problems.append("\(g.name): \(masters.count) masters among live nodes: \(masters.map { "redis\($0.index)" })")
                continue
            }
            for r in live where r !== m {
                if r.masterAddress != m.address {
                    problems.append("\(g.name): redis\(r.index) replicates \(r.role), not the master \(m.address)")
                } else if !r.linkUp {
                    problems.append("\(g.name): redis\(r.index) has its link to \(m.address) down")
                }
            }
            for s in sentinels where s.isRunning {
                let answer = masterAddress(askedOf: s.index, master: g.name)
                if answer != m.address {
                    problems.append("\(g.name): sentinel\(s.index) answers \(answer.map(\.description) ?? "nil"), master is \(m.address)")
                }
            }
        }
        return problems
    }

    /// The one live master of the first group, if there is exactly one.
    public var currentMaster: FakeRedis? { currentMaster(ofGroup: 0) }

    /// The one live master of group `g`, if there is exactly one.
    public func currentMaster(ofGroup g: Int) -> FakeRedis? {
        let masters = groups[g].nodes.map { redis[$0] }.filter { $0.state != .killed && $0.isMaster }
        return masters.count == 1 ? masters[0] : nil
    }
}
