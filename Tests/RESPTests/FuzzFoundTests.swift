import XCTest

@testable import RESP

/// Inputs the fuzz targets in Tests/fuzz found, kept as tests.
final class FuzzFoundTests: XCTestCase {
    private let small = RESPLimits(maxBulkLength: 64, maxMultibulkCount: 8, maxInlineLength: 32,
                                   maxQueryBuffer: 128, maxNestingDepth: 4)

    private func replyOutcome(_ pieces: [[UInt8]], limits: RESPLimits) -> ([RESPValue], RESPProtocolError?) {
        var parser = RESPReplyParser(limits: limits)
        var values: [RESPValue] = []
        do {
            for piece in pieces {
                parser.append(piece)
                while let value = try parser.next() { values.append(value) }
            }
        } catch {
            return (values, error)
        }
        return (values, nil)
    }

    /// resp_reply: with a reply near the size cap, a too long line was "too big
    /// reply line" when it arrived in one read but the cap when it arrived byte by
    /// byte. The cap, reached first, now wins either way.
    func testReplyErrorDoesNotDependOnSplits() {
        // 108 bytes of an array, then a 41-byte line without its end.
        let head = bytes("*3\r\n$50\r\n") + [UInt8](repeating: 0x61, count: 50) + bytes("\r\n$40\r\n")
            + [UInt8](repeating: 0x61, count: 40) + bytes("\r\n")
        let stream = head + bytes("+") + [UInt8](repeating: 0x62, count: 40)
        let whole = replyOutcome([stream], limits: small)
        let bytewise = replyOutcome(stream.map { [$0] }, limits: small)
        XCTAssertEqual(whole.1, .queryBufferLimit)
        XCTAssertEqual(bytewise.1, .queryBufferLimit)
        // A bad line ending just past the cap is the cap too, not "expected \n".
        let badEnd = head + bytes("+") + [UInt8](repeating: 0x62, count: 30) + bytes("\rx")
        XCTAssertEqual(replyOutcome([badEnd], limits: small).1, .queryBufferLimit)
        XCTAssertEqual(replyOutcome(badEnd.map { [$0] }, limits: small).1, .queryBufferLimit)
        // Away from the cap the line errors are unchanged.
        XCTAssertEqual(replyOutcome([bytes("+") + [UInt8](repeating: 0x62, count: 40)], limits: small).1,
                       .protocolError("too big reply line"))
        XCTAssertEqual(replyOutcome([bytes("+ab\rx")], limits: small).1,
                       .protocolError("expected '\\n' after '\\r'"))
    }

    /// resp_roundtrip: `-ERR a\nb\r\n` parsed to an error holding a newline, which
    /// no encoding can carry (the encoder writes it as a space), so the value did
    /// not survive a round trip. RESP forbids \n in those lines; no server sends one.
    func testNewlineInSimpleStringOrErrorIsAProtocolError() {
        XCTAssertEqual(replyOutcome([bytes("-ERR a\nb\r\n")], limits: .default).1,
                       .protocolError("invalid error reply"))
        XCTAssertEqual(replyOutcome([bytes("+OK\n\r\n")], limits: .default).1,
                       .protocolError("invalid simple string"))
        let fine = replyOutcome([bytes("+OK\r\n-ERR x\r\n")], limits: .default)
        XCTAssertEqual(fine.0, [.simpleString("OK"), .error("ERR x")])
        XCTAssertNil(fine.1)
    }

    /// A verbatim string's format is three bytes; non-ASCII ones became U+FFFD in
    /// the String and could not be written back as three bytes.
    func testVerbatimFormatMustBeASCII() {
        XCTAssertEqual(replyOutcome([bytes("=5\r\n\u{e9}x:a\r\n")], limits: .default).1,
                       .protocolError("invalid verbatim string"))
        XCTAssertEqual(replyOutcome([bytes("=5\r\nmkd:a\r\n")], limits: .default).0,
                       [.verbatim(format: "mkd", text: bytes("a"))])
    }
}
