import Configuration
import Foundation
import RESP

@testable import SentinelCore

/// The world a transcript runs in: real `Sentinel` cores, fake Redis nodes that
/// answer as Redis does (PING, INFO from their role, SUBSCRIBE and PUBLISH relaying
/// hellos, MULTI/SLAVEOF/EXEC), a network between them that delivers in FIFO order
/// (and can be cut, holding what is sent across the cut as TCP would until it
/// heals), disks that succeed, fail or wait for the transcript, and one clock.
///
/// Every effect a core returns is carried out here and, when the output filter
/// lets it through, printed as one line. Each directive of a transcript is one
/// method call; `run(_:body:)` dispatches them.
final class TranscriptWorld {
    static let t0: Millis = 1_700_000_000_000

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    enum Endpoint: Equatable {
        case redis(String)
        case sentinel(String)
        var name: String {
            switch self {
            case .redis(let n), .sentinel(let n): return n
            }
        }
    }

    /// One connection a sentinel opened, in one incarnation of that sentinel.
    struct LinkKey: Hashable {
        let sentinel: String
        let incarnation: Int
        let link: LinkID
    }

    enum DiskMode: String { case ok, fail, manual }

    final class SentinelProc {
        let name: String
        let runID: String
        let address: Address
        let initialText: String
        var seed: UInt64
        var core: Sentinel?
        var incarnation = 0
        /// What sentinel.conf holds now: the initial file, then each save that succeeded.
        var onDisk: String
        var disk: DiskMode = .ok
        var pendingSaves: [SaveRequest] = []
        var manualScripts = false
        var clockOffset: Millis = 0
        var frozen = false
        /// Open links and where they go.
        var links: [LinkID: Endpoint] = [:]
        /// Commands from the transcript still waiting for their reply.
        var transcriptRequests: [RequestID: String] = [:]
        init(name: String, runID: String, address: Address, text: String, seed: UInt64) {
            self.name = name
            self.runID = runID
            self.address = address
            self.initialText = text
            self.onDisk = text
            self.seed = seed
        }
        func key(_ link: LinkID) -> LinkKey { LinkKey(sentinel: name, incarnation: incarnation, link: link) }
    }

    enum Role: Equatable {
        case master
        case replica(of: Address)
    }

    enum NodeState: String { case up, down, paused }

    final class RedisNode {
        let name: String
        let address: Address
        var runID: String
        var role: Role = .master
        var offset: Int64 = 1000
        var priority = 100
        var state: NodeState = .up
        /// Commands (upper-cased names) the transcript answers with `reply`.
        var manual: Set<String> = []
        var manualQueue: [(key: LinkKey, args: [String])] = []
        /// Commands behind a held one on the same link: Redis answers a
        /// connection's commands in order, so they wait for it.
        var backlog: [LinkKey: [[String]]] = [:]
        var subscribers: [LinkKey] = []
        var transactions: [LinkKey: [[String]]] = [:]
        var linkDownSince: Millis?
        init(name: String, address: Address, runID: String) {
            self.name = name
            self.address = address
            self.runID = runID
        }
    }

    enum Delivery {
        /// An input for a sentinel core; `from` is the far end when it came over the network.
        case input(to: String, incarnation: Int, from: String?, Input)
        /// A command on a link to a Redis node.
        case toRedis(LinkKey, node: String, args: [String])
        /// A command on a link to a peer sentinel's port.
        case toSentinel(LinkKey, to: String, args: [[UInt8]])
    }

    /// The server side of a connection to a sentinel's port: one command at a time
    /// (the daemon reads a client's next command only once the previous one is answered).
    struct ServerConnection {
        var busy: RequestID?
        var waiting: [[[UInt8]]] = []
    }

    var now: Millis = t0
    var filter = OutputFilter()
    private(set) var sentinels: [SentinelProc] = []
    private(set) var nodes: [RedisNode] = []
    /// Names that only stand for a run id and an address (peers played by the transcript).
    private var peerNames: [String: (runID: String, address: Address)] = [:]
    private var queue: [Delivery] = []
    private var parked: [Delivery] = []
    private var cuts: Set<[String]> = []
    private var connections: [LinkKey: ServerConnection] = [:]
    /// Requests a sentinel's core is answering for a peer: (sentinel, request) → the asking link.
    private var peerRequests: [String: [RequestID: (key: LinkKey, periodic: Bool)]] = [:]
    private var nextRequest: UInt64 = 1
    private var output: [String] = []
    /// Event names seen since the last `run` step began (for `run ... until=`).
    private var eventsSeen: [String] = []

    // MARK: - Names and ids

    /// A 40-hex run id derived from a name, so `<name>` can be written in a
    /// transcript and names sort as their ids do.
    static func runID(for name: String) -> String {
        let hex = Array(name.utf8).map { b -> String in
            let h = String(b, radix: 16)
            return h.count == 1 ? "0" + h : h
        }.joined()
        var id = ""
        while id.count < 40 { id += hex }
        return String(id.prefix(40))
    }

    func sentinel(_ name: String) throws -> SentinelProc {
        guard let s = sentinels.first(where: { $0.name == name }) else { throw Failure("no sentinel named \(name)") }
        return s
    }

    func node(_ name: String) throws -> RedisNode {
        guard let n = nodes.first(where: { $0.name == name }) else { throw Failure("no redis node named \(name)") }
        return n
    }

    func liveCore(_ name: String) throws -> Sentinel {
        guard let core = try sentinel(name).core else { throw Failure("sentinel \(name) is not running") }
        return core
    }

    /// `<name>` → that sentinel's (or peer's, or node's) run id.
    func expand(_ text: String) -> String {
        var s = text
        for p in sentinels { s = s.replacingAll("<\(p.name)>", with: p.runID) }
        for (n, p) in peerNames { s = s.replacingAll("<\(n)>", with: p.runID) }
        for n in nodes { s = s.replacingAll("<\(n.name)>", with: n.runID) }
        return s
    }

    /// Run ids back to `<name>` in output.
    func abbreviate(_ text: String) -> String {
        guard text.count >= 40 else { return text }
        var s = text
        for p in sentinels { s = s.replacingAll(p.runID, with: "<\(p.name)>") }
        for (n, p) in peerNames { s = s.replacingAll(p.runID, with: "<\(n)>") }
        for n in nodes { s = s.replacingAll(n.runID, with: "<\(n.name)>") }
        return s
    }

    // MARK: - Output

    private func emit(_ who: String, _ text: String) {
        output.append("\(now - Self.t0)ms \(who) \(abbreviate(text))")
    }

    func takeOutput() -> [String] {
        defer { output = [] }
        return output
    }

    // MARK: - Setting up

    func addSentinels(_ names: [String], options: [String: String], body: [String]) throws {
        var lines = body.map(expand)
        for n in names {
            lines = lines.map { $0.replacingAll("<\(n)>", with: Self.runID(for: n)) }
        }
        for name in names {
            guard (try? sentinel(name)) == nil, peerNames[name] == nil else { throw Failure("\(name) exists already") }
            let index = sentinels.count
            let port = 26379 + index
            let runID = Self.runID(for: name)
            var text = "port \(port)\n"
            if !body.contains(where: { $0.lowercased().hasPrefix("sentinel myid") }) { text += "sentinel myid \(runID)\n" }
            text += lines.joined(separator: "\n") + "\n"
            let seed = UInt64(options["seed"] ?? "") ?? UInt64(index + 1)
            let p = SentinelProc(name: name, runID: runID, address: Address("127.0.0.1", port), text: text, seed: seed)
            sentinels.append(p)
            try boot(p)
        }
        drain()
    }

    func addPeers(_ names: [String]) {
        for name in names {
            peerNames[name] = (Self.runID(for: name), Address("127.0.0.1", 26479 + peerNames.count))
        }
    }

    /// Starts a sentinel from what its sentinel.conf holds now.
    private func boot(_ p: SentinelProc) throws {
        let config: SentinelConfig
        do {
            config = try ConfigParser.parse(p.onDisk, file: "\(p.name).conf")
        } catch {
            throw Failure("\(p.name).conf: \(error)")
        }
        p.incarnation += 1
        p.links = [:]
        p.pendingSaves = []
        p.transcriptRequests = [:]
        let core = Sentinel(config: config, seed: p.seed &+ UInt64(p.incarnation - 1), now: now + p.clockOffset)
        p.core = core
        carry(p, core.start(now: now + p.clockOffset))
    }

    /// `redis NAME [host:port] [role=master|replica] [of=NODE] [offset=N] [priority=N]
    /// [state=up|down|paused] [manual=INFO,PING] [run-id=...]`: creates or changes a node.
    func redis(_ name: String, _ args: [String]) throws {
        var n = nodes.first { $0.name == name }
        var rest = args
        if n == nil {
            guard let first = rest.first, let colon = first.lastIndex(of: ":"),
                  let port = Int(first[first.index(after: colon)...]) else {
                throw Failure("a new redis node needs an address host:port")
            }
            rest.removeFirst()
            let node = RedisNode(name: name, address: Address(String(first[..<colon]), port), runID: Self.runID(for: "redis-" + name))
            nodes.append(node)
            n = node
        }
        guard let node = n else { return }
        var wantedState: NodeState?
        for a in rest {
            guard let eq = a.firstIndex(of: "=") else { throw Failure("expected key=value, got `\(a)`") }
            let k = String(a[..<eq]), v = String(a[a.index(after: eq)...])
            switch k {
            case "role":
                if v == "master" { node.role = .master } else if v == "replica" {
                    if case .master = node.role { node.role = .replica(of: Address("127.0.0.1", 0)) }
                } else { throw Failure("role is master or replica") }
            case "of": node.role = .replica(of: try self.node(v).address)
            case "offset": node.offset = try int(v)
            case "priority": node.priority = Int(try int(v))
            case "run-id": node.runID = v
            case "manual": node.manual = Set(v.split(separator: ",").map { $0.uppercased() }.filter { $0 != "NONE" })
            case "state":
                guard let s = NodeState(rawValue: v) else { throw Failure("state is up, down or paused") }
                wantedState = s
            default: throw Failure("unknown redis option \(k)")
            }
        }
        if let s = wantedState { setState(node, s) }
        drain()
    }

    private func setState(_ node: RedisNode, _ s: NodeState) {
        let was = node.state
        node.state = s
        if s == .down && was != .down {
            // A crash: every connection to it is closed (a sentinel across a cut
            // hears of it when the cut heals).
            node.subscribers = []
            node.transactions = [:]
            node.manualQueue = []
            node.backlog = [:]
            for p in sentinels {
                for (id, e) in p.links.sorted(by: { $0.key.raw < $1.key.raw }) where e == .redis(node.name) {
                    p.links[id] = nil
                    queue.append(.input(to: p.name, incarnation: p.incarnation, from: node.name, .disconnected(id)))
                }
            }
        }
        if was == .paused && s != .paused { unpark() }
    }

    private func int(_ s: String) throws -> Int64 {
        guard let n = Int64(s) else { throw Failure("`\(s)` is not a number") }
        return n
    }

    // MARK: - Directives that move time and feed inputs

    /// One tick of each named sentinel (all running ones if none), at the current time.
    func tick(_ names: [String]) throws {
        let targets = names.isEmpty ? sentinels.filter { $0.core != nil && !$0.frozen } : try names.map(sentinel)
        for p in targets {
            queue.append(.input(to: p.name, incarnation: p.incarnation, from: nil, .tick))
        }
        drain()
    }

    /// Moves time by `ms`, ticking every running sentinel every `step` ms; stops
    /// early after a step in which the event `until` was published.
    func run(_ ms: Millis, step: Millis, until: String?) throws {
        guard step > 0, ms >= 0 else { throw Failure("run needs a positive step") }
        let end = now + ms
        while now < end {
            now = min(end, now + step)
            eventsSeen = []
            try tick([])
            if let until, eventsSeen.contains(until) { return }
        }
        if let until { throw Failure("no \(until) within \(ms) ms") }
    }

    /// A client command on a sentinel's port.
    func command(_ name: String, _ args: [String]) throws {
        let p = try sentinel(name)
        guard p.core != nil else { throw Failure("sentinel \(name) is not running") }
        let id = RequestID(nextRequest)
        nextRequest += 1
        p.transcriptRequests[id] = args.joined(separator: " ")
        queue.append(.input(to: name, incarnation: p.incarnation, from: nil, .command(id, args.map { Array($0.utf8) })))
        drain()
    }

    /// Answers the oldest command from `sentinel` that `node` holds for the transcript.
    func reply(_ sentinelName: String, _ nodeName: String, _ value: RESPValue) throws {
        let node = try self.node(nodeName)
        guard let i = node.manualQueue.firstIndex(where: { $0.key.sentinel == sentinelName }) else {
            throw Failure("\(nodeName) holds no command from \(sentinelName)")
        }
        let (key, _) = node.manualQueue.remove(at: i)
        queue.append(.input(to: key.sentinel, incarnation: key.incarnation, from: node.name, .reply(key.link, value)))
        // What waited behind it is answered now, up to the next held command.
        var waiting = node.backlog.removeValue(forKey: key) ?? []
        while !waiting.isEmpty {
            let args = waiting.removeFirst()
            if holds(node, key, args) {
                node.backlog[key] = waiting
                break
            }
            if let v = respond(node, key, args) {
                queue.append(.input(to: key.sentinel, incarnation: key.incarnation, from: node.name, .reply(key.link, v)))
            }
        }
        drain()
    }

    /// The commands nodes hold for the transcript to answer.
    func pending() -> [String] {
        var out: [String] = []
        for n in nodes {
            for (key, args) in n.manualQueue { out.append("\(key.sentinel) -> \(n.name): \(args.joined(separator: " "))") }
        }
        for p in sentinels {
            for s in p.pendingSaves { out.append("\(p.name) \(describe(s))") }
        }
        return out.map(abbreviate)
    }

    /// Answers the oldest save `name` is waiting for.
    func saved(_ name: String, ok: Bool) throws {
        let p = try sentinel(name)
        guard !p.pendingSaves.isEmpty else { throw Failure("\(name) has no save waiting") }
        let request = p.pendingSaves.removeFirst()
        if ok { writeConfig(p, request.config) }
        queue.append(.input(to: name, incarnation: p.incarnation, from: nil, .saved(request.id, ok: ok)))
        drain()
    }

    func setDisk(_ name: String, _ mode: DiskMode) throws {
        try sentinel(name).disk = mode
    }

    func setScripts(_ name: String, manual: Bool) throws {
        try sentinel(name).manualScripts = manual
    }

    func script(_ name: String, _ input: Input) throws {
        let p = try sentinel(name)
        queue.append(.input(to: name, incarnation: p.incarnation, from: nil, input))
        drain()
    }

    /// Moves the global clock without ticking anyone, or one sentinel's clock
    /// (a wall-clock jump on its machine).
    func clock(_ name: String?, by delta: Millis) throws {
        if let name {
            try sentinel(name).clockOffset += delta
        } else {
            now += delta
        }
    }

    /// The process stops (SIGSTOP): no ticks, and what is sent to it waits.
    func freeze(_ name: String, _ frozen: Bool) throws {
        try sentinel(name).frozen = frozen
        if !frozen {
            unpark()
        }
    }

    func crash(_ name: String) throws {
        let p = try sentinel(name)
        guard p.core != nil else { throw Failure("sentinel \(name) is not running") }
        kill(p)
        drain()
    }

    func restart(_ name: String) throws {
        let p = try sentinel(name)
        if p.core != nil { kill(p) }
        try boot(p)
        drain()
    }

    private func kill(_ p: SentinelProc) {
        p.core = nil
        p.pendingSaves = []
        for (id, e) in p.links {
            closed(p, id, e)
        }
        p.links = [:]
        // Everyone connected to its port sees the connection close.
        for other in sentinels where other !== p {
            for (id, e) in other.links.sorted(by: { $0.key.raw < $1.key.raw }) where e == .sentinel(p.name) {
                other.links[id] = nil
                connections[other.key(id)] = nil
                queue.append(.input(to: other.name, incarnation: other.incarnation, from: nil, .disconnected(id)))
            }
        }
        peerRequests[p.name] = nil
    }

    /// `cut A B | C D`: nothing passes between the two groups (or, with one group,
    /// between it and everything else) until healed.
    func cut(_ left: [String], _ right: [String]) throws {
        let all = sentinels.map(\.name) + nodes.map(\.name)
        for n in left + right where !all.contains(n) { throw Failure("unknown name \(n)") }
        let other = right.isEmpty ? all.filter { !left.contains($0) } : right
        for a in left {
            for b in other where a != b { cuts.insert([a, b].sorted()) }
        }
    }

    func heal() {
        cuts = []
        unpark()
    }

    private func isCut(_ a: String, _ b: String) -> Bool { cuts.contains([a, b].sorted()) }

    // MARK: - Looking

    func state(_ name: String) throws -> [String] {
        let p = try sentinel(name)
        guard let core = p.core else { return ["\(name) not running"] }
        var out = ["\(name) epoch \(core.currentEpoch)\(core.tilt ? " TILT" : "")"]
        for m in core.masters {
            var s = "  \(m.name) \(m.address) \(m.flags.redisNames) config-epoch \(m.configEpoch)"
            if m.failoverState != .none { s += " failover \(m.failoverState.redisName) epoch \(m.failoverEpoch)" }
            s += " vote " + (m.leaderEpoch == 0 && m.leader == nil ? "none" : "\(m.leader ?? "*") epoch \(m.leaderEpoch)")
            out.append(s)
            for r in m.replicas { out.append("    replica \(r.address) \(r.flags.redisNames)") }
            for x in m.sentinels { out.append("    sentinel \(x.runID ?? "?") \(x.address) \(x.flags.redisNames)") }
        }
        return out.map(abbreviate)
    }

    func nodeStates() -> [String] {
        nodes.map { n in
            var s = "\(n.name) \(n.address) "
            switch n.role {
            case .master: s += "master"
            case .replica(let a): s += "replica of \(nodeName(at: a) ?? a.description)"
            }
            if n.state != .up { s += " (\(n.state.rawValue))" }
            return s
        }
    }

    private func nodeName(at a: Address) -> String? {
        nodes.first { $0.address == a }?.name
    }

    // MARK: - Delivering

    private func endpoint(at a: Address) -> Endpoint? {
        if let n = nodes.first(where: { $0.address == a }) { return .redis(n.name) }
        if let s = sentinels.first(where: { $0.address == a }) { return .sentinel(s.name) }
        return nil
    }

    /// Whether a delivery can never happen (its link or process is gone).
    private func isDead(_ d: Delivery) -> Bool {
        switch d {
        case .input(let to, let inc, _, _):
            guard let p = sentinels.first(where: { $0.name == to }) else { return true }
            return p.core == nil || p.incarnation != inc
        case .toRedis(let key, let node, _):
            return !isOpen(key) || nodes.first { $0.name == node }?.state == .down
        case .toSentinel(let key, let to, _):
            return !isOpen(key) || sentinels.first { $0.name == to }?.core == nil
        }
    }

    private func isOpen(_ key: LinkKey) -> Bool {
        guard let p = sentinels.first(where: { $0.name == key.sentinel }) else { return false }
        return p.core != nil && p.incarnation == key.incarnation && p.links[key.link] != nil
    }

    /// Whether a delivery must wait (a cut, a paused node, a frozen sentinel).
    private func mustWait(_ d: Delivery) -> Bool {
        switch d {
        case .input(let to, _, let from, _):
            if let from, isCut(from, to) { return true }
            return sentinels.first { $0.name == to }?.frozen == true
        case .toRedis(let key, let node, _):
            return isCut(key.sentinel, node) || nodes.first { $0.name == node }?.state == .paused
        case .toSentinel(let key, let to, _):
            return isCut(key.sentinel, to) || sentinels.first { $0.name == to }?.frozen == true
        }
    }

    private func unpark() {
        queue = parked + queue
        parked = []
        drain()
    }

    private func drain() {
        var steps = 0
        while !queue.isEmpty {
            steps += 1
            precondition(steps < 1_000_000, "transcript world does not settle")
            let d = queue.removeFirst()
            if isDead(d) { continue }
            if mustWait(d) {
                parked.append(d)
                continue
            }
            deliver(d)
        }
    }

    private func deliver(_ d: Delivery) {
        switch d {
        case .input(let to, _, _, let input):
            guard let p = sentinels.first(where: { $0.name == to }), let core = p.core else { return }
            carry(p, core.handle(input, now: now + p.clockOffset))
        case .toRedis(let key, let name, let args):
            guard let node = nodes.first(where: { $0.name == name }) else { return }
            if node.backlog[key] != nil {
                node.backlog[key]!.append(args)
                return
            }
            if holds(node, key, args) { return }
            if let value = respond(node, key, args) {
                queue.append(.input(to: key.sentinel, incarnation: key.incarnation, from: name, .reply(key.link, value)))
            }
        case .toSentinel(let key, let to, let args):
            var c = connections[key] ?? ServerConnection()
            if c.busy != nil {
                c.waiting.append(args)
                connections[key] = c
                return
            }
            connections[key] = c
            serve(key, to: to, args)
        }
    }

    /// One command on a sentinel's port: what the daemon answers itself (PING,
    /// CLIENT, AUTH), or the core's.
    private func serve(_ key: LinkKey, to: String, _ args: [[UInt8]]) {
        guard let p = sentinels.first(where: { $0.name == to }), p.core != nil else { return }
        let name = String(decoding: args.first ?? [], as: UTF8.self).uppercased()
        switch name {
        case "PING":
            answerPeer(key, to, .simpleString("PONG"))
        case "CLIENT", "AUTH":
            answerPeer(key, to, .ok)
        default:
            let id = RequestID(nextRequest)
            nextRequest += 1
            connections[key, default: ServerConnection()].busy = id
            peerRequests[to, default: [:]][id] = (key, OutputFilter.isPeriodic(args.map { String(decoding: $0, as: UTF8.self) }))
            queue.append(.input(to: to, incarnation: p.incarnation, from: key.sentinel, .command(id, args)))
        }
    }

    private func answerPeer(_ key: LinkKey, _ from: String, _ value: RESPValue) {
        queue.append(.input(to: key.sentinel, incarnation: key.incarnation, from: from, .reply(key.link, value)))
        guard var c = connections[key] else { return }
        c.busy = nil
        if !c.waiting.isEmpty {
            let next = c.waiting.removeFirst()
            connections[key] = c
            serve(key, to: from, next)
        } else {
            connections[key] = c
        }
    }

    // MARK: - Carrying out effects

    private func carry(_ p: SentinelProc, _ effects: [Effect]) {
        for e in effects {
            show(p, e)
            switch e {
            case .connect(let id, let address):
                if let target = endpoint(at: address), reachable(target), !isCut(p.name, target.name) {
                    p.links[id] = target
                    queue.append(.input(to: p.name, incarnation: p.incarnation, from: nil, .connected(id, localHost: "127.0.0.1")))
                } else {
                    queue.append(.input(to: p.name, incarnation: p.incarnation, from: nil, .disconnected(id)))
                }
            case .send(let id, let command):
                guard let target = p.links[id] else { continue }
                switch target {
                case .redis(let n): queue.append(.toRedis(p.key(id), node: n, args: command.strings))
                case .sentinel(let s): queue.append(.toSentinel(p.key(id), to: s, args: command.arguments))
                }
            case .close(let id):
                if let target = p.links.removeValue(forKey: id) { closed(p, id, target) }
            case .reply(let id, let value):
                if p.transcriptRequests.removeValue(forKey: id) != nil {
                    continue
                }
                if let request = peerRequests[p.name]?.removeValue(forKey: id) {
                    answerPeer(request.key, p.name, value)
                }
            case .save(let request):
                switch p.disk {
                case .ok:
                    writeConfig(p, request.config)
                    queue.append(.input(to: p.name, incarnation: p.incarnation, from: nil, .saved(request.id, ok: true)))
                case .fail:
                    queue.append(.input(to: p.name, incarnation: p.incarnation, from: nil, .saved(request.id, ok: false)))
                case .manual:
                    p.pendingSaves.append(request)
                }
            case .checkExecutable(let id, let paths):
                queue.append(.input(to: p.name, incarnation: p.incarnation, from: nil, .executableChecked(id, paths.map { _ in true })))
            case .resolve(let host):
                queue.append(.input(to: p.name, incarnation: p.incarnation, from: nil, .resolved(host, ip: nil)))
            case .runScript(let id, _, _):
                if !p.manualScripts {
                    queue.append(.input(to: p.name, incarnation: p.incarnation, from: nil, .scriptStarted(id, pid: Int32(1000 + id.raw))))
                    queue.append(.input(to: p.name, incarnation: p.incarnation, from: nil, .scriptFinished(id, exitStatus: 0, signal: 0)))
                }
            case .exit:
                kill(p)
                return
            case .event(let event):
                eventsSeen.append(event.name)
            case .killScript, .log:
                break
            }
        }
    }

    /// Whether the node holds this command for the transcript to answer (then the
    /// link's later commands wait behind it).
    private func holds(_ node: RedisNode, _ key: LinkKey, _ args: [String]) -> Bool {
        guard node.manual.contains(args.first?.uppercased() ?? ""), node.transactions[key] == nil else { return false }
        node.manualQueue.append((key, args))
        node.backlog[key] = []
        return true
    }

    private func reachable(_ e: Endpoint) -> Bool {
        switch e {
        case .redis(let n): return nodes.first { $0.name == n }?.state != .down
        case .sentinel(let s): return sentinels.first { $0.name == s }?.core != nil
        }
    }

    /// A link closed by its sentinel (or its sentinel died): the far end forgets it.
    private func closed(_ p: SentinelProc, _ id: LinkID, _ target: Endpoint) {
        let key = p.key(id)
        switch target {
        case .redis(let n):
            if let node = nodes.first(where: { $0.name == n }) {
                node.subscribers.removeAll { $0 == key }
                node.transactions[key] = nil
                node.manualQueue.removeAll { $0.key == key }
                node.backlog[key] = nil
            }
        case .sentinel(let s):
            connections[key] = nil
            if var requests = peerRequests[s] {
                requests = requests.filter { $0.value.key != key }
                peerRequests[s] = requests
            }
        }
    }

    private func writeConfig(_ p: SentinelProc, _ config: SentinelConfig) {
        p.onDisk = ConfigRewriter.rewrite(original: p.onDisk, config: config)
    }

    // MARK: - Printing effects

    private func show(_ p: SentinelProc, _ e: Effect) {
        let who = p.name
        switch e {
        case .event(let ev):
            if filter.has(.events) { emit(who, ev.description) }
        case .send(let id, let command):
            let periodic = OutputFilter.isPeriodic(command.strings)
            guard filter.has(.sends), !periodic || filter.periodic, let target = p.links[id] else { return }
            let pubsub = p.core?.linkOwners[id]?.isPubSub == true ? "/pubsub" : ""
            emit(who, "-> \(target.name)\(pubsub): \(command.description)")
        case .reply(let id, let value):
            if let command = p.transcriptRequests[id] {
                emit(who, "reply to `\(command)`: \(RESPText.render(value))")
            } else if filter.has(.replies), let request = peerRequests[who]?[id], !request.periodic || filter.periodic {
                emit(who, "=> \(request.key.sentinel): \(RESPText.render(value))")
            }
        case .save(let request):
            if filter.has(.saves) || p.disk == .manual { emit(who, describe(request)) }
        case .connect(let id, let address):
            if filter.has(.links) { emit(who, "connect \(endpoint(at: address)?.name ?? address.description) (\(id))") }
        case .close(let id):
            if filter.has(.links) { emit(who, "close \(p.links[id]?.name ?? "?") (\(id))") }
        case .log(let level, let text):
            if filter.has(.logs) { emit(who, "log \(level.rawValue): \(text)") }
        case .runScript(let id, let path, let args):
            if filter.has(.scripts) { emit(who, "run \(id) \(([path] + args).joined(separator: " "))") }
        case .killScript(let id):
            if filter.has(.scripts) { emit(who, "kill \(id)") }
        case .checkExecutable(_, let paths):
            if filter.has(.scripts) { emit(who, "check executable \(paths.joined(separator: " "))") }
        case .resolve(let host):
            if filter.has(.links) { emit(who, "resolve \(host)") }
        case .exit(let code):
            emit(who, "exit \(code)")
        }
    }

    /// `save#3 epoch 1, mymaster 127.0.0.1:6379 config-epoch 0 leader-epoch 1`
    func describe(_ r: SaveRequest) -> String {
        var s = "\(r.id) epoch \(r.config.currentEpoch)"
        for m in r.config.masters {
            s += ", \(m.name) \(m.address) config-epoch \(m.configEpoch) leader-epoch \(m.leaderEpoch)"
        }
        return s
    }

    // MARK: - Fake Redis

    private func respond(_ node: RedisNode, _ key: LinkKey, _ args: [String]) -> RESPValue? {
        let name = args.first?.uppercased() ?? ""
        if var queued = node.transactions[key], name != "EXEC", name != "DISCARD" {
            queued.append(args)
            node.transactions[key] = queued
            return .simpleString("QUEUED")
        }
        switch name {
        case "PING": return .simpleString("PONG")
        case "INFO": return .bulk(info(node))
        case "AUTH": return .ok
        case "CLIENT":
            return args.count > 1 && args[1].uppercased() == "KILL" ? .integer(0) : .ok
        case "SUBSCRIBE":
            if !node.subscribers.contains(key) { node.subscribers.append(key) }
            return .array([.bulk("subscribe"), .bulk(args.count > 1 ? args[1] : ""), .integer(1)])
        case "PUBLISH":
            guard args.count == 3 else { return .error("ERR wrong number of arguments for 'publish' command") }
            for s in node.subscribers {
                queue.append(.input(to: s.sentinel, incarnation: s.incarnation, from: node.name,
                                    .reply(s.link, .array([.bulk("message"), .bulk(args[1]), .bulk(args[2])]))))
            }
            return .integer(Int64(node.subscribers.count))
        case "MULTI":
            node.transactions[key] = []
            return .ok
        case "DISCARD":
            node.transactions[key] = nil
            return .ok
        case "EXEC":
            guard let queued = node.transactions.removeValue(forKey: key) else { return .error("ERR EXEC without MULTI") }
            return .array(queued.map { respond(node, key, $0) ?? .ok })
        case "SLAVEOF", "REPLICAOF":
            guard args.count == 3 else { return .error("ERR wrong number of arguments") }
            if args[1].uppercased() == "NO" {
                node.role = .master
            } else if let port = Int(args[2]) {
                node.role = .replica(of: Address(args[1], port))
            }
            return .ok
        default:
            return .ok
        }
    }

    private func info(_ node: RedisNode) -> String {
        var s = "# Server\r\nredis_version:7.0.15\r\nrun_id:\(node.runID)\r\n\r\n# Replication\r\n"
        switch node.role {
        case .master:
            node.linkDownSince = nil
            let replicas = nodes.filter { $0.state != .down && $0.role == .replica(of: node.address) }
            s += "role:master\r\nconnected_slaves:\(replicas.count)\r\n"
            for (i, r) in replicas.enumerated() {
                s += "slave\(i):ip=\(r.address.host),port=\(r.address.port),state=online,offset=\(r.offset),lag=0\r\n"
            }
            s += "master_repl_offset:\(node.offset)\r\n"
        case .replica(let of):
            let up = nodes.contains { $0.address == of && $0.state != .down }
            if up { node.linkDownSince = nil } else if node.linkDownSince == nil { node.linkDownSince = now }
            s += "role:slave\r\nmaster_host:\(of.host)\r\nmaster_port:\(of.port)\r\n"
            s += "master_link_status:\(up ? "up" : "down")\r\nmaster_last_io_seconds_ago:\(up ? 0 : -1)\r\n"
            s += "master_sync_in_progress:0\r\nslave_read_repl_offset:\(node.offset)\r\nslave_repl_offset:\(node.offset)\r\n"
            if let since = node.linkDownSince { s += "master_link_down_since_seconds:\((now - since) / 1000)\r\n" }
            s += "slave_priority:\(node.priority)\r\nslave_read_only:1\r\nreplica_announced:1\r\nconnected_slaves:0\r\n"
        }
        return s
    }
}

/// Which effects a transcript prints (directive `show`).
struct OutputFilter {
    enum Kind: String, CaseIterable {
        case events, sends, replies, saves, links, logs, scripts
    }
    var kinds: Set<Kind> = [.events]
    /// Also the periodic sends: PING, INFO, hellos, the handshake.
    var periodic = false

    func has(_ k: Kind) -> Bool { kinds.contains(k) }

    /// `show events,sends` / `show all` / `show sends+periodic`.
    init() {}
    init(parsing spec: [String]) throws {
        kinds = []
        for word in spec.flatMap({ $0.split(separator: ",") }).map(String.init) {
            var w = word
            if w.hasSuffix("+periodic") {
                periodic = true
                w.removeLast("+periodic".count)
            }
            if w == "all" {
                kinds = Set(Kind.allCases)
                periodic = true
            } else if w == "events-only" {
                kinds = [.events]
            } else if let k = Kind(rawValue: w) {
                kinds.insert(k)
            } else {
                throw TranscriptWorld.Failure("unknown output kind `\(w)` (events, sends, replies, saves, links, logs, scripts, all; sends+periodic)")
            }
        }
    }

    static func isPeriodic(_ args: [String]) -> Bool {
        switch args.first?.uppercased() ?? "" {
        case "PING", "INFO", "SUBSCRIBE", "AUTH": return true
        case "CLIENT": return args.count > 1 && args[1].uppercased() == "SETNAME"
        case "PUBLISH": return args.count > 1 && args[1] == Timing.helloChannel
        default: return false
        }
    }
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty, contains(target) else { return self }
        return components(separatedBy: target).joined(separator: replacement)
    }
}
