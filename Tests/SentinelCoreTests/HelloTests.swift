import XCTest
import SentinelCore

final class HelloTests: XCTestCase {
    private let id = "2c4b7f1e9d0a3b5c6d7e8f9a0b1c2d3e4f5a6b7c"

    func testParsesWhatRedisSentinelPublishes() {
        let hello = Hello.parse("127.0.0.1,26379,\(id),7,mymaster,10.0.0.5,6379,6")
        XCTAssertEqual(hello, Hello(
            sentinelAddress: Address("127.0.0.1", 26379), runID: id, currentEpoch: 7,
            masterName: "mymaster", masterAddress: Address("10.0.0.5", 6379), masterConfigEpoch: 6))
    }

    func testIPv6AndHostnames() {
        let hello = Hello.parse("::1,26380,\(id),0,cache-1,fe80::1:2,7000,0")
        XCTAssertEqual(hello?.sentinelAddress, Address("::1", 26380))
        XCTAssertEqual(hello?.masterAddress, Address("fe80::1:2", 7000))
        XCTAssertEqual(hello?.masterName, "cache-1")
        let named = Hello.parse("sentinel-a.example,26379,\(id),1,m,redis-1.example,6379,1")
        XCTAssertEqual(named?.sentinelAddress.host, "sentinel-a.example")
    }

    func testSenderIsReadFromTheThirdFieldOnly() {
        let other = String(repeating: "a", count: 40)
        XCTAssertTrue(Hello.isSent(by: id, "127.0.0.1,26379,\(id),7,mymaster,10.0.0.5,6379,6"))
        XCTAssertTrue(Hello.isSent(by: id, "::1,1,\(id),"))
        XCTAssertFalse(Hello.isSent(by: id, "127.0.0.1,26379,\(other),7,mymaster,10.0.0.5,6379,6"))
        XCTAssertFalse(Hello.isSent(by: id, "127.0.0.1,26379,\(id)x,7,m,10.0.0.5,6379,6"))
        XCTAssertFalse(Hello.isSent(by: id, "127.0.0.1,26379,\(id.dropLast()),7,m,10.0.0.5,6379,6"))
        // Elsewhere in the payload it does not count; nor without the comma after it.
        XCTAssertFalse(Hello.isSent(by: id, "127.0.0.1,26379,\(other),7,\(id),10.0.0.5,6379,6"))
        XCTAssertFalse(Hello.isSent(by: id, "127.0.0.1,26379,\(id)"))
        XCTAssertFalse(Hello.isSent(by: id, ""))
        XCTAssertFalse(Hello.isSent(by: id, ",,,"))
        XCTAssertTrue(Hello.isSent(by: "", ",,,"))
    }

    func testPayloadRoundTrips() {
        let hello = Hello(
            sentinelAddress: Address("192.168.1.20", 5000), runID: id, currentEpoch: UInt64.max,
            masterName: "m y", masterAddress: Address("::ffff:1.2.3.4", 65535), masterConfigEpoch: 18)
        XCTAssertEqual(hello.payload, "192.168.1.20,5000,\(id),18446744073709551615,m y,::ffff:1.2.3.4,65535,18")
        XCTAssertEqual(Hello.parse(hello.payload), hello)
    }

    func testRejectsMalformedPayloads() {
        let good = ["127.0.0.1", "26379", id, "7", "mymaster", "10.0.0.5", "6379", "6"]
        XCTAssertNotNil(Hello.parse(good.joined(separator: ",")))

        func variant(_ index: Int, _ value: String) -> String {
            var fields = good
            fields[index] = value
            return fields.joined(separator: ",")
        }
        let bad = [
            "",
            good.dropLast().joined(separator: ","),
            (good + ["x"]).joined(separator: ","),
            good.joined(separator: ",") + ",",
            variant(0, ""),
            variant(1, "0"), variant(1, "65536"), variant(1, "-1"), variant(1, "+1"), variant(1, "63a"),
            variant(1, ""), variant(1, " 6379"),
            variant(2, String(id.dropLast())), variant(2, id + "0"), variant(2, ""),
            variant(3, "-1"), variant(3, "1.5"), variant(3, "18446744073709551616"), variant(3, ""),
            variant(4, ""),
            variant(5, ""),
            variant(6, "0"), variant(6, "99999999999999999999999"), variant(6, "x"),
            variant(7, "abc"), variant(7, ""),
        ]
        for payload in bad {
            XCTAssertNil(Hello.parse(payload), payload)
        }
    }
}
