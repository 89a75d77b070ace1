import Configuration
import Foundation
import RESP
import XCTest

@testable import SentinelCore

/// Runs every Transcripts/*.txt: each block's directive is fed to a
/// `TranscriptWorld` and what it prints is compared with the block's expected
/// output. `WARDEN_REWRITE_TRANSCRIPTS=1` writes the actual output into the files
/// instead (review the diff before committing); `WARDEN_TRANSCRIPT=name` runs only
/// the files whose name contains `name`. The format is described in
/// Transcripts/README.md.
final class TranscriptTests: XCTestCase {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Transcripts")

    func testTranscripts() throws {
        let env = ProcessInfo.processInfo.environment
        let rewrite = env["WARDEN_REWRITE_TRANSCRIPTS"].map { $0 != "" && $0 != "0" } ?? false
        let only = env["WARDEN_TRANSCRIPT"]
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.directory.path)
            .filter { $0.hasSuffix(".txt") && (only == nil || $0.contains(only!)) }
            .sorted()
        XCTAssertFalse(files.isEmpty, "no transcripts in \(Self.directory.path)")
        for name in files {
            let url = Self.directory.appendingPathComponent(name)
            let shown = "Tests/SentinelCoreTests/Transcripts/\(name)"
            let text = try String(contentsOf: url, encoding: .utf8)
            let file: TranscriptFile
            do {
                file = try TranscriptFile(text: text)
            } catch {
                XCTFail("\(shown):\(error)")
                continue
            }
            let outcome = Self.run(file)
            if let (line, message) = outcome.error {
                XCTFail("\(shown):\(line): \(message)")
                continue
            }
            if rewrite {
                let updated = file.rewritten(with: outcome.outputs)
                if updated != text { try updated.write(to: url, atomically: true, encoding: .utf8) }
                continue
            }
            var differing: [String] = []
            for (block, actual) in zip(file.blocks, outcome.outputs) where block.expected != actual {
                let diff = LineDiff.render(expected: block.expected, actual: actual)
                differing.append("\(shown):\(block.line): output of `\(block.command)` differs (- expected, + actual):\n"
                                 + diff.map { "    " + $0 }.joined(separator: "\n"))
            }
            if !differing.isEmpty {
                // The first few (later ones often only follow from the first).
                var message = differing.prefix(3).joined(separator: "\n")
                if differing.count > 3 { message += "\n(and \(differing.count - 3) later block(s) of \(name) differ)" }
                message += "\nIf the new output is right: WARDEN_REWRITE_TRANSCRIPTS=1 swift test --filter TranscriptTests, then review git diff."
                XCTFail(message)
            }
        }
    }

    /// Runs a file's blocks in order: every block's output, or the first error.
    static func run(_ file: TranscriptFile) -> (outputs: [[String]], error: (Int, String)?) {
        let world = TranscriptWorld()
        var outputs: [[String]] = []
        for block in file.blocks {
            do {
                let extra = try perform(block, in: world)
                outputs.append(world.takeOutput() + extra)
            } catch {
                return (outputs, (block.line, "`\(block.command)`: \(error)"))
            }
        }
        return (outputs, nil)
    }

    typealias Failure = TranscriptWorld.Failure

    /// One directive. Returns lines to print after the effects' (for `state` and the like).
    static func perform(_ block: TranscriptFile.Block, in world: TranscriptWorld) throws -> [String] {
        guard let words = ConfigParser.splitArguments(world.expand(block.command)), let verb = words.first else {
            throw Failure("cannot split the directive into words (unbalanced quotes?)")
        }
        var args = Array(words.dropFirst())
        var options: [String: String] = [:]
        func takeOptions() {
            args = args.filter { a in
                guard let eq = a.firstIndex(of: "="), !a.hasPrefix("-"), !a.hasPrefix("+") else { return true }
                options[String(a[..<eq])] = String(a[a.index(after: eq)...])
                return false
            }
        }
        func arg(_ i: Int, _ what: String) throws -> String {
            guard i < args.count else { throw Failure("missing \(what)") }
            return args[i]
        }
        func number(_ text: String) throws -> Millis {
            guard let n = Millis(text) else { throw Failure("`\(text)` is not a number") }
            return n
        }
        func noBody() throws {
            if !block.body.isEmpty { throw Failure("`\(verb)` takes no input lines") }
        }

        switch verb {
        case "sentinel":
            takeOptions()
            guard !args.isEmpty else { throw Failure("name at least one sentinel") }
            try world.addSentinels(args, options: options, body: block.body)
        case "peer":
            try noBody()
            world.addPeers(args)
        case "redis":
            try noBody()
            try world.redis(try arg(0, "a node name"), Array(args.dropFirst()))
        case "show":
            try noBody()
            world.filter = try OutputFilter(parsing: args)
        case "tick":
            try noBody()
            try world.tick(args)
        case "run":
            try noBody()
            takeOptions()
            let ms = try number(try arg(0, "a duration in ms"))
            try world.run(ms, step: try number(options["step"] ?? "100"), until: options["until"])
        case "clock":
            try noBody()
            let delta = try arg(args.count - 1, "+ms or -ms")
            guard delta.hasPrefix("+") || delta.hasPrefix("-") else { throw Failure("write the change as +ms or -ms") }
            try world.clock(args.count > 1 ? args[0] : nil, by: try number(delta.hasPrefix("+") ? String(delta.dropFirst()) : delta))
        case "command":
            try noBody()
            guard args.count >= 2 else { throw Failure("command SENTINEL-NAME ARGS...") }
            try world.command(args[0], Array(args.dropFirst()))
        case "reply":
            let value: RESPValue
            if block.body.isEmpty {
                // The value is the rest of the line, unsplit (RESP text has its own quoting).
                let raw = world.expand(block.command)
                let parts = raw.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: true)
                guard parts.count == 4 else { throw Failure("reply SENTINEL NODE VALUE, or INFO text as input lines") }
                value = try RESPText.parse(String(parts[3]))
            } else {
                guard args.count == 2 else { throw Failure("reply SENTINEL NODE, then the INFO text") }
                value = .bulk(block.body.map(world.expand).joined(separator: "\r\n") + "\r\n")
            }
            try world.reply(try arg(0, "a sentinel"), try arg(1, "a node"), value)
        case "pending":
            try noBody()
            return world.pending()
        case "saved":
            try noBody()
            let result = try arg(1, "ok or fail")
            guard result == "ok" || result == "fail" else { throw Failure("saved NAME ok|fail") }
            try world.saved(try arg(0, "a sentinel"), ok: result == "ok")
        case "disk":
            try noBody()
            guard let mode = TranscriptWorld.DiskMode(rawValue: try arg(1, "ok, fail or manual")) else {
                throw Failure("disk NAME ok|fail|manual")
            }
            try world.setDisk(try arg(0, "a sentinel"), mode)
        case "scripts":
            try noBody()
            try world.setScripts(try arg(0, "a sentinel"), manual: try arg(1, "auto or manual") == "manual")
        case "script-started":
            try noBody()
            try world.script(try arg(0, "a sentinel"),
                             .scriptStarted(ScriptID(Int(try number(try arg(1, "a script id")))),
                                            pid: Int32(clamping: try number(try arg(2, "a pid")))))
        case "script-not-started":
            try noBody()
            try world.script(try arg(0, "a sentinel"), .scriptCouldNotStart(ScriptID(Int(try number(try arg(1, "a script id"))))))
        case "script-finished":
            try noBody()
            try world.script(try arg(0, "a sentinel"),
                             .scriptFinished(ScriptID(Int(try number(try arg(1, "a script id")))),
                                             exitStatus: Int32(clamping: try number(try arg(2, "an exit status"))),
                                             signal: Int32(clamping: try number(args.count > 3 ? args[3] : "0"))))
        case "freeze", "thaw":
            try noBody()
            try world.freeze(try arg(0, "a sentinel"), verb == "freeze")
        case "crash":
            try noBody()
            try world.crash(try arg(0, "a sentinel"))
        case "restart":
            try noBody()
            try world.restart(try arg(0, "a sentinel"))
        case "cut":
            try noBody()
            let bar = args.firstIndex(of: "|")
            try world.cut(Array(args[..<(bar ?? args.endIndex)]), bar.map { Array(args[($0 + 1)...]) } ?? [])
        case "heal":
            try noBody()
            world.heal()
        case "state":
            try noBody()
            return try world.state(try arg(0, "a sentinel"))
        case "nodes":
            try noBody()
            return world.nodeStates()
        default:
            throw Failure("unknown directive `\(verb)`")
        }
        return []
    }

    /// A wrong expectation is a difference, and a bad directive an error with its line.
    func testMismatchesAndErrorsAreReported() throws {
        let text = "redis m 127.0.0.1:6379 role=master\n----\n\nsentinel s1\nsentinel monitor mymaster 127.0.0.1 6379 1\n----\nnot this\n\nfly s1\n----\n"
        let file = try TranscriptFile(text: text)
        let outcome = Self.run(file)
        XCTAssertEqual(outcome.outputs.count, 2)
        XCTAssertEqual(outcome.outputs[1], ["0ms s1 +monitor master mymaster 127.0.0.1 6379 quorum 1"])
        XCTAssertNotEqual(outcome.outputs[1], file.blocks[1].expected)
        XCTAssertEqual(outcome.error?.0, 9)
        XCTAssertEqual(outcome.error?.1, "`fly s1`: unknown directive `fly`")
    }

    /// The format itself: blocks, rewriting, diffs and RESP text.
    func testFormat() throws {
        let text = "# c\nrun 5\n----\na\nb\n\ncommand s1 X\nbody\n----\n"
        let f = try TranscriptFile(text: text)
        XCTAssertEqual(f.blocks.map(\.command), ["run 5", "command s1 X"])
        XCTAssertEqual(f.blocks[1].body, ["body"])
        XCTAssertEqual(f.blocks[0].expected, ["a", "b"])
        XCTAssertEqual(f.rewritten(with: [["x"], ["y", "z"]]), "# c\nrun 5\n----\nx\n\ncommand s1 X\nbody\n----\ny\nz\n")
        XCTAssertThrowsError(try TranscriptFile(text: "run 5\n\n"))
        XCTAssertEqual(LineDiff.render(expected: ["a", "b", "c"], actual: ["a", "c", "d"]),
                       ["  a", "- b", "  c", "+ d"])
        XCTAssertEqual(LineDiff.render(expected: ["a"], actual: ["a"]), [])
        let v = try RESPText.parse("[:1, \"a\\r\\nb\", +OK, -ERR x y, (nil), []]")
        XCTAssertEqual(v, .array([.integer(1), .bulk("a\r\nb"), .ok, .error("ERR x y"), .bulkString(nil), .array([])]))
        XCTAssertEqual(RESPText.render(v), "[:1, \"a\\r\\nb\", +OK, -ERR x y, (nil), []]")
    }
}
