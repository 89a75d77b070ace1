import EventLoop
import Foundation
import WardenHTTP
import WardenHTTPIO
import WardenTestSupport
import XCTest

/// The server against real clients: curl, and Python sockets for the clients that
/// misbehave (slow, silent, pipelining, too many).
final class HTTPServerTests: XCTestCase {
    var loop: EventLoop!
    var server: HTTPServer!
    var port = 0
    var streams: [HTTPStream] = []

    override func setUpWithError() throws {
        loop = try EventLoop()
    }

    override func tearDown() {
        server?.close()
        // Let the closes be delivered before the loop goes away.
        if let loop { runLoop(loop, limitMs: 1000, until: { self.server?.connectionCount ?? 0 == 0 }) }
        server = nil
        streams = []
        loop = nil
    }

    func start(_ limits: HTTPServerLimits = HTTPServerLimits()) throws {
        server = HTTPServer(loop: loop, limits: limits) { [unowned self] request, responder in
            self.route(request, responder)
        }
        port = try server.listen(host: "127.0.0.1", port: 0)
    }

    private func route(_ request: HTTPRequest, _ responder: HTTPResponder) {
        switch (request.method, request.path) {
        case ("GET", "/hello"), ("HEAD", "/hello"):
            responder.respond(HTTPResponse(status: 200, contentType: "text/plain", body: "hello\n"))
        case ("POST", "/echo"):
            let body: JSONValue = ["query": .optional(request.query), "length": .int(request.body.count),
                                   "body": .bytes(request.body), "remote": .string(responder.remoteHost)]
            responder.respond(HTTPResponse(status: 200, headers: ["Content-Type": "application/json"], body: body.encoded))
        case ("GET", "/later"):
            loop.schedule(afterMs: 50) { responder.respond(HTTPResponse(status: 202, contentType: "text/plain", body: "later\n")) }
        case ("GET", "/never"):
            break
        case ("GET", "/events"):
            guard let stream = responder.startStream() else { return }
            if request.query == "hold" {
                streams.append(stream)
                return
            }
            for n in 1...3 { stream.send(ServerSentEvent(id: "\(n)", event: "+sdown", data: "event \(n)\nline 2")) }
            loop.schedule(afterMs: 20) { stream.close() }
        default:
            responder.respond(HTTPServer.jsonError(status: 404, message: "no such path"))
        }
    }

    var base: String { "http://127.0.0.1:\(port)" }

    func testCurlKeepAliveAndBodies() throws {
        try start()
        let curl = try Subprocess.curl(["-w", "\\n%{http_code} %{num_connects}\\n", "\(base)/hello", "\(base)/hello",
                                        "-X", "GET", "\(base)/missing"])
        runLoop(loop, untilExited: curl)
        XCTAssertEqual(curl.status, 0, curl.stderr)
        XCTAssertEqual(curl.stdout, "hello\n\n200 1\nhello\n\n200 0\n{\"error\":{\"status\":404,\"message\":\"no such path\"}}\n\n404 0\n")
        XCTAssertEqual(server.stats.connectionsAccepted, 1, "one connection for all three")
        XCTAssertEqual(server.stats.requests, 3)
        XCTAssertEqual(server.stats.responsesByClass[2], 2)

        let post = try Subprocess.curl(["--data-binary", "@-", "-H", "Content-Type: application/json", "\(base)/echo?x=1"],
                                       input: Array(#"{"candidate":"10.0.0.1:6379"}"#.utf8))
        let chunked = try Subprocess.curl(["--data-binary", "@-", "-H", "Transfer-Encoding: chunked", "\(base)/echo"],
                                          input: Array(repeating: 0x61, count: 3000))
        let head = try Subprocess.curl(["-I", "\(base)/hello"])
        runLoop(loop, untilExited: post, chunked, head)
        XCTAssertEqual(post.stdout, #"{"query":"x=1","length":29,"body":"{\"candidate\":\"10.0.0.1:6379\"}","remote":"127.0.0.1"}"#)
        XCTAssertEqual(try JSONParser.parse(Array(chunked.stdout.utf8))["length"], .int(3000))
        XCTAssertTrue(head.stdout.hasPrefix("HTTP/1.1 200 OK\r\n"), head.stdout)
        XCTAssertTrue(head.stdout.contains("Content-Length: 6\r\n"))
        XCTAssertTrue(head.stdout.contains("Date: "))
    }

    func testBodyLimitAndExpectContinue() throws {
        var limits = HTTPServerLimits()
        limits.parser.maxBodyBytes = 1024
        try start(limits)
        let big = try Subprocess.curl(["-v", "--data-binary", "@-", "-H", "Expect: 100-continue", "-w", "%{http_code}",
                                       "\(base)/echo"], input: Array(repeating: 0x62, count: 5000))
        let fits = try Subprocess.curl(["-v", "--data-binary", "@-", "-H", "Expect: 100-continue", "\(base)/echo"],
                                       input: Array(repeating: 0x62, count: 1024))
        runLoop(loop, untilExited: big, fits)
        XCTAssertTrue(big.stdout.hasSuffix("413"), big.stdout)
        XCTAssertTrue(big.stdout.contains("body larger than 1024 bytes"))
        XCTAssertFalse(big.stderr.contains("100 Continue"), "refused before the body is sent")
        XCTAssertTrue(fits.stderr.contains("HTTP/1.1 100 Continue"), fits.stderr)
        XCTAssertEqual(try JSONParser.parse(Array(fits.stdout.utf8))["length"], .int(1024))
    }

    func testEventStreamWithCurl() throws {
        try start()
        let curl = try Subprocess.curl(["-N", "-H", "Accept: text/event-stream", "-D", "-", "\(base)/events"])
        runLoop(loop, untilExited: curl)
        XCTAssertEqual(curl.status, 0, curl.stderr)
        let (head, body) = try XCTUnwrap(split(curl.stdout))
        XCTAssertTrue(head.contains("Content-Type: text/event-stream"))
        XCTAssertTrue(head.contains("Transfer-Encoding: chunked"))
        XCTAssertTrue(head.contains("Cache-Control: no-cache"))
        XCTAssertEqual(body, (1...3).map { "id: \($0)\nevent: +sdown\ndata: event \($0)\ndata: line 2\n\n" }.joined())
        XCTAssertEqual(server.streamCount, 0)
        XCTAssertEqual(server.stats.streamsStarted, 1)
    }

    private func split(_ response: String) -> (String, String)? {
        guard let range = response.range(of: "\r\n\r\n") else { return nil }
        return (String(response[..<range.lowerBound]), String(response[range.upperBound...]))
    }

    /// The Python peer: sends `requests` (bytes) in one write, or dribbles them, and
    /// prints what came back and when the server closed.
    static let rawClient = """
        import socket, sys, time
        port, mode = int(sys.argv[1]), sys.argv[2]
        data = sys.argv[3].encode().decode("unicode_escape").encode("latin-1") if len(sys.argv) > 3 else b""
        s = socket.create_connection(("127.0.0.1", port))
        start = time.monotonic()
        try:
            if mode == "all" or mode == "request-then-idle":
                s.sendall(data)
            elif mode == "dribble":
                for i in range(len(data)):
                    s.sendall(data[i:i+1])
                    time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError) as e:
            print("send failed", type(e).__name__)
        got = b""
        s.settimeout(10)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        except (ConnectionResetError, socket.timeout) as e:
            print("error", type(e).__name__)
        print("closed after %.2f s" % (time.monotonic() - start))
        sys.stdout.write(got.decode("latin-1"))
        """

    func testPipelinedRequestsAnsweredInOrder() throws {
        try start()
        let requests = "GET /later HTTP/1.1\\r\\nHost: h\\r\\n\\r\\nGET /hello HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n"
            + "POST /echo HTTP/1.1\\r\\nHost: h\\r\\nContent-Length: 2\\r\\n\\r\\nhiGET /hello HTTP/1.1\\r\\nHost: h\\r\\nConnection: close\\r\\n\\r\\n"
        let client = try Subprocess.python(Self.rawClient, ["\(port)", "all", requests])
        runLoop(loop, untilExited: client)
        let responses = client.stdout.components(separatedBy: "HTTP/1.1 ").dropFirst()
        XCTAssertEqual(responses.map { $0.components(separatedBy: "\r\n")[0] }, ["202 Accepted", "200 OK", "200 OK", "200 OK"],
                       client.stdout + client.stderr)
        XCTAssertEqual(responses.map { $0.components(separatedBy: "\r\n\r\n")[1] },
                       ["later\n", "hello\n", #"{"query":null,"length":2,"body":"hi","remote":"127.0.0.1"}"#, "hello\n"])
        XCTAssertTrue(client.stdout.contains("Connection: close"))
    }

    func testSlowAndIdleClientsAreCutOff() throws {
        try start(HTTPServerLimits(requestTimeoutMs: 400, idleTimeoutMs: 300))
        // Slowloris: one byte every 100 ms never completes a head in time.
        let slow = try Subprocess.python(Self.rawClient, ["\(port)", "dribble", "GET /hello HTTP/1.1\\r\\nHost: h\\r\\nX: 1234567890\\r\\n\\r\\n"])
        // Connects and says nothing.
        let silent = try Subprocess.python(Self.rawClient, ["\(port)", "none"])
        // One request, then silence on a kept-alive connection.
        let idle = try Subprocess.python(Self.rawClient, ["\(port)", "request-then-idle", "GET /hello HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n"])
        runLoop(loop, untilExited: slow, silent, idle)
        for (client, low, high) in [(slow, 0.35, 4.0), (silent, 0.35, 4.0), (idle, 0.25, 4.0)] {
            let seconds = try XCTUnwrap(client.lines.first { $0.hasPrefix("closed after") }.flatMap { Double($0.split(separator: " ")[2]) },
                                        client.stdout + client.stderr)
            XCTAssertGreaterThanOrEqual(seconds, low, client.stdout)
            XCTAssertLessThanOrEqual(seconds, high, client.stdout)
        }
        XCTAssertTrue(slow.stdout.contains("HTTP/1.1 408 Request Timeout"), slow.stdout)
        XCTAssertFalse(silent.stdout.contains("HTTP/1.1"), "a silent connection is just closed")
        XCTAssertTrue(idle.stdout.contains("HTTP/1.1 200 OK"))
        XCTAssertEqual(server.stats.requestTimeouts, 2)
        XCTAssertEqual(server.stats.idleTimeouts, 1)
    }

    func testBadRequestsAndHandlerTimeout() throws {
        try start(HTTPServerLimits(handlerTimeoutMs: 200))
        let garbage = try Subprocess.python(Self.rawClient, ["\(port)", "all", "GARBAGE\\r\\n\\r\\n"])
        let noHost = try Subprocess.python(Self.rawClient, ["\(port)", "all", "GET / HTTP/1.1\\r\\n\\r\\nGET /hello HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n"])
        let never = try Subprocess.curl(["-w", "%{http_code}", "\(base)/never"])
        runLoop(loop, untilExited: garbage, noHost, never)
        XCTAssertTrue(garbage.stdout.contains("HTTP/1.1 400 Bad Request\r\n"))
        XCTAssertTrue(garbage.stdout.contains("Connection: close\r\n"))
        XCTAssertTrue(garbage.stdout.hasSuffix(#"{"error":{"status":400,"message":"malformed request line"}}"# + "\n"), garbage.stdout)
        XCTAssertTrue(noHost.stdout.contains("missing Host header"))
        XCTAssertFalse(noHost.stdout.contains("200 OK"), "nothing is answered after a bad request")
        XCTAssertTrue(never.stdout.hasSuffix("503"), never.stdout)
        XCTAssertEqual(server.stats.badRequests, 2)
        XCTAssertEqual(server.stats.handlerTimeouts, 1)
    }

    func testConnectionLimit() throws {
        try start(HTTPServerLimits(maxConnections: 2))
        let holders = try (0..<2).map { _ in
            try Subprocess.python(Self.rawClient, ["\(port)", "request-then-idle", "GET /hello HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n"])
        }
        runLoop(loop, until: { self.server.connectionCount == 2 })
        let third = try Subprocess.curl(["-w", "%{http_code}", "\(base)/hello"])
        runLoop(loop, untilExited: third)
        XCTAssertTrue(third.stdout.hasSuffix("503"), third.stdout)
        XCTAssertTrue(third.stdout.contains("too many connections"))
        XCTAssertEqual(server.stats.connectionsRejected, 1)
        for holder in holders { holder.kill() }
        runLoop(loop, untilExited: holders[0], holders[1])
    }

    /// 1,000 clients connect at once, each sends a request and reads its answer.
    func testThousandConcurrentConnections() throws {
        try start(HTTPServerLimits(maxConnections: 1100))
        let script = """
            import resource, socket, sys
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
            port = int(sys.argv[1])
            socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(1000)]
            for s in socks:
                s.sendall(b"GET /hello HTTP/1.1\\r\\nHost: h\\r\\nConnection: close\\r\\n\\r\\n")
            ok = 0
            for s in socks:
                s.settimeout(20)
                data = b""
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                ok += data.startswith(b"HTTP/1.1 200 OK") and data.endswith(b"hello\\n")
                s.close()
            print(ok)
            """
        let client = try Subprocess.python(script, ["\(port)"])
        runLoop(loop, limitMs: 60_000, untilExited: client)
        XCTAssertEqual(client.stdout, "1000\n", client.stderr)
        XCTAssertEqual(server.stats.requests, 1000)
    }

    /// A stream whose client does not read is cut off at the output limit, and its
    /// onClose runs.
    func testStreamToAClientThatDoesNotRead() throws {
        try start(HTTPServerLimits(outputLimitBytes: 64 * 1024))
        let script = """
            import socket, sys, time
            s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(b"GET /events?hold HTTP/1.1\\r\\nHost: h\\r\\n\\r\\n")
            time.sleep(30)
            """
        let client = try Subprocess.python(script, ["\(port)"])
        runLoop(loop, until: { !self.streams.isEmpty })
        var closed = false
        streams[0].onClose = { closed = true }
        let event = ServerSentEvent(data: String(repeating: "x", count: 16 * 1024))
        var sent = 0
        func push() {
            guard !closed, sent < 4000 else { return }
            streams[0].send(event)
            sent += 1
            loop.schedule(afterMs: 1) { push() }
        }
        push()
        runLoop(loop, until: { closed })
        XCTAssertFalse(streams[0].isOpen)
        XCTAssertEqual(server.streamCount, 0)
        XCTAssertLessThan(sent, 4000)
        client.kill()
        runLoop(loop, untilExited: client)
    }
}
