import Glibc
import XCTest
@testable import SentinelCore

final class IPAddressTests: XCTestCase {
    func testStrictIPv4() {
        for good in ["0.0.0.0", "1.2.3.4", "127.0.0.1", "255.255.255.255", "10.0.0.10"] {
            XCTAssertTrue(IPAddress.isValidIPv4(good), good)
            XCTAssertTrue(IPAddress.isValid(good), good)
            XCTAssertFalse(IPAddress.isValidIPv6(good), good)
            XCTAssertEqual(IPAddress.normalize(good), good)
        }
        for bad in ["", "01.2.3.4", "1.2.3.04", "00.0.0.0", "256.1.1.1", "1.2.3", "1.2.3.4.5", "1.2.3.4.",
                    ".1.2.3", "1..2.3", "1.2.3.4 ", " 1.2.3.4", "127.1", "0x7f.0.0.1", "1.2.3.-4", "a.b.c.d",
                    "localhost", "1.2.3.4:6379"] {
            XCTAssertFalse(IPAddress.isValidIPv4(bad), bad)
            XCTAssertFalse(IPAddress.isValid(bad), bad)
            XCTAssertNil(IPAddress.normalize(bad), bad)
        }
    }

    func testStrictIPv6AndCanonicalText() {
        let canonical: [(String, String)] = [
            ("::", "::"), ("::1", "::1"), ("1::", "1::"), ("0:0:0:0:0:0:0:1", "::1"),
            ("0000::1", "::1"), ("ABCD::EF", "abcd::ef"), ("fe80::0001", "fe80::1"),
            ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"), ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
            ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"), ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
            ("::ffff:1.2.3.4", "::ffff:1.2.3.4"), ("0:0:0:0:0:ffff:102:304", "::ffff:1.2.3.4"),
            ("::1.2.3.4", "::1.2.3.4"), ("::0.0.0.2", "::2"), ("::ffff:0:1.2.3.4", "::ffff:0:102:304"),
            ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
        ]
        for (text, expected) in canonical {
            XCTAssertTrue(IPAddress.isValidIPv6(text), text)
            XCTAssertFalse(IPAddress.isValidIPv4(text), text)
            XCTAssertEqual(IPAddress.normalize(text), expected, text)
        }
        for bad in ["", ":", ":::", "1:::2", ":1::2", "1::2:", "1::2::3", "00000::1", "1:2:3:4:5:6:7:8:9",
                    "1:2:3:4:5:6:7:8::", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:1.2.3.4", "::ffff:01.2.3.4",
                    "::ffff:1.2.3", "::1.2.3.4:5", "fe80::1%1", "[::1]", "g::1", "::1 "] {
            XCTAssertFalse(IPAddress.isValidIPv6(bad), bad)
            XCTAssertNil(IPAddress.normalize(bad), bad)
        }
    }

    /// What `SENTINEL MONITOR` and `sentinel monitor` accept when hostnames are not resolved.
    func testNumericHostLikeGetaddrinfo() {
        let accepted: [(String, String)] = [
            ("1.2.3.4", "1.2.3.4"), ("127.1", "127.0.0.1"), ("127.0.1", "127.0.0.1"), ("1", "0.0.0.1"),
            ("0", "0.0.0.0"), ("0x7f.0.0.1", "127.0.0.1"), ("0X7F.1", "127.0.0.1"),
            ("0177.0.0.1", "127.0.0.1"), ("010.0.0.1", "8.0.0.1"), ("01.2.3.4", "1.2.3.4"),
            ("4294967295", "255.255.255.255"), ("1.0xffffff", "1.255.255.255"), ("1.2.65535", "1.2.255.255"),
            ("::1", "::1"), ("fe80::1%2", "fe80::1"), ("::1%0", "::1"), ("FE80::A%4294967295", "fe80::a"),
        ]
        for (text, expected) in accepted {
            XCTAssertEqual(IPAddress.normalizeNumericHost(text), expected, text)
        }
        for bad in ["", "1.2.3.08", "09", "0x", "0x.1.2.3", "4294967296", "1.2.3.0x100", "1.2.65536",
                    "1.2.3.4.5", "1.2.3.", "1.", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4%1", "fe80::1%",
                    "fe80::1%lo", "fe80::1%4294967296", "fe80::1%1%1", "localhost", "-1"] {
            XCTAssertNil(IPAddress.normalizeNumericHost(bad), bad)
        }
    }

    /// Random strings built from the characters that matter, compared with glibc's
    /// `inet_pton`/`inet_ntop` and `getaddrinfo(AI_NUMERICHOST)` on this machine.
    func testAgreesWithGlibc() {
        var rng = SplitMix64(seed: 42)
        let seeds = ["1.2.3.4", "255.0.10.1", "::", "::1", "fe80::1", "1:2:3:4:5:6:7:8", "::ffff:10.0.0.1",
                     "2001:db8::a:b", "0x7f.1", "0177.0.0.01", "1:0:0:0:1:0:0:0", "4294967295", "fe80::2%7"]
        let alphabet = Array("0123456789abcdefABFxX.:%".utf8)
        var checked = 0
        for _ in 0..<60_000 {
            var bytes = Array(seeds[Int(rng.next() % UInt64(seeds.count))].utf8)
            for _ in 0..<Int(rng.next() % 4) {
                let position = Int(rng.next() % UInt64(bytes.count + 1))
                let byte = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                switch rng.next() % 3 {
                case 0: bytes.insert(byte, at: position)
                case 1: if position < bytes.count { bytes.remove(at: position) }
                default: if position < bytes.count { bytes[position] = byte }
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            XCTAssertEqual(IPAddress.isValidIPv4(text), glibcPton(AF_INET, text) != nil, text)
            XCTAssertEqual(IPAddress.isValidIPv6(text), glibcPton(AF_INET6, text) != nil, text)
            XCTAssertEqual(IPAddress.normalize(text), glibcPton(AF_INET, text) ?? glibcPton(AF_INET6, text), text)
            XCTAssertEqual(IPAddress.normalizeNumericHost(text), glibcNumericHost(text), text)
            // The core's shortcut for "not a host name" never disagrees.
            if IPAddress.isCanonicalDottedQuad(text) { XCTAssertEqual(glibcNumericHost(text), text, text) }
            checked += 1
        }
        XCTAssertEqual(checked, 60_000)
    }

    /// `inet_pton` followed by `inet_ntop`, or nil if `inet_pton` refuses the text.
    private func glibcPton(_ family: Int32, _ text: String) -> String? {
        var buffer = [UInt8](repeating: 0, count: 16)
        guard inet_pton(family, text, &buffer) == 1 else { return nil }
        var out = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(family, buffer, &out, socklen_t(out.count)) != nil else { return nil }
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// What Redis's `anetResolve(..., ANET_IP_ONLY)` makes of a host.
    private func glibcNumericHost(_ text: String) -> String? {
        var hints = addrinfo()
        hints.ai_flags = AI_NUMERICHOST
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>? = nil
        guard getaddrinfo(text, nil, &hints, &result) == 0, let info = result else { return nil }
        defer { freeaddrinfo(info) }
        var out = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = info.pointee.ai_family
        let ok: Bool = info.pointee.ai_addr.withMemoryRebound(to: UInt8.self, capacity: 28) { raw in
            let sockaddr = UnsafeRawPointer(raw)
            if family == AF_INET {
                let address = sockaddr.advanced(by: MemoryLayout<sockaddr_in>.offset(of: \.sin_addr)!)
                return inet_ntop(AF_INET, address, &out, socklen_t(out.count)) != nil
            }
            let address = sockaddr.advanced(by: MemoryLayout<sockaddr_in6>.offset(of: \.sin6_addr)!)
            return inet_ntop(AF_INET6, address, &out, socklen_t(out.count)) != nil
        }
        guard ok else { return nil }
        return String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
