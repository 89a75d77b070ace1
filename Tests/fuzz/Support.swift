// Shared by every fuzz target (compiled into each one by Tests/fuzz/run.sh).
import RESP
import SentinelCore

/// A failed property: libFuzzer sees the trap as a crash and saves the input.
func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("fuzz property failed: \(message())") }
}

/// The fuzz input as an array.
@inline(__always)
func input(_ data: UnsafePointer<UInt8>, _ count: Int) -> [UInt8] {
    Array(UnsafeBufferPointer(start: data, count: count))
}

/// An input read as a control byte (the target's choices) and the stream to feed;
/// nil for an empty input.
func controlAndStream(_ data: UnsafePointer<UInt8>, _ count: Int) -> (control: UInt8, stream: [UInt8])? {
    guard count > 0 else { return nil }
    return (data[0], Array(UnsafeBufferPointer(start: data + 1, count: count - 1)))
}

/// Cuts `bytes` into chunks whose sizes (1...maxChunk) come from `seed`.
func chunks(_ bytes: [UInt8], seed: UInt64, maxChunk: Int) -> [[UInt8]] {
    var random = SplitMix64(seed: seed)
    var out: [[UInt8]] = []
    var offset = 0
    while offset < bytes.count {
        let size = min(Int.random(in: 1...maxChunk, using: &random), bytes.count - offset)
        out.append(Array(bytes[offset..<offset + size]))
        offset += size
    }
    return out
}

/// Feeds `stream` whole, in random chunks of 1-17 bytes (sizes from `seed`), and,
/// when it is short, byte by byte (quadratic in the length of a line); the outcome
/// must not depend on the split. `feed` is told which run is the chunked one.
func requireSameWhenSplit<Outcome>(_ stream: [UInt8], seed: UInt64, _ same: (Outcome, Outcome) -> Bool,
                                   _ feed: (_ pieces: [[UInt8]], _ chunked: Bool) -> Outcome) {
    let whole = feed([stream], false)
    let split = feed(chunks(stream, seed: seed, maxChunk: 17), true)
    require(same(whole, split), "split changed the outcome: \(whole) vs \(split)")
    if stream.count <= 512 {
        let bytewise = feed(stream.map { [$0] }, false)
        require(same(whole, bytewise), "byte-by-byte feeding changed the outcome: \(whole) vs \(bytewise)")
    }
}

/// The default limits, or (`tiny`) limits small enough for short inputs to reach
/// every one of them.
func chosenLimits(tiny: Bool) -> RESPLimits { tiny ? tinyLimits : .default }

let tinyLimits = RESPLimits(maxBulkLength: 64, maxMultibulkCount: 8, maxInlineLength: 32,
                            maxQueryBuffer: 128, maxNestingDepth: 4)

/// A parser that failed with `error` must fail with it again on its next call.
func requireStillFails(_ error: RESPProtocolError, _ next: () throws(RESPProtocolError) -> Void) {
    do {
        try next()
        require(false, "parser recovered after \(error)")
    } catch let again {
        require(again == error, "error changed from \(error) to \(again)")
    }
}

/// `==` on RESP values, except that a NaN double equals a NaN double.
func sameValue(_ a: RESPValue, _ b: RESPValue) -> Bool {
    switch (a, b) {
    case (.double(let x), .double(let y)):
        return x == y || (x.isNaN && y.isNaN)
    case (.array(let x?), .array(let y?)), (.set(let x), .set(let y)), (.push(let x), .push(let y)):
        return x.count == y.count && zip(x, y).allSatisfy { sameValue($0, $1) }
    case (.map(let x), .map(let y)):
        return x.count == y.count
            && zip(x, y).allSatisfy { sameValue($0.key, $1.key) && sameValue($0.value, $1.value) }
    default:
        return a == b
    }
}
