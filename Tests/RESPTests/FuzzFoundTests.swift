import Foundation
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

    private func requestOutcome(_ pieces: [[UInt8]], limits: RESPLimits) -> (Int, RESPProtocolError?) {
        var parser = RESPRequestParser(limits: limits)
        parser.authenticated = true
        var commands = 0
        do {
            for piece in pieces {
                parser.append(piece)
                while try parser.nextArguments() != nil { commands += 1 }
            }
        } catch {
            return (commands, error)
        }
        return (commands, nil)
    }

    /// resp_request (found by the 20 s CI run): a bulk header line too long, deep in
    /// a command already near the query buffer cap, was "too big bulk count string"
    /// when it arrived in one read but the cap when it arrived byte by byte. The
    /// limit a byte-by-byte feed would reach first now wins either way.
    func testRequestErrorDoesNotDependOnSplits() {
        // Four arguments of a command take 100 bytes (of the 128 allowed), then a
        // header line with no end: it is too long at byte 133, the command too big at 129.
        let head = bytes("*5\r\n$5\r\nHELLO\r\n$1\r\n3\r\n$64\r\n") + [UInt8](repeating: 0x61, count: 64)
            + bytes("\r\n$1\r\nx\r\n")
        let tooLongLine = head + bytes("$") + [UInt8](repeating: 0x39, count: 60)
        let whole = requestOutcome([tooLongLine], limits: small)
        let bytewise = requestOutcome(tooLongLine.map { [$0] }, limits: small)
        XCTAssertEqual(whole.1, .queryBufferLimit)
        XCTAssertEqual(bytewise.1, .queryBufferLimit)
        // Near the start of a command the line limit is reached first, split or not.
        let early = bytes("*2\r\n$") + [UInt8](repeating: 0x39, count: 40)
        XCTAssertEqual(requestOutcome([early], limits: small).1, .protocolError("too big bulk count string"))
        XCTAssertEqual(requestOutcome(early.map { [$0] }, limits: small).1, .protocolError("too big bulk count string"))
        // A header that ends past the cap is the cap, whatever it says (found next).
        let badHeader = head + [UInt8](repeating: 0xFF, count: 30) + bytes("\r\n")
        XCTAssertEqual(requestOutcome([badHeader], limits: small).1, .queryBufferLimit)
        XCTAssertEqual(requestOutcome(badHeader.map { [$0] }, limits: small).1, .queryBufferLimit)
        // The fuzzer's own input.
        let found = Array(Data(base64Encoded: "KjUNCiQ1DQpIRUxMTw0KJDENCjMNCiQ0Nw0KZGVmYXVsdA0KJDYNCnNlY3JldA0KKjANCiotMQ0KCioNMyRDbG9zZUJTQ1JJQkUNCiQxOA0KX19zZW50aW7/////////////////////////////////////////////////////////////////////////////ZWxfXzpoZWxsbw0KJDE0DQorc3dpdGNoLS1hc3Rlcg0KSU5GTyBzZW50aW5lbA0K")!)
        XCTAssertEqual(requestOutcome([found], limits: small).1, requestOutcome(found.map { [$0] }, limits: small).1)
    }
}
