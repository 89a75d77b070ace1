// swift-tools-version:6.0
import PackageDescription

// Warden: a redis-sentinel compatible failover manager.
// No package dependencies: the toolchain only, and the system OpenSSL for TLS
// (see docs/architecture.md).
let package = Package(
    name: "Warden",
    products: [
        .executable(name: "warden", targets: ["warden"]),
        .executable(name: "warden-sim", targets: ["warden-sim"]),
    ],
    targets: [
        // Syscalls Glibc does not export (epoll, eventfd, accept4).
        .target(name: "CSystem"),
        // TLS through the system OpenSSL (libssl-dev): contexts, non-blocking sessions.
        .target(name: "COpenSSL", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        // RESP2/RESP3 values, incremental parser with limits, encoder. Pure.
        .target(name: "RESP"),
        // SHA-256, HMAC-SHA256, constant-time comparison and `Secret`. Pure.
        .target(name: "WardenCrypto"),
        // HTTP/1.1 request and response parsers with limits, encoder, router, Server-Sent
        // Events, JSON, Prometheus text exposition. Pure: no I/O.
        .target(name: "WardenHTTP"),
        // Webhooks: Standard Webhooks signing, CloudEvents bodies, the `webhook` directive,
        // the per-endpoint delivery state machine and its persisted queue. Pure.
        .target(name: "WardenWebhooks", dependencies: ["WardenHTTP", "WardenCrypto"]),
        // HTTP/1.1 server and client on the EventLoop (limits, timeouts, event streams,
        // name resolution off the loop thread), and the webhook sender driving WardenWebhooks.
        .target(name: "WardenHTTPIO", dependencies: ["WardenHTTP", "WardenWebhooks", "EventLoop"]),
        // The sentinel protocol as a deterministic state machine. Pure: no I/O, no clock.
        .target(name: "SentinelCore", dependencies: ["RESP", "WardenCrypto"]),
        // The sentinel-mode command table (COMMAND) and ACL users, rules and checks. Pure.
        .target(name: "WardenACL", dependencies: ["RESP", "WardenCrypto", "SentinelCore"]),
        // sentinel.conf and the command line: parsing (file:line errors) and the
        // comment-preserving rewrite, into and out of SentinelCore's config model. Pure.
        .target(name: "Configuration", dependencies: ["SentinelCore", "RESP", "WardenCrypto", "WardenACL", "WardenWebhooks"]),
        // One reactor thread on epoll: sockets, timers, buffered writes, TLS.
        .target(name: "EventLoop", dependencies: ["CSystem", "COpenSSL"]),
        // Seeded, deterministic world of sentinels, fake Redis nodes, network and faults.
        .target(name: "Simulation", dependencies: ["SentinelCore", "RESP"]),
        // The daemon: drives SentinelCore with real sockets, serves clients, persists.
        .target(name: "WardenDaemon", dependencies: ["RESP", "SentinelCore", "Configuration", "EventLoop", "CSystem",
                                                     "WardenCrypto", "WardenACL", "WardenHTTP", "WardenHTTPIO", "WardenWebhooks"]),
        .executableTarget(name: "warden", dependencies: ["WardenDaemon", "Configuration", "WardenACL"]),
        // The simulation from the command line: replay one seed with its trace, or sweep a range.
        .executableTarget(name: "warden-sim", dependencies: ["Simulation", "SentinelCore"]),
        .testTarget(name: "RESPTests", dependencies: ["RESP"]),
        .testTarget(name: "WardenCryptoTests", dependencies: ["WardenCrypto"]),
        // Helpers of the tests of WardenHTTP, WardenWebhooks and WardenHTTPIO (running Python, seeded randomness).
        .target(name: "WardenTestSupport", path: "Tests/WardenTestSupport"),
        .testTarget(name: "WardenHTTPTests", dependencies: ["WardenHTTP", "WardenTestSupport"]),
        .testTarget(name: "WardenHTTPIOTests",
                    dependencies: ["WardenHTTPIO", "WardenHTTP", "WardenWebhooks", "EventLoop", "WardenTestSupport"]),
        .testTarget(name: "WardenWebhooksTests",
                    dependencies: ["WardenWebhooks", "WardenHTTP", "WardenCrypto", "SentinelCore", "WardenTestSupport"]),
        // Transcripts/ holds the transcript tests' text files, read from the source tree.
        .testTarget(name: "SentinelCoreTests", dependencies: ["SentinelCore", "Configuration", "RESP", "WardenCrypto"],
                    exclude: ["Transcripts"]),
        .testTarget(name: "ConfigurationTests", dependencies: ["Configuration", "SentinelCore", "WardenACL", "WardenCrypto"]),
        .testTarget(name: "WardenACLTests", dependencies: ["WardenACL"]),
        .testTarget(name: "EventLoopTests", dependencies: ["EventLoop"]),
        // ClientServer driven through in-memory transports (EmbeddedTransport), no sockets.
        .testTarget(name: "WardenDaemonTests",
                    dependencies: ["WardenDaemon", "RESP", "SentinelCore", "Configuration", "EventLoop", "WardenCrypto",
                                   "WardenHTTP", "WardenWebhooks"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "SentinelCore", "RESP"]),
    ],
    swiftLanguageModes: [.v6]
)
