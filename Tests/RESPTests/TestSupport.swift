import RESP

/// SplitMix64: a tiny seedable generator so random splits are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

func args(_ words: String...) -> [[UInt8]] { words.map { Array($0.utf8) } }

/// Feeds `stream` to a request parser in chunks of the given sizes (the rest
/// in one last chunk), draining commands after every chunk.
func parseRequests(
    _ stream: [UInt8], chunks: [Int] = [], limits: RESPLimits = .default
) throws(RESPProtocolError) -> [[[UInt8]]] {
    var parser = RESPRequestParser(limits: limits)
    var commands: [[[UInt8]]] = []
    var offset = 0
    var sizes = chunks[...]
    while offset < stream.count {
        let size = min(sizes.popFirst() ?? stream.count, stream.count - offset)
        parser.append(Array(stream[offset..<offset + size]))
        offset += size
        while let command = try parser.next() { commands.append(command) }
    }
    return commands
}

/// The error a request stream ends in, if any.
func requestError(_ stream: [UInt8], chunks: [Int] = [], limits: RESPLimits = .default) -> RESPProtocolError? {
    do {
        _ = try parseRequests(stream, chunks: chunks, limits: limits)
        return nil
    } catch {
        return error
    }
}

/// Feeds `stream` to a reply parser in chunks, draining values after every chunk.
func parseReplies(
    _ stream: [UInt8], chunks: [Int] = [], limits: RESPLimits = .default
) throws(RESPProtocolError) -> [RESPValue] {
    var parser = RESPReplyParser(limits: limits)
    var values: [RESPValue] = []
    var offset = 0
    var sizes = chunks[...]
    while offset < stream.count {
        let size = min(sizes.popFirst() ?? stream.count, stream.count - offset)
        parser.append(Array(stream[offset..<offset + size]))
        offset += size
        while let value = try parser.next() { values.append(value) }
    }
    return values
}

func replyError(_ stream: [UInt8], limits: RESPLimits = .default) -> RESPProtocolError? {
    do {
        _ = try parseReplies(stream, limits: limits)
        return nil
    } catch {
        return error
    }
}

/// Random chunk sizes from 1 to `maxChunk` covering `total` bytes.
func randomChunks(total: Int, maxChunk: Int, using generator: inout SeededGenerator) -> [Int] {
    var sizes: [Int] = []
    var covered = 0
    while covered < total {
        let size = Int.random(in: 1...maxChunk, using: &generator)
        sizes.append(size)
        covered += size
    }
    return sizes
}

func protocolError(_ message: String) -> RESPProtocolError { .protocolError(message) }
