// The Sentinel state machine driven with random inputs through `handle(_:now:)`:
// client commands with random argv, ticks with random time steps, links coming
// up and going down, random replies (INFO texts among them), hellos from Redis
// and from clients, scripts finishing. What the core asks of the driver is
// answered as the daemon would, with random outcomes drawn from a generator
// seeded by the input: saves succeed or fail (at once or at the next line),
// script paths are executable or not, names resolve or not, scripts start or
// cannot. Nothing may trap; every reply must encode in RESP2 and RESP3 and answer
// a command that had none yet; and every configuration the core asks to save must
// come back the same through ConfigRewriter and ConfigParser, and rewrite to the
// same text again.
//
// Input: lines of actions, each split like an inline command (quotes and \xHH work):
//   cmd ARG...                    a client command: ARG... is the argv (SENTINEL ..., PUBLISH ...)
//   tick [MS]                     advance the clock by MS (default 100) and tick
//   up N [HOST] / down N          the N-th link (mod the links asked for) connects / drops
//   reply N TYPE [TEXT...]        a reply on link N: TYPE is + - : $ _ * (array of TEXTs)
//   msg N PAYLOAD                 a Pub/Sub message on __sentinel__:hello, on link N
//   hello PAYLOAD                 a client PUBLISHed a hello on our port
//   done N STATUS SIGNAL          the N-th script started has finished
// Unknown lines are ignored.
import RESP
@testable import SentinelCore
import Configuration

let baseConfig = """
    port 26379
    sentinel myid 1111111111111111111111111111111111111111
    sentinel monitor mymaster 127.0.0.1 6379 2
    sentinel down-after-milliseconds mymaster 1000
    sentinel failover-timeout mymaster 5000
    sentinel known-replica mymaster 127.0.0.1 6380
    sentinel known-replica mymaster 127.0.0.1 6381
    sentinel known-sentinel mymaster 127.0.0.1 26380 2222222222222222222222222222222222222222
    sentinel known-sentinel mymaster 127.0.0.1 26381 3333333333333333333333333333333333333333
    sentinel notification-script mymaster /bin/true
    sentinel client-reconfig-script mymaster /bin/true
    sentinel monitor other ::1 7000 1
    sentinel auth-pass other secret
    sentinel rename-command other CONFIG XCONFIG
    sentinel known-sentinel other 127.0.0.1 26380 2222222222222222222222222222222222222222

    """

let parsedBase: SentinelConfig = {
    do {
        return try ConfigParser.parse(baseConfig, file: "base.conf")
    } catch {
        fatalError("base config: \(error)")
    }
}()

func string(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

func int64(_ bytes: [UInt8]?) -> Int64? { bytes.flatMap { Int64(string($0)) } }

/// FNV-1a: the seed of a run's random answers, so that an input replays the same.
func fnv1a(_ bytes: [UInt8]) -> UInt64 {
    bytes.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
}

/// The state of one run: the core, the clock, the links and scripts it asked for,
/// and what the daemon would hold (the file's text, saves and commands unanswered).
struct Harness {
    let core: Sentinel
    var random: SplitMix64
    var now: Millis = 1_700_000_000_000
    var links: [LinkID] = []
    var scripts: [ScriptID] = []
    /// sentinel.conf as last written (a failed save leaves it as it was).
    var fileText = baseConfig
    /// Saves the disk has not answered yet (answered at the start of the next line).
    var pendingSaves: [SaveRequest] = []
    /// Commands sent and not answered yet.
    var unanswered: Set<RequestID> = []
    var nextRequest: UInt64 = 0
    /// SIMULATE-FAILURE made the process exit: nothing more happens to it.
    var exited = false

    init(seed: UInt64) {
        random = SplitMix64(seed: seed)
        core = Sentinel(config: parsedBase, seed: 42, now: now)
        carry(core.start(now: now))
    }

    mutating func chance(_ outOf: UInt64) -> Bool { random.next() % outOf == 0 }

    mutating func pick<T>(_ options: [T]) -> T { options[Int(random.next() % UInt64(options.count))] }

    /// Carries out `effects` as the daemon would, answering at once what it answers
    /// at once (depth first), with random outcomes.
    mutating func carry(_ effects: [Effect]) {
        for effect in effects {
            switch effect {
            case .connect(let id, _):
                if !links.contains(id) { links.append(id) }
            case .reply(let id, let value):
                require(unanswered.remove(id) != nil, "a reply to \(id), which has none to get: \(value)")
                _ = RESPEncoder.encode(value, version: .resp2)
                _ = RESPEncoder.encode(value, version: .resp3)
            case .save(let request):
                checkSaved(request.config)
                // A disk that answers late now and then.
                if chance(4) { pendingSaves.append(request) } else { save(request) }
            case .checkExecutable(let id, let paths):
                handle(.executableChecked(id, paths.map { _ in !chance(4) }))
            case .resolve(let name):
                handle(.resolved(name, ip: pick([nil, "127.0.0.1", "127.0.0.2", "::1", "10.0.0.5", "not an ip"])))
            case .runScript(let id, _, _):
                if chance(5) {
                    handle(.scriptCouldNotStart(id))
                } else {
                    scripts.append(id)
                    handle(.scriptStarted(id, pid: Int32(truncatingIfNeeded: random.next() % 100_000 + 2)))
                }
            case .killScript(let id):
                if chance(2) { handle(.scriptFinished(id, exitStatus: 0, signal: 9)) }
            case .exit:
                exited = true
                return
            default:
                break
            }
        }
        // Keep the lists bounded.
        if links.count > 256 { links.removeFirst(links.count - 256) }
        if scripts.count > 256 { scripts.removeFirst(scripts.count - 256) }
    }

    /// The disk answers a save: it fails one time in four.
    mutating func save(_ request: SaveRequest) {
        let ok = !chance(4)
        if ok { fileText = ConfigRewriter.rewrite(original: fileText, config: request.config) }
        handle(.saved(request.id, ok: ok))
    }

    /// What the daemon would write must parse back to the configuration asked to
    /// be saved, and rewrite to the same text again.
    func checkSaved(_ config: SentinelConfig) {
        let text = ConfigRewriter.rewrite(original: fileText, config: config)
        // Reading a file raises the current epoch to the highest config epoch in it
        // (as Redis does); the core may hold a config epoch above its current epoch
        // (a hello can carry one), as redis-sentinel may.
        var expected = config
        expected.currentEpoch = config.masters.map(\.configEpoch).reduce(config.currentEpoch, max)
        do {
            let again = try ConfigParser.parse(text, file: "saved.conf")
            require(again == expected, "the saved config reads back differently:\n\(text)\nread: \(again)\nheld: \(expected)")
        } catch {
            require(false, "the saved config does not parse (\(error)):\n\(text)")
        }
        let twice = ConfigRewriter.rewrite(original: text, config: config)
        require(twice == text, "a second rewrite changes the file:\n\(text)\nthen:\n\(twice)")
    }

    func link(_ word: [UInt8]?) -> LinkID? {
        guard !links.isEmpty, let n = int64(word) else { return nil }
        return links[Int(n.magnitude % UInt64(links.count))]
    }

    mutating func handle(_ input: Input) {
        guard !exited else { return }
        carry(core.handle(input, now: now))
    }

    mutating func command(_ argv: [[UInt8]]) {
        nextRequest += 1
        let id = RequestID(nextRequest)
        unanswered.insert(id)
        handle(.command(id, argv))
    }

    mutating func run(_ words: [[UInt8]]) {
        guard let verb = words.first.map(string) else { return }
        let late = pendingSaves
        pendingSaves = []
        for request in late { save(request) }
        let rest = Array(words.dropFirst())
        switch verb {
        case "cmd":
            guard !rest.isEmpty else { return }
            command(rest)
        case "tick":
            let step = int64(rest.first) ?? 100
            // A wall clock may jump, but stays within years of now.
            now = min(max(now &+ min(max(step, -86_400_000), 100 * 86_400_000), 0), 4_000_000_000_000)
            handle(.tick)
        case "up":
            guard let id = link(rest.first) else { return }
            handle(.connected(id, localHost: rest.count > 1 ? string(rest[1]) : "127.0.0.1"))
        case "down":
            guard let id = link(rest.first) else { return }
            handle(.disconnected(id))
        case "reply":
            guard let id = link(rest.first), rest.count > 1 else { return }
            let texts = Array(rest.dropFirst(2))
            let text = texts.first ?? []
            let value: RESPValue
            switch string(rest[1]) {
            case "+": value = .simpleString(string(text))
            case "-": value = .error(string(text))
            case ":": value = .integer(int64(text) ?? 0)
            case "$": value = .bulkString(text)
            case "_": value = .null
            case "*": value = .array(texts.map { .bulkString($0) })
            default: return
            }
            handle(.reply(id, value))
        case "msg":
            guard let id = link(rest.first), rest.count > 1 else { return }
            handle(.reply(id, .array([.bulk("message"), .bulk(Timing.helloChannel), .bulkString(rest[1])])))
        case "hello":
            guard let payload = rest.first else { return }
            command([Array("PUBLISH".utf8), Array(Timing.helloChannel.utf8), payload])
        case "done":
            guard !scripts.isEmpty, let n = int64(rest.first) else { return }
            let id = scripts[Int(n.magnitude % UInt64(scripts.count))]
            let status = Int32(truncatingIfNeeded: int64(rest.count > 1 ? rest[1] : nil) ?? 0)
            let signal = Int32(truncatingIfNeeded: int64(rest.count > 2 ? rest[2] : nil) ?? 0)
            handle(.scriptFinished(id, exitStatus: status, signal: signal))
        default:
            return
        }
        // The read-only surface must hold up in every state.
        _ = core.infoSentinelSection(now: now)
        _ = core.roleReply()
        for m in core.masters {
            _ = core.instanceFields(m, now: now)
            _ = core.currentMasterAddress(m)
            for r in m.replicas { _ = core.instanceFields(r, now: now) }
            for s in m.sentinels { _ = core.instanceFields(s, now: now) }
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSentinel(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = input(data, count)
    var harness = Harness(seed: fnv1a(bytes))
    var steps = 0
    for line in bytes.split(separator: 10) {
        guard !harness.exited else { break }
        guard let words = InlineSplitter.split(Array(line)) else { continue }
        harness.run(words)
        steps += 1
        if steps >= 200 { break }
    }
    return 0
}
