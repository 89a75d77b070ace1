import RESP
import SentinelCore

/// A fake Redis server: just enough of Redis for a sentinel to monitor it and
/// fail it over — roles, replication links and offsets, INFO, Pub/Sub, MULTI/EXEC,
/// SLAVEOF, CONFIG REWRITE, CLIENT KILL, SCRIPT KILL. It lives only in the
/// simulation; the network and the clock are the world's.
public final class FakeRedis {
    /// What the node is in replication (`role:` in INFO).
    public enum Role: Equatable, Sendable, CustomStringConvertible {
        case master
        case replica(of: Address)

        public var description: String {
            switch self {
            case .master: return "master"
            case .replica(let a): return "replica of \(a)"
            }
        }
    }

    /// The process's condition, changed by faults.
    public enum State: Equatable, Sendable {
        case running
        /// Killed: connections are refused.
        case killed
        /// SIGSTOP: connections are accepted, nothing is answered until resumed.
        case paused
    }

    public let index: Int
    /// The monitored master (`World.groups`) it starts in.
    public internal(set) var group = 0
    public let address: Address
    public internal(set) var runID: String
    public internal(set) var role: Role
    /// The role in its config file (CONFIG REWRITE), taken again on restart.
    var configuredRole: Role
    public internal(set) var state: State = .running
    /// Stuck in a script: everything but SCRIPT KILL gets -BUSY.
    public internal(set) var busy = false
    public var priority = 100

    /// Replication offset: a master's grows with writes, a replica's follows its master.
    public internal(set) var offset: Int64 = 0
    /// Replica: the link to its master is up.
    public internal(set) var linkUp = false
    /// Replica: when the link went down (nil: never up since the last SLAVEOF).
    var linkDownSince: Millis?
    /// Replica: last time the master was heard from.
    var lastMasterContact: Millis = 0
    /// Replica: a full sync in progress ends at this time.
    var syncingUntil: Millis = 0
    /// Replica: at most this far behind its master's offset while it follows it.
    public internal(set) var lag: Int64 = 500
    /// Replica: its stream is stalled (the offset stays put) until then.
    var stalledUntil: Millis = 0
    var startedAt: Millis

    /// Commands that arrived while paused, answered in order on resume.
    var pausedInbox: [(Conn, [String])] = []

    init(index: Int, address: Address, runID: String, role: Role, now: Millis) {
        self.index = index
        self.address = address
        self.runID = runID
        self.role = role
        self.configuredRole = role
        self.startedAt = now
        if case .replica = role {
            linkUp = true
            lastMasterContact = now
        }
    }

    public var isMaster: Bool { role == .master }

    /// The master this node replicates from, if it is a replica.
    public var masterAddress: Address? {
        if case .replica(let a) = role { return a }
        return nil
    }

    /// The INFO reply, laid out as Redis 7 lays it out (the fields a sentinel reads
    /// and a representative set of the others).
    func info(now: Millis, replicas: [(FakeRedis, online: Bool)]) -> String {
        var s = "# Server\r\n"
        s += "redis_version:7.0.15\r\n"
        s += "redis_mode:standalone\r\n"
        s += "os:Linux 6.1.0 x86_64\r\n"
        s += "arch_bits:64\r\n"
        s += "process_id:\(1000 + index)\r\n"
        s += "run_id:\(runID)\r\n"
        s += "tcp_port:\(address.port)\r\n"
        s += "uptime_in_seconds:\((now - startedAt) / 1000)\r\n"
        s += "\r\n# Clients\r\nconnected_clients:1\r\n"
        s += "\r\n# Replication\r\n"
        switch role {
        case .master:
            s += "role:master\r\n"
        case .replica(let m):
            s += "role:slave\r\n"
            s += "master_host:\(m.host)\r\n"
            s += "master_port:\(m.port)\r\n"
            s += "master_link_status:\(linkUp ? "up" : "down")\r\n"
            s += "master_last_io_seconds_ago:\(linkUp ? (now - lastMasterContact) / 1000 : -1)\r\n"
            s += "master_sync_in_progress:\(now < syncingUntil ? 1 : 0)\r\n"
            s += "slave_read_repl_offset:\(offset)\r\n"
            s += "slave_repl_offset:\(offset)\r\n"
            if !linkUp {
                s += "master_link_down_since_seconds:\(linkDownSince.map { (now - $0) / 1000 } ?? -1)\r\n"
            }
            s += "slave_priority:\(priority)\r\n"
            s += "slave_read_only:1\r\n"
            s += "replica_announced:1\r\n"
        }
        s += "connected_slaves:\(replicas.count)\r\n"
        for (i, r) in replicas.enumerated() {
            s += "slave\(i):ip=\(r.0.address.host),port=\(r.0.address.port),"
            s += "state=\(r.online ? "online" : "wait_bgsave"),offset=\(r.0.offset),lag=0\r\n"
        }
        s += "master_failover_state:no-failover\r\n"
        s += "master_replid:\(String(runID.reversed()))\r\n"
        s += "master_replid2:0000000000000000000000000000000000000000\r\n"
        s += "master_repl_offset:\(offset)\r\n"
        s += "second_repl_offset:-1\r\n"
        s += "repl_backlog_active:1\r\n"
        s += "repl_backlog_size:1048576\r\n"
        return s
    }
}
