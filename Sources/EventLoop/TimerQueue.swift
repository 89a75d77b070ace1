/// One-shot timers ordered by deadline in a binary min-heap.
///
/// Ties are broken by scheduling order, so timers due at the same millisecond fire in the
/// order they were scheduled. Cancelling removes the action at once and leaves the heap entry
/// behind; stale entries are skipped when popped and purged when they outnumber live ones.
struct TimerQueue {
    private struct Entry {
        let deadline: Int64
        let id: UInt64

        func precedes(_ other: Entry) -> Bool {
            deadline != other.deadline ? deadline < other.deadline : id < other.id
        }
    }

    private var heap: [Entry] = []
    private var actions: [UInt64: () -> Void] = [:]
    private var nextID: UInt64 = 1
    /// Heap entries whose action was cancelled.
    private var staleEntries = 0

    /// Timers scheduled and not yet fired or cancelled.
    var count: Int { actions.count }

    /// The earliest deadline among live timers (purging stale heap tops on the way).
    mutating func earliestDeadline() -> Int64? {
        while let top = heap.first {
            if actions[top.id] != nil { return top.deadline }
            removeTop()
            staleEntries -= 1
        }
        return nil
    }

    mutating func schedule(deadline: Int64, _ action: @escaping () -> Void) -> TimerID {
        let id = nextID
        nextID += 1
        actions[id] = action
        heap.append(Entry(deadline: deadline, id: id))
        siftUp(heap.count - 1)
        return TimerID(raw: id)
    }

    mutating func cancel(_ timer: TimerID) {
        guard actions.removeValue(forKey: timer.raw) != nil else { return }
        staleEntries += 1
        if staleEntries > 64 && staleEntries * 2 > heap.count {
            heap.removeAll { actions[$0.id] == nil }
            for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
            staleEntries = 0
        }
    }

    /// The id the next scheduled timer will get; timers with a smaller id were scheduled before now.
    var watermark: UInt64 { nextID }

    /// Removes and returns the action of the earliest timer due at `now` that was scheduled
    /// before `watermark`, or nil when there is none. Timers scheduled while firing wait for
    /// the next pass, so a timer that re-arms itself with 0 ms cannot starve the loop. Relies on
    /// such timers being due no earlier than `now`, so they sort after every timer due at `now`.
    mutating func popDue(now: Int64, scheduledBefore watermark: UInt64) -> (() -> Void)? {
        while let top = heap.first, top.deadline <= now, top.id < watermark {
            removeTop()
            if let action = actions.removeValue(forKey: top.id) { return action }
            staleEntries -= 1
        }
        return nil
    }

    private mutating func removeTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(0)
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var smallest = left
            let right = left + 1
            if right < heap.count && heap[right].precedes(heap[left]) { smallest = right }
            guard heap[smallest].precedes(heap[parent]) else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
