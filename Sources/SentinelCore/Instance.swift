/// The flags Redis shows in the `flags` field of an instance, in the order it prints them.
public struct InstanceFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let sDown = InstanceFlags(rawValue: 1 << 0)
    public static let oDown = InstanceFlags(rawValue: 1 << 1)
    public static let master = InstanceFlags(rawValue: 1 << 2)
    public static let slave = InstanceFlags(rawValue: 1 << 3)
    public static let sentinel = InstanceFlags(rawValue: 1 << 4)
    public static let disconnected = InstanceFlags(rawValue: 1 << 5)
    /// A peer sentinel that told us it sees our master down.
    public static let masterDown = InstanceFlags(rawValue: 1 << 6)
    public static let failoverInProgress = InstanceFlags(rawValue: 1 << 7)
    /// The replica chosen for promotion.
    public static let promoted = InstanceFlags(rawValue: 1 << 8)
    public static let reconfSent = InstanceFlags(rawValue: 1 << 9)
    public static let reconfInProgress = InstanceFlags(rawValue: 1 << 10)
    public static let reconfDone = InstanceFlags(rawValue: 1 << 11)
    public static let forceFailover = InstanceFlags(rawValue: 1 << 12)
    public static let scriptKillSent = InstanceFlags(rawValue: 1 << 13)
    public static let masterReboot = InstanceFlags(rawValue: 1 << 14)

    private static let names: [(InstanceFlags, String)] = [
        (.sDown, "s_down"), (.oDown, "o_down"), (.master, "master"), (.slave, "slave"),
        (.sentinel, "sentinel"), (.disconnected, "disconnected"), (.masterDown, "master_down"),
        (.failoverInProgress, "failover_in_progress"), (.promoted, "promoted"),
        (.reconfSent, "reconf_sent"), (.reconfInProgress, "reconf_inprog"),
        (.reconfDone, "reconf_done"), (.forceFailover, "force_failover"),
        (.scriptKillSent, "script_kill_sent"), (.masterReboot, "master_reboot"),
    ]

    /// `s_down,master,disconnected`, as SENTINEL MASTER prints it.
    public var redisNames: String {
        Self.names.filter { contains($0.0) }.map(\.1).joined(separator: ",")
    }
}

public enum InstanceKind: Sendable {
    case master, replica, sentinel
}

/// The failover states of a master, in Redis's order (`failover-state` field).
public enum FailoverState: Int, Sendable, Comparable {
    case none = 0, waitStart, selectSlave, sendSlaveofNoOne, waitPromotion, reconfSlaves, updateConfig

    public var redisName: String {
        switch self {
        case .none: return "none"
        case .waitStart: return "wait_start"
        case .selectSlave: return "select_slave"
        case .sendSlaveofNoOne: return "send_slaveof_noone"
        case .waitPromotion: return "wait_promotion"
        case .reconfSlaves: return "reconf_slaves"
        case .updateConfig: return "update_config"
        }
    }
    public static func < (a: FailoverState, b: FailoverState) -> Bool { a.rawValue < b.rawValue }
}

/// Identifies one TCP connection the core asked the driver to open.
public struct LinkID: Hashable, Sendable, CustomStringConvertible {
    public let raw: Int
    public init(_ raw: Int) { self.raw = raw }
    public var description: String { "link#\(raw)" }
}

/// What a reply on a command link answers. Replies arrive in the order commands
/// were sent, so each link keeps a FIFO of these.
enum PendingReply: Equatable {
    case discard
    case ping
    case info
    /// Our hello about the named master (a link to a peer carries one per master).
    case publishHello(master: String)
    /// SENTINEL IS-MASTER-DOWN-BY-ADDR about the named master; `voteEpoch` is the
    /// epoch a vote was asked for (nil: only its view of the master).
    case isMasterDown(master: String, voteEpoch: UInt64?)
    /// SLAVEOF NO ONE / SLAVEOF host port inside a transaction: only EXEC's reply matters.
    case exec
    /// Warden: EXEC of the MULTI / FAILOVER TO transaction of a coordinated switchover.
    case switchoverExec(master: String)
    /// SENTINEL FORGET-SENTINEL / FORGET-REPLICA to a peer: `what` is the run id or `ip:port`.
    case forget(master: String, what: String)
    /// SUBSCRIBE on the Pub/Sub link: refused (NOAUTH, NOPERM), the link is useless.
    case subscribe
}

/// The connections to one instance and what they tell about it: the command
/// link, for masters and replicas the Pub/Sub link that listens on
/// `__sentinel__:hello`, and the PING timing (Redis's `instanceLink`).
///
/// A master or replica has a link of its own. The `Peer` entries of one sentinel
/// (one per master it monitors with us) share one link, as in Redis: one
/// connection, one PING schedule, whatever the number of masters.
final class InstanceLink {
    let isPeerLink: Bool
    var command = LinkState()
    var pubsub = LinkState()
    /// The first ping still waiting for its reply (0 when none is pending); also
    /// set when the link is lost with none pending: SDOWN counts from the first
    /// sign of trouble.
    var activePingTime: Millis
    var lastPingTime: Millis = 0
    /// Last reply to a ping of any kind, valid or not.
    var lastPongTime: Millis
    /// Last valid reply (PONG, LOADING, MASTERDOWN).
    var lastAvailableTime: Millis
    /// The instances using it: one master or replica, or the peer's entries.
    var users: [Unowned] = []

    struct Unowned {
        unowned let instance: Instance
    }

    init(peer: Bool, now: Millis) {
        isPeerLink = peer
        // As in Redis: count an instance we never reached as unanswered since now.
        activePingTime = now
        lastPongTime = now
        lastAvailableTime = now
    }

    var disconnected: Bool { !(command.connected && (isPeerLink || pubsub.connected)) }
}

/// One connection to an instance: the command link or, for masters and
/// replicas, the Pub/Sub link that listens on `__sentinel__:hello`.
struct LinkState {
    var id: LinkID?
    var connected = false
    var lastReconnectAttempt: Millis = 0
    var connectedAt: Millis = 0
    /// Our address as the peer sees it (the local end of the socket); used in hellos.
    var localHost: String?
    /// Replies expected on this link, oldest first (on a Pub/Sub link: those to
    /// AUTH, CLIENT SETNAME and SUBSCRIBE; whatever comes after is a message).
    var pending: [PendingReply] = []
    /// Pub/Sub link: last time anything arrived.
    var lastActivity: Millis = 0
}

/// What every instance this sentinel watches has: a master, a replica or a peer
/// sentinel. Reference types, because replicas and peers point back to their
/// master and the state machine changes them in place; the state that only one
/// kind has lives in `Master`, `Replica` and `Peer`. Every field that Redis shows
/// in `SENTINEL MASTER` lives in one of them under a readable name.
public class Instance {
    public let kind: InstanceKind
    public internal(set) var name: String
    public internal(set) var address: Address
    /// The flags, with `disconnected` read from the link.
    public internal(set) var flags: InstanceFlags {
        get { link.disconnected ? storedFlags.union(.disconnected) : storedFlags }
        set { storedFlags = newValue.subtracting(.disconnected) }
    }
    private var storedFlags: InstanceFlags
    public internal(set) var runID: String?

    /// Its connections and PING timing (shared by a peer's entries).
    var link: InstanceLink
    /// Last hello we published to it (about its master).
    var lastHelloSentTime: Millis = 0
    /// When the instance wants its next look (see Agenda.swift), and which entry
    /// of the agenda is its current one.
    var dueAt: Millis = 0
    var dueSerial: UInt64 = 0
    /// Forgotten (`releaseInstance`): never looked at again.
    var released = false

    var sDownSince: Millis = 0
    var downAfter: Millis

    init(kind: InstanceKind, name: String, address: Address, downAfter: Millis, now: Millis,
         link: InstanceLink? = nil) {
        self.kind = kind
        self.name = name
        self.address = address
        self.downAfter = downAfter
        switch kind {
        case .master: storedFlags = [.master]
        case .replica: storedFlags = [.slave]
        case .sentinel: storedFlags = [.sentinel]
        }
        self.link = link ?? InstanceLink(peer: kind == .sentinel, now: now)
        self.link.users.append(.init(instance: self))
    }

    // The link's fields, read and written through the instance.
    var commandLink: LinkState {
        get { link.command }
        set { link.command = newValue }
    }
    var pubsubLink: LinkState {
        get { link.pubsub }
        set { link.pubsub = newValue }
    }
    var activePingTime: Millis {
        get { link.activePingTime }
        set { link.activePingTime = newValue }
    }
    var lastPingTime: Millis {
        get { link.lastPingTime }
        set { link.lastPingTime = newValue }
    }
    var lastPongTime: Millis {
        get { link.lastPongTime }
        set { link.lastPongTime = newValue }
    }
    var lastAvailableTime: Millis {
        get { link.lastAvailableTime }
        set { link.lastAvailableTime = newValue }
    }

    /// The master this instance belongs to (itself for a master).
    var owningMaster: Master { preconditionFailure("every kind overrides owningMaster") }

    /// `master` / `slave` / `sentinel`, as events print the kind.
    var typeName: String {
        switch kind {
        case .master: return "master"
        case .replica: return "slave"
        case .sentinel: return "sentinel"
        }
    }

    var linkDisconnected: Bool { link.disconnected }
    var pendingCommands: Int { commandLink.pending.count }
}

/// A Redis server (a master or a replica): what its INFO says.
public class DataNode: Instance {
    var infoRefresh: Millis = 0
    var cachedInfo: String?
    /// The role INFO reported; until the first INFO, the configured one.
    var roleReported: InfoReport.Role
    var roleReportedTime: Millis

    init(kind: InstanceKind, name: String, address: Address, downAfter: Millis, now: Millis,
         role: InfoReport.Role) {
        roleReported = role
        roleReportedTime = now
        super.init(kind: kind, name: name, address: address, downAfter: downAfter, now: now)
    }
}

/// A monitored master: its settings, replicas, peer sentinels, our vote and the
/// failover state.
public final class Master: DataNode {
    public internal(set) var quorum: Int
    var replicas: [Replica] = []
    var sentinels: [Peer] = []
    /// Its `sentinel ...` settings (address, quorum and epochs are kept in the fields
    /// above and copied back when the configuration is saved).
    var settings: MasterConfig
    var configEpoch: UInt64 = 0
    var oDownSince: Millis = 0
    var masterRebootSince: Millis = 0

    // The failover.
    var failoverState: FailoverState = .none
    var failoverStateChangeTime: Millis = 0
    /// When the current (or last) failover attempt began.
    var failoverStartTime: Millis = 0
    /// No new attempt before this time: 2 × failover-timeout after the last one
    /// began or after we voted for another sentinel, or a short back-off after a
    /// split vote.
    var failoverNotBefore: Millis = 0
    var failoverEpoch: UInt64 = 0
    /// Elections lost to a split vote in a row (reset when elected or no longer
    /// ODOWN); each doubles the back-off before the next try.
    var splitVotes = 0
    /// The `failoverNotBefore` whose "next failover delay" was last logged.
    var failoverDelayLogged: Millis = 0
    weak var promotedReplica: Replica?
    /// Warden: the coordinated switchover this failover is (nil: an ordinary one).
    var switchover: Switchover?
    /// Warden: `master_repl_offset` of its last INFO as a master (the lag guard's yardstick).
    var lastMasterReplOffset: Int64?
    /// Warden: `+failover-wait-lagging-slaves` went out for the current attempt.
    var lagWaitAnnounced = false
    /// Warden: SENTINEL FAILOVER <name> FORCE: a lagging replica may be promoted.
    var allowLaggingPromotion = false
    /// When the forgets of this master were last sent to the peers (Forgetting.swift).
    var forgetPushedAt: Millis = 0
    /// Automatic forgetting: the one peer down here, and since when it alone is.
    var autoForgetCandidate: (runID: String, since: Millis)?

    // Our vote for this master's failovers (readable by drivers and the simulation's checkers).
    public internal(set) var leader: String?
    public internal(set) var leaderEpoch: UInt64 = 0
    /// The change (Persistence) that recorded our vote; and the vote as it is on
    /// disk (the leader is not saved, as in Redis: only its epoch).
    var voteChange: UInt64 = 0
    /// Whether `+vote-for-leader` went out for the current vote.
    var voteAnnounced = true
    var durableLeader: String?
    var durableLeaderEpoch: UInt64 = 0

    init(_ c: MasterConfig, now: Millis) {
        settings = c
        quorum = c.quorum
        configEpoch = c.configEpoch
        leaderEpoch = c.leaderEpoch
        durableLeaderEpoch = c.leaderEpoch
        super.init(kind: .master, name: c.name, address: c.address, downAfter: c.downAfter, now: now, role: .master)
        settings.knownReplicas = []
        settings.knownSentinels = []
    }

    override var owningMaster: Master { self }
}

/// A replica of a monitored master, as its INFO describes it.
public final class Replica: DataNode {
    unowned let master: Master
    var replicaConfChangeTime: Millis
    var masterLinkDownTime: Millis = 0
    var replicaPriority = 100
    var replicaAnnounced = true
    var replicaMasterHost: String?
    var replicaMasterPort = 0
    var replicaMasterLinkUp = false
    var replicaReplOffset: Int64 = 0
    /// Being reconfigured during a failover: when SLAVEOF went out.
    var reconfSentTime: Millis = 0

    init(_ address: Address, name: String, of master: Master, now: Millis) {
        self.master = master
        replicaConfChangeTime = now
        super.init(kind: .replica, name: name, address: address, downAfter: master.downAfter,
                   now: now, role: .replica)
    }

    override var owningMaster: Master { master }
}

/// Another sentinel monitoring the same master.
public final class Peer: Instance {
    unowned let master: Master
    /// Last hello received from it.
    var lastHelloReceivedTime: Millis
    /// Last reply to IS-MASTER-DOWN-BY-ADDR, and the vote it carried.
    var lastMasterDownReplyTime: Millis = 0
    var leader: String?
    var leaderEpoch: UInt64 = 0
    /// An epoch this peer was asked to vote in and answered without a vote in it:
    /// it never will (it voted in a later epoch or has moved past it).
    var refusedEpoch: UInt64 = 0

    init(runID: String, address: Address, of master: Master, link: InstanceLink, now: Millis) {
        self.master = master
        lastHelloReceivedTime = now
        super.init(kind: .sentinel, name: runID, address: address, downAfter: master.downAfter, now: now, link: link)
        self.runID = runID
    }

    override var owningMaster: Master { master }
}
