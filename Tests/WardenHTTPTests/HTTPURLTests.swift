import WardenHTTP
import XCTest

final class HTTPURLTests: XCTestCase {
    func testAccepted() throws {
        let cases: [(String, String, HTTPURL.HostKind, Int, String, String)] = [
            ("http://example.com", "example.com", .name, 80, "/", "example.com"),
            ("HTTPS://Hooks.Example.COM/warden?x=1&y=%20", "hooks.example.com", .name, 443, "/warden?x=1&y=%20", "hooks.example.com"),
            ("http://127.0.0.1:8080/hook", "127.0.0.1", .ipv4, 8080, "/hook", "127.0.0.1:8080"),
            ("http://[::1]:9000/", "::1", .ipv6, 9000, "/", "[::1]:9000"),
            ("https://[2001:DB8::8:800:200C:417A]/x", "2001:db8::8:800:200c:417a", .ipv6, 443, "/x", "[2001:db8::8:800:200c:417a]"),
            ("http://[::ffff:192.0.2.1]", "::ffff:192.0.2.1", .ipv6, 80, "/", "[::ffff:192.0.2.1]"),
            ("http://localhost?q", "localhost", .name, 80, "/?q", "localhost"),
            ("http://a-b.c0:1", "a-b.c0", .name, 1, "/", "a-b.c0:1"),
            ("http://example.com:80/", "example.com", .name, 80, "/", "example.com"),
        ]
        for (text, host, kind, port, target, authority) in cases {
            let url = try HTTPURL(parsing: text)
            XCTAssertEqual(url.host, host, text)
            XCTAssertEqual(url.hostKind, kind, text)
            XCTAssertEqual(url.port, port, text)
            XCTAssertEqual(url.target, target, text)
            XCTAssertEqual(url.authority, authority, text)
            XCTAssertEqual(try HTTPURL(parsing: url.description), url, "normal form reads back: \(url)")
        }
        XCTAssertTrue(try HTTPURL(parsing: "https://x").isSecure)
        XCTAssertEqual(try HTTPURL(parsing: "HTTP://X:8080/p").description, "http://x:8080/p")
    }

    func testRefusedWithReasons() {
        let cases: [(String, String)] = [
            ("ftp://example.com/", "unsupported scheme 'ftp' (use http or https)"),
            ("example.com/hook", "not an absolute URL (expected http://host/path or https://host/path)"),
            ("http:/example.com", "not an absolute URL (expected http://host/path or https://host/path)"),
            ("http://user:pw@example.com/", "credentials in the URL are not supported (use a webhook secret)"),
            ("http://example.com/#frag", "URL has a fragment ('#...'), which is never sent to the server"),
            ("http:///path", "URL has no host"),
            ("http://example.com:0/", "invalid port '0' (1-65535)"),
            ("http://example.com:65536/", "invalid port '65536' (1-65535)"),
            ("http://example.com:/", "invalid port '' (1-65535)"),
            ("http://example.com:http/", "invalid port 'http' (1-65535)"),
            ("http://[fe80::1%eth0]/", "IPv6 zone identifiers are not supported"),
            ("http://[::1/", "unterminated '[' in the host"),
            ("http://[::1]x/", "unexpected characters after the IPv6 address"),
            ("http://[1:2:3:4:5:6:7:8:9]/", "invalid IPv6 address '1:2:3:4:5:6:7:8:9'"),
            ("http://[1::2::3]/", "invalid IPv6 address '1::2::3'"),
            ("http://[12345::]/", "invalid IPv6 address '12345::'"),
            ("http://256.1.1.1/", "invalid IPv4 address '256.1.1.1'"),
            ("http://01.1.1.1/", "invalid IPv4 address '01.1.1.1'"),
            ("http://1.2.3/", "invalid IPv4 address '1.2.3'"),
            ("http://-bad.example/", "invalid host name '-bad.example'"),
            ("http://bad_host/", "invalid host name 'bad_host'"),
            ("http://a..b/", "invalid host name 'a..b'"),
            ("http://ex%41mple.com/", "invalid host name 'ex%41mple.com'"),
            ("http://exämple.com/", "URL contains non-ASCII characters (percent-encode them, and use the punycode form of a host name)"),
            ("http://example.com/a b", "URL contains a character that must be percent-encoded: ' '"),
            ("http://example.com/a\"b", "URL contains a character that must be percent-encoded: '\"'"),
            ("http://example.com/a\\b", "URL contains a character that must be percent-encoded: '\\'"),
            ("http://example.com/%zz", "invalid percent-escape in the URL"),
            ("http://example.com/" + String(repeating: "a", count: 2048), "URL longer than 2048 bytes"),
        ]
        for (text, reason) in cases {
            XCTAssertThrowsError(try HTTPURL(parsing: text), text) { XCTAssertEqual(($0 as? HTTPURLError)?.reason, reason, text) }
        }
        XCTAssertNoThrow(try HTTPURL(parsing: "http://" + String(repeating: "a", count: 63) + ".com"))
        XCTAssertThrowsError(try HTTPURL(parsing: "http://" + String(repeating: "a", count: 64) + ".com"))
    }
}
