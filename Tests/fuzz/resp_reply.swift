// RESPReplyParser (every RESP2 and RESP3 type, attributes, nesting): a stream fed
// in random splits must give the same values and the same error as the stream
// fed in one piece, whatever the limits, and nothing may trap.
//
// Input: one control byte, then the server's byte stream.
//   bit 0      small limits (so that every limit is reachable with short inputs)
//   bits 1...7 seed of the chunk sizes
import RESP

struct ReplyOutcome: Equatable {
    var values: [RESPValue] = []
    var error: RESPProtocolError? = nil
}

/// Equality that treats NaN as equal to itself (`,nan` parses to a NaN).
func same(_ a: ReplyOutcome, _ b: ReplyOutcome) -> Bool {
    a.error == b.error && a.values.count == b.values.count
        && zip(a.values, b.values).allSatisfy { sameValue($0, $1) }
}

func feedReplies(_ pieces: [[UInt8]], limits: RESPLimits) -> ReplyOutcome {
    var parser = RESPReplyParser(limits: limits)
    var outcome = ReplyOutcome()
    var appended = 0
    do {
        for piece in pieces {
            parser.append(piece)
            appended += piece.count
            while let value = try parser.next() {
                outcome.values.append(value)
            }
            require(parser.bufferedByteCount >= 0 && parser.bufferedByteCount <= appended,
                    "bufferedByteCount \(parser.bufferedByteCount) out of 0...\(appended)")
        }
    } catch {
        outcome.error = error
        requireStillFails(error) { () throws(RESPProtocolError) in _ = try parser.next() }
    }
    return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzReply(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard let (control, stream) = controlAndStream(data, count) else { return 0 }
    let limits = chosenLimits(tiny: control & 1 != 0)
    requireSameWhenSplit(stream, seed: UInt64(control >> 1), same) { pieces, _ in
        feedReplies(pieces, limits: limits)
    }
    return 0
}
