import RESP
import XCTest

@testable import SentinelCore

/// A property test for "no input traps": one core is driven with random inputs of
/// every kind, each numeric field drawn from the values that break naive code
/// (0, ±1, the 64-bit limits, 2^62 ± 1, text that is not a number, huge jumps of
/// the clock), and after every input the core's invariants are checked:
/// - the current epoch never goes back and stays within `Epoch.max`;
/// - a master's vote never exceeds the current epoch, and one epoch never holds
///   two different votes;
/// - every `.send` and `.close` names a link the core asked for.
/// A trap would end the test process, which fails the run.
///
/// Deterministic per seed. `WARDEN_HOSTILE_STEPS` runs more steps per seed.
final class HostileInputPropertyTests: XCTestCase {
    func testRandomHostileInputsNeverTrapAndKeepTheInvariants() {
        let steps = ProcessInfo.processInfo.environment["WARDEN_HOSTILE_STEPS"].flatMap { Int($0) } ?? 10_000
        for seed: UInt64 in 1...6 {
            var driver = HostileDriver(seed: seed)
            for step in 0..<steps {
                driver.step()
                if let problem = driver.violation {
                    XCTFail("seed \(seed) step \(step): \(problem)\nlast inputs:\n" + driver.history.suffix(12).joined(separator: "\n"))
                    return
                }
            }
        }
    }
}

struct HostileDriver {
    var rng: SplitMix64
    let core: Sentinel
    var now: Millis = 1_700_000_000_000
    /// Links the core asked for: address and whether they are up.
    var links: [LinkID: (address: Address, up: Bool)] = [:]
    var maxEpoch: UInt64 = 0
    var votes: [String: [UInt64: String]] = [:]
    var violation: String?
    var history: [String] = []
    var nextRequest: UInt64 = 0
    /// Saves asked for and not answered yet; answered at random (fail, succeed, later).
    var pendingSaves: [SaveID] = []

    static let masters = ["m1", "m2"]
    static let peer = String(repeating: "b", count: 40)

    init(seed: UInt64) {
        rng = SplitMix64(seed: seed)
        var c = SentinelConfig()
        c.myid = String(repeating: "a", count: 40)
        for (i, name) in Self.masters.enumerated() {
            var m = MasterConfig(name: name, address: Address("127.0.0.1", 6379 + i * 10), quorum: 1 + i)
            m.downAfter = 1_000
            m.failoverTimeout = 3_000
            m.knownReplicas = [Address("127.0.0.1", 6380 + i * 10)]
            m.knownSentinels = [KnownSentinel(address: Address("127.0.0.1", 26380 + i), runID: Self.peer)]
            m.notificationScript = "/bin/true"
            c.masters.append(m)
        }
        core = Sentinel(config: c, seed: seed, now: now)
        carry(core.start(now: now))
    }

    // MARK: Values that break naive code

    mutating func pick<T>(_ options: [T]) -> T { options[Int(rng.next() % UInt64(options.count))] }

    mutating func number() -> String {
        let fixed = ["0", "1", "-1", "2", "9223372036854775807", "-9223372036854775808", "9223372036854775806",
                     "18446744073709551615", "18446744073709551616", "4611686018427387904", "4611686018427387905",
                     "9223372036854775808", "65535", "65536", "-65536", "2147483647", "2147483648", "1000",
                     "abc", "", "00", "+1", " 1", "1e9", "0x10", "-0"]
        switch rng.next() % 4 {
        case 0: return String(Int64(bitPattern: rng.next()))
        case 1: return String(rng.next() % 100_000)
        default: return pick(fixed)
        }
    }

    mutating func unsigned() -> String {
        let n = number()
        return n.hasPrefix("-") ? String(n.dropFirst()) : n
    }

    mutating func masterName() -> String { pick(Self.masters + ["nosuch"]) }

    // MARK: One random input

    mutating func step() {
        switch rng.next() % 11 {
        case 0, 1: tick()
        case 2: linkEvent()
        case 3, 4: reply()
        case 5: hello()
        case 6, 7, 8: command()
        case 9: saveCompletes()
        default: scriptEnds()
        }
        check()
    }

    mutating func tick() {
        switch rng.next() % 10 {
        case 0: now = now &+ Millis(rng.next() % 10_000_000)       // a stall or a jump forwards
        case 1: now = now &- Millis(rng.next() % 100_000)          // the clock goes back
        default: now += Millis(rng.next() % 200)
        }
        history.append("t=\(now) tick")
        carry(core.handle(.tick, now: now))
    }

    mutating func linkEvent() {
        let ids = links.keys.sorted(by: { $0.raw < $1.raw })
        guard !ids.isEmpty else { return }
        let id = pick(ids)
        if links[id]!.up || rng.next() % 3 == 0 {
            links[id] = nil
            history.append("disconnected \(id)")
            carry(core.handle(.disconnected(id), now: now))
        } else {
            links[id]!.up = true
            history.append("connected \(id)")
            carry(core.handle(.connected(id, localHost: pick(["127.0.0.1", "::1", ""])), now: now))
        }
    }

    mutating func info() -> String {
        var s = "# Server\r\nrun_id:\(pick([String(repeating: "c", count: 40), String(repeating: "d", count: 40), "short"]))\r\n"
        s += "# Replication\r\nrole:\(pick(["master", "slave", "sentinel", ""]))\r\n"
        s += "master_host:\(pick(["127.0.0.1", "", "::1", "host"]))\r\nmaster_port:\(number())\r\n"
        s += "master_link_status:\(pick(["up", "down", "UP"]))\r\n"
        s += "master_link_down_since_seconds:\(number())\r\n"
        s += "slave_priority:\(number())\r\nslave_repl_offset:\(number())\r\nreplica_announced:\(number())\r\n"
        s += "master_repl_offset:\(number())\r\nloading:\(number())\r\n"
        for i in 0..<Int(rng.next() % 3) {
            s += "slave\(i):ip=\(pick(["127.0.0.1", "10.0.0.1", ""])),port=\(number()),state=online,offset=\(number()),lag=0\r\n"
        }
        return s
    }

    mutating func helloPayload() -> String {
        let runID = pick([Self.peer, String(repeating: "e", count: 40), String(repeating: "a", count: 40)])
        return "127.0.0.1,\(unsigned()),\(runID),\(unsigned()),\(masterName()),127.0.0.1,\(unsigned()),\(unsigned())"
    }

    mutating func reply() {
        let up = links.filter({ $0.value.up }).keys.sorted(by: { $0.raw < $1.raw })
        guard !up.isEmpty else { return }
        let id = pick(up)
        let value: RESPValue
        switch rng.next() % 8 {
        case 0: value = .simpleString(pick(["PONG", "LOADING", "MASTERDOWN", "OK", "QUEUED"]))
        case 1: value = .error(pick(["BUSY script", "ERR x", "NOAUTH", "LOADING"]))
        case 2, 3: value = .bulk(info())
        case 4: value = .array([.integer(Int64(bitPattern: rng.next())), .bulk(pick([Self.peer, "*", ""])),
                                .integer(Int64(bitPattern: rng.next()))])
        case 5: value = .array([.integer(pick([0, 1, -1, Int64.max, Int64.min])), .bulk("*"),
                                .integer(pick([0, -1, Int64.max, Int64.min, 1 << 62, (1 << 62) + 1]))])
        case 6: value = .array([.bulk("message"), .bulk("__sentinel__:hello"), .bulk(helloPayload())])
        default: value = pick([.integer(Int64.min), .null, .array(nil), .array([]), .bulk("")])
        }
        history.append("reply on \(id): \(value)")
        carry(core.handle(.reply(id, value), now: now))
    }

    mutating func hello() {
        let payload = helloPayload()
        history.append("hello \(payload)")
        carry(core.handle(.hello(payload), now: now))
    }

    mutating func command() {
        let name = masterName()
        let setOptions = ["down-after-milliseconds", "failover-timeout", "parallel-syncs", "quorum",
                          "master-reboot-down-after-period", "auth-pass", "auth-user"]
        let args: [String]
        switch rng.next() % 12 {
        case 0: args = ["SENTINEL", "SET", name, pick(setOptions), number()]
        case 1: args = ["SENTINEL", "SET", name, pick(setOptions), number(), pick(setOptions), number()]
        case 2:
            let names = Timing.debugNames.map(\.0)
            args = ["SENTINEL", "DEBUG", pick(names), number(), pick(names), number()]
        case 3: args = ["SENTINEL", "IS-MASTER-DOWN-BY-ADDR", "127.0.0.1", pick(["6379", "6389", number()]),
                        number(), pick(["*", Self.peer, "x"])]
        case 4: args = ["SENTINEL", "MONITOR", "new\(rng.next() % 3)", "127.0.0.1", number(), number()]
        case 5: args = ["SENTINEL", "CONFIG", "SET", "announce-port", number()]
        case 6: args = ["SENTINEL", "FAILOVER", name]
        case 7: args = ["SENTINEL", pick(["MASTERS", "PENDING-SCRIPTS", "FLUSHCONFIG"])]
        case 8: args = ["SENTINEL", pick(["MASTER", "REPLICAS", "SENTINELS", "CKQUORUM", "INFO-CACHE"]), name]
        case 9: args = ["SENTINEL", pick(["RESET", "REMOVE"]), rng.next() % 4 == 0 ? "*" : "new\(rng.next() % 3)"]
        case 10: args = ["SENTINEL", "GET-MASTER-ADDR-BY-NAME", name]
        default: args = ["SENTINEL", "SIMULATE-FAILURE", pick(["crash-after-election", "crash-after-promotion", "help"])]
        }
        history.append("command \(args.joined(separator: " "))")
        nextRequest += 1
        carry(core.handle(.command(RequestID(nextRequest), args.map { Array($0.utf8) }), now: now))
        _ = core.infoSentinelSection(now: now)
    }

    /// A disk that sometimes fails and answers late.
    mutating func saveCompletes() {
        guard !pendingSaves.isEmpty else { return }
        let id = pendingSaves.removeFirst()
        let ok = rng.next() % 4 != 0
        history.append("\(id) \(ok ? "succeeds" : "fails")")
        carry(core.handle(.saved(id, ok: ok), now: now))
    }

    mutating func scriptEnds() {
        let id = ScriptID(Int(rng.next() % 20))
        let status = pick([Int32(0), 1, 2, -1, Int32.max, Int32.min])
        history.append("script \(id) exits \(status)")
        carry(core.handle(.scriptFinished(id, exitStatus: status, signal: pick([0, 9, 15, Int32.max])), now: now))
    }

    // MARK: Effects and invariants

    mutating func carry(_ effects: [Effect]) {
        for e in effects {
            switch e {
            case .connect(let id, let address):
                links[id] = (address, false)
            case .send(let id, _):
                if links[id] == nil { violation = "send on \(id), which the core never asked for or closed" }
                else if links[id]!.up == false { violation = "send on \(id) before it connected" }
            case .close(let id):
                links[id] = nil
            case .save(let request):
                pendingSaves.append(request.id)
            case .checkExecutable(let id, let paths):
                let flags = paths.map { _ in rng.next() % 2 == 0 }
                carry(core.handle(.executableChecked(id, flags), now: now))
            default:
                break
            }
        }
    }

    mutating func check() {
        let epoch = core.currentEpoch
        if epoch < maxEpoch { violation = "current epoch went back from \(maxEpoch) to \(epoch)" }
        if epoch > Epoch.max { violation = "current epoch \(epoch) above Epoch.max" }
        maxEpoch = max(maxEpoch, epoch)
        for m in core.masters {
            if m.leaderEpoch > epoch { violation = "\(m.name): vote in epoch \(m.leaderEpoch) above current \(epoch)" }
            if m.configEpoch > Epoch.max { violation = "\(m.name): config epoch \(m.configEpoch) out of range" }
            guard let leader = m.leader, m.leaderEpoch > 0 else { continue }
            if let earlier = votes[m.name]?[m.leaderEpoch], earlier != leader {
                violation = "\(m.name): two votes in epoch \(m.leaderEpoch): \(earlier) and \(leader)"
            }
            votes[m.name, default: [:]][m.leaderEpoch] = leader
            _ = core.instanceFields(m, now: now)
        }
    }
}
