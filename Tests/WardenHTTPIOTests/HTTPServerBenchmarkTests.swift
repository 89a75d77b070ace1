import EventLoop
import Foundation
import WardenHTTP
import WardenHTTPIO
import XCTest

/// Not a test: requests per second of the server alone, answering a probe-sized JSON
/// body, measured with wrk (Debian package `wrk`). Runs only when asked:
///
///     WARDEN_HTTP_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter HTTPServerBenchmarkTests
final class HTTPServerBenchmarkTests: XCTestCase {
    func testGetThroughputWithWrk() throws {
        guard ProcessInfo.processInfo.environment["WARDEN_HTTP_BENCH"] == "1" else {
            throw XCTSkip("a benchmark: set WARDEN_HTTP_BENCH=1 (and install wrk)")
        }
        let loop = try EventLoop()
        let body: JSONValue = ["master": "mymaster", "ip": "127.0.0.1", "port": 6379]
        let server = HTTPServer(loop: loop, limits: HTTPServerLimits(maxConnections: 1024)) { request in
            HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: body.encoded)
        }
        let port = try server.listen(host: "127.0.0.1", port: 0)
        for connections in ["1", "16", "64"] {
            let wrk = try Subprocess("/usr/bin/env", ["wrk", "-t1", "-c\(connections)", "-d5s",
                                                      "http://127.0.0.1:\(port)/v1/masters/mymaster/primary"])
            runLoop(loop, limitMs: 30_000, untilExited: wrk)
            let summary = wrk.lines.filter { $0.contains("Requests/sec") || $0.contains("Latency") }
            print("wrk -t1 -c\(connections) -d5s:", summary.joined(separator: " | "))
        }
        server.close()
        runLoop(loop, forMs: 100)
    }
}
