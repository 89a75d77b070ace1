import RESP
import SentinelCore

/// A process in the simulated world: a fake Redis server or a sentinel.
public enum NodeID: Hashable, Sendable, CustomStringConvertible {
    case redis(Int)
    case sentinel(Int)

    public var description: String {
        switch self {
        case .redis(let i): return "redis\(i)"
        case .sentinel(let i): return "sentinel\(i)"
        }
    }
}

/// A direction between two nodes (a one-way cut).
struct DirectedPair: Hashable {
    let from: NodeID
    let to: NodeID
}

/// One simulated TCP connection, opened by a sentinel (`.connect` effect) to a
/// Redis node or a peer sentinel.
///
/// Like TCP, it keeps order in each direction: a message never overtakes an
/// earlier one on the same connection, whatever delays are drawn. While a
/// partition separates the two ends, messages wait in the connection and are
/// delivered, still in order, once it heals (retransmission).
final class Conn {
    let owner: Int
    /// The owner's incarnation: a restarted sentinel does not own its old links.
    let ownerGeneration: Int
    let link: LinkID
    let target: NodeID
    /// When the attempt started (for the connect timeout).
    let startedAt: Millis

    /// The connection is established (the target accepted it).
    var established = false
    /// The client closed it (`.close` effect) or its process died.
    var closedByClient = false
    /// The server closed it (killed, CLIENT KILL, crashed); the client is told later.
    var closedByServer = false
    /// Latest arrival time scheduled in each direction (keeps order).
    var lastToServer: Millis = 0
    var lastToClient: Millis = 0
    /// Held back by a partition, in order.
    var stalledToServer: [[String]] = []
    var stalledToClient: [ClientMessage] = []

    // Server-side state of the client connection.
    /// SUBSCRIBE was called: a "pubsub" client for CLIENT KILL TYPE.
    var subscribed = false
    /// Commands queued since MULTI.
    var transaction: [[String]]?
    /// A sentinel server end: a command is waiting for the core's reply, and the
    /// commands that arrived behind it.
    var awaitingReply = false
    var serverQueue: [[String]] = []

    init(owner: Int, ownerGeneration: Int, link: LinkID, target: NodeID, startedAt: Millis) {
        self.owner = owner
        self.ownerGeneration = ownerGeneration
        self.link = link
        self.target = target
        self.startedAt = startedAt
    }

    /// A stand-in for a client's retry of a command held by a partition: the
    /// same client, on a connection of its own that is gone by the time the
    /// reply comes (the server acts on the command twice; the client sees one reply).
    init(repeating c: Conn) {
        self.owner = c.owner
        self.ownerGeneration = c.ownerGeneration
        self.link = c.link
        self.target = c.target
        self.startedAt = c.startedAt
        self.established = true
        self.closedByClient = true
    }

    var isDead: Bool { closedByClient || closedByServer }
}
