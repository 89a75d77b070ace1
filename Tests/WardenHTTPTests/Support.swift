import WardenHTTP

/// xorshift64*: a small seeded generator, so random splits and values are reproducible.
struct TestRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed }
    mutating func next() -> UInt64 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return state &* 0x2545_F491_4F6C_DD1D
    }
}

func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Feeds `stream` to a request parser in pieces of the given sizes (the rest in one
/// piece), draining requests after every piece. Returns the requests and the error.
func feedRequests(_ stream: [UInt8], pieces: [Int] = [], limits: HTTPLimits = .server)
    -> (requests: [HTTPRequest], error: HTTPParseError?) {
    var parser = HTTPRequestParser(limits: limits)
    var requests: [HTTPRequest] = []
    var offset = 0
    var sizes = pieces[...]
    repeat {
        let size = min(sizes.popFirst() ?? stream.count, stream.count - offset)
        parser.append(stream[offset..<offset + size])
        offset += size
        do {
            while let request = try parser.next() { requests.append(request) }
        } catch {
            return (requests, error)
        }
    } while offset < stream.count
    return (requests, nil)
}

/// Random piece sizes adding up to `total`.
func randomPieces(total: Int, maxPiece: Int, using random: inout TestRandom) -> [Int] {
    var pieces: [Int] = []
    var left = total
    while left > 0 {
        let n = Int.random(in: 1...max(1, min(maxPiece, left)), using: &random)
        pieces.append(n)
        left -= n
    }
    return pieces
}

/// Feeds a response in pieces, then signals the close.
func feedResponse(_ stream: [UInt8], pieces: [Int] = [], method: String = "POST", limits: HTTPLimits = .client,
                  close: Bool = true) -> Result<HTTPClientResponse?, HTTPParseError> {
    var parser = HTTPResponseParser(limits: limits, requestMethod: method)
    var offset = 0
    var sizes = pieces[...]
    var result: HTTPClientResponse?
    do {
        repeat {
            let size = min(sizes.popFirst() ?? stream.count, stream.count - offset)
            parser.append(stream[offset..<offset + size])
            offset += size
            if let response = try parser.next() { result = response }
        } while offset < stream.count
        if close {
            parser.finish()
            if let response = try parser.next() { result = response }
        }
    } catch {
        return .failure(error)
    }
    return .success(result)
}

#if canImport(Foundation)
import Foundation

/// The python3 to cross-check against: $WARDEN_PYTHON, the test virtualenv that
/// Tests/run.sh makes, or python3 on PATH.
func pythonPath() -> String {
    if let configured = ProcessInfo.processInfo.environment["WARDEN_PYTHON"], !configured.isEmpty { return configured }
    let venv = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/test-venv/bin/python3").path
    return FileManager.default.isExecutableFile(atPath: venv) ? venv : "/usr/bin/env"
}

/// Runs a Python script with `input` on stdin; returns its exit status and stdout.
func runPython(_ script: String, input: [UInt8] = []) throws -> (status: Int32, output: String) {
    let process = Process()
    let path = pythonPath()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = (path == "/usr/bin/env" ? ["python3"] : []) + ["-c", script]
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

/// True if the Python used by `runPython` can import `module`.
func pythonHas(_ module: String) -> Bool {
    (try? runPython("import \(module)").status) == 0
}
#endif
