import Foundation

/// The python3 the unit tests check their output with: $WARDEN_PYTHON (Tests/run.sh
/// sets it), else the virtualenv Tests/run.sh makes, else python3 on PATH.
public func pythonPath() -> String {
    if let configured = ProcessInfo.processInfo.environment["WARDEN_PYTHON"], !configured.isEmpty { return configured }
    let venv = packageRoot.appendingPathComponent(".build/test-venv/bin/python3").path
    return FileManager.default.isExecutableFile(atPath: venv) ? venv : "/usr/bin/env"
}

/// The package's root directory.
public let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Runs a Python script with `input` on stdin and `arguments`; returns its exit status
/// and stdout (stderr goes to the test's output).
public func runPython(_ script: String, arguments: [String] = [], input: [UInt8] = []) throws -> (status: Int32, output: String) {
    let process = Process()
    let path = pythonPath()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = (path == "/usr/bin/env" ? ["python3"] : []) + ["-c", script] + arguments
    let stdin = Pipe(), stdout = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    try process.run()
    stdin.fileHandleForWriting.write(Data(input))
    try stdin.fileHandleForWriting.close()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: output, as: UTF8.self))
}

/// True if the Python of `runPython` can import `module`.
public func pythonHas(_ module: String) -> Bool {
    (try? runPython("import \(module)").status) == 0
}

/// xorshift64*: a small seeded generator, so random splits and values are reproducible.
public struct TestRandom: RandomNumberGenerator {
    private var state: UInt64
    public init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
    public mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}
