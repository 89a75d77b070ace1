import EventLoop
import Foundation
import WardenHTTP
import WardenHTTPIO
import WardenTestSupport
import WardenWebhooks
import XCTest

/// A webhook receiver on Python's http.server. Prints its port, then one JSON line per
/// request (path, headers, body, and whether the Standard Webhooks signature verified
/// when a secret is given).
let pythonReceiver = """
    import http.server, json, sys, time
    secret = sys.argv[1] if len(sys.argv) > 1 else None
    counts = {}
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        def log_message(self, *args):
            pass
        def do_GET(self):
            self.serve()
        def do_POST(self):
            self.serve()
        def reply(self, status, body=b"", headers={}):
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def serve(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = self.path.split("?")[0]
            counts[path] = counts.get(path, 0) + 1
            record = {"path": self.path, "method": self.command, "headers": {k.lower(): v for k, v in self.headers.items()},
                      "body": body.decode("utf-8", "replace")}
            if secret and "webhook-signature" in self.headers:
                from standardwebhooks.webhooks import Webhook
                try:
                    Webhook(secret).verify(body, dict(self.headers))
                    record["verified"] = True
                except Exception as e:
                    record["verified"] = str(e)
            print(json.dumps(record), flush=True)
            if path == "/ok":
                self.reply(200, b"ok")
            elif path == "/fail-twice":
                self.reply(500 if counts[path] <= 2 else 200, b"")
            elif path == "/retry-after":
                self.reply(429, b"", {"Retry-After": "2"})
            elif path == "/gone":
                self.reply(410)
            elif path == "/slow":
                time.sleep(3)
                self.reply(200, b"late")
            elif path == "/chunked":
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.write(b"5\\r\\nhello\\r\\n6\\r\\n world\\r\\n0\\r\\n\\r\\n")
            elif path == "/close":
                self.wfile.write(b"HTTP/1.1 201 Created\\r\\n\\r\\nuntil the close")
                self.close_connection = True
            elif path == "/big":
                self.reply(200, b"x" * 100000)
            elif path == "/garbage":
                self.wfile.write(b"NOT HTTP AT ALL\\r\\n\\r\\n")
                self.close_connection = True
            elif path == "/hangup":
                self.close_connection = True
            else:
                self.reply(404)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    server.serve_forever()
    """

final class HTTPClientTests: XCTestCase {
    var loop: EventLoop!
    var client: HTTPClient!
    var receiver: Subprocess!
    var port = 0

    override func setUpWithError() throws {
        loop = try EventLoop()
        client = HTTPClient(loop: loop)
        receiver = try Subprocess.python(pythonReceiver)
        runLoop(loop, until: { !self.receiver.lines.isEmpty || self.receiver.isFinished })
        port = try XCTUnwrap(Int(receiver.lines.first ?? ""), receiver.stderr)
    }

    override func tearDown() {
        receiver?.kill()
        if let loop, let receiver { runLoop(loop, limitMs: 5000, untilExited: receiver) }
        client = nil
        loop = nil
    }

    /// Sends and runs the loop until the answer; returns it and the seconds it took.
    func send(_ request: HTTPClientRequest, client: HTTPClient? = nil) -> (Result<HTTPClientResponse, HTTPClientError>, Double) {
        var result: Result<HTTPClientResponse, HTTPClientError>?
        let started = Date()
        (client ?? self.client).send(request) { result = $0 }
        XCTAssertNil(result, "never completes from inside send")
        runLoop(loop, until: { result != nil })
        return (result ?? .failure(.cancelled), Date().timeIntervalSince(started))
    }

    func url(_ path: String, host: String = "127.0.0.1") throws -> HTTPURL {
        try HTTPURL(parsing: "http://\(host):\(port)\(path)")
    }

    /// The request lines the receiver printed, as JSON.
    func received() throws -> [JSONValue] {
        try receiver.lines.dropFirst().map { try JSONParser.parse(Array($0.utf8)) }
    }

    func testPostReachesTheReceiver() throws {
        let body = Array(#"{"specversion":"1.0","id":"x"}"#.utf8)
        let (result, _) = send(HTTPClientRequest(url: try url("/ok?q=1"), headers: ["Content-Type": "application/json", "X-Test": "1"],
                                                 body: body))
        let response = try result.get()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body, Array("ok".utf8))
        let request = try XCTUnwrap(try received().first)
        XCTAssertEqual(request["path"], "/ok?q=1")
        XCTAssertEqual(request["method"], "POST")
        XCTAssertEqual(request["body"]?.stringValue, String(decoding: body, as: UTF8.self))
        XCTAssertEqual(request["headers"]?["host"]?.stringValue, "127.0.0.1:\(port)")
        XCTAssertEqual(request["headers"]?["content-length"]?.stringValue, String(body.count))
        XCTAssertEqual(request["headers"]?["connection"], "close")
        XCTAssertEqual(request["headers"]?["x-test"], "1")
        XCTAssertEqual(client.activeRequests, 0)
    }

    func testResponseFramings() throws {
        XCTAssertEqual(String(decoding: try send(HTTPClientRequest(url: try url("/chunked"))).0.get().body, as: UTF8.self), "hello world")
        let closeDelimited = try send(HTTPClientRequest(url: try url("/close"))).0.get()
        XCTAssertEqual(closeDelimited.status, 201)
        XCTAssertEqual(closeDelimited.body, Array("until the close".utf8))
        let big = try send(HTTPClientRequest(url: try url("/big"))).0.get()
        XCTAssertTrue(big.bodyTruncated)
        XCTAssertEqual(big.body.count, 16 * 1024)
        XCTAssertEqual(big.bodyByteCount, 100_000)
        let limited = try send(HTTPClientRequest(url: try url("/retry-after"))).0.get()
        XCTAssertEqual(limited.status, 429)
        XCTAssertEqual(limited.retryAfter, .seconds(2))
        XCTAssertEqual(try send(HTTPClientRequest(method: "GET", url: try url("/gone"))).0.get().status, 410)
    }

    func testTimeoutCoversTheWholeResponse() throws {
        let (result, seconds) = send(HTTPClientRequest(url: try url("/slow"), timeoutMs: 300))
        XCTAssertEqual(result.failure, .timeout)
        XCTAssertGreaterThanOrEqual(seconds, 0.29)
        XCTAssertLessThan(seconds, 2.9, "well before the server answers (3 s)")
    }

    func testConnectionFailures() throws {
        // A port with nothing listening (a listener opened and closed).
        let closed = try loop.listen(host: "127.0.0.1", port: 0) { $0.close() }
        let deadPort = closed.port
        closed.close()
        let (refused, _) = send(HTTPClientRequest(url: try HTTPURL(parsing: "http://127.0.0.1:\(deadPort)/")))
        XCTAssertEqual(refused.failure, .connect("Connection refused"))
        XCTAssertEqual(try XCTUnwrap(send(HTTPClientRequest(url: try url("/garbage"))).0.failure),
                       .invalidResponse(HTTPParseError(status: 502, "invalid HTTP version in the status line")))
        XCTAssertEqual(try XCTUnwrap(send(HTTPClientRequest(url: try url("/hangup"))).0.failure),
                       .invalidResponse(HTTPParseError(status: 502, "connection closed before any response")))
        XCTAssertEqual(send(HTTPClientRequest(url: try HTTPURL(parsing: "https://127.0.0.1:\(port)/"))).0.failure, .tlsUnavailable)
    }

    func testNamesAreResolvedOffTheLoop() throws {
        let (result, _) = send(HTTPClientRequest(url: try url("/ok", host: "localhost")))
        XCTAssertEqual(try result.get().status, 200)
        XCTAssertEqual(try received().first?["headers"]?["host"]?.stringValue, "localhost:\(port)")
        guard case .resolve(let reason) = send(HTTPClientRequest(url: try HTTPURL(parsing: "http://no-such-host.invalid/"))).0.failure else {
            return XCTFail("expected a resolution failure")
        }
        XCTAssertTrue(reason.hasPrefix("cannot resolve 'no-such-host.invalid'"), reason)
    }

    func testConcurrencyLimitAndCancel() throws {
        let limited = HTTPClient(loop: loop, limits: HTTPClient.Limits(maxConcurrentRequests: 1))
        var results: [Result<HTTPClientResponse, HTTPClientError>] = []
        let first = limited.send(HTTPClientRequest(url: try url("/slow"))) { results.append($0) }
        limited.send(HTTPClientRequest(url: try url("/ok"))) { results.append($0) }
        runLoop(loop, until: { results.count == 1 })
        XCTAssertEqual(results.first?.failure, .tooManyRequests)
        first.cancel()
        XCTAssertEqual(results.last?.failure, .cancelled)
        XCTAssertEqual(limited.activeRequests, 0)
    }

    // MARK: The webhook sender against the receiver

    func sender(_ arguments: [String], policy: WebhookRetryPolicy) throws -> WebhookSender {
        let config = try WebhookConfig(arguments: arguments)
        return WebhookSender(loop: loop, client: client, dispatcher: WebhookDispatcher(configs: [config], policy: policy, seed: 7))
    }

    let fastRetries = WebhookRetryPolicy(initialBackoffMs: 50, maxBackoffMs: 200, minBackoffMs: 20)

    /// 500, 500, 200: three attempts with one webhook-id, each signed with its own
    /// timestamp and verified by the standardwebhooks package, then no more.
    func testRetriedUntilDelivered() throws {
        guard pythonHas("standardwebhooks") else { throw XCTSkip("standardwebhooks is not installed (Tests/run.sh installs it)") }
        receiver.kill()
        runLoop(loop, untilExited: receiver)
        let secret = WebhookSecret(key: Array(repeating: 0x5A, count: 32))
        receiver = try Subprocess.python(pythonReceiver, [secret.revealedText])
        runLoop(loop, until: { !self.receiver.lines.isEmpty })
        port = try XCTUnwrap(Int(receiver.lines[0]))

        let sender = try sender(["recv", "http://127.0.0.1:\(port)/fail-twice", "secret", secret.revealedText], policy: fastRetries)
        var outcomes: [(DeliveryOutcome, DeliveryDisposition)] = []
        var changes = 0
        sender.onAttempt = { outcomes.append(($1, $2)) }
        sender.onQueueChange = { changes += 1 }
        let event = CloudEvent(id: CloudEvent.stableID(["+switch-master", "mymaster", "1"]), source: "/warden/test",
                               type: "io.warden.switch-master", timeMs: EventLoop.wallClockMs(), subject: "mymaster",
                               data: ["master": "mymaster"])
        XCTAssertEqual(sender.publish(id: event.id, eventType: "+switch-master", body: event.body).map(\.1), [.queued])
        runLoop(loop, until: { outcomes.count == 3 })
        XCTAssertEqual(outcomes.map(\.1).last, .delivered)
        XCTAssertEqual(outcomes.map(\.0.label), ["5xx", "5xx", "2xx"])
        // Nothing more is sent.
        runLoop(loop, forMs: 300)
        let requests = try received()
        XCTAssertEqual(requests.count, 3)
        XCTAssertEqual(Set(requests.compactMap { $0["headers"]?["webhook-id"]?.stringValue }), [event.id])
        XCTAssertEqual(requests.map { $0["verified"] }, [true, true, true])
        XCTAssertEqual(requests.first?["headers"]?["content-type"], "application/cloudevents+json; charset=utf-8")
        XCTAssertEqual(requests.first?["body"]?.stringValue, String(decoding: event.body, as: UTF8.self))
        XCTAssertTrue(sender.records.isEmpty)
        XCTAssertGreaterThanOrEqual(changes, 4)
    }

    /// A receiver that is down gets the event once it is back; 410 stops deliveries.
    func testReceiverDownThenBackAndGone() throws {
        let closed = try loop.listen(host: "127.0.0.1", port: 0) { $0.close() }
        let downPort = closed.port
        closed.close()
        let sender = try sender(["down", "http://127.0.0.1:\(downPort)/ok"], policy: fastRetries)
        var outcomes: [DeliveryOutcome] = []
        sender.onAttempt = { _, outcome, _ in outcomes.append(outcome) }
        sender.publish(id: "e1", eventType: "+odown", body: Array("{}".utf8))
        runLoop(loop, until: { outcomes.count >= 3 })
        XCTAssertTrue(outcomes.allSatisfy { $0.label == "connection_error" })
        // The receiver comes up on that port.
        let back = try Subprocess.python("""
            import http.server, sys
            class H(http.server.BaseHTTPRequestHandler):
                def log_message(self, *a): pass
                def do_POST(self):
                    self.rfile.read(int(self.headers["Content-Length"]))
                    print(self.headers["webhook-id"], flush=True)
                    self.send_response(410 if self.path == "/gone" else 204)
                    self.end_headers()
            http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
            """, ["\(downPort)"])
        defer { back.kill() }
        runLoop(loop, until: { outcomes.last?.label == "2xx" && !back.lines.isEmpty })
        XCTAssertEqual(back.lines, ["e1"])
        XCTAssertTrue(sender.records.isEmpty)

        sender.configure([try WebhookConfig(arguments: ["down", "http://127.0.0.1:\(downPort)/gone"])])
        sender.publish(id: "e2", eventType: "+odown", body: [])
        runLoop(loop, until: { outcomes.last?.label == "410" })
        sender.publish(id: "e3", eventType: "+odown", body: [])
        // e2 (in flight at the 410) and e3 (published after it).
        XCTAssertEqual(sender.dispatcher.endpoint("down")?.stats.droppedDisabled, 2)
        XCTAssertEqual(sender.records, [.disabled(endpointID: "down", url: "http://127.0.0.1:\(downPort)/gone", reason: "410 Gone")])
        runLoop(loop, forMs: 300)
        XCTAssertEqual(back.lines, ["e1", "e2"])
        sender.stop()
        back.kill()
        runLoop(loop, untilExited: back)
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

