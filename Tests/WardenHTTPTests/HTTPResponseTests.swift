import WardenHTTP
import WardenTestSupport
import XCTest

final class HTTPResponseParserTests: XCTestCase {
    private func parse(_ text: String, method: String = "POST", limits: HTTPLimits = .client,
                       file: StaticString = #filePath, line: UInt = #line) -> HTTPClientResponse? {
        let bytes = utf8(text)
        // Every two-way split gives the same outcome as the whole.
        let whole = feedResponse(bytes, method: method, limits: limits)
        for cut in 0...bytes.count {
            let split = feedResponse(bytes, pieces: [cut], method: method, limits: limits)
            XCTAssertEqual(try? split.get(), try? whole.get(), "split at \(cut)", file: file, line: line)
        }
        switch whole {
        case .success(let response): return response
        case .failure(let error):
            XCTFail("unexpected \(error)", file: file, line: line)
            return nil
        }
    }

    private func error(_ text: String, method: String = "POST", close: Bool = true) -> HTTPParseError? {
        if case .failure(let e) = feedResponse(utf8(text), method: method, close: close) { return e }
        return nil
    }

    func testContentLength() throws {
        let r = try XCTUnwrap(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello"))
        XCTAssertEqual(r.status, 200)
        XCTAssertEqual(r.reason, "OK")
        XCTAssertEqual(r.body, utf8("hello"))
        XCTAssertEqual(r.headers["x"], "y")
        XCTAssertFalse(r.bodyTruncated)
    }

    func testCompleteWithoutClose() throws {
        // A Content-Length or chunked body completes without waiting for the close.
        var parser = HTTPResponseParser()
        parser.append(utf8("HTTP/1.1 204 No Content\r\n\r\n"))
        XCTAssertEqual(try parser.next()?.status, 204)
        parser = HTTPResponseParser()
        parser.append(utf8("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"))
        XCTAssertEqual(try parser.next()?.body, utf8("ok"))
        XCTAssertNil(try parser.next())
        parser = HTTPResponseParser()
        parser.append(utf8("HTTP/1.1 500 Oops\r\n\r\npartial"))
        XCTAssertNil(try parser.next())
        XCTAssertEqual(parser.status, 500)
        parser.finish()
        XCTAssertEqual(try parser.next()?.body, utf8("partial"))
    }

    func testChunked() throws {
        let r = try XCTUnwrap(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nT: 1\r\n\r\n"))
        XCTAssertEqual(String(decoding: r.body, as: UTF8.self), "Wikipedia in\r\n\r\nchunks.")
    }

    func testCloseDelimited() throws {
        XCTAssertEqual(parse("HTTP/1.0 200 OK\r\n\r\nuntil close")?.body, utf8("until close"))
        XCTAssertEqual(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw")?.body, utf8("raw"))
        XCTAssertEqual(parse("HTTP/1.1 200 OK\r\n\r\n")?.body, [])
    }

    func testNoBody() throws {
        XCTAssertEqual(parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", method: "HEAD")?.body, [])
        XCTAssertEqual(parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n")?.status, 304)
        XCTAssertEqual(parse("HTTP/1.1 204 No Content\r\n\r\n")?.body, [])
    }

    func testInterimResponsesSkipped() throws {
        let r = try XCTUnwrap(parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"))
        XCTAssertEqual(r.status, 201)
        XCTAssertNil(r.headers["link"])
        XCTAssertEqual(error("HTTP/1.1 101 Switching Protocols\r\n\r\n")?.reason, "unexpected 101 Switching Protocols")
        XCTAssertNotNil(error(String(repeating: "HTTP/1.1 100 Continue\r\n\r\n", count: 9) + "HTTP/1.1 200 OK\r\n\r\n"))
    }

    func testStatusLines() throws {
        XCTAssertEqual(parse("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n")?.reason, "")
        XCTAssertEqual(parse("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n")?.reason, "")
        XCTAssertEqual(parse("HTTP/1.1 410 Gone Away Now\r\nContent-Length: 0\r\n\r\n")?.reason, "Gone Away Now")
        for bad in ["HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 600 X\r\n\r\n", "HTTP/1.1 099 X\r\n\r\n", "HTTP/1.1 2000 X\r\n\r\n",
                    "HTTP/2 200 OK\r\n\r\n", "HTTP/2.0 200 OK\r\n\r\n", "http/1.1 200 OK\r\n\r\n", "HTTP/1.1 200OK\r\n\r\n",
                    "SSH-2.0-OpenSSH\r\n\r\n", "HTTP/1.1 200 O\u{01}K\r\n\r\n"] {
            XCTAssertEqual(error(bad)?.status, 502, bad.debugDescription)
        }
    }

    func testObsFoldJoined() throws {
        let r = try XCTUnwrap(parse("HTTP/1.1 200 OK\r\nX: a\r\n  b\r\n\tc\r\nContent-Length: 0\r\n\r\n"))
        XCTAssertEqual(r.headers["x"], "a b c")
        XCTAssertNotNil(error("HTTP/1.1 200 OK\r\n folded-first\r\n\r\n"))
    }

    func testErrors() {
        XCTAssertEqual(error("")?.reason, "connection closed before any response")
        XCTAssertEqual(error("HTTP/1.1 200 OK\r\nX: y")?.reason, "connection closed in the response head")
        XCTAssertEqual(error("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc")?.reason, "connection closed before the end of the body")
        XCTAssertEqual(error("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab")?.reason,
                       "connection closed before the end of the body")
        XCTAssertEqual(error("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")?.reason,
                       "conflicting Content-Length values")
        XCTAssertEqual(error("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n")?.status, 502)
        XCTAssertEqual(error("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", close: false)?.status, 502)
    }

    func testBodyKeptUpToTheLimit() throws {
        let limits = HTTPLimits(maxBodyBytes: 4)
        let r = try XCTUnwrap(parse("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789", limits: limits))
        XCTAssertEqual(r.body, utf8("0123"))
        XCTAssertTrue(r.bodyTruncated)
        XCTAssertEqual(r.bodyByteCount, 10)
        let chunked = try XCTUnwrap(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", limits: limits))
        XCTAssertEqual(chunked.body, utf8("abcd"))
        XCTAssertEqual(chunked.bodyByteCount, 6)
        let closeDelimited = try XCTUnwrap(parse("HTTP/1.1 200 OK\r\n\r\nabcdefgh", limits: limits))
        XCTAssertEqual(closeDelimited.body, utf8("abcd"))
        XCTAssertTrue(closeDelimited.bodyTruncated)
    }

    func testHeadLimits() {
        let limits = HTTPLimits(maxStartLineLength: 30, maxHeaderBytes: 50, maxHeaderCount: 2)
        func fails(_ text: String) -> Bool {
            if case .failure = feedResponse(utf8(text), limits: limits) { return true }
            return false
        }
        XCTAssertTrue(fails("HTTP/1.1 200 " + String(repeating: "x", count: 40)))
        XCTAssertTrue(fails("HTTP/1.1 200 OK\r\nX: " + String(repeating: "x", count: 60)))
        XCTAssertTrue(fails("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"))
        XCTAssertFalse(fails("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n"))
    }

    func testRetryAfter() throws {
        func retryAfter(_ value: String) -> RetryAfter? {
            HTTPClientResponse(status: 429, headers: ["Retry-After": value]).retryAfter
        }
        XCTAssertEqual(retryAfter("120"), .seconds(120))
        XCTAssertEqual(retryAfter(" 0 "), .seconds(0))
        XCTAssertEqual(retryAfter("007"), .seconds(7))
        XCTAssertEqual(retryAfter("99999999999999999999999"), .seconds(1_000_000_000_000))
        XCTAssertEqual(retryAfter("Sun, 06 Nov 1994 08:49:37 GMT"), .date(784_111_777))
        XCTAssertEqual(retryAfter("Sunday, 06-Nov-94 08:49:37 GMT"), .date(784_111_777))
        XCTAssertEqual(retryAfter("Sun Nov  6 08:49:37 1994"), .date(784_111_777))
        for bad in ["", "-1", "1.5", "12s", "soon", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 31 Feb 1994 08:49:37 GMT"] {
            XCTAssertNil(retryAfter(bad), bad)
        }
        XCTAssertEqual(RetryAfter.seconds(3).delayMs(nowMs: 0), 3000)
        XCTAssertEqual(RetryAfter.date(1000).delayMs(nowMs: 998_500), 1500)
        XCTAssertEqual(RetryAfter.date(1000).delayMs(nowMs: 2_000_000), 0)
        XCTAssertEqual(RetryAfter.seconds(Int64.max).delayMs(nowMs: 0), Int64.max)
        XCTAssertEqual(RetryAfter.date(Int64.max).delayMs(nowMs: 0), Int64.max)
        XCTAssertEqual(RetryAfter.date(Int64.min).delayMs(nowMs: 0), 0)
        XCTAssertEqual(RetryAfter.date(0).delayMs(nowMs: Int64.min), Int64.max)
    }

    func testMutatedResponsesNeverTrap() {
        let base = utf8("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nRetry-After: 5\r\n\r\n4;x\r\nWiki\r\n0\r\nT: 1\r\n\r\n")
        var random = TestRandom(seed: 5)
        for _ in 0..<500 {
            var input = base
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let at = Int.random(in: 0..<input.count, using: &random)
                input[at] = UInt8.random(in: 0...255, using: &random)
            }
            let whole = HTTPResponseParser.parse(input)
            let bytewise = feedResponse(input, pieces: Array(repeating: 1, count: input.count))
            switch (whole, bytewise) {
            case (.success(let a), .success(let b)): XCTAssertEqual(a, b)
            case (.failure(let a), .failure(let b)): XCTAssertEqual(a, b)
            default: XCTFail("outcome depends on the split: \(input)")
            }
        }
    }
}

final class HTTPEncoderTests: XCTestCase {
    func testResponse() {
        let response = HTTPResponse(status: 200, contentType: "application/json", body: "{}")
        XCTAssertEqual(String(decoding: HTTPEncoder.encode(response, keepAlive: true, date: "Sun, 06 Nov 1994 08:49:37 GMT"), as: UTF8.self),
                       "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
        XCTAssertEqual(String(decoding: HTTPEncoder.encode(response, keepAlive: false), as: UTF8.self),
                       "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        XCTAssertEqual(String(decoding: HTTPEncoder.encode(response, keepAlive: true, requestVersion: .http1_0), as: UTF8.self),
                       "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n{}")
        XCTAssertEqual(String(decoding: HTTPEncoder.encode(response, keepAlive: true, headRequest: true), as: UTF8.self),
                       "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n")
        XCTAssertEqual(String(decoding: HTTPEncoder.encode(HTTPResponse(status: 204, body: [1]), keepAlive: true), as: UTF8.self),
                       "HTTP/1.1 204 No Content\r\n\r\n")
        XCTAssertEqual(String(decoding: HTTPEncoder.encode(HTTPResponse(status: 1000), keepAlive: true), as: UTF8.self),
                       "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
    }

    func testNoResponseSplitting() {
        var headers: HTTPHeaders = ["X-Evil": "a\r\nSet-Cookie: x=1", "Bad Name": "v", "Content-Length": "999",
                                    "Transfer-Encoding": "chunked", "connection": "upgrade"]
        headers.add("X-Nul", "a\u{0}b")
        let bytes = HTTPEncoder.encode(HTTPResponse(status: 200, reason: "OK\r\nInjected: 1", headers: headers, body: utf8("ok")),
                                       keepAlive: true)
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self),
                       "HTTP/1.1 200 OK  Injected: 1\r\nX-Evil: a  Set-Cookie: x=1\r\nX-Nul: a b\r\nContent-Length: 2\r\n\r\nok")
    }

    func testRoundTripThroughTheResponseParser() throws {
        let response = HTTPResponse(status: 503, headers: ["Retry-After": "2", "Content-Type": "text/plain"], body: utf8("busy"))
        let parsed = try HTTPResponseParser.parse(HTTPEncoder.encode(response, keepAlive: false)).get()
        XCTAssertEqual(parsed.status, 503)
        XCTAssertEqual(parsed.reason, "Service Unavailable")
        XCTAssertEqual(parsed.body, utf8("busy"))
        XCTAssertEqual(parsed.retryAfter, .seconds(2))
    }

    func testStreamAndChunks() throws {
        var bytes = HTTPEncoder.encodeStreamHead(status: 200, headers: ["Content-Type": "text/event-stream"], chunked: true)
        bytes += HTTPEncoder.chunk(utf8("data: 1\n\n")) + HTTPEncoder.chunk([]) + HTTPEncoder.chunk(Array(repeating: 0x61, count: 300))
        bytes += HTTPEncoder.lastChunk
        XCTAssertTrue(String(decoding: bytes, as: UTF8.self).hasPrefix(
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n9\r\ndata: 1\n\n\r\n12c\r\naaa"))
        let parsed = try HTTPResponseParser.parse(bytes).get()
        XCTAssertEqual(parsed.bodyByteCount, 9 + 300)
        let plain = HTTPEncoder.encodeStreamHead(status: 200, headers: [:], chunked: false)
        XCTAssertEqual(String(decoding: plain, as: UTF8.self), "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
    }

    func testRequest() throws {
        let bytes = HTTPEncoder.encodeRequest(method: "POST", target: "/hook?a=1", authority: "[::1]:8080",
                                              headers: ["Host": "ignored", "Content-Type": "application/json"], body: utf8("{}"))
        XCTAssertEqual(String(decoding: bytes, as: UTF8.self),
                       "POST /hook?a=1 HTTP/1.1\r\nHost: [::1]:8080\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
        // What the encoder writes, the request parser reads back.
        let parsed = try XCTUnwrap(HTTPRequestParser.parseAll(bytes).requests.first)
        XCTAssertEqual(parsed.headers["host"], "[::1]:8080")
        XCTAssertEqual(parsed.body, utf8("{}"))
        XCTAssertFalse(parsed.keepAlive)
        XCTAssertEqual(String(decoding: HTTPEncoder.encodeRequest(method: "GET", target: "/", authority: "h", headers: [:], body: []), as: UTF8.self),
                       "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    }
}

final class DateTimeTests: XCTestCase {
    func testHTTPDate() {
        XCTAssertEqual(HTTPDate.format(unixSeconds: 784_111_777), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(HTTPDate.format(unixSeconds: 0), "Thu, 01 Jan 1970 00:00:00 GMT")
        XCTAssertEqual(HTTPDate.format(unixSeconds: 951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT")
        XCTAssertEqual(HTTPDate.format(unixSeconds: -1), "Wed, 31 Dec 1969 23:59:59 GMT")
        XCTAssertEqual(HTTPDate.format(unixSeconds: Int64.max), "Fri, 31 Dec 9999 23:59:59 GMT")
        XCTAssertEqual(HTTPDate.format(unixSeconds: Int64.min), "Sat, 01 Jan 0000 00:00:00 GMT")
        XCTAssertEqual(HTTPDate.parse("Sunday, 06-Nov-69 08:49:37 GMT"), HTTPDate.parse("Thu, 06 Nov 2069 08:49:37 GMT"))
        XCTAssertEqual(HTTPDate.parse("Tue, 29 Feb 2000 00:00:00 GMT"), 951_782_400)
        XCTAssertNil(HTTPDate.parse("Mon, 29 Feb 1900 00:00:00 GMT"))
        XCTAssertNil(HTTPDate.parse("Sun, 06 Nov 1994 24:00:00 GMT"))
        XCTAssertNil(HTTPDate.parse("Sun, 6 Nov 1994 08:49:37 GMT"))
        XCTAssertNil(HTTPDate.parse("Xyz, 06 Nov 1994 08:49:37 GMT"))
    }

    func testFormatThenParseRoundTrips() {
        var random = TestRandom(seed: 1994)
        for _ in 0..<2000 {
            let seconds = Int64.random(in: UTCDateTime_minSeconds...253_402_300_799, using: &random)
            XCTAssertEqual(HTTPDate.parse(HTTPDate.format(unixSeconds: seconds)), seconds)
        }
    }

    func testRFC3339() {
        XCTAssertEqual(UTCDateTime.rfc3339(unixMs: 0), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(UTCDateTime.rfc3339(unixMs: 1_796_169_498_123), "2026-12-01T23:58:18.123Z")
        XCTAssertEqual(UTCDateTime.rfc3339(unixMs: -1), "1969-12-31T23:59:59.999Z")
        XCTAssertEqual(UTCDateTime.rfc3339(unixMs: Int64.max), "9999-12-31T23:59:59.999Z")
        XCTAssertEqual(UTCDateTime.rfc3339(unixMs: Int64.min), "0000-01-01T00:00:00.000Z")
    }
}

private let UTCDateTime_minSeconds: Int64 = -62_167_219_200
