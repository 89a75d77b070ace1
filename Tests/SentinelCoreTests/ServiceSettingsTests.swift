import Configuration
import RESP
import WardenCrypto
import XCTest

@testable import SentinelCore

/// SENTINEL CONFIG GET / SET of Warden's service settings (the core stores them; the
/// daemon applies them), and the structured views the HTTP API reads.
final class ServiceSettingsTests: XCTestCase {
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    let token = "0123456789abcdefghij"

    func rig(denyScripts: Bool = false) -> CoreRig {
        let rig = CoreRig { $0.denyScriptsReconfig = denyScripts }
        rig.sentinel.serviceValidator = ServiceDirectives.validator
        return rig
    }

    func get(_ rig: CoreRig, _ pattern: String) -> [String: String] {
        guard case .map(let pairs) = rig.command("SENTINEL", "CONFIG", "GET", pattern).reply else { return [:] }
        var out: [String: String] = [:]
        for pair in pairs { out[pair.key.string ?? "?"] = pair.value.string ?? "?" }
        return out
    }

    func testWebhookAddReplaceRemove() {
        let rig = self.rig()
        let add = rig.command("SENTINEL", "CONFIG", "SET", "webhook.ops", "http://127.0.0.1:9/ secret \(secret) events +switch-master")
        XCTAssertEqual(add.reply, .ok)
        XCTAssertTrue(add.effects.savesConfig)
        XCTAssertEqual(rig.sentinel.settings.webhooks,
                       [WebhookSetting(id: "ops", url: "http://127.0.0.1:9/", secrets: [Secret(secret)], events: ["+switch-master"])])
        // Secrets are never shown.
        XCTAssertEqual(get(rig, "webhook.*"), ["webhook.ops": "http://127.0.0.1:9/ secret whsec_****** events +switch-master"])

        XCTAssertEqual(rig.command("SENTINEL", "CONFIG", "SET", "webhook.ops", "https://example.com/").reply, .ok)
        XCTAssertEqual(rig.sentinel.settings.webhooks.map(\.url), ["https://example.com/"])
        XCTAssertEqual(rig.command("SENTINEL", "CONFIG", "SET", "webhook.ops", "").reply, .ok)
        XCTAssertEqual(rig.sentinel.settings.webhooks, [])
        // Saved: the configuration handed to the driver has the change.
        XCTAssertEqual(rig.driver.saved.last?.webhooks, [])
    }

    func testWebhooksFollowDenyScriptsReconfig() {
        let rig = self.rig(denyScripts: true)
        let r = rig.command("SENTINEL", "CONFIG", "SET", "webhook.ops", "http://127.0.0.1:9/")
        XCTAssertEqual(r.reply.errorText?.hasPrefix("ERR Reconfiguration of webhooks is denied for security reasons"), true)
        XCTAssertEqual(r.effects, [])
        XCTAssertEqual(rig.sentinel.settings.webhooks, [])
        // The HTTP token is not a script: allowed.
        XCTAssertEqual(rig.command("SENTINEL", "CONFIG", "SET", "http-token", token).reply, .ok)
    }

    func testAllOrNothing() {
        let rig = self.rig()
        let r = rig.command("SENTINEL", "CONFIG", "SET", "http-token-reads", "yes", "webhook.ops", "ftp://x/")
        XCTAssertEqual(r.reply, .error("ERR Invalid value for SENTINEL CONFIG SET 'webhook.ops': invalid URL: unsupported scheme 'ftp' (use http or https)"))
        XCTAssertFalse(rig.sentinel.settings.http.tokenReads)
        let bad = rig.command("SENTINEL", "CONFIG", "SET", "webhook.ops", "http://h/", "http-token", "short")
        XCTAssertEqual(bad.reply, .error("ERR Invalid value for SENTINEL CONFIG SET 'http-token': the token must be 16-1024 characters long"))
        XCTAssertEqual(rig.sentinel.settings.webhooks, [])
        XCTAssertEqual(rig.command("SENTINEL", "CONFIG", "SET", "webhook.bad id", "http://h/").reply.errorText?.contains("invalid webhook id"), true)
    }

    func testHTTPSettings() {
        let rig = self.rig()
        XCTAssertEqual(rig.command("SENTINEL", "CONFIG", "SET", "http-token", token, "http-token-reads", "yes").reply, .ok)
        XCTAssertEqual(rig.sentinel.settings.http.token, Secret(token))
        XCTAssertTrue(rig.sentinel.settings.http.tokenReads)
        XCTAssertEqual(get(rig, "http-token*"), ["http-token": "******", "http-token-reads": "yes"])
        XCTAssertEqual(rig.command("SENTINEL", "CONFIG", "SET", "http-token", "").reply, .ok)
        XCTAssertNil(rig.sentinel.settings.http.token)
        XCTAssertEqual(rig.command("SENTINEL", "CONFIG", "SET", "http-port", "8080").reply,
                       .error("ERR 'http-port' is read at start-up only: change it in sentinel.conf and restart"))
    }

    func testWithoutValidatorServiceSettingsAreRefused() {
        let rig = CoreRig { $0.denyScriptsReconfig = false }
        XCTAssertEqual(rig.command("SENTINEL", "CONFIG", "SET", "webhook.ops", "http://h/").reply,
                       .error("ERR webhooks are not available"))
    }

    func testTooManyWebhooks() {
        let rig = self.rig()
        var args = ["SENTINEL", "CONFIG", "SET"]
        for i in 0...Sentinel.maxWebhooks { args += ["webhook.w\(i)", "http://h/"] }
        XCTAssertEqual(rig.command(args).reply, .error("ERR at most \(Sentinel.maxWebhooks) webhooks"))
    }

    func testViews() {
        let rig = CoreRig()
        let summary = rig.sentinel.summary(now: rig.now)
        XCTAssertEqual(summary.myID, CoreRig.myID)
        XCTAssertFalse(summary.tilt)
        let view = rig.sentinel.masterView(named: "mymaster", now: rig.now)
        XCTAssertEqual(view?.address, CoreRig.masterAddress)
        XCTAssertEqual(view?.quorum, 2)
        XCTAssertNil(view?.infoAgeMs)
        XCTAssertEqual(view?.flags.contains(.disconnected), true)
        XCTAssertNil(rig.sentinel.masterView(named: "nope", now: rig.now))
        let check = rig.sentinel.quorumCheck(named: "mymaster")
        XCTAssertEqual(check?.ok, false)
        XCTAssertEqual(check?.message.hasPrefix("NOQUORUM 1 usable Sentinels."), true)
    }
}
