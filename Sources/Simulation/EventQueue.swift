import RESP
import SentinelCore

/// The simulation's agenda: actions ordered by virtual time, ties broken by the
/// order they were scheduled in, so a run never depends on anything but its seed.
struct EventQueue {
    private struct Entry {
        let time: Millis
        let seq: UInt64
        let action: Action
    }

    private var heap: [Entry] = []
    private var nextSeq: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var nextTime: Millis? { heap.first?.time }

    mutating func schedule(_ action: Action, at time: Millis) {
        heap.append(Entry(time: time, seq: nextSeq, action: action))
        nextSeq += 1
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard earlier(heap[i], heap[parent]) else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    mutating func pop() -> (time: Millis, action: Action)? {
        guard let first = heap.first else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var best = i
                if l < heap.count && earlier(heap[l], heap[best]) { best = l }
                if r < heap.count && earlier(heap[r], heap[best]) { best = r }
                if best == i { break }
                heap.swapAt(i, best)
                i = best
            }
        }
        return (first.time, first.action)
    }

    private func earlier(_ a: Entry, _ b: Entry) -> Bool {
        a.time != b.time ? a.time < b.time : a.seq < b.seq
    }
}

/// Everything the world can have scheduled.
enum Action {
    /// A sentinel's periodic timer (ignored if the sentinel restarted since).
    case tick(sentinel: Int, generation: Int)
    /// A connection attempt reaches its target.
    case connectArrives(Conn)
    /// Tell the client its connection attempt failed.
    case connectFailed(Conn)
    /// A command reaches the server end of a connection.
    case toServer(Conn, [String])
    /// A reply, a Pub/Sub message or the server's close reaches the client end.
    case toClient(Conn, ClientMessage)
    /// A partition healed: deliver what the connection held back.
    case flushStalled(Conn)
    /// Masters accumulate writes, replicas follow their masters.
    case replicationStep
    /// Something a test or a fault plan asked for at this time.
    case call((World) -> Void)
    /// A crashed sentinel comes back.
    case restartSentinel(Int)
    /// A script the sentinel started has finished (the simulation runs none for real).
    case scriptDone(sentinel: Int, generation: Int, ScriptID)
    /// A config save completes (or fails) on a sentinel's disk.
    case saveDone(sentinel: Int, generation: Int, SaveRequest, ok: Bool)
}

/// What travels from a server to a client on a connection.
enum ClientMessage {
    /// The connection attempt succeeded.
    case established
    case value(RESPValue)
    case closed
}
