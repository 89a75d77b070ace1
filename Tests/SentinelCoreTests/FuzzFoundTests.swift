import Configuration
import XCTest

@testable import SentinelCore

/// Inputs the fuzz targets in Tests/fuzz found, kept as tests.
final class FuzzFoundTests: XCTestCase {
    private let id = "2c4b7f1e9d0a3b5c6d7e8f9a0b1c2d3e4f5a6b7c"

    private func hello(_ sentinelHost: String, _ masterHost: String = "10.0.0.5",
                       acceptHostnames: Bool = true) -> Hello? {
        Hello.parse("\(sentinelHost),26379,\(id),7,mymaster,\(masterHost),6379,6", acceptHostnames: acceptHostnames)
    }

    /// sentinel_commands: a hello whose sentinel host was `127.0.0.\0\01` was taken,
    /// and the peer persisted as a known-sentinel line that sentinel.conf parsing then
    /// refused ("Can't resolve instance hostname"): anyone able to PUBLISH on the
    /// master could stop warden from starting again.
    func testHelloHostsMustBeIPLiteralsOrHostnames() {
        for host in ["127.0.0.\0\01", "", "a b", "\"x\"", "-bad.example", "bad..example", "1.2.3.4:5", "[::1]", "caf\u{e9}"] {
            XCTAssertNil(hello(host), host)
            XCTAssertNil(hello("127.0.0.1", host), host)
        }
        // Numeric hosts in the forms redis-sentinel accepts (getaddrinfo with
        // AI_NUMERICHOST), kept in the canonical form the config parser keeps.
        XCTAssertEqual(hello("127.1")?.sentinelAddress.host, "127.0.0.1")
        XCTAssertEqual(hello("::FFFF:1.2.3.4", "0:0::1")?.sentinelAddress.host, "::ffff:1.2.3.4")
        XCTAssertEqual(hello("::FFFF:1.2.3.4", "0:0::1")?.masterAddress.host, "::1")
        // Host names only where resolve-hostnames is on.
        XCTAssertNotNil(hello("sentinel-a.example", "redis-1"))
        XCTAssertNil(hello("sentinel-a.example", acceptHostnames: false))
        XCTAssertNil(hello("127.0.0.1", "redis-1", acceptHostnames: false))
        XCTAssertNotNil(hello("127.0.0.1", "::1", acceptHostnames: false))
    }

    /// The same through the core: what it keeps from a hello persists as a file
    /// that parses back to the same configuration.
    func testPersistedPeersFromHellosParseBack() throws {
        for resolveHostnames in [false, true] {
            let rig = CoreRig { $0.resolveHostnames = resolveHostnames }
            for host in ["127.0.0.\0\01", "peer-1.example", "0x7f.1", "::FFFF:127.0.0.2"] {
                rig.feed(.hello("\(host),26380,\(CoreRig.peerID),1,mymaster,127.0.0.1,6379,0"))
            }
            let snapshot = rig.sentinel.configSnapshot()
            let text = ConfigRewriter.rewrite(original: "", config: snapshot)
            XCTAssertEqual(try ConfigParser.parse(text, file: "t.conf"), snapshot, text)
            let hosts = snapshot.masters[0].knownSentinels.map(\.address.host)
            // The last accepted hello wins: each one moved the same peer.
            XCTAssertEqual(hosts, ["::ffff:127.0.0.2"], "resolve-hostnames \(resolveHostnames)")
        }
    }
}
