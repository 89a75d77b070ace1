// RESPRequestParser (multibulk and inline): a stream fed in random splits must
// give the same commands and the same error as the stream fed in one piece,
// whatever the limits, and nothing may trap.
//
// Input: one control byte, then the client's byte stream.
//   bit 0      unauthenticated (the 10-argument / 16 KB caps apply)
//   bit 1      small limits (so that every limit is reachable with short inputs)
//   bits 2...7 seed of the chunk sizes
import RESP

/// What one way of feeding the stream produced.
struct RequestOutcome: Equatable {
    var commands: [[[UInt8]]] = []
    var error: RESPProtocolError? = nil
}

func feed(_ pieces: [[UInt8]], limits: RESPLimits, authenticated: Bool, keepArguments: Bool) -> RequestOutcome {
    var parser = RESPRequestParser(limits: limits)
    parser.authenticated = authenticated
    var outcome = RequestOutcome()
    // Arguments kept past later calls must stay valid (the parser copies then).
    var kept: [(RESPArguments, [[UInt8]])] = []
    do {
        for piece in pieces {
            parser.append(piece)
            require(parser.bufferedByteCount >= 0, "negative bufferedByteCount")
            while let arguments = try parser.nextArguments() {
                let arrays = arguments.arrays
                require(!arrays.isEmpty, "an empty command was returned")
                for (index, argument) in arrays.enumerated() {
                    var lower = argument
                    for i in lower.indices where lower[i] >= 65 && lower[i] <= 90 { lower[i] += 32 }
                    require(arguments.argument(index, equalsLowercased: lower), "argument(_:equalsLowercased:) disagrees")
                }
                if keepArguments { kept.append((arguments, arrays)) }
                outcome.commands.append(arrays)
            }
        }
    } catch {
        outcome.error = error
        requireStillFails(error) { () throws(RESPProtocolError) in _ = try parser.nextArguments() }
    }
    for (arguments, arrays) in kept {
        require(arguments.arrays == arrays, "kept arguments changed after later calls")
    }
    return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequest(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard let (control, stream) = controlAndStream(data, count) else { return 0 }
    let authenticated = control & 1 == 0
    let limits = chosenLimits(tiny: control & 2 != 0)
    // The chunked run also keeps every command's arguments past later calls.
    requireSameWhenSplit(stream, seed: UInt64(control >> 2), ==) { pieces, chunked in
        feed(pieces, limits: limits, authenticated: authenticated, keepArguments: chunked)
    }
    return 0
}
