@testable import EventLoop
import XCTest

/// The timer heap on its own, with explicit times.
final class TimerQueueTests: XCTestCase {
    func testPopsInDeadlineThenSchedulingOrderAndSkipsCancelled() {
        var queue = TimerQueue()
        var fired: [Int] = []
        var generator = SplitMix(seed: 42)
        var ids: [(TimerID, Int64, Int)] = []
        for index in 0..<2000 {
            let deadline = Int64(generator.next() % 500)
            ids.append((queue.schedule(deadline: deadline) { fired.append(index) }, deadline, index))
        }
        var cancelled = Set<Int>()
        for (id, _, index) in ids where index % 3 != 0 {  // enough to trigger purging stale entries
            queue.cancel(id)
            cancelled.insert(index)
        }
        queue.cancel(ids[1].0)  // twice: no effect
        XCTAssertEqual(queue.count, 2000 - cancelled.count)

        let watermark = queue.watermark
        while let action = queue.popDue(now: 499, scheduledBefore: watermark) { action() }

        let expected = ids.filter { !cancelled.contains($0.2) }
            .sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.2 < $1.2 }
            .map(\.2)
        XCTAssertEqual(fired, expected)
        XCTAssertEqual(queue.count, 0)
        XCTAssertNil(queue.earliestDeadline())
    }

    func testOnlyDueTimersPopAndEarliestDeadlineIgnoresCancelled() {
        var queue = TimerQueue()
        var fired: [String] = []
        let early = queue.schedule(deadline: 10) { fired.append("early") }
        _ = queue.schedule(deadline: 20) { fired.append("later") }
        XCTAssertEqual(queue.earliestDeadline(), 10)
        queue.cancel(early)
        XCTAssertEqual(queue.earliestDeadline(), 20)
        XCTAssertNil(queue.popDue(now: 19, scheduledBefore: queue.watermark))
        queue.popDue(now: 20, scheduledBefore: queue.watermark)?()
        XCTAssertEqual(fired, ["later"])
    }

    func testTimersScheduledDuringAPassWaitForTheNextPass() {
        var queue = TimerQueue()
        _ = queue.schedule(deadline: 5) {}
        let watermark = queue.watermark
        // As in the loop, a timer scheduled during a pass at `now` is due no earlier than `now`.
        _ = queue.schedule(deadline: 5) {}
        XCTAssertNotNil(queue.popDue(now: 5, scheduledBefore: watermark))
        XCTAssertNil(queue.popDue(now: 5, scheduledBefore: watermark))
        XCTAssertNotNil(queue.popDue(now: 5, scheduledBefore: queue.watermark))
    }
}

/// A tiny deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
