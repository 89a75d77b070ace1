@testable import EventLoop
import XCTest

final class OutputQueueTests: XCTestCase {
    /// Everything `forEachRegion` hands out, concatenated, and the region sizes.
    private func contents(_ queue: borrowing OutputQueue, maxRegions: Int = .max) -> (bytes: [UInt8], sizes: [Int]) {
        var bytes: [UInt8] = []
        var sizes: [Int] = []
        queue.forEachRegion(maxRegions: maxRegions) { region in
            bytes += region
            sizes.append(region.count)
        }
        return (bytes, sizes)
    }

    private func append(_ queue: inout OutputQueue, _ bytes: [UInt8]) {
        bytes.withUnsafeBytes { queue.append($0) }
    }

    func testAppendsFillChunksInPlaceAcrossBoundaries() {
        var queue = OutputQueue(chunkSize: 8)
        XCTAssertTrue(queue.isEmpty)
        XCTAssertEqual(queue.chunkCount, 0)
        append(&queue, [1, 2, 3])
        append(&queue, [4, 5, 6, 7, 8])
        XCTAssertEqual(queue.chunkCount, 1, "exactly one full chunk")
        append(&queue, Array(9...21))
        append(&queue, [])
        XCTAssertEqual(queue.count, 21)
        XCTAssertEqual(queue.chunkCount, 3)
        XCTAssertEqual(queue.allocatedBytes, 24)
        let (bytes, sizes) = contents(queue)
        XCTAssertEqual(bytes, Array(1...21))
        XCTAssertEqual(sizes, [8, 8, 5])
        XCTAssertEqual(contents(queue, maxRegions: 2).sizes, [8, 8])
    }

    func testPartialRemovalsFreeChunksAsTheyDrain() {
        var queue = OutputQueue(chunkSize: 16)
        append(&queue, (0..<100).map { UInt8($0) })
        XCTAssertEqual(queue.chunkCount, 7)
        queue.removeFirst(10)
        XCTAssertEqual(queue.chunkCount, 7, "the first chunk still holds 6 bytes")
        XCTAssertEqual(contents(queue).sizes.first, 6)
        queue.removeFirst(6)
        XCTAssertEqual(queue.chunkCount, 6, "a chunk is freed as soon as it is sent")
        queue.removeFirst(0)
        queue.removeFirst(40)
        XCTAssertEqual(queue.chunkCount, 4)
        XCTAssertEqual(queue.count, 44)
        XCTAssertEqual(contents(queue).bytes, (56..<100).map { UInt8($0) })
        // Appending after partial removal continues the last chunk.
        append(&queue, [200, 201, 202, 203])
        XCTAssertEqual(queue.chunkCount, 3 + 1)
        XCTAssertEqual(contents(queue).bytes, (56..<100).map { UInt8($0) } + [200, 201, 202, 203])
    }

    func testDrainingEverythingFreesEveryChunk() {
        var queue = OutputQueue(chunkSize: 16)
        append(&queue, [UInt8](repeating: 7, count: 40))
        queue.removeFirst(40)
        XCTAssertTrue(queue.isEmpty)
        XCTAssertEqual(queue.chunkCount, 0)
        XCTAssertEqual(queue.allocatedBytes, 0)
        XCTAssertEqual(contents(queue).sizes, [])
        append(&queue, [1, 2])
        XCTAssertEqual(contents(queue).bytes, [1, 2])
        queue.removeAll()
        XCTAssertEqual(queue.chunkCount, 0)
        XCTAssertEqual(queue.count, 0)
    }

    func testManyChunksCompactTheirIndexAndKeepOrder() {
        var queue = OutputQueue(chunkSize: 4)
        let data = (0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        append(&queue, data)
        var expected = data[...]
        // Sends of 3 bytes: never on a chunk boundary for long.
        while expected.count > 100 {
            queue.removeFirst(3)
            expected = expected.dropFirst(3)
        }
        XCTAssertEqual(contents(queue).bytes, Array(expected))
        XCTAssertLessThanOrEqual(queue.allocatedBytes, queue.count + 2 * 4)
    }

    /// Random appends, sends and region limits against a plain array as the model, with a
    /// fixed seed so a failure repeats.
    func testRandomSplitsPreserveByteOrderAndBoundMemory() {
        for seed: UInt64 in [1, 2, 3, 0x5eed, 0xdead_beef] {
            var random = SplitMix(seed: seed)
            let chunkSize = [1, 3, 16, 64][Int(random.next() % 4)]
            var queue = OutputQueue(chunkSize: chunkSize)
            var model: [UInt8] = []
            var nextByte: UInt8 = 0
            for step in 0..<3000 {
                if random.next() % 2 == 0 {
                    let size = Int(random.next() % UInt64(3 * chunkSize + 2))
                    let bytes = (0..<size).map { _ in nextByte &+= 1; return nextByte }
                    append(&queue, bytes)
                    model += bytes
                } else {
                    // A partial send: what the kernel would take of the first few regions.
                    let maxRegions = Int(random.next() % 5) + 1
                    let offered = contents(queue, maxRegions: maxRegions)
                    XCTAssertEqual(offered.bytes, Array(model.prefix(offered.bytes.count)), "seed \(seed) step \(step)")
                    XCTAssertLessThanOrEqual(offered.sizes.count, maxRegions)
                    let sent = offered.bytes.isEmpty ? 0 : Int(random.next() % UInt64(offered.bytes.count + 1))
                    queue.removeFirst(sent)
                    model.removeFirst(sent)
                }
                XCTAssertEqual(queue.count, model.count)
                XCTAssertLessThanOrEqual(queue.allocatedBytes, queue.count + 2 * chunkSize, "seed \(seed) step \(step)")
                if queue.isEmpty { XCTAssertEqual(queue.chunkCount, 0) }
            }
            XCTAssertEqual(contents(queue).bytes, model, "seed \(seed)")
        }
    }
}
