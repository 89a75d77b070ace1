// InfoReport.parse (INFO replies from Redis): never traps, reads the same from
// bytes and from a String when the text is valid UTF-8, and every field it
// reports is in its documented range.
//
// Input: the text of an INFO reply.
import SentinelCore

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzInfo(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = input(data, count)
    let report = InfoReport.parse(bytes)
    if let text = String(validating: bytes, as: UTF8.self) {
        require(InfoReport.parse(text) == report, "String and byte parses differ")
    }
    if let runID = report.runID { require(runID.utf8.count <= 40 * 4 && runID.count <= 40, "run_id too long: \(runID)") }
    for replica in report.replicas {
        require((0...65535).contains(replica.port), "replica port \(replica.port)")
        require(!replica.ip.isEmpty, "replica without ip")
    }
    if let since = report.masterLinkDownSinceSeconds { require(since >= 0, "negative link-down time") }
    return 0
}
