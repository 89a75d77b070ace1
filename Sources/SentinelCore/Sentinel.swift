import RESP
import WardenCrypto

/// The sentinel: every rule of the protocol, as a deterministic state machine.
///
/// It owns no socket, clock or random source. The driver feeds it `Input`s with the
/// current time through `handle(_:now:)`, the only way in, and carries out the
/// `Effect`s it returns, the only way out. Given the same seed, config and inputs it
/// always returns the same effects, which is what lets the tests and the simulation
/// drive it through any interleaving. Read-only views (`master(named:)`,
/// `instanceFields`, `infoSentinelSection`, `configSnapshot`) may be read between
/// inputs; they change nothing.
///
/// The code follows Redis's sentinel.c in meaning, not in shape. One file per rule:
/// - Sentinel.swift (this file): identity, the entry point, the timer tick.
/// - Links.swift: connections to instances and peers, the handshake, sending.
/// - Probing.swift: periodic PING, INFO and hello, and their replies.
/// - Detection.swift: SDOWN (and dropping stuck links).
/// - Agreement.swift: asking peers, their answers, ODOWN.
/// - InfoRecording.swift / InfoActions.swift: what INFO says, and what it makes us do.
/// - Discovery.swift: hellos (peers, epochs, newer configurations).
/// - InstanceTable.swift: adding, resetting and moving instances.
/// - Voting.swift: one vote per epoch, leader election, split votes.
/// - FailoverStates.swift: the failover state machine.
/// - ReplicaSelection.swift: which replica to promote.
/// - Reconfiguration.swift: SLAVEOF transactions, re-pointing replicas, the end.
/// - Tilt.swift: TILT.  Persistence.swift: saving, and holding back what must be saved first.
/// - Events.swift: events (and the notification script).  Scripts.swift: the script queue.
/// - Forgetting.swift: FORGET-SENTINEL / FORGET-REPLICA, tombstones, the electorate.
/// - Commands.swift, SettingsCommands.swift, Views.swift: the SENTINEL command surface.
public final class Sentinel {
    public internal(set) var myID: String
    public internal(set) var currentEpoch: UInt64
    /// Monitored masters, in the order they were added.
    public internal(set) var masters: [Master] = [] {
        didSet { mastersByName = Dictionary(masters.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first }) }
    }
    /// `masters` by name, for the lookups every hello and command makes.
    private var mastersByName: [String: Master] = [:]
    /// Server and global settings (the per-master part lives in each master's `settings`).
    public internal(set) var settings: SentinelConfig
    public internal(set) var timing = Timing()

    public internal(set) var tilt = false
    var tiltStartTime: Millis = 0
    var previousTickTime: Millis
    var simulateFailure = SimulatedFailure()
    var scripts = ScriptQueue()

    var rng: SplitMix64
    var nextLinkNumber = 0
    var linkOwners: [LinkID: LinkOwner] = [:]
    /// The links to peer sentinels, shared by their entries under every master.
    var peerLinks: [PeerKey: InstanceLink] = [:]
    /// When each instance is next looked at.
    var agenda = Agenda()
    /// Looks taken so far (`handleInstance`), for tests of the agenda.
    var looksTaken: UInt64 = 0
    /// Effects gathered during the current call; handed back and cleared at its end.
    var out: [Effect] = []
    var now: Millis = 0
    var persistence = Persistence()
    /// Commands waiting for facts only the driver can find: whether script paths
    /// are executable, what names resolve to.
    var awaitingFacts: [RequestID: AwaitingFacts] = [:]
    /// Host names: the resolver's last answers, and the names asked about.
    var resolutions: [String: Resolution] = [:]
    var resolving: Set<String> = []

    struct AwaitingFacts {
        let args: [[UInt8]]
        var executable: [String: Bool]
        var paths: [String]
        var hosts: [String]
    }
    /// Messages refused for an out-of-range epoch since the last log line about them.
    var refusedEpochs: (count: Int, lastLog: Millis) = (0, 0)
    /// Checks webhook and HTTP settings for SENTINEL CONFIG SET; given by the driver.
    public var serviceValidator: ServiceSettingsValidator?

    struct LinkOwner {
        let link: InstanceLink
        let isPubSub: Bool
    }

    public struct SimulatedFailure: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let crashAfterElection = SimulatedFailure(rawValue: 1)
        public static let crashAfterPromotion = SimulatedFailure(rawValue: 2)
    }

    /// `seed` drives every random choice (myid, election back-off); `now` is the
    /// current wall-clock time in milliseconds.
    public init(config: SentinelConfig, seed: UInt64, now: Millis) {
        self.settings = config
        self.rng = SplitMix64(seed: seed)
        self.currentEpoch = config.currentEpoch
        self.previousTickTime = now
        self.now = now
        if let id = config.myid {
            myID = id
        } else {
            myID = ""
            myID = rng.hexID()
        }
        for m in config.masters {
            addMaster(m)
        }
        settings.masters = []
        if config.myid == nil {
            // A new id is saved at once, as redis-sentinel does.
            changed()
        }
    }

    /// Effects to carry out at start-up (the first save of a new myid, `+monitor`s).
    public func start(now: Millis) -> [Effect] {
        self.now = now
        log(.warning, "Sentinel ID is \(myID)")
        for m in masters {
            emit(.warning, "+monitor", m, extra: " quorum \(m.quorum)")
        }
        return takeEffects()
    }

    /// Feeds one input; returns what to do, in order. The only way in.
    public func handle(_ input: Input, now: Millis) -> [Effect] {
        self.now = now
        switch input {
        case .tick:
            timerTick()
        case .connected(let id, let localHost):
            linkConnected(id, localHost: localHost)
        case .disconnected(let id):
            linkDropped(id)
        case .reply(let id, let value):
            linkReply(id, value)
        case .command(let id, let args):
            command(id, args, executable: [:])
        case .executableChecked(let id, let flags):
            if let waiting = awaitingFacts.removeValue(forKey: id) {
                var known = waiting.executable
                for (path, ok) in zip(waiting.paths, flags) { known[path] = ok }
                command(id, waiting.args, executable: known)
            }
        case .resolved(let host, let ip):
            resolved(host, ip: ip)
        case .saved(let id, let ok):
            saveCompleted(id, ok: ok)
        case .scriptStarted(let id, let pid):
            scriptStarted(id, pid: pid)
        case .scriptCouldNotStart(let id):
            // Like a failed exec in Redis's child: exit status 2, never retried.
            scriptFinished(id, exitStatus: 2, signal: 0)
        case .scriptFinished(let id, let status, let signal):
            scriptFinished(id, exitStatus: status, signal: signal)
        }
        return takeEffects()
    }

    /// Time since `t`; every time difference in the core goes through here, so a
    /// stored time computed from a huge setting cannot make it trap.
    func elapsed(since t: Millis) -> Millis { now -| t }

    func takeEffects() -> [Effect] {
        saveIfNeeded()
        let effects = out
        out = []
        return effects
    }

    func log(_ level: LogLevel, _ text: String) {
        out.append(.log(level, text))
    }

    // MARK: - Lookup

    public func master(named name: String) -> Master? {
        mastersByName[name]
    }

    // MARK: - Timer

    /// The timer: the instances whose next look is due (Agenda.swift), then the
    /// script queue.
    func timerTick() {
        checkTilt()
        leaveTiltIfOver()
        while let ri = agenda.popDue(now) {
            handleInstance(ri)
        }
        runPendingScripts()
        killTimedOutScripts()
    }

    /// One look at an instance: the monitoring half always, the acting half only
    /// outside TILT; then its next look is planned.
    func handleInstance(_ ri: Instance) {
        looksTaken &+= 1
        reconnect(ri)
        sendPeriodicCommands(ri)
        if mayAct {
            checkSubjectivelyDown(ri)
            if let m = ri as? Master {
                forgettingTick(m)
                actOnMaster(m)
                if m.failoverState == .updateConfig {
                    switchToPromotedReplica(m)
                }
            }
        }
        agenda.schedule(ri, at: nextLook(ri))
    }

    /// The acting half for a master: ODOWN, failover start, the failover state
    /// machine, asking peers. Also run straight away when a peer's answer arrives,
    /// so agreement never waits for the next tick.
    func actOnMaster(_ m: Master) {
        checkObjectivelyDown(m)
        if startFailoverIfNeeded(m) {
            askMasterStateToOtherSentinels(m, forced: true)
        }
        failoverStateMachine(m)
        askMasterStateToOtherSentinels(m, forced: false)
    }
}

/// A small, fast, seedable PRNG (SplitMix64): the only source of randomness in
/// SentinelCore, so a seed reproduces a run.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A run id: 40 lower-case hex digits (CONFIG_RUN_ID_SIZE), as myid and INFO
    /// run_id have. The one generator of them, for the core and its drivers.
    public mutating func hexID() -> String {
        let hex = Array("0123456789abcdef".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(40)
        while bytes.count < 40 {
            var r = next()
            for _ in 0..<16 where bytes.count < 40 {
                bytes.append(hex[Int(r & 0xf)])
                r >>= 4
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A whole number drawn uniformly from `range`.
    public mutating func draw(_ range: ClosedRange<Millis>) -> Millis {
        range.lowerBound + Millis(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }
}
