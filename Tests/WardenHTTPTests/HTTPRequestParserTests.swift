import WardenHTTP
import WardenTestSupport
import XCTest

final class HTTPRequestParserTests: XCTestCase {
    /// Pipelined requests of every framing, then bytes after a `Connection: close`.
    private let stream = utf8(
        "GET /v1/masters HTTP/1.1\r\nHost: localhost\r\nAccept: */*\r\n\r\n"
        + "POST /v1/masters/mymaster/failover?force=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n{}"
        + "\r\n"   // an empty line between requests is skipped (RFC 9112 §2.2)
        + "PUT /x HTTP/1.1\nHost: h\nTransfer-Encoding: chunked\n\n3;ext=1\nabc\n0\nTrailer-Field: t\n\n"
        + "POST /y HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
        + "GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
        + "GET http://example.com/abs?q HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"
        + "GET /ignored HTTP/1.1\r\nHost: h\r\n\r\n"
    )

    private func check(_ requests: [HTTPRequest], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(requests.map(\.method), ["GET", "POST", "PUT", "POST", "GET", "GET"], file: file, line: line)
        XCTAssertEqual(requests.map(\.path), ["/v1/masters", "/v1/masters/mymaster/failover", "/x", "/y", "/old", "/abs"],
                       file: file, line: line)
        XCTAssertEqual(requests.map(\.query), [nil, "force=1", nil, nil, nil, "q"], file: file, line: line)
        XCTAssertEqual(requests.map { String(decoding: $0.body, as: UTF8.self) }, ["", "{}", "abc", "hello world", "", ""],
                       file: file, line: line)
        XCTAssertEqual(requests.map(\.keepAlive), [true, true, true, true, true, false], file: file, line: line)
        XCTAssertEqual(requests.map(\.version), [.http1_1, .http1_1, .http1_1, .http1_1, .http1_0, .http1_1], file: file, line: line)
        XCTAssertEqual(requests.first?.headers["ACCEPT"], "*/*", file: file, line: line)
    }

    func testPipelinedStream() {
        let (requests, error) = feedRequests(stream)
        XCTAssertNil(error)
        check(requests)
    }

    func testByteByByte() {
        let (requests, error) = feedRequests(stream, pieces: Array(repeating: 1, count: stream.count))
        XCTAssertNil(error)
        check(requests)
    }

    func testEveryTwoWaySplit() {
        for cut in 0...stream.count {
            let (requests, error) = feedRequests(stream, pieces: [cut])
            XCTAssertNil(error, "split at \(cut)")
            check(requests)
        }
    }

    func testRandomSplits() {
        var random = TestRandom(seed: 0x4854_5450)
        for round in 0..<300 {
            let pieces = randomPieces(total: stream.count, maxPiece: 1 + round % 50, using: &random)
            let (requests, error) = feedRequests(stream, pieces: pieces)
            XCTAssertNil(error, "pieces \(pieces)")
            check(requests)
        }
    }

    func testNilUntilCompleteAndState() throws {
        var parser = HTTPRequestParser()
        XCTAssertFalse(parser.isReceivingRequest)
        let request = utf8("POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello")
        for byte in request.dropLast() {
            parser.append([byte])
            XCTAssertNil(try parser.next())
            XCTAssertTrue(parser.isReceivingRequest)
        }
        parser.append([request.last!])
        XCTAssertEqual(try parser.next()?.body, utf8("hello"))
        XCTAssertFalse(parser.isReceivingRequest)
        XCTAssertEqual(parser.bufferedByteCount, 0)
        XCTAssertNil(try parser.next())
    }

    func testKeepAliveRules() throws {
        let cases: [(String, Bool)] = [
            ("GET / HTTP/1.1\r\nHost: h\r\n\r\n", true),
            ("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", false),
            ("GET / HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive, CLOSE\r\n\r\n", false),
            ("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nConnection: close\r\n\r\n", false),
            ("GET / HTTP/1.0\r\n\r\n", false),
            ("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true),
            ("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false),
            ("GET / HTTP/1.2\r\nHost: h\r\n\r\n", true),
        ]
        for (text, keepAlive) in cases {
            let (requests, error) = feedRequests(utf8(text))
            XCTAssertNil(error, text)
            XCTAssertEqual(requests.first?.keepAlive, keepAlive, text)
        }
    }

    func testNothingAfterConnectionClose() throws {
        var parser = HTTPRequestParser()
        parser.append(utf8("GET / HTTP/1.0\r\n\r\nGET /next HTTP/1.0\r\n\r\n"))
        XCTAssertEqual(try parser.next()?.path, "/")
        XCTAssertTrue(parser.isFinished)
        XCTAssertNil(try parser.next())
        parser.append(utf8("garbage"))
        XCTAssertNil(try parser.next())
        XCTAssertEqual(parser.bufferedByteCount, 0)
    }

    /// Every malformed request and the status it must be answered with.
    func testErrors() {
        let cases: [(String, Int)] = [
            ("GET /\r\n\r\n", 400),                                         // HTTP/0.9 form
            ("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", 400),                     // two spaces
            ("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", 400),
            ("G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400),                      // method not a token
            ("GET / HTTP/1.1\r\n\r\n", 400),                                 // no Host
            ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
            ("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505),
            ("GET / HTTP/1.10\r\nHost: h\r\n\r\n", 400),
            ("GET / HTTQ/1.1\r\nHost: h\r\n\r\n", 400),
            ("GET a/b HTTP/1.1\r\nHost: h\r\n\r\n", 400),                    // not origin-form
            ("GET * HTTP/1.1\r\nHost: h\r\n\r\n", 400),                      // * only for OPTIONS
            ("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", 400),
            ("GET /\u{7F} HTTP/1.1\r\nHost: h\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: h\r\nBad Name: v\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: h\r\nName : v\r\n\r\n", 400),          // space before colon
            ("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n folded\r\n\r\n", 400),   // obs-fold
            ("GET / HTTP/1.1\r\nHost: h\r\nX: a\u{01}b\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nHost: h\rX: 1\r\n\r\n", 400),                // bare CR
            ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2, 3\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 501),
            ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
            ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nz\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1 x\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n", 400),
            ("POST / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\n", 417),
            ("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400),
        ]
        for (text, status) in cases {
            let (requests, error) = feedRequests(utf8(text))
            XCTAssertEqual(requests.count, 0, text.debugDescription)
            XCTAssertEqual(error?.status, status, text.debugDescription + " \(String(describing: error))")
        }
    }

    func testErrorIsSticky() throws {
        var parser = HTTPRequestParser()
        parser.append(utf8("BAD\r\n\r\n"))
        XCTAssertThrowsError(try parser.next())
        parser.append(utf8("GET / HTTP/1.1\r\nHost: h\r\n\r\n"))
        XCTAssertThrowsError(try parser.next()) { XCTAssertEqual(($0 as? HTTPParseError)?.status, 400) }
        XCTAssertEqual(parser.bufferedByteCount, 0)
    }

    func testLimits() {
        let limits = HTTPLimits(maxStartLineLength: 40, maxHeaderBytes: 100, maxHeaderCount: 3, maxBodyBytes: 10,
                                maxChunkLineLength: 8)
        func status(_ text: String) -> Int? { feedRequests(utf8(text), limits: limits).error?.status }
        let path = String(repeating: "a", count: 40 - 14)
        XCTAssertNil(status("GET /\(path) HTTP/1.1\r\nHost: h\r\n\r\n"))       // exactly 40
        XCTAssertEqual(status("GET /\(path)a HTTP/1.1\r\nHost: h\r\n\r\n"), 414)
        // Refused before the line ends: a client that never sends a newline is cut off.
        XCTAssertEqual(status("GET /" + String(repeating: "a", count: 100)), 414)
        XCTAssertEqual(status("GET / HTTP/1.1\r\nHost: h\r\nX: " + String(repeating: "v", count: 100)), 431)
        XCTAssertEqual(status("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), 431)
        XCTAssertNil(status("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n"))
        // 413 as soon as the head announces too much, without waiting for the body.
        XCTAssertEqual(status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n"), 413)
        XCTAssertNil(status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789"))
        let chunked = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        XCTAssertEqual(status(chunked + "6\r\nabcdef\r\n5\r\n"), 413)
        XCTAssertNil(status(chunked + "6\r\nabcdef\r\n4\r\nghij\r\n0\r\n\r\n"))
        XCTAssertEqual(status(chunked + "ffffffff\r\n"), 413)
        XCTAssertEqual(feedRequests(utf8(chunked + "ffffffffffffffffffff\r\n")).error?.status, 413)
        XCTAssertEqual(status(chunked + "1;abcdefgh\r\n"), 400)
        XCTAssertEqual(status(chunked + "1;abcdefghijklmnop"), 400)
        XCTAssertEqual(status(chunked + "0\r\n" + String(repeating: "T: 1\r\n", count: 4) + "\r\n"), 431)
        XCTAssertEqual(status(chunked + "0\r\nT: " + String(repeating: "x", count: 200)), 431)
    }

    func testExpectContinue() throws {
        var parser = HTTPRequestParser()
        parser.append(utf8("POST /p HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n"))
        XCTAssertNil(try parser.next())
        XCTAssertTrue(parser.takeContinueRequest())
        XCTAssertFalse(parser.takeContinueRequest())
        parser.append(utf8("ab"))
        XCTAssertNil(try parser.next())
        XCTAssertFalse(parser.takeContinueRequest())
        parser.append(utf8("c"))
        XCTAssertEqual(try parser.next()?.body, utf8("abc"))

        // The body already here: no 100 needed.
        parser.append(utf8("POST /p HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx"))
        XCTAssertNotNil(try parser.next())
        XCTAssertFalse(parser.takeContinueRequest())
        // HTTP/1.0 expectations are ignored.
        parser.append(utf8("POST /p HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n"))
        XCTAssertNil(try parser.next())
        XCTAssertFalse(parser.takeContinueRequest())
    }

    func testTargets() throws {
        let (requests, error) = feedRequests(utf8(
            "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"
            + "GET HTTP://Example.com HTTP/1.1\r\nHost: h\r\n\r\n"
            + "GET /a/b%20c?x=1?y HTTP/1.1\r\nHost: h\r\n\r\n"))
        XCTAssertNil(error)
        XCTAssertEqual(requests.map(\.path), ["*", "/", "/a/b%20c"])
        XCTAssertEqual(requests.map(\.query), [nil, nil, "x=1?y"])
        XCTAssertEqual(requests.map(\.target), ["*", "HTTP://Example.com", "/a/b%20c?x=1?y"])
    }

    func testHeaderValues() throws {
        let (requests, _) = feedRequests(utf8(
            "GET / HTTP/1.1\r\nHost:h\r\nX-Empty:\r\nX-Spaces: \t a b \t\r\nX-Obs: caf\u{E9}\r\nx-spaces: second\r\n\r\n"))
        let headers = try XCTUnwrap(requests.first?.headers)
        XCTAssertEqual(headers["host"], "h")
        XCTAssertEqual(headers["x-empty"], "")
        XCTAssertEqual(headers["X-SPACES"], "a b")
        XCTAssertEqual(headers.values("X-Spaces"), ["a b", "second"])
        XCTAssertEqual(headers["x-obs"], "café")
        XCTAssertEqual(headers.fields.map(\.name), ["Host", "X-Empty", "X-Spaces", "X-Obs", "x-spaces"])
    }

    /// Mutations of a valid stream never trap, and whatever parses is consistent: a
    /// stream yields the same requests (and error) in one piece as byte by byte.
    func testMutatedStreamsAreSplitIndependent() {
        var random = TestRandom(seed: 77)
        for _ in 0..<400 {
            var input = stream
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let at = Int.random(in: 0..<input.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: input[at] = UInt8.random(in: 0...255, using: &random)
                case 1: input.remove(at: at)
                default: input.insert(contentsOf: input[at..<min(at + 8, input.count)], at: at)
                }
            }
            let whole = HTTPRequestParser.parseAll(input)
            let bytewise = feedRequests(input, pieces: Array(repeating: 1, count: input.count))
            XCTAssertEqual(whole.requests, bytewise.requests)
            XCTAssertEqual(whole.error, bytewise.error)
        }
    }
}
