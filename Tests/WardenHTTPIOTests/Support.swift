import EventLoop
import Foundation
import WardenHTTP
import WardenHTTPIO
import WardenTestSupport
import XCTest

/// A process run beside the loop (curl, a Python peer): its output is collected on
/// threads of its own (not Dispatch's few workers, which blocked reads would starve),
/// so the test thread can run the loop meanwhile.
final class Subprocess: @unchecked Sendable {
    private let process = Process()
    private let lock = NSLock()
    private var output = Data()
    private var errors = Data()
    private var done = false
    private let group = DispatchGroup()

    init(_ executable: String, _ arguments: [String], input: [UInt8]? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let stdout = Pipe(), stderr = Pipe(), stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        if let input {
            stdin.fileHandleForWriting.write(Data(input))
            try stdin.fileHandleForWriting.close()
        }
        for (pipe, isError) in [(stdout, false), (stderr, true)] {
            group.enter()
            Thread {
                // Piece by piece, so the lines of a long-running peer are seen as they come.
                while true {
                    let data = pipe.fileHandleForReading.availableData
                    if data.isEmpty { break }
                    self.lock.lock()
                    if isError { self.errors.append(data) } else { self.output.append(data) }
                    self.lock.unlock()
                }
                self.group.leave()
            }.start()
        }
        let process = self.process
        Thread {
            process.waitUntilExit()
            self.group.wait()
            self.lock.lock()
            self.done = true
            self.lock.unlock()
        }.start()
    }

    /// python3 (the one the unit tests use) with a script.
    static func python(_ script: String, _ arguments: [String] = []) throws -> Subprocess {
        let path = pythonPath()
        return try Subprocess(path, (path == "/usr/bin/env" ? ["python3"] : []) + ["-u", "-c", script] + arguments)
    }

    static func curl(_ arguments: [String], input: [UInt8]? = nil) throws -> Subprocess {
        try Subprocess("/usr/bin/env", ["curl", "-sS", "--max-time", "20"] + arguments, input: input)
    }

    var isFinished: Bool { lock.lock(); defer { lock.unlock() }; return done }
    var stdout: String { lock.lock(); defer { lock.unlock() }; return String(decoding: output, as: UTF8.self) }
    var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: errors, as: UTF8.self) }
    var status: Int32 { process.terminationStatus }

    /// Lines written so far.
    var lines: [String] { stdout.split(separator: "\n").map(String.init) }

    func kill() {
        if process.isRunning { process.terminate() }
    }
}

/// Runs the loop on the test thread until `done()` holds (checked every 5 ms) or
/// `limitMs` passes; true if `done()` held.
@discardableResult
func runLoop(_ loop: EventLoop, limitMs: Int64 = 20_000, until done: @escaping () -> Bool,
             file: StaticString = #filePath, line: UInt = #line) -> Bool {
    final class Run { var active = true; var satisfied = false }
    let run = Run()
    func poll() {
        guard run.active else { return }
        if done() {
            run.satisfied = true
            loop.stop()
        } else {
            loop.schedule(afterMs: 5) { poll() }
        }
    }
    poll()
    let limit = loop.schedule(afterMs: limitMs) { if run.active { loop.stop() } }
    if !run.satisfied { loop.run() }
    run.active = false
    loop.cancel(limit)
    if !run.satisfied { XCTFail("condition not met within \(limitMs) ms", file: file, line: line) }
    return run.satisfied
}

/// Runs the loop until the processes have exited.
@discardableResult
func runLoop(_ loop: EventLoop, limitMs: Int64 = 20_000, untilExited processes: Subprocess...,
             file: StaticString = #filePath, line: UInt = #line) -> Bool {
    runLoop(loop, limitMs: limitMs, until: { processes.allSatisfy(\.isFinished) }, file: file, line: line)
}

/// Runs the loop for `ms` milliseconds (to see that nothing more happens).
func runLoop(_ loop: EventLoop, forMs ms: Int64) {
    let timer = loop.schedule(afterMs: ms) { loop.stop() }
    loop.run()
    loop.cancel(timer)
}
