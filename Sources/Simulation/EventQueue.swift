import RESP
import SentinelCore

/// The simulation's agenda: actions ordered by virtual time, ties broken by the
/// order they were scheduled in, so a run never depends on anything but its seed.
struct EventQueue {
    /// A heap entry: only plain numbers, cheap to move around; the action sits
    /// in `actions` at `slot` (slots are reused).
    private struct Entry {
        let time: Millis
        let seq: UInt64
        let slot: Int
    }

    private var heap: [Entry] = []
    private var actions: [Action?] = []
    private var freeSlots: [Int] = []
    private var nextSeq: UInt64 = 0

    var isEmpty: Bool { heap.isEmpty }
    var nextTime: Millis? { heap.first?.time }

    mutating func schedule(_ action: Action, at time: Millis) {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
            actions[slot] = action
        } else {
            slot = actions.count
            actions.append(action)
        }
        let entry = Entry(time: time, seq: nextSeq, slot: slot)
        nextSeq += 1
        // Sift up, moving parents down into the hole.
        heap.append(entry)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.earlier(entry, heap[parent]) else { break }
            heap[i] = heap[parent]
            i = parent
        }
        heap[i] = entry
    }

    mutating func pop() -> (time: Millis, action: Action)? {
        guard let first = heap.first else { return nil }
        let last = heap.removeLast()
        let count = heap.count
        if count > 0 {
            // Sift the last entry down from the root.
            var i = 0
            while true {
                let l = 2 * i + 1
                guard l < count else { break }
                var child = l
                if l + 1 < count && Self.earlier(heap[l + 1], heap[l]) { child = l + 1 }
                guard Self.earlier(heap[child], last) else { break }
                heap[i] = heap[child]
                i = child
            }
            heap[i] = last
        }
        let action = actions[first.slot]!
        actions[first.slot] = nil
        freeSlots.append(first.slot)
        return (first.time, action)
    }

    private static func earlier(_ a: Entry, _ b: Entry) -> Bool {
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
