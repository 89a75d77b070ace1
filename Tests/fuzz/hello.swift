// Hello.parse (the hellos sentinels publish on __sentinel__:hello): never traps;
// what it accepts has ports in 1...65535, a 40-byte run id and non-empty hosts
// and name, and its payload parses back to the same hello.
//
// Input: a hello payload.
import SentinelCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHello(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: input(data, count), as: UTF8.self)
    guard let hello = Hello.parse(text) else { return 0 }
    require((1...65535).contains(hello.sentinelAddress.port), "sentinel port \(hello.sentinelAddress.port)")
    require((1...65535).contains(hello.masterAddress.port), "master port \(hello.masterAddress.port)")
    require(hello.runID.utf8.count == 40, "run id \(hello.runID)")
    require(!hello.sentinelAddress.host.isEmpty && !hello.masterAddress.host.isEmpty && !hello.masterName.isEmpty,
            "empty field in \(hello)")
    require(Hello.parse(hello.payload) == hello, "payload \(hello.payload) does not parse back to \(hello)")
    return 0
}
