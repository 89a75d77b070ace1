import XCTest
@testable import Configuration
@testable import SentinelCore

/// The tls-* directives: parsing with redis-server 7.0's checks and texts, the start-up
/// checks of tlsConfigure, the config rewrite, and the ports that depend on them.
final class TLSConfigTests: XCTestCase {
    private func parse(_ text: String) throws -> SentinelConfig {
        try ConfigParser.parse(text, file: "test.conf")
    }

    private func assertError(_ text: String, _ reason: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try ConfigParser.parse(text, file: "test.conf")
            XCTFail("expected an error: \(reason)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.reason, reason, file: file, line: line)
            XCTAssertEqual(error.line, 1, file: file, line: line)
        }
    }

    func testDefaultsAreRedisDefaults() {
        let tls = TLSConfig()
        XCTAssertEqual(tls.port, 0)
        XCTAssertEqual(tls.authClients, .yes)
        XCTAssertTrue(tls.sessionCaching)
        XCTAssertEqual(tls.sessionCacheSize, 20480)
        XCTAssertEqual(tls.sessionCacheTimeout, 300)
        XCTAssertFalse(tls.preferServerCiphers)
        XCTAssertFalse(tls.replication)
        XCTAssertEqual(tls.protocolVersions, [.tlsv1_2, .tlsv1_3])
        XCTAssertFalse(tls.isEnabled)
        XCTAssertNil(tls.problem)
        for parameter in TLSConfig.Parameter.allCases {
            XCTAssertTrue(tls.isDefault(parameter), parameter.rawValue)
        }
    }

    func testEveryDirectiveParses() throws {
        let config = try parse("""
            port 0
            tls-port 26380
            tls-cert-file /tls/server.crt
            tls-key-file /tls/server.key
            tls-key-file-pass "pass word"
            tls-client-cert-file /tls/client.crt
            tls-client-key-file /tls/client.key
            tls-client-key-file-pass secret
            tls-ca-cert-file /tls/ca.crt
            tls-ca-cert-dir /etc/ssl/certs
            tls-auth-clients OPTIONAL
            tls-protocols "TLSv1.2 tlsv1.3"
            tls-ciphers DEFAULT:!MEDIUM
            tls-ciphersuites TLS_CHACHA20_POLY1305_SHA256
            tls-prefer-server-ciphers yes
            tls-session-caching no
            tls-session-cache-size 5000
            tls-session-cache-timeout 60
            tls-dh-params-file /tls/dh.pem
            tls-replication yes
            tls-cluster no
            """)
        XCTAssertEqual(config.port, 0)
        let tls = config.tls
        XCTAssertEqual(tls.port, 26380)
        XCTAssertEqual(tls.certFile, "/tls/server.crt")
        XCTAssertEqual(tls.keyFile, "/tls/server.key")
        XCTAssertEqual(tls.keyFilePass, "pass word")
        XCTAssertEqual(tls.clientCertFile, "/tls/client.crt")
        XCTAssertEqual(tls.clientKeyFile, "/tls/client.key")
        XCTAssertEqual(tls.clientKeyFilePass, "secret")
        XCTAssertEqual(tls.caCertFile, "/tls/ca.crt")
        XCTAssertEqual(tls.caCertDir, "/etc/ssl/certs")
        XCTAssertEqual(tls.authClients, .optional)
        XCTAssertEqual(tls.protocolVersions, [.tlsv1_2, .tlsv1_3])
        XCTAssertEqual(tls.ciphers, "DEFAULT:!MEDIUM")
        XCTAssertEqual(tls.ciphersuites, "TLS_CHACHA20_POLY1305_SHA256")
        XCTAssertTrue(tls.preferServerCiphers)
        XCTAssertFalse(tls.sessionCaching)
        XCTAssertEqual(tls.sessionCacheSize, 5000)
        XCTAssertEqual(tls.sessionCacheTimeout, 60)
        XCTAssertEqual(tls.dhParamsFile, "/tls/dh.pem")
        XCTAssertTrue(tls.replication)
        XCTAssertTrue(tls.hasClientIdentity)
        XCTAssertTrue(tls.isEnabled)
        XCTAssertNil(tls.problem)
    }

    func testEmptyStringsMeanUnset() throws {
        let tls = try parse("tls-cert-file \"\"\ntls-protocols \"\"\ntls-ca-cert-dir ''\n").tls
        XCTAssertNil(tls.certFile)
        XCTAssertNil(tls.protocols)
        XCTAssertNil(tls.caCertDir)
    }

    func testValueErrorsUseRedisTexts() {
        assertError("tls-port 65536", "argument must be between 0 and 65535 inclusive")
        assertError("tls-port abc", "argument couldn't be parsed into an integer")
        assertError("tls-session-cache-size -1", "argument must be between 0 and 2147483647 inclusive")
        assertError("tls-session-cache-timeout 2147483648", "argument must be between 0 and 2147483647 inclusive")
        assertError("tls-replication maybe", "argument must be 'yes' or 'no'")
        assertError("tls-session-caching 1", "argument must be 'yes' or 'no'")
        assertError("tls-auth-clients sometimes", "argument(s) must be one of the following: no, yes, optional")
        assertError("tls-protocols \"TLSv1.2 SSLv3\"",
                    "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.")
        assertError("tls-protocols \"  \"",
                    "Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.")
        assertError("tls-cert-file a b", "wrong number of arguments")
        assertError("tls-no-such-directive 1", "Bad directive or wrong number of arguments")
    }

    func testStartUpChecksOfTLSConfigure() throws {
        var tls = TLSConfig()
        tls.caCertFile = "/ca"
        XCTAssertNil(tls.problem, "nothing to check while TLS is off")
        tls.port = 6380
        XCTAssertEqual(tls.problem, "No tls-cert-file configured!")
        tls.certFile = "/cert"
        XCTAssertEqual(tls.problem, "No tls-key-file configured!")
        tls.keyFile = "/key"
        XCTAssertNil(tls.problem)
        tls.caCertFile = nil
        let needCA = "Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, "
            + "tls-replication or tls-auth-clients are enabled!"
        XCTAssertEqual(tls.problem, needCA, "tls-auth-clients is yes by default")
        tls.authClients = .no
        XCTAssertNil(tls.problem)
        tls.replication = true
        XCTAssertEqual(tls.problem, needCA)
        tls.caCertDir = "/etc/ssl/certs"
        XCTAssertNil(tls.problem)
        tls.port = 0
        XCTAssertTrue(tls.isEnabled, "tls-replication alone enables TLS")
    }

    func testHelloAndInfoPorts() {
        var config = SentinelConfig()
        config.port = 26379
        config.tls.port = 26380
        XCTAssertEqual(config.helloPort, 26379, "plain links: peers connect to the plain port")
        config.tls.replication = true
        XCTAssertEqual(config.helloPort, 26380, "TLS links: peers connect to the TLS port")
        config.announcePort = 9999
        XCTAssertEqual(config.helloPort, 9999)
        XCTAssertEqual(config.reportedPort, 26379)
        config.port = 0
        XCTAssertEqual(config.reportedPort, 26380)
    }

    // MARK: - Rewrite

    func testRewriteKeepsUnchangedLinesAndUpdatesChangedOnes() throws {
        let original = """
            port 0
            # TLS material
            tls-port 26380
            tls-cert-file /old/cert.pem
            tls-key-file /old/key.pem
            tls-auth-clients YES
            tls-replication yes
            tls-ca-cert-file /tls/ca.pem
            tls-cert-file /duplicate/cert.pem

            """
        var config = try parse(original)
        config.tls.certFile = "/new/cert with space.pem"
        config.tls.keyFile = "/new/key.pem"
        config.tls.ciphersuites = "TLS_AES_128_GCM_SHA256"
        let once = ConfigRewriter.rewrite(original: original, config: config)
        XCTAssertEqual(once, """
            port 0
            # TLS material
            tls-port 26380
            tls-cert-file "/new/cert with space.pem"
            tls-key-file /new/key.pem
            tls-auth-clients YES
            tls-replication yes
            tls-ca-cert-file /tls/ca.pem
            # Generated by CONFIG REWRITE
            tls-ciphersuites TLS_AES_128_GCM_SHA256
            sentinel current-epoch 0

            """)
        XCTAssertEqual(try parse(once), config)
        XCTAssertEqual(ConfigRewriter.rewrite(original: once, config: config), once, "idempotent")

        // Unsetting a path removes its line; a value back at its default is kept in place.
        config.tls.caCertFile = nil
        config.tls.caCertDir = "/etc/ssl/certs"
        config.tls.authClients = .yes
        config.tls.replication = false
        let twice = ConfigRewriter.rewrite(original: once, config: config)
        XCTAssertFalse(twice.contains("tls-ca-cert-file"))
        XCTAssertTrue(twice.contains("tls-replication no\n"))
        XCTAssertTrue(twice.contains("tls-ca-cert-dir /etc/ssl/certs\n"))
        XCTAssertEqual(try parse(twice), config)
    }

    func testEveryParameterRoundTrips() throws {
        var config = SentinelConfig()
        var tls = TLSConfig()
        let samples: [TLSConfig.Parameter: String] = [
            .port: "6390", .certFile: "/c", .keyFile: "/k", .keyFilePass: "p\"w", .clientCertFile: "/cc",
            .clientKeyFile: "/ck", .clientKeyFilePass: "cp", .dhParamsFile: "/dh", .caCertFile: "/ca",
            .caCertDir: "/cadir", .protocols: "TLSv1.3", .ciphers: "HIGH", .ciphersuites: "TLS_AES_256_GCM_SHA384",
            .preferServerCiphers: "yes", .sessionCaching: "no", .sessionCacheSize: "1", .sessionCacheTimeout: "2",
            .authClients: "no", .replication: "yes", .cluster: "yes",
        ]
        XCTAssertEqual(Set(samples.keys), Set(TLSConfig.Parameter.allCases))
        for (parameter, value) in samples {
            XCTAssertNil(tls.set(parameter, to: value), parameter.rawValue)
            XCTAssertEqual(tls.value(of: parameter), value)
            XCTAssertFalse(tls.isDefault(parameter), parameter.rawValue)
        }
        config.tls = tls
        let text = ConfigRewriter.rewrite(original: "", config: config)
        XCTAssertEqual(try parse(text), config)
        XCTAssertEqual(ConfigRewriter.rewrite(original: text, config: config), text)
    }
}
