#if canImport(Glibc)
import Glibc
#endif
import EventLoop
import SentinelCore
import Configuration
import WardenACL
import WardenDaemon

// warden /path/to/sentinel.conf [--port N] [--<directive> <value> ...]
// The same command line as redis-sentinel.

func fail(_ message: String) -> Never {
    var text = message + "\n"
    text.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    exit(1)
}

let request: CommandLineRequest
do {
    request = try WardenCommandLine.parse(CommandLine.arguments)
} catch {
    fail("\(error)")
}

switch request {
case .version:
    print("Warden \(WardenVersion.string) (redis-sentinel \(WardenVersion.redisCompatible) compatible)")
    exit(0)
case .help:
    print(WardenCommandLine.usage(program: CommandLine.arguments.first ?? "warden"))
    exit(0)
case .run(let givenPath, let overrides, let testConfig):
    // Absolute, as Redis makes it: `dir` may change the working directory.
    var configPath = givenPath
    if !configPath.hasPrefix("/") {
        var buf = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        if getcwd(&buf, buf.count) != nil {
            configPath = String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/" + configPath
        }
    }
    let file = ConfigFile(path: configPath)
    let text: String
    do {
        text = try file.read()
    } catch {
        fail("\(configPath):0: cannot read the configuration file: \(error)")
    }
    // Like redis-server, `dir` changes the working directory as soon as it is read, so
    // later relative paths (includes, scripts, logfile, aclfile) resolve from it.
    let loaded: LoadedConfig
    do {
        loaded = try WardenCommandLine.load(fileText: text, file: configPath, overrides: overrides,
                                            environment: .system)
    } catch {
        fail("\(error)\n\n\(error.redisStyleReport)")
    }
    let config = loaded.sentinel
    // From here on, as redis-server: fatal errors go to the log (stdout without a
    // logfile), not to stderr; --test-config keeps reporting on stderr.
    let startupLog = Logger(level: .warning, path: config.logfile)
    func fatal(_ message: String) -> Never {
        if testConfig { fail(message) }
        startupLog.log(.warning, message)
        exit(1)
    }
    let users: ACLUserStore
    do {
        users = try ACLSetup.initialUsers(sentinel: config, server: loaded.server)
    } catch {
        fatal("\(error)")
    }
    if testConfig {
        print("Configuration test passed")
        exit(0)
    }
    do {
        try ConfigFile.checkWritable(path: configPath)
    } catch {
        fatal("\(error)")
    }
    if config.daemonize {
        // Before any thread exists: fork, leave the terminal, keep running in the child.
        if daemon(1, 0) != 0 { fatal("daemonize failed: \(String(cString: strerror(errno)))") }
    }
    if let pidfile = config.pidfile {
        let f = fopen(pidfile, "w")
        if let f {
            fputs("\(getpid())\n", f)
            fclose(f)
        }
    }

    let loop: EventLoop
    do {
        loop = try EventLoop()
    } catch {
        fatal("Cannot start the event loop: \(error)")
    }
    let sentinel = Daemon(config: config, server: loaded.server, users: users, configPath: configPath,
                          configText: text, loop: loop)
    do {
        try sentinel.start()
    } catch let error as StartupError {
        fail(error.message)
    } catch {
        fatal("Could not create server TCP listening socket: \(error)")
    }

    sentinel.installShutdownSignals()
    loop.run()
    if let pidfile = config.pidfile { unlink(pidfile) }
    exit(0)
}
