// swift-tools-version:6.0
import PackageDescription

// Warden: a redis-sentinel compatible failover manager.
// No package dependencies: the toolchain only (see docs/architecture.md).
let package = Package(
    name: "Warden",
    products: [
        .executable(name: "warden", targets: ["warden"]),
    ],
    targets: [
        // Syscalls Glibc does not export (epoll, eventfd, accept4).
        .target(name: "CSystem"),
        // RESP2/RESP3 values, incremental parser with limits, encoder. Pure.
        .target(name: "RESP"),
        // SHA-256, HMAC-SHA256, constant-time comparison and `Secret`. Pure.
        .target(name: "WardenCrypto"),
        // The sentinel protocol as a deterministic state machine. Pure: no I/O, no clock.
        .target(name: "SentinelCore", dependencies: ["RESP", "WardenCrypto"]),
        // The sentinel-mode command table (COMMAND) and ACL users, rules and checks. Pure.
        .target(name: "WardenACL", dependencies: ["RESP", "WardenCrypto", "SentinelCore"]),
        // sentinel.conf and the command line: parsing (file:line errors) and the
        // comment-preserving rewrite, into and out of SentinelCore's config model. Pure.
        .target(name: "Configuration", dependencies: ["SentinelCore", "RESP", "WardenCrypto", "WardenACL"]),
        // One reactor thread on epoll: sockets, timers, buffered writes.
        .target(name: "EventLoop", dependencies: ["CSystem"]),
        // Seeded, deterministic world of sentinels, fake Redis nodes, network and faults.
        .target(name: "Simulation", dependencies: ["SentinelCore", "RESP"]),
        // The daemon: drives SentinelCore with real sockets, serves clients, persists.
        .target(name: "WardenDaemon", dependencies: ["RESP", "SentinelCore", "Configuration", "EventLoop", "CSystem", "WardenCrypto", "WardenACL"]),
        .executableTarget(name: "warden", dependencies: ["WardenDaemon", "Configuration", "WardenACL"]),
        .testTarget(name: "RESPTests", dependencies: ["RESP"]),
        .testTarget(name: "WardenCryptoTests", dependencies: ["WardenCrypto"]),
        .testTarget(name: "SentinelCoreTests", dependencies: ["SentinelCore", "Configuration", "RESP"]),
        .testTarget(name: "ConfigurationTests", dependencies: ["Configuration", "SentinelCore", "WardenACL"]),
        .testTarget(name: "WardenACLTests", dependencies: ["WardenACL"]),
        .testTarget(name: "EventLoopTests", dependencies: ["EventLoop"]),
        .testTarget(name: "WardenDaemonTests", dependencies: ["WardenDaemon"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "SentinelCore", "RESP"]),
    ],
    swiftLanguageModes: [.v6]
)
