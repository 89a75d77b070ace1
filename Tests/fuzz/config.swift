// ConfigParser (sentinel.conf) and ConfigRewriter: parsing never traps; a file
// that parses, rewritten with the config it holds, parses back to that same
// config; and rewriting is idempotent.
//
// Input: the text of a sentinel.conf.
import SentinelCore
#if canImport(Configuration)
import Configuration  // ConfigParser and ConfigRewriter, once out of SentinelCore
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: input(data, count), as: UTF8.self)
    let config: SentinelConfig
    do {
        config = try ConfigParser.parse(text, file: "fuzz.conf")
    } catch {
        require(!error.reason.isEmpty && error.line >= 1, "error without reason or line: \(error)")
        return 0
    }
    let rewritten = ConfigRewriter.rewrite(original: text, config: config)
    do {
        let again = try ConfigParser.parse(rewritten, file: "rewritten.conf")
        require(again == config, "the rewritten file parses to another config:\n\(rewritten)")
    } catch {
        fatalError("fuzz property failed: the rewritten file does not parse (\(error)):\n\(rewritten)")
    }
    require(ConfigRewriter.rewrite(original: rewritten, config: config) == rewritten,
            "rewriting is not idempotent:\n\(rewritten)")
    return 0
}
