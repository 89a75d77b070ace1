import XCTest
import RESP

final class RESPEncoderTests: XCTestCase {
    private func encoded(_ value: RESPValue, _ version: RESPVersion) -> String {
        String(decoding: RESPEncoder.encode(value, version: version), as: UTF8.self)
    }

    /// Exact bytes of every type in both versions.
    func testExactBytes() {
        let cases: [(RESPValue, resp2: String, resp3: String)] = [
            (.simpleString("OK"), "+OK\r\n", "+OK\r\n"),
            (.error("ERR bad"), "-ERR bad\r\n", "-ERR bad\r\n"),
            (.integer(0), ":0\r\n", ":0\r\n"),
            (.integer(-42), ":-42\r\n", ":-42\r\n"),
            (.integer(Int64.max), ":9223372036854775807\r\n", ":9223372036854775807\r\n"),
            (.integer(Int64.min), ":-9223372036854775808\r\n", ":-9223372036854775808\r\n"),
            (.bulk("hello"), "$5\r\nhello\r\n", "$5\r\nhello\r\n"),
            (.bulkString([]), "$0\r\n\r\n", "$0\r\n\r\n"),
            (.bulkString(nil), "$-1\r\n", "_\r\n"),
            (.array(nil), "*-1\r\n", "_\r\n"),
            (.null, "$-1\r\n", "_\r\n"),
            (.array([]), "*0\r\n", "*0\r\n"),
            (.array([.integer(1), .bulk("a")]), "*2\r\n:1\r\n$1\r\na\r\n", "*2\r\n:1\r\n$1\r\na\r\n"),
            (.double(1.5), "$3\r\n1.5\r\n", ",1.5\r\n"),
            (.double(3), "$1\r\n3\r\n", ",3\r\n"),
            (.double(.infinity), "$3\r\ninf\r\n", ",inf\r\n"),
            (.double(-.infinity), "$4\r\n-inf\r\n", ",-inf\r\n"),
            (.double(.nan), "$3\r\nnan\r\n", ",nan\r\n"),
            (.boolean(true), ":1\r\n", "#t\r\n"),
            (.boolean(false), ":0\r\n", "#f\r\n"),
            (.bigNumber("3492890328409238509324850943850943825024385"),
             "$43\r\n3492890328409238509324850943850943825024385\r\n",
             "(3492890328409238509324850943850943825024385\r\n"),
            (.verbatim(format: "txt", text: bytes("Some string")), "$11\r\nSome string\r\n", "=15\r\ntxt:Some string\r\n"),
            (.map([RESPPair(.bulk("k1"), .integer(1)), RESPPair(.bulk("k2"), .null)]),
             "*4\r\n$2\r\nk1\r\n:1\r\n$2\r\nk2\r\n$-1\r\n",
             "%2\r\n$2\r\nk1\r\n:1\r\n$2\r\nk2\r\n_\r\n"),
            (.map([]), "*0\r\n", "%0\r\n"),
            (.set([.bulk("a"), .boolean(true)]), "*2\r\n$1\r\na\r\n:1\r\n", "~2\r\n$1\r\na\r\n#t\r\n"),
            (.push([.bulk("message"), .bulk("ch"), .bulk("hi")]),
             "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n",
             ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"),
            (.blobError(bytes("SYNTAX invalid\r\nsyntax")), "-SYNTAX invalid  syntax\r\n", "!22\r\nSYNTAX invalid\r\nsyntax\r\n"),
        ]
        for (value, resp2, resp3) in cases {
            XCTAssertEqual(encoded(value, .resp2), resp2, "\(value)")
            XCTAssertEqual(encoded(value, .resp3), resp3, "\(value)")
        }
    }

    func testLinesNeverContainCRorLF() {
        for version in [RESPVersion.resp2, .resp3] {
            XCTAssertEqual(encoded(.simpleString("a\r\nb\nc\rd"), version), "+a  b c d\r\n")
            XCTAssertEqual(encoded(.error("ERR x\ny"), version), "-ERR x y\r\n")
        }
        XCTAssertEqual(encoded(.bigNumber("12\r\n"), .resp3), "(12  \r\n")
    }

    func testNestedDowngrade() {
        let value = RESPValue.array([.map([RESPPair(.simpleString("s"), .set([.double(0.5)]))]), .null])
        XCTAssertEqual(encoded(value, .resp2), "*2\r\n*2\r\n+s\r\n*1\r\n$3\r\n0.5\r\n$-1\r\n")
        XCTAssertEqual(encoded(value, .resp3), "*2\r\n%1\r\n+s\r\n~1\r\n,0.5\r\n_\r\n")
    }

    func testVerbatimFormatIsAlwaysThreeBytes() {
        XCTAssertEqual(encoded(.verbatim(format: "markdown", text: bytes("x")), .resp3), "=5\r\nmar:x\r\n")
        XCTAssertEqual(encoded(.verbatim(format: "md", text: bytes("x")), .resp3), "=5\r\nmd :x\r\n")
    }

    /// Shortest round-trip digits, laid out like redis-server 7.2's d2string.
    func testDoubleFormatting() {
        let cases: [(Double, String)] = [
            (0, "0"), (-0.0, "-0"), (1, "1"), (-7, "-7"), (0.1, "0.1"), (-0.25, "-0.25"),
            (3.14159, "3.14159"), (1.0 / 3.0, "0.3333333333333333"), (123456.789, "123456.789"),
            (0.000123, "0.000123"), (1e-7, "1e-7"), (1.5e-10, "1.5e-10"), (1e18, "1000000000000000000"),
            (1e19, "1e+19"), (1.5e300, "1.5e+300"), (1e100, "1e+100"), (-2.5e-7, "-2.5e-7"),
            (Double.leastNonzeroMagnitude, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
            (4611686018427387904.0, "4611686018427387904"), (-4611686018427387904.0, "-4611686018427387904"),
            (9223372036854775808.0, "9223372036854776000"), (1.5e22, "1.5e+22"), (1.23456789e20, "1.23456789e+20"), (1.234567891234567e20, "123456789123456700000"),
        ]
        for (number, text) in cases {
            XCTAssertEqual(encoded(.double(number), .resp3), ",\(text)\r\n", "\(number)")
        }
    }

    func testEveryDoubleReadsBack() throws {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<2000 {
            let number = Double(bitPattern: generator.next())
            guard number.isFinite else { continue }
            let values = try parseReplies(RESPEncoder.encode(.double(number), version: .resp3))
            XCTAssertEqual(values, [.double(number)])
        }
    }

    func testEncodeCommand() {
        var out: [UInt8] = []
        RESPEncoder.encodeCommand(["SENTINEL", "masters"], into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "*2\r\n$8\r\nSENTINEL\r\n$7\r\nmasters\r\n")
        out.removeAll()
        RESPEncoder.encodeCommand([bytes("SET"), [0, 13, 10]], into: &out)
        XCTAssertEqual(out, bytes("*2\r\n$3\r\nSET\r\n$3\r\n") + [0, 13, 10] + bytes("\r\n"))
        XCTAssertEqual(RESPEncoder.encodeCommand(["PING"]), bytes("*1\r\n$4\r\nPING\r\n"))
        XCTAssertEqual(RESPEncoder.encodeCommand([String]()), bytes("*0\r\n"))
    }

    func testEncodeAppends() {
        var out = bytes("prefix")
        RESPEncoder.encode(.integer(12), version: .resp2, into: &out)
        XCTAssertEqual(String(decoding: out, as: UTF8.self), "prefix:12\r\n")
    }

    func testEncodedCommandsParseBackAsRequests() throws {
        let commands: [[[UInt8]]] = [args("PING"), args("SENTINEL", "is-master-down-by-addr", "127.0.0.1", "6379", "7", "*"),
                                     [[], [0, 255, 13, 10]]]
        var stream: [UInt8] = []
        for command in commands { RESPEncoder.encodeCommand(command, into: &stream) }
        XCTAssertEqual(try parseRequests(stream), commands)
    }
}
