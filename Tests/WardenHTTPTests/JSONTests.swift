import WardenHTTP
import WardenTestSupport
import XCTest

final class JSONTests: XCTestCase {
    func testEncodeScalarsAndOrder() {
        let value: JSONValue = ["name": "mymaster", "port": 6379, "ok": true, "lag": 0.25, "none": nil,
                                "replicas": [1, -2, ["deep": []]], "z": [:]]
        XCTAssertEqual(value.text, #"{"name":"mymaster","port":6379,"ok":true,"lag":0.25,"none":null,"replicas":[1,-2,{"deep":[]}],"z":{}}"#)
        XCTAssertEqual(JSONValue.int(Int64.min).text, "-9223372036854775808")
        XCTAssertEqual(JSONValue.int(Int64.max).text, "9223372036854775807")
        XCTAssertEqual(JSONValue.double(1e-7).text, "1e-07")
        XCTAssertEqual(JSONValue.double(1e20).text, "1e+20")
        XCTAssertEqual(JSONValue.double(100).text, "100.0")
        XCTAssertEqual(JSONValue.double(-0.0).text, "-0.0")
        XCTAssertEqual(JSONValue.double(.nan).text, "null")
        XCTAssertEqual(JSONValue.double(-.infinity).text, "null")
    }

    func testObjectKeysReplaceInPlace() {
        var object: JSONObject = ["a": 1, "b": 2]
        object["a"] = 3
        object["c"] = 4
        object["b"] = nil
        XCTAssertEqual(JSONValue.object(object).text, #"{"a":3,"c":4}"#)
        XCTAssertEqual(JSONObject([("k", 1), ("k", 2)]).count, 1)
    }

    func testStringEscaping() {
        var all = ""
        for c in 0..<0x20 { all.unicodeScalars.append(Unicode.Scalar(UInt8(c))) }
        XCTAssertEqual(JSONValue.string(all).text,
                       #""\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f""#)
        XCTAssertEqual(JSONValue.string("q\"b\\s/\u{7F}é😀\u{2028}").text, "\"q\\\"b\\\\s/\u{7F}é😀\u{2028}\"")
        // Invalid UTF-8 from the outside (a master name is any bytes) becomes U+FFFD.
        XCTAssertEqual(JSONValue.bytes([0x61, 0xFF, 0x62, 0xC3]).text, "\"a\u{FFFD}b\u{FFFD}\"")
    }

    func testParse() throws {
        XCTAssertEqual(try JSONParser.parse(#" {"candidate": "10.0.0.1:6379", "n": [1, 2.5, -0, 1E3, true, false, null]} "#),
                       ["candidate": "10.0.0.1:6379", "n": [1, 2.5, 0, 1000.0, true, false, nil]])
        XCTAssertEqual(try JSONParser.parse(#""\u00e9\ud83d\ude00\n\/\"""#), .string("é😀\n/\""))
        XCTAssertEqual(try JSONParser.parse("9223372036854775807"), .int(Int64.max))
        XCTAssertEqual(try JSONParser.parse("9223372036854775808"), .double(9223372036854775808))
        XCTAssertEqual(try JSONParser.parse("-9223372036854775808"), .int(Int64.min))
        XCTAssertEqual(try JSONParser.parse("[]"), [])
        XCTAssertEqual(try JSONParser.parse("\"\u{7F}\""), "\u{7F}")
        let value = try JSONParser.parse(#"{"a": {"b": [10]}}"#)
        XCTAssertEqual(value["a"]?["b"]?.arrayValue?.first?.intValue, 10)
        XCTAssertNil(value["missing"])
    }

    func testParseErrors() {
        let bad = ["", " ", "{", "}", "[1,]", "{\"a\":1,}", "{'a':1}", "{\"a\" 1}", "{a:1}", "01", "-", "1.", ".5", "1e",
                   "+1", "NaN", "Infinity", "tru", "nulll", "[1 2]", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"",
                   "\"\u{1}\"", "\"\t\"", "\u{FEFF}{}", "// c\n1", "1 2", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
                   "1e400", "-1e400", "{\"a\":1,\"a\":2}"]
        for text in bad {
            XCTAssertThrowsError(try JSONParser.parse(text), text.debugDescription)
        }
        XCTAssertThrowsError(try JSONParser.parse([0x22, 0xFF, 0x22]))
        XCTAssertThrowsError(try JSONParser.parse([0x22, 0xED, 0xA0, 0x80, 0x22]))  // a surrogate in UTF-8
        XCTAssertThrowsError(try JSONParser.parse(#"{"a":1,"a":1}"#)) { error in
            XCTAssertEqual(error as? JSONParseError, JSONParseError(reason: "duplicate key", offset: 7))
        }
    }

    func testLimits() throws {
        let limits = JSONParser.Limits(maxBytes: 100, maxDepth: 3, maxStringBytes: 5, maxNumberLength: 6)
        XCTAssertNoThrow(try JSONParser.parse("[[[1]]]", limits: limits))
        XCTAssertThrowsError(try JSONParser.parse("[[[[1]]]]", limits: limits))
        XCTAssertThrowsError(try JSONParser.parse(#"{"a":{"b":{"c":{}}}}"#, limits: limits))
        XCTAssertThrowsError(try JSONParser.parse(String(repeating: " ", count: 101), limits: limits))
        XCTAssertNoThrow(try JSONParser.parse("\"12345\"", limits: limits))
        XCTAssertThrowsError(try JSONParser.parse("\"123456\"", limits: limits))
        XCTAssertNoThrow(try JSONParser.parse("123456", limits: limits))
        XCTAssertThrowsError(try JSONParser.parse("1234567", limits: limits))
        // Deep nesting with the default limit fails cleanly instead of overflowing the stack.
        XCTAssertThrowsError(try JSONParser.parse(String(repeating: "[", count: 50_000)))
    }

    private func randomValue(_ random: inout TestRandom, depth: Int = 0) -> JSONValue {
        switch Int.random(in: 0..<(depth > 3 ? 5 : 7), using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2: return .int(Int64.random(in: Int64.min...Int64.max, using: &random) >> Int64.random(in: 0...63, using: &random))
        case 3:
            let d = Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &random))
            return d.isFinite ? .double(d) : .double(0.5)
        case 4:
            let scalars = (0..<Int.random(in: 0...12, using: &random)).map { _ -> Character in
                let pool: [UInt32] = [0, 9, 10, 0x1F, 0x22, 0x5C, 0x41, 0x7F, 0xE9, 0x2028, 0xFFFD, 0x1F600]
                return Character(Unicode.Scalar(pool[Int.random(in: 0..<pool.count, using: &random)])!)
            }
            return .string(String(scalars))
        case 5: return .array((0..<Int.random(in: 0...4, using: &random)).map { _ in randomValue(&random, depth: depth + 1) })
        default:
            var object = JSONObject()
            for i in 0..<Int.random(in: 0...4, using: &random) { object["k\(i)\u{E9}"] = randomValue(&random, depth: depth + 1) }
            return .object(object)
        }
    }

    func testEncodeParseRoundTrip() throws {
        var random = TestRandom(seed: 8259)
        for _ in 0..<500 {
            let value = randomValue(&random)
            XCTAssertEqual(try JSONParser.parse(value.encoded, limits: .init(maxBytes: 1 << 20)), value)
        }
    }

    /// Python's json module reads what we write and, writing it back compactly,
    /// gives the same bytes: the escaping, number forms and key order agree.
    func testPythonReadsItTheSame() throws {
        var random = TestRandom(seed: 7159)
        var values: [JSONValue] = [
            ["a": 1, "b": [1.5, 1e-7, 1e21, 123456789.125, -0.0], "c": "\u{0}\u{1F}\"\\/\u{7F}é😀"],
        ]
        for _ in 0..<200 { values.append(randomValue(&random)) }
        let lines = values.map { $0.text }.joined(separator: "\n")
        let script = """
            import json, sys
            for line in sys.stdin.read().split("\\n"):
                print(json.dumps(json.loads(line), ensure_ascii=False, separators=(",", ":")))
            """
        let (status, output) = try runPython(script, input: Array(lines.utf8))
        XCTAssertEqual(status, 0)
        let back = output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        XCTAssertEqual(back.count, values.count)
        for (ours, theirs) in zip(values, back) {
            // Python writes integral doubles of 1e16 and more as "1e+16", as we do; the one known difference
            // is none, so the texts must be equal.
            XCTAssertEqual(ours.text, theirs)
        }
    }
}
