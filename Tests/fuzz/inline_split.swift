// InlineSplitter (sdssplitargs rules, used for inline commands and sentinel.conf
// lines): never traps, and whatever it splits a line into comes back unchanged
// when each argument is written quoted with Redis's escapes (as ConfigRewriter
// writes values; the config target checks ConfigRewriter itself) and the line is
// split again. The request parser's inline path agrees with it.
//
// Input: one line (any bytes).
import RESP

/// `bytes` in double quotes with sdscatrepr's escapes.
func quoted(_ bytes: [UInt8]) -> [UInt8] {
    let hex = Array("0123456789abcdef".utf8)
    var out: [UInt8] = [34]
    for byte in bytes {
        switch byte {
        case 92, 34: out += [92, byte]
        case 10: out += [92, UInt8(ascii: "n")]
        case 13: out += [92, UInt8(ascii: "r")]
        case 9: out += [92, UInt8(ascii: "t")]
        case 7: out += [92, UInt8(ascii: "a")]
        case 8: out += [92, UInt8(ascii: "b")]
        case 0x20...0x7E: out.append(byte)
        default: out += [92, UInt8(ascii: "x"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
        }
    }
    out.append(34)
    return out
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInlineSplit(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let line = input(data, count)
    guard let arguments = InlineSplitter.split(line) else { return 0 }
    // Quote each argument with Redis's escapes and split again.
    let quoted = arguments.map(quoted)
    var joined: [UInt8] = []
    for (index, argument) in quoted.enumerated() {
        if index > 0 { joined.append(UInt8(ascii: " ")) }
        joined += argument
    }
    require(InlineSplitter.split(joined) == arguments,
            "re-quoted line \(joined) does not split back to \(arguments)")

    // The same line sent as an inline command (when it is one: no newline or NUL
    // inside, not starting with `*`) gives the same arguments.
    if !line.contains(10) && !line.contains(0) && line.first != UInt8(ascii: "*") && !arguments.isEmpty {
        var parser = RESPRequestParser()
        parser.append(line + [13, 10])
        do {
            let command = try parser.next()
            require(command == arguments, "inline request \(String(describing: command)) != split \(arguments)")
        } catch {
            require(line.count > RESPLimits.default.maxInlineLength, "inline request failed: \(error)")
        }
    }
    return 0
}
