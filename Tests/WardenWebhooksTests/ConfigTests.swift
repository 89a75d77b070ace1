import SentinelCore
import WardenHTTP
import WardenTestSupport
import WardenWebhooks
import XCTest

final class WebhookConfigTests: XCTestCase {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    func testParseEveryOption() throws {
        let config = try WebhookConfig(arguments: ["ops", "https://hooks.example.com/warden?team=db", "events",
                                                   "+switch-master,+odown,-*", "TIMEOUT", "15000", "secret", secret])
        XCTAssertEqual(config.id, "ops")
        XCTAssertEqual(config.url.host, "hooks.example.com")
        XCTAssertTrue(config.url.isSecure)
        XCTAssertEqual(config.events.map(\.text), ["+switch-master", "+odown", "-*"])
        XCTAssertEqual(config.timeoutMs, 15000)
        XCTAssertEqual(config.secrets.map(\.revealedText), [secret])
        XCTAssertTrue(config.wants("+switch-master"))
        XCTAssertTrue(config.wants("-sdown"))
        XCTAssertFalse(config.wants("+sdown"))
        XCTAssertEqual(config.arguments, ["ops", "https://hooks.example.com/warden?team=db", "secret", secret,
                                          "events", "+switch-master,+odown,-*", "timeout", "15000"])
        XCTAssertEqual(config.redactedLine,
                       "webhook ops https://hooks.example.com/warden?team=db secret whsec_****** events +switch-master,+odown,-* timeout 15000")
        XCTAssertFalse(config.redactedLine.contains("MfKQ"))
    }

    func testDefaults() throws {
        let config = try WebhookConfig(arguments: ["a", "http://127.0.0.1:9000"])
        XCTAssertEqual(config.events.map(\.text), ["*"])
        XCTAssertEqual(config.timeoutMs, 10_000)
        XCTAssertTrue(config.secrets.isEmpty)
        XCTAssertTrue(config.wants("+tilt"))
        XCTAssertEqual(config.directiveLine, "webhook a http://127.0.0.1:9000/")
    }

    func testRewriteReadsBack() throws {
        let other = "whsec_" + Base64.encode([UInt8](repeating: 9, count: 32))
        for arguments in [["a", "http://h/"], ["b.c-d_e", "https://[::1]:8443/x", "secret", secret, "secret", other,
                                                "events", "+switch-master", "timeout", "100"]] {
            let config = try WebhookConfig(arguments: arguments)
            XCTAssertEqual(try WebhookConfig(arguments: config.arguments), config)
            let line = config.directiveLine
            XCTAssertEqual(try WebhookConfig(arguments: line.split(separator: " ").dropFirst().map(String.init)), config)
        }
    }

    func testErrors() {
        let url = "http://h/"
        let cases: [([String], String)] = [
            ([], "wrong number of arguments (webhook <id> <url> [secret <whsec_...>] [events <glob>,...] [timeout <ms>])"),
            (["a"], "wrong number of arguments (webhook <id> <url> [secret <whsec_...>] [events <glob>,...] [timeout <ms>])"),
            (["bad id", url], "invalid webhook id 'bad id' (1-64 of letters, digits, '_', '.', '-')"),
            (["", url], "invalid webhook id '' (1-64 of letters, digits, '_', '.', '-')"),
            ([String(repeating: "a", count: 65), url], "invalid webhook id '\(String(repeating: "a", count: 65))' (1-64 of letters, digits, '_', '.', '-')"),
            (["a", "ftp://h/"], "invalid URL: unsupported scheme 'ftp' (use http or https)"),
            (["a", url, "secret"], "option 'secret' needs a value"),
            (["a", url, "colour", "red"], "unknown option 'colour' (secret, events or timeout)"),
            (["a", url, "timeout", "99"], "invalid timeout '99' (milliseconds, 100-120000)"),
            (["a", url, "timeout", "120001"], "invalid timeout '120001' (milliseconds, 100-120000)"),
            (["a", url, "timeout", "-5"], "invalid timeout '-5' (milliseconds, 100-120000)"),
            (["a", url, "timeout", "99999999999999999999"], "invalid timeout '99999999999999999999' (milliseconds, 100-120000)"),
            (["a", url, "timeout", "1000", "timeout", "2000"], "option 'timeout' given twice"),
            (["a", url, "events", "+a", "events", "+b"], "option 'events' given twice"),
            (["a", url, "events", "+a,,+b"], "empty event pattern in '+a,,+b'"),
            (["a", url, "events", "'+a'"], "invalid event pattern ''+a'' (printable ASCII without spaces or quotes, at most 128 bytes)"),
            (["a", url, "secret", "nope"], "secret must start with 'whsec_' followed by base64"),
            (["a", url] + Array(repeating: ["secret", secret], count: 5).flatMap { $0 }, "at most 4 secrets"),
        ]
        for (arguments, reason) in cases {
            XCTAssertThrowsError(try WebhookConfig(arguments: arguments), "\(arguments)") {
                XCTAssertEqual(($0 as? WebhookConfigError)?.reason, reason)
            }
        }
    }
}

final class EventPatternTests: XCTestCase {
    func testRedisEventNames() {
        XCTAssertTrue(EventPattern("*").matches("+switch-master"))
        XCTAssertTrue(EventPattern("+failover-state-*").matches("+failover-state-select-slave"))
        XCTAssertFalse(EventPattern("+failover-state-*").matches("+failover-end"))
        XCTAssertTrue(EventPattern("[-+]sdown").matches("-sdown"))
        // As in Redis, `[+-]` starts a range from + to ], and the set runs on to the end.
        XCTAssertFalse(EventPattern("[+-]sdown").matches("-sdown"))
        XCTAssertTrue(EventPattern("[+-]sdown").matches("-"))
        XCTAssertTrue(EventPattern("[^-]sdown").matches("+sdown"))
        XCTAssertFalse(EventPattern("[^-]sdown").matches("-sdown"))
        XCTAssertTrue(EventPattern("+?down").matches("+odown"))
        XCTAssertTrue(EventPattern("\\*x").matches("*x"))
        XCTAssertFalse(EventPattern("\\*x").matches("ax"))
        XCTAssertFalse(EventPattern("*").matches(""))
        XCTAssertTrue(EventPattern("").matches(""))
        XCTAssertFalse(EventPattern("+odown").matches("+ODOWN"))
    }

    /// The module's own glob agrees with SentinelCore's Redis glob on every pattern
    /// shape, including the corner cases (unterminated sets, ranges ending in `]`,
    /// trailing backslashes).
    func testAgreesWithSentinelCoreGlob() {
        var random = TestRandom(seed: 1234)
        let alphabet: [UInt8] = Array("ab-+*?[]^\\x".utf8)
        for _ in 0..<20_000 {
            let pattern = String(decoding: (0..<Int.random(in: 0...8, using: &random)).map { _ in alphabet.randomElement(using: &random)! }, as: UTF8.self)
            let name = String(decoding: (0..<Int.random(in: 0...8, using: &random)).map { _ in alphabet.randomElement(using: &random)! }, as: UTF8.self)
            XCTAssertEqual(EventPattern(pattern).matches(name), Glob.match(pattern, name), "pattern \(pattern) name \(name)")
        }
    }
}
