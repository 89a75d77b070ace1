import WardenHTTP
import XCTest

final class RouterTests: XCTestCase {
    private var router: Router<String> {
        var r = Router<String>()
        r.add("GET", "/v1/masters", "list")
        r.add("GET", "/v1/masters/{name}", "master")
        r.add("GET", "/v1/masters/{name}/primary", "primary")
        r.add("POST", "/v1/masters/{name}/failover", "failover")
        r.add("GET", "/health", "health")
        return r
    }

    private func matched(_ method: String, _ path: String) -> (String, [String: String])? {
        if case .matched(let handler, let parameters) = router.match(method: method, path: path) { return (handler, parameters) }
        return nil
    }

    func testMatches() {
        XCTAssertEqual(matched("GET", "/v1/masters")?.0, "list")
        XCTAssertEqual(matched("GET", "/v1/masters/mymaster")?.1, ["name": "mymaster"])
        XCTAssertEqual(matched("GET", "/v1/masters/mymaster/primary")?.0, "primary")
        XCTAssertEqual(matched("HEAD", "/v1/masters/m/primary")?.0, "primary")
        XCTAssertEqual(matched("POST", "/v1/masters/m/failover")?.0, "failover")
        // Decoded after splitting: %2F stays inside the segment.
        XCTAssertEqual(matched("GET", "/v1/masters/a%2Fb/primary")?.1, ["name": "a/b"])
        XCTAssertEqual(matched("GET", "/v1/masters/caf%C3%A9%20x")?.1, ["name": "café x"])
        XCTAssertEqual(matched("GET", "/v1/masters/a+b")?.1, ["name": "a+b"])
    }

    func testMisses() {
        for path in ["/v1/masters/", "/v1//masters", "/v1/masters//primary", "/V1/masters", "/", "", "v1/masters",
                     "/v1/masters/m/primary/extra", "/healthz"] {
            guard case .notFound = router.match(method: "GET", path: path) else { return XCTFail(path) }
        }
        guard case .methodNotAllowed(let allowed) = router.match(method: "DELETE", path: "/v1/masters/m") else { return XCTFail() }
        XCTAssertEqual(allowed, ["GET", "HEAD"])
        guard case .methodNotAllowed(let post) = router.match(method: "GET", path: "/v1/masters/m/failover") else { return XCTFail() }
        XCTAssertEqual(post, ["POST"])
        for path in ["/v1/masters/%zz", "/v1/masters/%4", "/v1/masters/%FF"] {
            guard case .badPath = router.match(method: "GET", path: path) else { return XCTFail(path) }
        }
    }

    func testPercentEncoding() {
        XCTAssertEqual(PercentEncoding.encode("my master/ü~"), "my%20master%2F%C3%BC~")
        XCTAssertEqual(PercentEncoding.decode(Substring(PercentEncoding.encode("a b/%?&=+é"))), "a b/%?&=+é")
        XCTAssertEqual(PercentEncoding.decodeBytes("%00%ff"), [0, 255])
        XCTAssertNil(PercentEncoding.decode("%ff"))
        XCTAssertNil(PercentEncoding.decodeBytes("%"))
    }

    func testQuery() throws {
        let q = try XCTUnwrap(HTTPQuery("lag=10&verbose&&name=a+b%26c&lag=20&empty="))
        XCTAssertEqual(q["lag"], "10")
        XCTAssertEqual(q["verbose"], "")
        XCTAssertEqual(q["name"], "a b&c")
        XCTAssertEqual(q["empty"], "")
        XCTAssertNil(q["missing"])
        XCTAssertEqual(q.pairs.count, 5)
        XCTAssertEqual(HTTPQuery(nil)?.pairs.count, 0)
        XCTAssertNil(HTTPQuery("a=%"))
    }

    func testAccept() {
        XCTAssertTrue(httpAccepts("text/event-stream", "text/event-stream"))
        XCTAssertTrue(httpAccepts("application/json, TEXT/Event-Stream;q=0.5", "text/event-stream"))
        XCTAssertTrue(httpAccepts("text/*", "text/event-stream"))
        XCTAssertTrue(httpAccepts("*/*", "text/event-stream"))
        XCTAssertFalse(httpAccepts("text/event-stream;q=0", "text/event-stream"))
        XCTAssertFalse(httpAccepts("application/json", "text/event-stream"))
        XCTAssertFalse(httpAccepts(nil, "text/event-stream"))
    }
}

final class ServerSentEventTests: XCTestCase {
    func testEncoding() {
        let event = ServerSentEvent(id: "42\r\n", event: "+switch-master", data: "line 1\r\nline 2\rline 3\nline 4", retryMs: 3000)
        XCTAssertEqual(String(decoding: event.encoded, as: UTF8.self),
                       "id: 42  \nevent: +switch-master\nretry: 3000\ndata: line 1\ndata: line 2\ndata: line 3\ndata: line 4\n\n")
        XCTAssertEqual(String(decoding: ServerSentEvent(data: "").encoded, as: UTF8.self), "data: \n\n")
        XCTAssertEqual(String(decoding: ServerSentEvent(data: "a\n").encoded, as: UTF8.self), "data: a\ndata: \n\n")
        XCTAssertEqual(String(decoding: ServerSentEvent(id: "a\u{0}b", data: "x").encoded, as: UTF8.self), "id: ab\ndata: x\n\n")
        XCTAssertEqual(String(decoding: ServerSentEvent.comment("keep\nalive"), as: UTF8.self), ": keep alive\n\n")
    }
}
