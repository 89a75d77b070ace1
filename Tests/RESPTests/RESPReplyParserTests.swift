import XCTest
import RESP

final class RESPReplyParserTests: XCTestCase {
    /// One value of every kind, nested in every aggregate.
    private let sample: [RESPValue] = [
        .simpleString("OK"),
        .error("ERR something"),
        .integer(-12345),
        .bulk("bulk\r\nwith CRLF"),
        .bulkString([]),
        .bulkString(nil),
        .array(nil),
        .array([]),
        .null,
        .double(2.5),
        .double(-.infinity),
        .double(.infinity),
        .boolean(true),
        .boolean(false),
        .bigNumber("-12345678901234567890123"),
        .verbatim(format: "txt", text: bytes("Some string")),
        .blobError(bytes("SYNTAX invalid syntax")),
        .map([RESPPair(.bulk("name"), .bulk("mymaster")), RESPPair(.integer(1), .array([.null, .boolean(false)]))]),
        .set([.bulk("a"), .integer(2)]),
        .push([.bulk("message"), .bulk("+switch-master"), .bulk("mymaster 127.0.0.1 6379 127.0.0.1 6380")]),
        .array([.map([RESPPair(.simpleString("k"), .set([.push([.double(0.125), .verbatim(format: "mkd", text: [])])]))])]),
        .map([]),
        .set([]),
    ]

    /// What `sample` becomes after a trip through RESP3: both RESP2 nulls are `_` there.
    private var sampleInRESP3: [RESPValue] {
        sample.map { value in
            switch value {
            case .bulkString(nil), .array(nil): return .null
            default: return value
            }
        }
    }

    /// What `sample` becomes after a trip through RESP2.
    private let sampleInRESP2: [RESPValue] = [
        .simpleString("OK"),
        .error("ERR something"),
        .integer(-12345),
        .bulk("bulk\r\nwith CRLF"),
        .bulkString([]),
        .bulkString(nil),
        .array(nil),
        .array([]),
        .bulkString(nil),
        .bulk("2.5"),
        .bulk("-inf"),
        .bulk("inf"),
        .integer(1),
        .integer(0),
        .bulk("-12345678901234567890123"),
        .bulk("Some string"),
        .error("SYNTAX invalid syntax"),
        .array([.bulk("name"), .bulk("mymaster"), .integer(1), .array([.bulkString(nil), .integer(0)])]),
        .array([.bulk("a"), .integer(2)]),
        .array([.bulk("message"), .bulk("+switch-master"), .bulk("mymaster 127.0.0.1 6379 127.0.0.1 6380")]),
        .array([.array([.simpleString("k"), .array([.array([.bulk("0.125"), .bulkString([])])])])]),
        .array([]),
        .array([]),
    ]

    private func encodedSample(_ version: RESPVersion) -> [UInt8] {
        var out: [UInt8] = []
        for value in sample { RESPEncoder.encode(value, version: version, into: &out) }
        return out
    }

    func testRoundTripRESP3() throws {
        XCTAssertEqual(try parseReplies(encodedSample(.resp3)), sampleInRESP3)
    }

    func testRoundTripRESP2() throws {
        XCTAssertEqual(try parseReplies(encodedSample(.resp2)), sampleInRESP2)
    }

    func testRoundTripOfEachValueAlone() throws {
        for ((value, upgraded), downgraded) in zip(zip(sample, sampleInRESP3), sampleInRESP2) {
            XCTAssertEqual(try parseReplies(RESPEncoder.encode(value, version: .resp3)), [upgraded], "\(value)")
            XCTAssertEqual(try parseReplies(RESPEncoder.encode(value, version: .resp2)), [downgraded], "\(value)")
        }
    }

    func testEverySplit() throws {
        for version in [RESPVersion.resp2, .resp3] {
            let stream = encodedSample(version)
            let expected = version == .resp3 ? sampleInRESP3 : sampleInRESP2
            XCTAssertEqual(try parseReplies(stream, chunks: Array(repeating: 1, count: stream.count)), expected)
            for cut in 0...stream.count {
                XCTAssertEqual(try parseReplies(stream, chunks: [cut]), expected, "split at \(cut)")
            }
            var generator = SeededGenerator(seed: 99)
            for _ in 0..<200 {
                let chunks = randomChunks(total: stream.count, maxChunk: 30, using: &generator)
                XCTAssertEqual(try parseReplies(stream, chunks: chunks), expected, "chunks \(chunks)")
            }
        }
    }

    func testSpecTexts() throws {
        let cases: [(String, RESPValue)] = [
            ("$-1\r\n", .bulkString(nil)),
            ("*-1\r\n", .array(nil)),
            ("_\r\n", .null),
            (",1.23\r\n", .double(1.23)),
            (",10\r\n", .double(10)),
            (",inf\r\n", .double(.infinity)),
            (",-inf\r\n", .double(-.infinity)),
            (",1e-3\r\n", .double(0.001)),
            ("#t\r\n", .boolean(true)),
            ("(3492890328409238509324850943850943825024385\r\n", .bigNumber("3492890328409238509324850943850943825024385")),
            ("=15\r\ntxt:Some string\r\n", .verbatim(format: "txt", text: bytes("Some string"))),
            ("=4\r\ntxt:\r\n", .verbatim(format: "txt", text: [])),
            ("!21\r\nSYNTAX invalid syntax\r\n", .blobError(bytes("SYNTAX invalid syntax"))),
            ("%1\r\n+first\r\n:1\r\n", .map([RESPPair(.simpleString("first"), .integer(1))])),
            ("~2\r\n+orange\r\n+apple\r\n", .set([.simpleString("orange"), .simpleString("apple")])),
            ("+\r\n", .simpleString("")),
        ]
        for (text, value) in cases {
            XCTAssertEqual(try parseReplies(bytes(text)), [value], text)
        }
    }

    func testNaN() throws {
        let values = try parseReplies(bytes(",nan\r\n"))
        guard case .double(let number)? = values.first else { return XCTFail("\(values)") }
        XCTAssertTrue(number.isNaN)
        XCTAssertEqual(values.count, 1)
    }

    func testAttributesAreDropped() throws {
        // The example from the RESP3 specification.
        let text = "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n*2\r\n:2039123\r\n:9543892\r\n"
        XCTAssertEqual(try parseReplies(bytes(text)), [.array([.integer(2039123), .integer(9543892)])])
        // Inside an aggregate, before one element; nested; empty; before a push.
        let nested = "*3\r\n:1\r\n|1\r\n+ttl\r\n|1\r\n+meta\r\n#t\r\n:3600\r\n:2\r\n|0\r\n:3\r\n|1\r\n+x\r\n*1\r\n:0\r\n>1\r\n+p\r\n"
        let expected: [RESPValue] = [.array([.integer(1), .integer(2), .integer(3)]), .push([.simpleString("p")])]
        let stream = bytes(nested)
        XCTAssertEqual(try parseReplies(stream), expected)
        XCTAssertEqual(try parseReplies(stream, chunks: Array(repeating: 1, count: stream.count)), expected)
    }

    func testNilUntilComplete() throws {
        var parser = RESPReplyParser()
        let stream = bytes("*2\r\n$3\r\nfoo\r\n%1\r\n:1\r\n:2\r\n")
        for byte in stream.dropLast() {
            parser.append([byte])
            XCTAssertNil(try parser.next())
        }
        XCTAssertGreaterThan(parser.bufferedByteCount, 0)
        stream.suffix(1).withUnsafeBytes { parser.append($0) }
        XCTAssertEqual(try parser.next(), .array([.bulk("foo"), .map([RESPPair(.integer(1), .integer(2))])]))
        XCTAssertNil(try parser.next())
        XCTAssertEqual(parser.bufferedByteCount, 0)
    }

    func testManyRepliesAcrossCompactions() throws {
        var stream: [UInt8] = []
        var expected: [RESPValue] = []
        for index in 0..<3000 {
            let value = RESPValue.array([.bulk("reply \(index)"), .bulk(String(repeating: "z", count: index % 500))])
            RESPEncoder.encode(value, version: .resp2, into: &stream)
            expected.append(value)
        }
        var generator = SeededGenerator(seed: 3)
        XCTAssertEqual(try parseReplies(stream, chunks: randomChunks(total: stream.count, maxChunk: 9000, using: &generator)),
                       expected)
    }

    // MARK: Limits and errors

    func testNestingDepth() throws {
        let limits = RESPLimits(maxNestingDepth: 64)
        func nested(_ depth: Int) -> [UInt8] {
            bytes(String(repeating: "*1\r\n", count: depth) + ":7\r\n")
        }
        var expected = RESPValue.integer(7)
        for _ in 0..<64 { expected = .array([expected]) }
        XCTAssertEqual(try parseReplies(nested(64), limits: limits), [expected])
        XCTAssertEqual(replyError(nested(65), limits: limits), protocolError("nesting too deep"))
        XCTAssertEqual(replyError(bytes(String(repeating: "%1\r\n", count: 65) + ":1\r\n:1\r\n")),
                       protocolError("nesting too deep"))
    }

    func testLimits() {
        let limits = RESPLimits(maxBulkLength: 10, maxMultibulkCount: 3, maxInlineLength: 20, maxQueryBuffer: 100)
        XCTAssertNil(replyError(bytes("$10\r\n0123456789\r\n"), limits: limits))
        XCTAssertEqual(replyError(bytes("$11\r\n"), limits: limits), protocolError("invalid bulk length"))
        XCTAssertEqual(replyError(bytes("!11\r\n"), limits: limits), protocolError("invalid bulk length"))
        XCTAssertNil(replyError(bytes("*3\r\n:1\r\n:2\r\n:3\r\n"), limits: limits))
        XCTAssertEqual(replyError(bytes("*4\r\n"), limits: limits), protocolError("invalid multibulk length"))
        XCTAssertEqual(replyError(bytes("%4\r\n"), limits: limits), protocolError("invalid multibulk length"))
        XCTAssertEqual(replyError(bytes("+" + String(repeating: "a", count: 20)), limits: limits),
                       protocolError("too big reply line"))
        XCTAssertNil(replyError(bytes("+" + String(repeating: "a", count: 19) + "\r\n"), limits: limits))
        // 3 x 3 x (":1\r\n") nested stays under 100 bytes; 3 x 3 x 3 bulk strings of 10 do not.
        let small = "*3\r\n" + String(repeating: "*3\r\n:1\r\n:2\r\n:3\r\n", count: 3)
        XCTAssertNil(replyError(bytes(small), limits: limits))
        let large = "*3\r\n" + String(repeating: "*3\r\n" + String(repeating: "$10\r\n0123456789\r\n", count: 3), count: 3)
        XCTAssertEqual(replyError(bytes(large), limits: limits), .queryBufferLimit)
        XCTAssertEqual(replyError(bytes(String(repeating: "*3\r\n", count: 3) + String(repeating: "x", count: 100)),
                                  limits: RESPLimits(maxInlineLength: 1000, maxQueryBuffer: 100)),
                       .queryBufferLimit)
    }

    func testDefaultBufferCap() {
        var stream = bytes("$2000000\r\n")
        stream += [UInt8](repeating: 0, count: 2_000_000) + bytes("\r\n")
        XCTAssertEqual(replyError(stream), .queryBufferLimit)
    }

    func testErrors() {
        let cases: [(String, String)] = [
            ("?\r\n", "unknown reply type '?'"),
            (":abc\r\n", "invalid integer"),
            (":\r\n", "invalid integer"),
            (",x\r\n", "invalid double"),
            ("#x\r\n", "invalid boolean"),
            ("#tt\r\n", "invalid boolean"),
            ("_x\r\n", "invalid null"),
            ("(12a\r\n", "invalid big number"),
            ("(\r\n", "invalid big number"),
            ("$x\r\n", "invalid bulk length"),
            ("$-2\r\n", "invalid bulk length"),
            ("!-1\r\n", "invalid bulk length"),
            ("$3\r\nabcd\r\n", "bulk string not terminated by CRLF"),
            ("=3\r\ntxt\r\n", "invalid verbatim string"),
            ("=5\r\ntxt;x\r\n", "invalid verbatim string"),
            ("*x\r\n", "invalid multibulk length"),
            ("~-1\r\n", "invalid multibulk length"),
            ("%-1\r\n", "invalid multibulk length"),
            ("+ok\rx\n", "expected '\\n' after '\\r'"),
        ]
        for (text, message) in cases {
            XCTAssertEqual(replyError(bytes(text)), protocolError(message), text)
        }
    }

    func testErrorsAreSticky() throws {
        var parser = RESPReplyParser()
        parser.append(bytes("+ok\r\n:x\r\n:1\r\n"))
        XCTAssertEqual(try parser.next(), .simpleString("OK".lowercased()))
        XCTAssertThrowsError(try parser.next())
        XCTAssertThrowsError(try parser.next()) { error in
            XCTAssertEqual(error as? RESPProtocolError, protocolError("invalid integer"))
        }
    }
}
