import Foundation
import XCTest
@testable import Configuration
import SentinelCore
import WardenCrypto

/// http-* and webhook: parsed, refused with a reason, and kept by the rewrite.
final class ServiceDirectivesTests: XCTestCase {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    let token = "0123456789abcdefghij"

    private func parse(_ text: String) throws -> SentinelConfig {
        try ConfigParser.parse(text, file: "test.conf")
    }

    private func reason(_ text: String) -> String? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return (error as? ConfigError)?.reason ?? "\(error)"
        }
    }

    func testDefaults() throws {
        let config = try parse("port 26379\n")
        XCTAssertEqual(config.http, HTTPSettings())
        XCTAssertEqual(config.http.port, 0)
        XCTAssertEqual(config.http.bind, ["127.0.0.1"])
        XCTAssertNil(config.http.token)
        XCTAssertEqual(config.webhooks, [])
        XCTAssertEqual(config.webhookQueueLimit, 1000)
    }

    func testHTTPDirectives() throws {
        let config = try parse("""
            http-port 8080
            http-bind 127.0.0.1 ::1
            http-token \(token)
            http-token-reads yes
            http-max-connections 10
            http-idle-timeout 1500
            http-request-timeout 2500
            webhook-queue-limit 7
            """)
        XCTAssertEqual(config.http.port, 8080)
        XCTAssertEqual(config.http.bind, ["127.0.0.1", "::1"])
        XCTAssertEqual(config.http.token, Secret(token))
        XCTAssertTrue(config.http.tokenReads)
        XCTAssertEqual(config.http.maxConnections, 10)
        XCTAssertEqual(config.http.idleTimeoutMs, 1500)
        XCTAssertEqual(config.http.requestTimeoutMs, 2500)
        XCTAssertEqual(config.webhookQueueLimit, 7)
    }

    func testHTTPRefusals() {
        XCTAssertEqual(reason("http-port 70000"), "argument must be between 0 and 65535 inclusive")
        XCTAssertEqual(reason("http-port"), "wrong number of arguments")
        XCTAssertEqual(reason("http-bind example.com"),
                       "Invalid http-bind address 'example.com': an IPv4 or IPv6 address is expected (0.0.0.0 or :: for all)")
        XCTAssertEqual(reason("http-token short"), "the token must be 16-1024 characters long")
        XCTAssertEqual(reason("http-token \"0123456789 abcdefghij\""),
                       "the token may hold letters, digits and -._~+/ (and = at its end) only")
        XCTAssertEqual(reason("http-token 0123456789abcdef==x"),
                       "the token may hold letters, digits and -._~+/ (and = at its end) only")
        XCTAssertNil(reason("http-token 0123456789abcdef+/==")
        )
        XCTAssertEqual(reason("http-token-reads maybe"), "argument must be 'yes' or 'no'")
        XCTAssertEqual(reason("http-max-connections 0"), "argument must be between 1 and 100000 inclusive")
        XCTAssertEqual(reason("http-idle-timeout 10"), "argument must be between 100 and 86400000 inclusive")
    }

    func testWebhookLines() throws {
        let config = try parse("""
            webhook ops https://hooks.example.com/warden?x=1 secret \(secret) events +switch-master,+odown timeout 5000
            webhook audit http://127.0.0.1:9000/
            """)
        XCTAssertEqual(config.webhooks, [
            WebhookSetting(id: "ops", url: "https://hooks.example.com/warden?x=1", secrets: [Secret(secret)],
                           events: ["+switch-master", "+odown"], timeoutMs: 5000),
            WebhookSetting(id: "audit", url: "http://127.0.0.1:9000/"),
        ])
        XCTAssertEqual(config.webhooks[0].redactedValue,
                       "https://hooks.example.com/warden?x=1 secret whsec_****** events +switch-master,+odown timeout 5000")
        XCTAssertEqual(try ServiceDirectives.webhookConfig(config.webhooks[0]).secrets.count, 1)
    }

    func testWebhookRefusals() {
        XCTAssertEqual(reason("webhook a ftp://x/"), "Invalid webhook: invalid URL: unsupported scheme 'ftp' (use http or https)")
        XCTAssertEqual(reason("webhook a"),
                       "Invalid webhook: wrong number of arguments (webhook <id> <url> [secret <whsec_...>] [events <glob>,...] [timeout <ms>])")
        XCTAssertEqual(reason("webhook a http://h/ secret nope"),
                       "Invalid webhook: secret must start with 'whsec_' followed by base64")
        XCTAssertEqual(reason("webhook a http://h/\nwebhook a http://i/"), "Duplicate webhook id 'a'")
        let many = (0...Sentinel.maxWebhooks).map { "webhook w\($0) http://h/" }.joined(separator: "\n")
        XCTAssertEqual(reason(many), "Too many webhooks (at most \(Sentinel.maxWebhooks))")
    }

    func testErrorsNameTheLine() {
        XCTAssertThrowsError(try parse("port 1\nhttp-port x\n")) { error in
            XCTAssertEqual((error as? ConfigError)?.line, 2)
        }
    }

    // MARK: - Rewrite

    func testRewriteKeepsLinesAsWritten() throws {
        let text = """
            port 26379
            # the API
            http-port   8080
            http-token \(token)
            webhook ops http://127.0.0.1:9/  events +switch-master
            sentinel myid \(String(repeating: "a", count: 40))

            """
        let config = try parse(text)
        let rewritten = ConfigRewriter.rewrite(original: text, config: config)
        XCTAssertTrue(rewritten.contains("http-port   8080\n"), rewritten)
        XCTAssertTrue(rewritten.contains("webhook ops http://127.0.0.1:9/  events +switch-master\n"), rewritten)
        XCTAssertTrue(rewritten.contains("# the API\n"))
        XCTAssertEqual(try parse(rewritten), config)
    }

    func testRewritePersistsRuntimeChanges() throws {
        let text = """
            port 26379
            http-port 8080
            http-token \(token)
            webhook ops http://127.0.0.1:9/
            webhook gone http://127.0.0.1:10/

            """
        var config = try parse(text)
        config.http.token = nil
        config.http.tokenReads = true
        config.webhooks.removeAll { $0.id == "gone" }
        config.webhooks[0].events = ["+odown"]
        config.webhooks.append(WebhookSetting(id: "new", url: "https://example.com/x", secrets: [Secret(secret)]))
        let rewritten = ConfigRewriter.rewrite(original: text, config: config)
        XCTAssertFalse(rewritten.contains("http-token "), rewritten)
        XCTAssertFalse(rewritten.contains("gone"), rewritten)
        XCTAssertTrue(rewritten.contains("webhook ops http://127.0.0.1:9/ events +odown\n"), rewritten)
        XCTAssertTrue(rewritten.contains("http-token-reads yes\n"), rewritten)
        XCTAssertTrue(rewritten.contains("webhook new https://example.com/x secret \(secret)\n"), rewritten)
        XCTAssertEqual(try parse(rewritten), config)
        // Idempotent.
        XCTAssertEqual(ConfigRewriter.rewrite(original: rewritten, config: config), rewritten)
    }

    func testRewriteAddsNothingForDefaults() throws {
        let text = "port 26379\n"
        XCTAssertEqual(ConfigRewriter.rewrite(original: text, config: try parse(text)).contains("http-"), false)
    }

    func testRewriteRemovesRepeatedLines() throws {
        let text = "http-port 1\nhttp-port 2\n"
        let config = try parse(text)
        XCTAssertEqual(config.http.port, 2)
        let rewritten = ConfigRewriter.rewrite(original: text, config: config)
        XCTAssertTrue(rewritten.hasPrefix("http-port 2\n"), rewritten)
        XCTAssertEqual(rewritten.components(separatedBy: "http-port").count, 2, rewritten)
    }

    func testValidatorForConfigSet() {
        let validator = ServiceDirectives.validator
        XCTAssertEqual(try validator.webhook("x", "http://h/ events \"+odown,+sdown\"").get(),
                       WebhookSetting(id: "x", url: "http://h/", events: ["+odown", "+sdown"]))
        XCTAssertEqual(validator.httpToken(Array("short".utf8)), "the token must be 16-1024 characters long")
        if case .success = validator.webhook("bad id", "http://h/") { XCTFail("an id with a space is refused") }
        if case .success = validator.webhook("x", "http://h/ \"unbalanced") { XCTFail("unbalanced quotes") }
    }
}
