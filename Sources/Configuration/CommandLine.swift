import SentinelCore

/// What the command line asks the `warden` executable to do.
public enum CommandLineRequest: Equatable, Sendable {
    /// `-v` / `--version` as the first argument.
    case version
    /// `-h` / `--help` as the first argument.
    case help
    /// Load `configPath`, then the `overrides` text (config lines built from
    /// `--name value...` options, Redis style), then run, or only validate the
    /// result and exit when `testConfig` is set.
    case run(configPath: String, overrides: String, testConfig: Bool)
}

/// A command line that cannot be run; `message` is meant for stderr.
public struct CommandLineError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}

/// The `warden` command line, read the way redis-server's `main()` reads it in
/// sentinel mode:
///
///     warden /path/sentinel.conf [--name value ...] [--test-config]
///
/// The config file is required: Sentinel persists its state in it. Every
/// `--name` starts a new config line `name value...`; the arguments that follow it,
/// up to the next `--option` that is not itself awaited as a value, are its values
/// (quoted, so they reach the parser intact). An argument such as `"--port 26380"`
/// carries name and value at once. Overrides are applied after the file, so they win.
public enum WardenCommandLine {
    /// The name config errors carry for lines that came from the command line.
    public static let commandLineFile = "(command line)"

    /// Redis's message when sentinel mode is started without a config file.
    public static let missingConfigMessage =
        "Sentinel needs config file on disk to save state. Exiting..."

    /// Reads `argv`, which includes the program name at index 0 like C's argv.
    public static func parse(_ argv: [String]) throws(CommandLineError) -> CommandLineRequest {
        var args = Array(argv.dropFirst())
        guard let first = args.first else {
            throw CommandLineError(message: missingConfigMessage)
        }
        if first == "-v" || first == "--version" { return .version }
        if first == "-h" || first == "--help" { return .help }

        var testConfig = false
        // Accept `warden --test-config sentinel.conf` as well as the option at the end.
        while args.first == "--test-config" {
            testConfig = true
            args.removeFirst()
        }
        guard let path = args.first, !path.hasPrefix("-") else {
            if args.first == "-" { throw stdinNotSupported }
            throw CommandLineError(message: missingConfigMessage)
        }

        var options = ""
        // False right after an option name given alone, whose value must follow.
        var optionComplete = true
        var j = 1
        while j < args.count {
            let arg = args[j]
            let isLast = j == args.count - 1
            if arg == "-" && isLast {
                throw stdinNotSupported
            } else if optionComplete && arg.hasPrefix("--") {
                if arg == "--test-config" {
                    testConfig = true
                    j += 1
                    continue
                }
                if !options.isEmpty { options += "\n" }
                options += String(arg.dropFirst(2)) + " "
                let parts = ConfigParser.splitArguments(arg)
                if parts?.count == 1 {
                    optionComplete = false
                    let name = arg.lowercased()
                    let nextIsOption = !isLast && args[j + 1].hasPrefix("--")
                    // Like Redis: `--save` and `--sentinel` may stand without a value.
                    if name == "--save" && (isLast || nextIsOption) {
                        options += "\"\""
                        optionComplete = true
                    } else if name == "--sentinel" && nextIsOption {
                        optionComplete = true
                    }
                } else {
                    optionComplete = true
                }
            } else {
                options += ConfigRewriter.quoteIfNeeded(arg) + " "
                optionComplete = true
            }
            j += 1
        }
        return .run(configPath: path, overrides: options, testConfig: testConfig)
    }

    /// Parses the config file's text, then the command-line override lines, as one
    /// configuration. Errors in the overrides name `commandLineFile` and the line
    /// number inside `overrides`.
    public static func parse(
        fileText: String, file: String, overrides: String,
        isExecutable: (String) -> Bool = { _ in true }
    ) throws(ConfigError) -> SentinelConfig {
        let result = withoutActuallyEscaping(isExecutable) { check in
            Result { () throws(ConfigError) in
                try load(fileText: fileText, file: file, overrides: overrides,
                         environment: ConfigEnvironment(isExecutable: check)).sentinel
            }
        }
        return try result.get()
    }

    /// `parse` with the server settings too, asking `environment` for includes, `dir`
    /// and scripts.
    public static func load(
        fileText: String, file: String, overrides: String, environment: ConfigEnvironment
    ) throws(ConfigError) -> LoadedConfig {
        try ConfigParser.load(
            sources: [
                ConfigParser.ConfigSource(file: file, text: fileText),
                ConfigParser.ConfigSource(file: commandLineFile, text: overrides),
            ],
            environment: environment)
    }

    /// The text `warden --help` prints.
    public static func usage(program: String) -> String {
        """
        Usage: \(program) /path/to/sentinel.conf [options]
               \(program) /path/to/sentinel.conf --test-config
               \(program) -v or --version
               \(program) -h or --help

        The config file is required and must be writable: Sentinel saves its state in it.
        It takes every redis-server 7.0 directive (redis.conf) and the sentinel ones
        (sentinel.conf); docs/compatibility.md lists each and what Warden does with it.
        Options are config directives, applied after the file:

        Examples:
               \(program) /etc/redis/sentinel.conf
               \(program) /etc/redis/sentinel.conf --port 26380 --loglevel verbose
               \(program) sentinel.conf --sentinel monitor mymaster 127.0.0.1 6379 2
               \(program) sentinel.conf --http-port 8080

        Besides redis-sentinel's directives, Warden reads (see docs/http-api.md, docs/webhooks.md):
          http-port <port>            HTTP/JSON API, probes and /metrics on this port (0, the default: off)
          http-bind <addr> [...]      its addresses (default 127.0.0.1)
          http-token <token>          bearer token required for POSTs (16-1024 characters)
          http-token-reads yes|no     require the token for every request too (default no)
          http-max-connections <n>    default 256
          http-idle-timeout <ms>      idle kept-alive connections are closed (default 60000)
          http-request-timeout <ms>   slow requests are cut off (default 10000)
          webhook <id> <url> [secret <whsec_...>] [events <glob>[,<glob>...]] [timeout <ms>]
                                      POST a signed CloudEvent to <url> for each event (default: all);
                                      repeat the line for more endpoints; http:// or https://
          webhook-queue-limit <n>     deliveries waiting per endpoint (default 1000)
        At run time: SENTINEL CONFIG SET webhook.<id> "<url> ..." (or "" to remove; refused while
        deny-scripts-reconfig is yes), http-token, http-token-reads.

        """
    }

    private static let stdinNotSupported = CommandLineError(
        message: "Reading the configuration from standard input is not supported: "
            + "Sentinel needs a config file on disk to save state.")
}
