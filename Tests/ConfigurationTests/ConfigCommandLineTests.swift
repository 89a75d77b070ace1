import XCTest
@testable import Configuration
import SentinelCore

final class ConfigCommandLineTests: XCTestCase {
    private func request(_ args: String...) throws -> CommandLineRequest {
        try WardenCommandLine.parse(["warden"] + args)
    }

    private func overrides(_ args: String...) throws -> String {
        guard case let .run(_, overrides, _) = try WardenCommandLine.parse(["warden", "s.conf"] + args) else {
            XCTFail("expected a run request")
            return ""
        }
        return overrides
    }

    func testVersionAndHelp() throws {
        XCTAssertEqual(try request("-v"), .version)
        XCTAssertEqual(try request("--version"), .version)
        XCTAssertEqual(try request("-h"), .help)
        XCTAssertEqual(try request("--help"), .help)
        XCTAssertTrue(WardenCommandLine.usage(program: "warden").contains("warden /path/to/sentinel.conf"))
    }

    func testConfigFileIsRequired() {
        for argv in [["warden"], ["warden", "--port", "26380"], ["warden", "--test-config"]] {
            XCTAssertThrowsError(try WardenCommandLine.parse(argv)) { error in
                XCTAssertEqual(error as? CommandLineError,
                               CommandLineError(message: "Sentinel needs config file on disk to save state. Exiting..."))
            }
        }
        XCTAssertThrowsError(try WardenCommandLine.parse(["warden", "-"]))
        XCTAssertThrowsError(try WardenCommandLine.parse(["warden", "s.conf", "-"]))
    }

    func testRunRequest() throws {
        XCTAssertEqual(try request("/etc/sentinel.conf"),
                       .run(configPath: "/etc/sentinel.conf", overrides: "", testConfig: false))
        XCTAssertEqual(try request("/etc/sentinel.conf", "--test-config"),
                       .run(configPath: "/etc/sentinel.conf", overrides: "", testConfig: true))
        XCTAssertEqual(try request("--test-config", "/etc/sentinel.conf", "--port", "1"),
                       .run(configPath: "/etc/sentinel.conf", overrides: "port 1 ", testConfig: true))
    }

    func testOverridesBecomeConfigLines() throws {
        XCTAssertEqual(try overrides("--port", "26380"), "port 26380 ")
        XCTAssertEqual(try overrides("--port", "26380", "--sentinel", "monitor", "m", "127.0.0.1", "6379", "2"),
                       "port 26380 \nsentinel monitor m 127.0.0.1 6379 2 ")
        XCTAssertEqual(try overrides("--port 26380", "--loglevel", "debug"), "port 26380 \nloglevel debug ",
                       "name and value in one argument")
        XCTAssertEqual(try overrides("--requirepass", "a b\"c"), "requirepass \"a b\\\"c\" ",
                       "values are quoted when needed")
        XCTAssertEqual(try overrides("--requirepass", "--dashes"), "requirepass --dashes ",
                       "an awaited value may start with --")
        XCTAssertEqual(try overrides("--sentinel", "--port", "1"), "sentinel \nport 1 ",
                       "--sentinel alone is redis-server's sentinel-mode switch")
        XCTAssertEqual(try overrides("--port", "1", "--sentinel"), "port 1 \nsentinel ")
        XCTAssertEqual(try overrides("--save", "--port", "1"), "save \"\"\nport 1 ")
        XCTAssertEqual(try overrides("--port", "1", "--test-config"), "port 1 ")
    }

    func testFileThenOverrides() throws {
        let file = """
            port 26379
            sentinel monitor m 127.0.0.1 6379 2
            """
        let argv = ["warden", "s.conf", "--port", "26390", "--sentinel", "down-after-milliseconds", "m", "500",
                    "--sentinel", "monitor", "n", "127.0.0.1", "7000", "1", "--sentinel"]
        guard case let .run(path, overrides, testConfig) = try WardenCommandLine.parse(argv) else {
            return XCTFail("expected a run request")
        }
        XCTAssertEqual(path, "s.conf")
        XCTAssertFalse(testConfig)
        let config = try WardenCommandLine.parse(fileText: file, file: path, overrides: overrides)
        XCTAssertEqual(config.port, 26390, "overrides win")
        XCTAssertEqual(config.masters.map(\.name), ["m", "n"])
        XCTAssertEqual(config.masters[0].downAfter, 500)
    }

    func testErrorsInOverridesNameTheCommandLine() throws {
        let overrides = try overrides("--port", "26390", "--loglevel", "loud")
        XCTAssertThrowsError(try WardenCommandLine.parse(fileText: "port 1\n\n\n", file: "s.conf",
                                                         overrides: overrides)) { error in
            guard let error = error as? ConfigError else { return XCTFail("not a ConfigError") }
            XCTAssertEqual(error.file, "(command line)")
            XCTAssertEqual(error.line, 2)
            XCTAssertEqual(error.lineText, "loglevel loud")
            XCTAssertEqual(error.description,
                           "(command line):2: argument(s) must be one of the following: "
                           + "debug, verbose, notice, warning, nothing")
            XCTAssertTrue(error.redisStyleReport.contains("Reading the command line options, at line 2"))
        }
        // A sentinel line in the overrides refers to a master in the file, and vice versa.
        XCTAssertThrowsError(try WardenCommandLine.parse(
            fileText: "sentinel monitor m 127.0.0.1 6379 2", file: "s.conf",
            overrides: "sentinel auth-pass nosuch x")) { error in
            XCTAssertEqual((error as? ConfigError)?.file, "(command line)")
            XCTAssertEqual((error as? ConfigError)?.line, 1)
        }
        XCTAssertThrowsError(try WardenCommandLine.parse(
            fileText: "\nsentinel auth-pass m x", file: "s.conf", overrides: "bogus 1")) { error in
            XCTAssertEqual((error as? ConfigError)?.file, "(command line)", "server directives fail first")
        }
        let config = try WardenCommandLine.parse(
            fileText: "sentinel auth-pass m x", file: "s.conf",
            overrides: "sentinel monitor m 127.0.0.1 6379 2")
        XCTAssertEqual(config.masters.first?.authPass, "x")
    }
}
