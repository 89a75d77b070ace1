/// Bytes waiting to be sent, first in first out, kept in fixed-size chunks.
///
/// Appends copy into the last chunk and start a new one when it is full; sent bytes are
/// removed from the front, and each chunk is freed as soon as all of its bytes are gone
/// (the last one too, so an empty queue holds no chunk). The queue therefore never holds
/// more than `count + 2 * chunkSize` bytes of chunks (the unsent part of the first chunk
/// and the filled part of the last one are the only slack), plus one pointer per chunk;
/// nothing grows by doubling or copies what is already queued.
///
/// Not thread-safe: owned by one `Connection` on the loop thread.
struct OutputQueue: ~Copyable {
    static let defaultChunkSize = 16 * 1024

    let chunkSize: Int
    /// Bytes queued.
    private(set) var count = 0

    /// The chunks, front first; the live ones are `chunks[first...]`.
    private var chunks: [UnsafeMutableRawPointer] = []
    /// Chunks at the front of `chunks` already freed; compacted away in bulk.
    private var first = 0
    /// Offset of the first queued byte in the first live chunk.
    private var head = 0
    /// Bytes filled in the last live chunk.
    private var tail = 0

    init(chunkSize: Int = OutputQueue.defaultChunkSize) {
        precondition(chunkSize > 0, "OutputQueue: chunk size must be positive")
        self.chunkSize = chunkSize
    }

    deinit {
        for index in first..<chunks.count { chunks[index].deallocate() }
    }

    var isEmpty: Bool { count == 0 }

    /// Chunks currently allocated.
    var chunkCount: Int { chunks.count - first }

    /// Bytes of chunk memory currently allocated.
    var allocatedBytes: Int { chunkCount * chunkSize }

    /// Copies `bytes` to the back of the queue.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard var source = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            if chunkCount == 0 || tail == chunkSize {
                chunks.append(.allocate(byteCount: chunkSize, alignment: 16))
                tail = 0
            }
            let taken = min(left, chunkSize - tail)
            (chunks[chunks.count - 1] + tail).copyMemory(from: source, byteCount: taken)
            tail += taken
            count += taken
            source += taken
            left -= taken
        }
    }

    /// Calls `body` with the queued bytes as contiguous regions, front first, stopping
    /// after `maxRegions` of them. The regions are valid until the queue is next changed.
    func forEachRegion(maxRegions: Int, _ body: (UnsafeRawBufferPointer) -> Void) {
        var index = first
        var given = 0
        while index < chunks.count && given < maxRegions {
            let start = index == first ? head : 0
            let end = index == chunks.count - 1 ? tail : chunkSize
            body(UnsafeRawBufferPointer(start: chunks[index] + start, count: end - start))
            index += 1
            given += 1
        }
    }

    /// Drops `byteCount` bytes from the front (they were sent), freeing every chunk that
    /// is now empty. `byteCount` must be at most `count`.
    mutating func removeFirst(_ byteCount: Int) {
        precondition(byteCount >= 0 && byteCount <= count, "OutputQueue: removing more than is queued")
        guard byteCount < count else {
            removeAll()
            return
        }
        count -= byteCount
        var left = byteCount
        while left > 0 {
            let end = first == chunks.count - 1 ? tail : chunkSize
            let available = end - head
            if left < available {
                head += left
                break
            }
            // This chunk is used up; since bytes remain queued it is not the last one.
            left -= available
            chunks[first].deallocate()
            first += 1
            head = 0
        }
        // Drop the freed slots once they are at least half of the array (amortized O(1)).
        if first >= 16 && first * 2 >= chunks.count {
            chunks.removeFirst(first)
            first = 0
        }
    }

    /// Drops everything and frees every chunk.
    mutating func removeAll() {
        for index in first..<chunks.count { chunks[index].deallocate() }
        // A small pointer array is kept for the next reply; a big one is freed too.
        chunks.removeAll(keepingCapacity: chunks.capacity <= 16)
        first = 0
        head = 0
        tail = 0
        count = 0
    }
}
