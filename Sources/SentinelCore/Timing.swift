/// The timing constants of the protocol, settable at run time with `SENTINEL DEBUG`.
///
/// Names are Redis's. Values are Redis's except where Warden deliberately polls
/// faster to fail over in little more than down-after-milliseconds; each such
/// difference is marked and listed in docs/compatibility.md.
public struct Timing: Equatable, Sendable {
    /// INFO to masters (Redis 10000). Replicas get `replicaInfoPeriod`.
    public var infoPeriod: Millis = 10_000
    /// INFO to a replica every second while its master is SDOWN, ODOWN or failing
    /// over, or while the replica's own link to its master is down (Redis: from
    /// ODOWN; Warden from SDOWN, when it also asks every replica at once).
    public var replicaInfoPeriod: Millis = 1_000
    /// Warden: INFO every 100 ms to a replica told to follow the promoted one, until it
    /// reports the link up (Redis: every 1000 ms), so the failover ends when the
    /// replica has synced rather than up to a second later.
    public var reconfInfoPeriod: Millis = 100
    /// The longest PING period (Redis's ping period, `SENTINEL DEBUG ping-period`).
    /// Warden pings every down-after / 10 within [fastPingPeriod, pingPeriod],
    /// never less often than down-after; see `Sentinel.pingPeriod(_:)`.
    public var pingPeriod: Millis = 1_000
    /// Warden: the PING period while an instance is suspect (a PING unanswered,
    /// SDOWN, disconnected) or its master is failing over.
    public var fastPingPeriod: Millis = 100
    /// Warden: no instance goes longer than this without being looked at, however
    /// far its deadlines are (see Agenda.swift).
    public var maxLookInterval: Millis = 1_000
    /// Warden: while a master is SDOWN, ask peers every 100 ms (Redis 1000).
    public var askPeriod: Millis = 100
    /// Warden: the wait between candidates' turns to start a failover once ODOWN
    /// (see `Sentinel.candidacyRank`); Redis has no turns: every sentinel that sees
    /// ODOWN asks for votes in that tick.
    public var candidacyStagger: Millis = 200
    /// Hello every 2000 ms, as Redis.
    public var publishPeriod: Millis = 2_000
    public var defaultDownAfter: Millis = 30_000
    public var tiltTrigger: Millis = 2_000
    public var tiltPeriod: Millis = 30_000
    public var slaveReconfTimeout: Millis = 10_000
    /// A link with a ping pending for over down-after/2 is dropped only once it has
    /// been up this long.
    public var minLinkReconnectPeriod: Millis = 15_000
    public var electionTimeout: Millis = 10_000
    public var scriptMaxRuntime: Millis = 60_000
    public var scriptRetryDelay: Millis = 30_000
    public var defaultFailoverTimeout: Millis = 180_000
    /// A reconnect is tried at most this often, as in Redis (its ping period). A
    /// link lost stays `disconnected` until then, which clients and Redis's own
    /// tests watch for (e.g. after CLIENT KILL on a changed password).
    public var reconnectPeriod: Millis = 1_000
    /// Warden: after a failed config save, the next attempt waits this long.
    public var saveRetryPeriod: Millis = 1_000
    /// Warden: a host name is resolved again at most this often (at each reconnect).
    public var resolvePeriod: Millis = 1_000

    /// The time between two timer ticks, drawn afresh by the driver before each:
    /// about ten a second, varied so that sentinels started together drift apart
    /// (Redis varies its hz for the same reason).
    public static let tickInterval: ClosedRange<Millis> = 50...100
    /// The Pub/Sub channel sentinels announce themselves on, on every instance.
    public static let helloChannel = "__sentinel__:hello"

    public init() {}

    /// The `SENTINEL DEBUG` parameter names, in the order Redis prints them.
    public static let debugNames: [(String, WritableKeyPath<Timing, Millis> & Sendable)] = [
        ("info-period", \.infoPeriod),
        ("ping-period", \.pingPeriod),
        ("ask-period", \.askPeriod),
        ("publish-period", \.publishPeriod),
        ("default-down-after", \.defaultDownAfter),
        ("default-failover-timeout", \.defaultFailoverTimeout),
        ("tilt-trigger", \.tiltTrigger),
        ("tilt-period", \.tiltPeriod),
        ("slave-reconf-timeout", \.slaveReconfTimeout),
        ("min-link-reconnect-period", \.minLinkReconnectPeriod),
        ("election-timeout", \.electionTimeout),
        ("script-max-runtime", \.scriptMaxRuntime),
        ("script-retry-delay", \.scriptRetryDelay),
    ]

    /// Warden's own parameters: settable with `SENTINEL DEBUG name value` but not
    /// listed by `SENTINEL DEBUG`, whose reply stays byte for byte Redis's.
    public static let wardenDebugNames: [(String, WritableKeyPath<Timing, Millis> & Sendable)] = [
        ("candidacy-stagger", \.candidacyStagger),
    ]
}
