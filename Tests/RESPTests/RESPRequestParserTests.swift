import XCTest
import RESP

final class RESPRequestParserTests: XCTestCase {
    /// A stream mixing every request form, and the commands it must yield.
    private let stream = bytes(
        "*1\r\n$4\r\nPING\r\n"
        + "*3\r\n$8\r\nSENTINEL\r\n$23\r\nget-master-addr-by-name\r\n$8\r\nmymaster\r\n"
        + "*0\r\n"
        + "*-1\r\n"
        + "PING\r\n"
        + "\r\n"
        + "\n"
        + "   \t \r\n"
        + "SET k \"a b\\r\\n\\x41\" 'it\\'s'\n"
        + "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"
        + "*2\r\n$4\r\nECHO\r\n$6\r\nA\r\nB\0C\r\n"
        + "  info   replication  \r\n"
    )
    private let expected: [[[UInt8]]] = [
        args("PING"),
        args("SENTINEL", "get-master-addr-by-name", "mymaster"),
        args("PING"),
        args("SET", "k", "a b\r\nA", "it's"),
        args("ECHO", ""),
        [bytes("ECHO"), [0x41, 0x0D, 0x0A, 0x42, 0x00, 0x43]],
        args("info", "replication"),
    ]

    func testWholeStream() throws {
        XCTAssertEqual(try parseRequests(stream), expected)
    }

    func testByteByByte() throws {
        XCTAssertEqual(try parseRequests(stream, chunks: Array(repeating: 1, count: stream.count)), expected)
    }

    func testEveryTwoWaySplit() throws {
        for cut in 0...stream.count {
            XCTAssertEqual(try parseRequests(stream, chunks: [cut]), expected, "split at \(cut)")
        }
    }

    func testRandomSplits() throws {
        var generator = SeededGenerator(seed: 0x5EED)
        for round in 0..<500 {
            let chunks = randomChunks(total: stream.count, maxChunk: 1 + round % 40, using: &generator)
            XCTAssertEqual(try parseRequests(stream, chunks: chunks), expected, "chunks \(chunks)")
        }
    }

    func testNilUntilComplete() throws {
        var parser = RESPRequestParser()
        let command = bytes("*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n")
        for byte in command.dropLast() {
            parser.append([byte])
            XCTAssertNil(try parser.next())
        }
        XCTAssertEqual(parser.bufferedByteCount, command.count - 1)
        parser.append([command.last!])
        XCTAssertEqual(try parser.next(), args("ECHO", "hello"))
        XCTAssertNil(try parser.next())
        XCTAssertEqual(parser.bufferedByteCount, 0)
    }

    func testArgumentsAreViewsThatStayValid() throws {
        var parser = RESPRequestParser()
        parser.append(bytes("*3\r\n$8\r\nSENTINEL\r\n$23\r\nGET-master-addr-by-name\r\n$2\r\nm1\r\n*1\r\n$4\r\nPI"))
        let first = try XCTUnwrap(try parser.nextArguments())
        XCTAssertEqual(first.count, 3)
        XCTAssertTrue(first.argument(0, equalsLowercased: bytes("sentinel")))
        XCTAssertTrue(first.argument(1, equalsLowercased: bytes("get-master-addr-by-name")))
        XCTAssertFalse(first.argument(2, equalsLowercased: bytes("m2")))
        XCTAssertFalse(first.argument(2, equalsLowercased: bytes("m")))
        XCTAssertEqual(Array(first[2]), bytes("m1"))
        // Held past later calls that consume and reuse the buffer, it still reads the same.
        XCTAssertNil(try parser.nextArguments())
        parser.append(bytes("NG\r\n" + String(repeating: "PING\r\n", count: 10)))
        XCTAssertEqual(try parser.nextArguments()?.arrays, args("PING"))
        XCTAssertEqual(first.arrays, args("SENTINEL", "GET-master-addr-by-name", "m1"))
        // Inline commands come as arguments too.
        XCTAssertEqual(try parser.nextArguments()?.arrays, args("PING"))
    }

    func testAppendRawBuffer() throws {
        var parser = RESPRequestParser()
        bytes("*1\r\n$4\r\nPING\r\nPING\r\n").withUnsafeBytes { parser.append($0) }
        XCTAssertEqual(try parser.next(), args("PING"))
        XCTAssertEqual(try parser.next(), args("PING"))
        XCTAssertNil(try parser.next())
    }

    func testPipelineOfManyCommandsAcrossCompactions() throws {
        // Enough traffic that the buffer is compacted many times on the way.
        var stream: [UInt8] = []
        var expected: [[[UInt8]]] = []
        for index in 0..<5000 {
            let value = String(repeating: "v", count: index % 300)
            RESPEncoder.encodeCommand(["SET", "key:\(index)", value], into: &stream)
            expected.append(args("SET", "key:\(index)", value))
        }
        var generator = SeededGenerator(seed: 7)
        let chunks = randomChunks(total: stream.count, maxChunk: 20_000, using: &generator)
        XCTAssertEqual(try parseRequests(stream, chunks: chunks), expected)
    }

    func testBigArgumentAcrossReads() throws {
        let big = [UInt8](repeating: 0x61, count: 300_000)
        var stream: [UInt8] = []
        RESPEncoder.encodeCommand([bytes("SET"), bytes("k"), big], into: &stream)
        stream += bytes("PING\r\n")
        XCTAssertEqual(try parseRequests(stream, chunks: Array(repeating: 16 * 1024, count: 40)),
                       [[bytes("SET"), bytes("k"), big], args("PING")])
    }

    func testRedisSkipsTheTwoBytesAfterAnArgumentUnchecked() throws {
        // redis-server does not verify the CRLF after a bulk or after a header's \r.
        XCTAssertEqual(try parseRequests(bytes("*1\r\n$4\r\nPINGxx*1\rX$4\rXPING\r\n")),
                       [args("PING"), args("PING")])
    }

    // MARK: Inline quoting (sdssplitargs)

    func testInlineQuoting() throws {
        let cases: [(String, [[UInt8]])] = [
            ("PING", args("PING")),
            ("a b\tc", args("a", "b", "c")),
            ("  lead and trail  ", args("lead", "and", "trail")),
            ("\"hello world\"", args("hello world")),
            ("\"\"", args("")),
            ("''", args("")),
            ("\"a\\nb\\rc\\td\\be\\af\"", [[0x61, 0x0A, 0x62, 0x0D, 0x63, 0x09, 0x64, 0x08, 0x65, 0x07, 0x66]]),
            ("\"\\\\ \\\" \\q\"", args("\\ \" q")),
            ("\"\\x41\\x7a\\xFF\"", [[0x41, 0x7A, 0xFF]]),
            ("\"\\x4\"", args("x4")),  // not two hex digits: \x is just x
            ("\"\\xZZ\"", args("xZZ")),
            ("'single \"quoted\"'", args("single \"quoted\"")),
            ("'it\\'s'", args("it's")),
            ("'back\\\\slash'", args("back\\\\slash")),
            ("'\\n'", args("\\n")),
            ("pre\"fix quoted\" x", args("prefix quoted", "x")),
            ("pre'fix'", args("prefix")),
            ("\"a\"\t\"b\"", args("a", "b")),
            ("a\u{0B}b", args("a\u{0B}b")),  // \v separates only between arguments
            ("\u{0B}a", args("a")),
            ("a\rb", args("a", "b")),
        ]
        for (line, expected) in cases {
            XCTAssertEqual(try parseRequests(bytes(line + "\r\n")), [expected], line)
            XCTAssertEqual(try parseRequests(bytes(line + "\n")), [expected], line)
        }
    }

    /// redis-server searches for line ends with strchr, so a NUL hides them:
    /// the line never completes and eventually becomes too long.
    func testNulBeforeALineEndHidesIt() throws {
        let limits = RESPLimits(maxInlineLength: 100)
        let filler = [UInt8](repeating: 0x78, count: 100)
        for stream in ["GET a\0 ignored\r\nPING\r\n", "*1\0\r\n$4\r\nPING\r\n", "*1\r\n$\04\r\nPING\r\n", "*1\r\n\0\r\n"] {
            XCTAssertEqual(try parseRequests(bytes(stream), limits: limits), [], stream)
            let expected = stream.hasPrefix("*1\0") ? "too big mbulk count string"
                : stream.hasPrefix("*") ? "too big bulk count string" : "too big inline request"
            XCTAssertEqual(requestError(bytes(stream) + filler, limits: limits), protocolError(expected), stream)
        }
        // In bulk data a NUL is just a byte.
        XCTAssertEqual(try parseRequests(bytes("*2\r\n$4\r\nECHO\r\n$3\r\na\0b\r\n")), [[bytes("ECHO"), [0x61, 0, 0x62]]])
    }

    func testUnbalancedQuotes() {
        for line in ["\"open", "'open", "\"a\"b", "'a'b", "\"ends with backslash\\", "x \"y"] {
            XCTAssertEqual(requestError(bytes(line + "\r\n")), protocolError("unbalanced quotes in request"), line)
        }
    }

    // MARK: Errors and limits

    func testErrorStrings() {
        let cases: [(String, String)] = [
            ("*abc\r\n", "invalid multibulk length"),
            ("*\r\n", "invalid multibulk length"),
            ("*+1\r\n", "invalid multibulk length"),
            ("*01\r\n", "invalid multibulk length"),
            ("* 1\r\n", "invalid multibulk length"),
            ("*2147483648\r\n", "invalid multibulk length"),
            ("*99999999999999999999\r\n", "invalid multibulk length"),
            ("*1048577\r\n", "invalid multibulk length"),
            ("*1\r\nPING\r\n", "expected '$', got 'P'"),
            ("*2\r\n$4\r\nECHO\r\n:1\r\n", "expected '$', got ':'"),
            ("*1\r\n\r\n", "expected '$', got ' '"),
            ("*1\r\n\n\r\n", "expected '$', got ' '"),
            ("*1\r\n$abc\r\n", "invalid bulk length"),
            ("*1\r\n$-1\r\n", "invalid bulk length"),
            ("*1\r\n$\r\n", "invalid bulk length"),
            ("*1\r\n$2147483648\r\n", "invalid bulk length"),
            ("*1\r\n$536870913\r\n", "invalid bulk length"),
            ("GET \"a\r\n", "unbalanced quotes in request"),
        ]
        for (stream, message) in cases {
            XCTAssertEqual(requestError(bytes(stream)), protocolError(message), stream)
            XCTAssertEqual(requestError(bytes(stream), chunks: Array(repeating: 1, count: stream.utf8.count)),
                           protocolError(message), "byte by byte: \(stream)")
        }
    }

    func testReplyText() {
        XCTAssertEqual(RESPProtocolError.protocolError("invalid bulk length").replyText,
                       "ERR Protocol error: invalid bulk length")
        XCTAssertNil(RESPProtocolError.queryBufferLimit.replyText)
    }

    func testMultibulkCountAtTheLimitIsAccepted() throws {
        var parser = RESPRequestParser()
        parser.append(bytes("*1048576\r\n"))
        XCTAssertNil(try parser.next())
    }

    func testBulkLengthAtTheLimitIsNotAProtocolError() {
        // 512 MB is a valid bulk length; Warden's 1 MB command cap then applies.
        XCTAssertEqual(requestError(bytes("*1\r\n$536870912\r\n")), .queryBufferLimit)
        let generous = RESPLimits(maxQueryBuffer: Int.max)
        XCTAssertNil(requestError(bytes("*1\r\n$536870912\r\n"), limits: generous))
    }

    func testTooBigInlineRequest() {
        let tenMegabytes = [UInt8](repeating: 0x61, count: 10 * 1024 * 1024)
        XCTAssertEqual(requestError(tenMegabytes), protocolError("too big inline request"))
        XCTAssertEqual(requestError(tenMegabytes, chunks: Array(repeating: 16 * 1024, count: 640)),
                       protocolError("too big inline request"))
    }

    func testInlineLengthBoundary() throws {
        let limits = RESPLimits(maxInlineLength: 100)
        let longest = [UInt8](repeating: 0x61, count: 100)
        XCTAssertEqual(try parseRequests(longest + bytes("\n"), limits: limits), [[longest]])
        var parser = RESPRequestParser(limits: limits)
        parser.append(longest)
        XCTAssertNil(try parser.next())
        parser.append([0x61])
        XCTAssertThrowsError(try parser.next()) { error in
            XCTAssertEqual(error as? RESPProtocolError, protocolError("too big inline request"))
        }
        // The same line is rejected even when its newline arrives with it.
        XCTAssertEqual(requestError(longest + bytes("a\n"), limits: limits), protocolError("too big inline request"))
        // The \r before \n counts towards the line, as in redis-server's buffer check.
        XCTAssertEqual(requestError(longest + bytes("\r\n"), limits: limits), protocolError("too big inline request"))
    }

    func testTooBigCountStrings() {
        let limits = RESPLimits(maxInlineLength: 100)
        let digits = String(repeating: "1", count: 101)
        XCTAssertEqual(requestError(bytes("*" + digits), limits: limits), protocolError("too big mbulk count string"))
        XCTAssertEqual(requestError(bytes("*1\r\n$" + digits), limits: limits), protocolError("too big bulk count string"))
        XCTAssertEqual(requestError(bytes("*" + digits + "\r\n"), limits: limits), protocolError("too big mbulk count string"))
        // Within the limit the line is complete, and only then judged as a number.
        XCTAssertEqual(requestError(bytes("*" + String(digits.dropFirst(2)) + "\r\n"), limits: limits),
                       protocolError("invalid multibulk length"))
        // With the default limits: 64 KB of '*' without \r.
        let huge = [UInt8](repeating: 0x31, count: 64 * 1024 + 1)
        XCTAssertEqual(requestError(bytes("*") + huge), protocolError("too big mbulk count string"))
        XCTAssertEqual(requestError(bytes("*1\r\n$") + huge), protocolError("too big bulk count string"))
    }

    func testQueryBufferLimit() throws {
        let limits = RESPLimits(maxQueryBuffer: 1000)
        // A bulk that would take the command past the cap fails at its header.
        XCTAssertEqual(requestError(bytes("*1\r\n$1000\r\n"), limits: limits), .queryBufferLimit)
        // Many arguments that together pass it.
        var stream: [UInt8] = []
        RESPEncoder.encodeCommand(Array(repeating: String(repeating: "x", count: 90), count: 11), into: &stream)
        XCTAssertGreaterThan(stream.count, 1000)
        XCTAssertEqual(requestError(stream, limits: limits), .queryBufferLimit)
        XCTAssertEqual(requestError(stream, chunks: Array(repeating: 1, count: stream.count), limits: limits),
                       .queryBufferLimit)
        // Pipelines of small commands never hit it, however they are split.
        var pipeline: [UInt8] = []
        for _ in 0..<100 { RESPEncoder.encodeCommand(["PING"], into: &pipeline) }
        XCTAssertEqual(try parseRequests(pipeline, limits: limits).count, 100)
        // The default cap is 1 MB.
        var big: [UInt8] = []
        RESPEncoder.encodeCommand([bytes("SET"), bytes("k"), [UInt8](repeating: 0, count: 1024 * 1024)], into: &big)
        XCTAssertEqual(requestError(big), .queryBufferLimit)
        XCTAssertEqual(requestError(big, chunks: Array(repeating: 4096, count: 300)), .queryBufferLimit)
    }

    func testQueryBufferLimitWhileAHeaderLineIsIncomplete() throws {
        var parser = RESPRequestParser(limits: RESPLimits(maxQueryBuffer: 50))
        parser.append(bytes("*1\r\n$" + String(repeating: "1", count: 40)))
        XCTAssertNil(try parser.next())
        parser.append(bytes(String(repeating: "1", count: 20)))
        XCTAssertThrowsError(try parser.next()) { error in
            XCTAssertEqual(error as? RESPProtocolError, .queryBufferLimit)
        }
    }

    func testErrorsAreSticky() throws {
        var parser = RESPRequestParser()
        parser.append(bytes("*x\r\n"))
        XCTAssertThrowsError(try parser.next())
        parser.append(bytes("PING\r\n"))
        XCTAssertThrowsError(try parser.next()) { error in
            XCTAssertEqual(error as? RESPProtocolError, protocolError("invalid multibulk length"))
        }
    }

    func testCommandsBeforeAnErrorAreDelivered() throws {
        var parser = RESPRequestParser()
        parser.append(bytes("PING\r\n*1\r\n$x\r\n"))
        XCTAssertEqual(try parser.next(), args("PING"))
        XCTAssertThrowsError(try parser.next())
    }

    func testUnauthenticatedLimits() throws {
        var parser = RESPRequestParser()
        parser.authenticated = false
        var ok: [UInt8] = []
        RESPEncoder.encodeCommand(Array(repeating: "a", count: 10), into: &ok)
        RESPEncoder.encodeCommand([bytes("AUTH"), [UInt8](repeating: 0x70, count: 16384)], into: &ok)
        parser.append(ok)
        XCTAssertEqual(try parser.next()?.count, 10)
        XCTAssertEqual(try parser.next()?.count, 2)

        XCTAssertEqual(unauthenticatedError(bytes("*11\r\n")), protocolError("unauthenticated multibulk length"))
        XCTAssertEqual(unauthenticatedError(bytes("*1\r\n$16385\r\n")), protocolError("unauthenticated bulk length"))
    }

    private func unauthenticatedError(_ stream: [UInt8]) -> RESPProtocolError? {
        var parser = RESPRequestParser()
        parser.authenticated = false
        parser.append(stream)
        do {
            _ = try parser.next()
            return nil
        } catch {
            return error
        }
    }
}
