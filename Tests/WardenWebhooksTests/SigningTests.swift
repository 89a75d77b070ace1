import Foundation
import WardenCrypto
import WardenHTTP
import WardenTestSupport
import WardenWebhooks
import XCTest

final class Base64Tests: XCTestCase {
    /// RFC 4648 §10.
    func testRFC4648Vectors() {
        let vectors = [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="),
                       ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy")]
        for (plain, encoded) in vectors {
            XCTAssertEqual(Base64.encode(Array(plain.utf8)), encoded)
            XCTAssertEqual(Base64.decode(encoded), Array(plain.utf8))
        }
        XCTAssertEqual(Base64.encode([0xFB, 0xFF, 0xBF]), "+/+/")
        XCTAssertEqual(Base64.decode("Zg", requirePadding: false), Array("f".utf8))
        XCTAssertEqual(Base64.decode("Zm8", requirePadding: false), Array("fo".utf8))
        XCTAssertEqual(Base64.decode("Zm8=", requirePadding: false), Array("fo".utf8))
    }

    func testRejectsNonCanonical() {
        for bad in ["Zg", "Zg=", "Z===", "Zh==", "Zm9=", "Zm 9v", "Zm9v\n", "Zg==Zg==", "=Zg=", "Zm-v", "Zm_v", "Z\u{E9}9v"] {
            XCTAssertNil(Base64.decode(bad), bad.debugDescription)
        }
        XCTAssertNil(Base64.decode("Z", requirePadding: false))
    }

    func testRoundTripAgainstFoundation() {
        var random = TestRandom(seed: 4648)
        for length in 0..<200 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
            let encoded = Base64.encode(bytes)
            XCTAssertEqual(encoded, Data(bytes).base64EncodedString())
            XCTAssertEqual(Base64.decode(encoded), bytes)
        }
    }
}

final class StandardWebhooksTests: XCTestCase {
    /// The secret and expected signature of the Standard Webhooks reference libraries'
    /// signing test (libraries/go/webhook_test.go, TestWebhookSign).
    let specSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

    func testSpecVector() throws {
        let secret = try WebhookSecret(parsing: specSecret)
        XCTAssertEqual(secret.key.bytes.count, 24)
        XCTAssertEqual(StandardWebhooks.signature(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestampSeconds: 1_614_265_330,
                                                  body: Array(#"{"test": 2432232314}"#.utf8), secrets: [secret]),
                       "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    func testSecretParsing() throws {
        XCTAssertEqual(try WebhookSecret(parsing: specSecret).description, "whsec_******")
        XCTAssertEqual(try WebhookSecret(parsing: specSecret).revealedText, specSecret)
        XCTAssertEqual("\(try WebhookSecret(parsing: specSecret))", "whsec_******")
        XCTAssertNoThrow(try WebhookSecret(parsing: "whsec_" + Base64.encode([UInt8](repeating: 7, count: 64))))
        let cases: [(String, String)] = [
            ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "secret must start with 'whsec_' followed by base64"),
            ("whsec_not base64!", "secret is not valid base64 after 'whsec_'"),
            ("whsec_" + Base64.encode([UInt8](repeating: 1, count: 16)), "secret must decode to 24-64 bytes, not 16"),
            ("whsec_" + Base64.encode([UInt8](repeating: 1, count: 65)), "secret must decode to 24-64 bytes, not 65"),
            ("whsec_", "secret must decode to 24-64 bytes, not 0"),
        ]
        for (text, reason) in cases {
            XCTAssertThrowsError(try WebhookSecret(parsing: text)) { XCTAssertEqual(($0 as? WebhookConfigError)?.reason, reason) }
        }
    }

    func testRotationAndVerification() throws {
        let old = try WebhookSecret(parsing: specSecret)
        let new = WebhookSecret(key: Array(repeating: 0x42, count: 32))
        let body = Array(#"{"a":1}"#.utf8)
        let header = StandardWebhooks.signature(id: "evt1", timestampSeconds: 1000, body: body, secrets: [new, old])
        let parts = header.split(separator: " ")
        XCTAssertEqual(parts.count, 2)
        XCTAssertTrue(parts.allSatisfy { $0.hasPrefix("v1,") })
        for secret in [old, new] {
            XCTAssertTrue(StandardWebhooks.verify(id: "evt1", timestamp: "1000", signatureHeader: header, body: body,
                                                  secrets: [secret], nowSeconds: 1000))
        }
        let other = WebhookSecret(key: Array(repeating: 0x43, count: 32))
        XCTAssertFalse(StandardWebhooks.verify(id: "evt1", timestamp: "1000", signatureHeader: header, body: body,
                                               secrets: [other], nowSeconds: 1000))
        XCTAssertFalse(StandardWebhooks.verify(id: "evt2", timestamp: "1000", signatureHeader: header, body: body,
                                               secrets: [old], nowSeconds: 1000))
        XCTAssertFalse(StandardWebhooks.verify(id: "evt1", timestamp: "1000", signatureHeader: header, body: body + [0x20],
                                               secrets: [old], nowSeconds: 1000))
        XCTAssertTrue(StandardWebhooks.verify(id: "evt1", timestamp: "1000", signatureHeader: header, body: body,
                                              secrets: [old], nowSeconds: 1300))
        XCTAssertFalse(StandardWebhooks.verify(id: "evt1", timestamp: "1000", signatureHeader: header, body: body,
                                               secrets: [old], nowSeconds: 1301))
        XCTAssertFalse(StandardWebhooks.verify(id: "evt1", timestamp: "1000", signatureHeader: header, body: body,
                                               secrets: [old], nowSeconds: Int64.min))
        XCTAssertEqual(StandardWebhooks.headers(id: "i", timestampSeconds: 5, body: [], secrets: []).map(\.0),
                       ["webhook-id", "webhook-timestamp"])
    }

    /// The reference Python library (PyPI `standardwebhooks`) verifies what we sign,
    /// with two secrets in rotation, and refuses a tampered body.
    func testPythonStandardWebhooksVerifies() throws {
        guard pythonHas("standardwebhooks") else { throw XCTSkip("standardwebhooks is not installed (Tests/run.sh installs it)") }
        let secrets = [WebhookSecret(key: (0..<32).map { UInt8($0) }), try WebhookSecret(parsing: specSecret)]
        let event = CloudEvent(id: CloudEvent.stableID(["+switch-master", "mymaster", "7"]), source: "/warden/test",
                               type: "io.warden.switch-master", timeMs: 1_700_000_000_123, subject: "mymaster",
                               data: ["master": "mymaster", "text": "é \u{1} \"quoted\""])
        let now = Int64(Date().timeIntervalSince1970)
        let headers = StandardWebhooks.headers(id: event.id, timestampSeconds: now, body: event.body, secrets: secrets)
        let headerJSON = JSONValue.object(JSONObject(headers.map { ($0.0, .string($0.1)) })).text
        let script = """
            import json, sys
            from standardwebhooks.webhooks import Webhook, WebhookVerificationError
            head, body = sys.stdin.buffer.read().split(b"\\n", 1)
            headers = json.loads(head)
            for secret in sys.argv[1:]:
                payload = Webhook(secret).verify(body, headers)
                print(payload["id"], payload["data"]["text"] == "é \\u0001 \\"quoted\\"")
            try:
                Webhook(sys.argv[1]).verify(body + b" ", headers)
                print("tampered body accepted")
            except WebhookVerificationError:
                print("tampered body refused")
            """
        let (status, output) = try runPython(script, arguments: secrets.map(\.revealedText),
                                             input: Array(headerJSON.utf8) + [0x0A] + event.body)
        XCTAssertEqual(status, 0)
        XCTAssertEqual(output, "\(event.id) True\n\(event.id) True\ntampered body refused\n")
    }
}

final class CloudEventTests: XCTestCase {
    func testStructuredBody() {
        let event = CloudEvent(id: "abc", source: "/warden/cluster-1", type: "io.warden.switch-master",
                               timeMs: 1_796_169_498_123, subject: "mymaster",
                               data: ["master": "mymaster", "old": ["ip": "10.0.0.1", "port": 6379], "epoch": 7])
        XCTAssertEqual(String(decoding: event.body, as: UTF8.self),
                       #"{"specversion":"1.0","id":"abc","source":"/warden/cluster-1","type":"io.warden.switch-master","time":"2026-12-01T23:58:18.123Z","subject":"mymaster","datacontenttype":"application/json","data":{"master":"mymaster","old":{"ip":"10.0.0.1","port":6379},"epoch":7}}"#)
        let minimal = CloudEvent(id: "1", source: "s", type: "t")
        XCTAssertEqual(minimal.json.text, #"{"specversion":"1.0","id":"1","source":"s","type":"t"}"#)
        XCTAssertEqual(event.body, event.body, "deterministic")
    }

    func testStableID() {
        let id = CloudEvent.stableID(["+switch-master", "mymaster", "7"])
        XCTAssertEqual(id.count, 32)
        XCTAssertEqual(id, CloudEvent.stableID(["+switch-master", "mymaster", "7"]))
        XCTAssertNotEqual(id, CloudEvent.stableID(["+switch-master", "mymaster", "8"]))
        XCTAssertNotEqual(CloudEvent.stableID(["ab", "c"]), CloudEvent.stableID(["a", "bc"]))
        XCTAssertFalse(id.contains("."))
        // SHA-256 of the length-prefixed parts, first 16 bytes.
        let expected = SHA256.hash(Array("14:+switch-master8:mymaster1:7".utf8)).prefix(16).map { String(format: "%02x", $0) }.joined()
        XCTAssertEqual(id, expected)
    }
}
