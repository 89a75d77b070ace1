import XCTest
@testable import Configuration
import SentinelCore

final class ForgetDirectivesTests: XCTestCase {
    let a = String(repeating: "a", count: 40)
    let b = String(repeating: "b", count: 40)

    func testParseAndRewriteRoundTrip() throws {
        let text = """
            sentinel monitor mymaster 127.0.0.1 6379 2
            sentinel auto-forget-after mymaster 60000
            sentinel forgotten-sentinel mymaster \(a) 127.0.0.1 26380 0 \(b)
            sentinel forgotten-sentinel mymaster \(b) 0.0.0.0 0 1700000000000 -
            sentinel forgotten-replica mymaster 127.0.0.1 6381 1700000300000 \(a),\(b)

            """
        let config = try ConfigParser.parse(text, file: "t.conf")
        let f = config.masters[0].forgetting
        XCTAssertEqual(f.autoForgetAfter, 60_000)
        XCTAssertEqual(f.sentinels, [
            ForgottenSentinel(runID: a, address: Address("127.0.0.1", 26380), awaiting: [b], until: 0),
            ForgottenSentinel(runID: b, address: Address("0.0.0.0", 0), awaiting: [], until: 1_700_000_000_000),
        ])
        XCTAssertEqual(f.replicas, [ForgottenReplica(address: Address("127.0.0.1", 6381), awaiting: [a, b],
                                                     until: 1_700_000_300_000)])
        let once = ConfigRewriter.rewrite(original: text, config: config)
        XCTAssertEqual(try ConfigParser.parse(once, file: "t.conf"), config)
        XCTAssertEqual(ConfigRewriter.rewrite(original: once, config: config), once)
        var cleared = config
        cleared.masters[0].forgetting = ForgetSettings()
        let gone = ConfigRewriter.rewrite(original: once, config: cleared)
        XCTAssertFalse(gone.contains("forget"), gone)
    }

    func testBadValues() {
        let cases: [(String, String)] = [
            ("sentinel auto-forget-after mymaster 10", "auto-forget-after must be 0 (off) or between"),
            ("sentinel auto-forget-after mymaster x", "Invalid auto-forget-after"),
            ("sentinel forgotten-sentinel mymaster abc 127.0.0.1 26380 0 -", "Malformed Sentinel id"),
            ("sentinel forgotten-sentinel mymaster \(a) 127.0.0.1 26380 -5 -", "Invalid tombstone time"),
            ("sentinel forgotten-sentinel mymaster \(a) 127.0.0.1 26380 0 xyz", "Invalid list of run ids"),
            ("sentinel forgotten-replica mymaster 127.0.0.1 99999 0 -", "Invalid port number"),
            ("sentinel forgotten-replica mymaster 127.0.0.1 6380 0", "Wrong number of arguments"),
        ]
        for (line, expected) in cases {
            XCTAssertThrowsError(try ConfigParser.parse("sentinel monitor mymaster 127.0.0.1 6379 2\n\(line)\n", file: "t.conf"),
                                 line) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(line): \(error)")
            }
        }
    }
}
