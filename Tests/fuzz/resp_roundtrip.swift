// RESPEncoder round trip: for every value the reply parser produces from the
// input, parse(encode(v, RESP3)) == v (except that RESP3 has a single null:
// `$-1` and `*-1` come back as `_`), and encode(v, RESP2) is one valid RESP2
// value with no RESP3-only type in it.
//
// Input: a server's byte stream (the values it holds are what is round-tripped).
import RESP

/// The only value in `bytes`, which must hold exactly one.
func single(_ bytes: [UInt8], _ what: String) -> RESPValue {
    var parser = RESPReplyParser(limits: RESPLimits(maxQueryBuffer: 1 << 30, maxNestingDepth: 1 << 10))
    parser.append(bytes)
    do {
        guard let value = try parser.next() else {
            fatalError("fuzz property failed: \(what) encoding is incomplete: \(bytes)")
        }
        require(try parser.next() == nil && parser.bufferedByteCount == 0,
                "\(what) encoding holds more than one value")
        return value
    } catch {
        fatalError("fuzz property failed: \(what) encoding does not parse (\(error)): \(bytes)")
    }
}

/// `value` with the RESP2 nulls as RESP3 writes them: `_`.
func resp3Nulls(_ value: RESPValue) -> RESPValue {
    switch value {
    case .bulkString(nil), .array(nil): return .null
    case .array(let elements?): return .array(elements.map(resp3Nulls))
    case .set(let elements): return .set(elements.map(resp3Nulls))
    case .push(let elements): return .push(elements.map(resp3Nulls))
    case .map(let pairs): return .map(pairs.map { RESPPair(resp3Nulls($0.key), resp3Nulls($0.value)) })
    default: return value
    }
}

func isRESP2(_ value: RESPValue) -> Bool {
    switch value {
    case .simpleString, .error, .integer, .bulkString: return true
    case .array(let elements): return elements?.allSatisfy(isRESP2) ?? true
    default: return false
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRoundTrip(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    var parser = RESPReplyParser()
    parser.append(input(data, count))
    while true {
        let value: RESPValue
        do {
            guard let next = try parser.next() else { break }
            value = next
        } catch {
            break
        }
        let resp3 = single(RESPEncoder.encode(value, version: .resp3), "RESP3")
        require(sameValue(resp3, resp3Nulls(value)), "RESP3 round trip changed \(value) into \(resp3)")
        let resp2 = single(RESPEncoder.encode(value, version: .resp2), "RESP2")
        require(isRESP2(resp2), "RESP2 encoding of \(value) has RESP3 types: \(resp2)")
    }
    return 0
}
