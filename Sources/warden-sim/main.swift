import Foundation
import SentinelCore
import Simulation

// warden-sim: runs the deterministic simulation (Sources/Simulation) from the
// command line. One seed replays one run with its whole trace; a range of seeds
// is a sweep, spread over the cores, that lists the failing seeds.

let usage = """
    Usage: warden-sim --seed N [--faults LIST]
           warden-sim --seeds A..B [--faults LIST] [--jobs N] [--quiet]

    Runs seeded chaos runs of the simulated world (sentinel cores, fake Redis
    nodes, a network and disks with faults) and checks the invariants: one vote
    per sentinel per epoch (across restarts), no vote revealed before it is on
    disk, one leader per epoch, epochs never go back, no failover without ODOWN,
    and after healing one master per group that every replica and sentinel follows.

      --seed N        replay one run: its shape, faults and world actions, every
                      event the sentinels emitted, and what went wrong
      --seeds A..B    run seeds A to B (inclusive); print each failing seed, and
                      at the end the totals and seeds per second
      --faults LIST   only these kinds of fault, comma-separated (default all):
                      \(FaultMix.names.map(\.0).joined(separator: ", "))
      --jobs N        worker threads for a sweep (default: the number of cores)
      --quiet         a sweep prints only failing seeds' first lines and the totals
      --help          this text

    Exit status: 0 if every run kept every invariant and converged, 1 if one did
    not, 2 on a usage error.

    """

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("warden-sim: \(message)\n\(usage)".utf8))
    exit(2)
}

var seed: UInt64?
var range: ClosedRange<UInt64>?
var faults = FaultMix.all
var jobs = ProcessInfo.processInfo.activeProcessorCount
var quiet = false

var args = CommandLine.arguments.dropFirst()
@MainActor func value(_ option: String) -> String {
    guard let v = args.popFirst() else { fail("\(option) needs a value") }
    return v
}
while let arg = args.popFirst() {
    switch arg {
    case "--help", "-h":
        print(usage, terminator: "")
        exit(0)
    case "--seed":
        guard let n = UInt64(value(arg)) else { fail("--seed takes a whole number") }
        seed = n
    case "--seeds":
        let v = value(arg)
        let parts = v.components(separatedBy: "..")
        guard parts.count == 2, let a = UInt64(parts[0]), let b = UInt64(parts[1]), a <= b else {
            fail("--seeds takes A..B with A <= B, not \(v)")
        }
        range = a...b
    case "--faults":
        guard let mix = FaultMix(names: value(arg)) else { fail("unknown fault kind in --faults") }
        faults = mix
    case "--jobs":
        guard let n = Int(value(arg)), (1...256).contains(n) else { fail("--jobs takes 1 to 256") }
        jobs = n
    case "--quiet":
        quiet = true
    default:
        fail("unknown argument \(arg)")
    }
}

if let seed {
    guard range == nil else { fail("--seed and --seeds exclude each other") }
    let r = ChaosRun.run(seed: seed, faults: faults, keepEvents: true)
    print("seed \(seed): \(r.shape)")
    // Faults, world actions and events, merged in time order.
    func time(_ line: String) -> Int { Int(line.dropFirst(2).prefix { $0.isNumber }) ?? 0 }
    let lines = (r.trace.map { ($0, 0) } + r.events.map { ($0, 1) }).enumerated()
        .sorted { (time($0.element.0), $0.element.1, $0.offset) < (time($1.element.0), $1.element.1, $1.offset) }
    for (_, (line, kind)) in lines {
        print(kind == 0 ? "* \(line)" : "  \(line)")
    }
    print("promotions: \(r.promotions), virtual time: \(r.duration) ms")
    for v in r.violations { print("VIOLATION: \(v)") }
    for p in r.convergenceProblems { print("NOT CONVERGED: \(p)") }
    print(r.passed ? "passed" : "FAILED")
    exit(r.passed ? 0 : 1)
}

guard let range else { fail("give --seed N or --seeds A..B") }

let total = range.count
let mix = faults
let beQuiet = quiet
let result = Sweep.run(range, faults: mix, jobs: jobs) { r, done in
    if !r.passed {
        if beQuiet {
            print("FAILED seed \(r.seed): \(r.violations.first ?? r.convergenceProblems.first ?? "")")
        } else {
            print("FAILED " + r.report, terminator: "")
        }
    } else if !beQuiet && done % 1000 == 0 {
        print("... \(done) of \(total) seeds")
    }
}
let failed = result.failed
print("seeds \(range.lowerBound)..\(range.upperBound): \(total) runs, \(total - failed.count) passed, \(failed.count) failed")
print("failing seeds: \(failed.isEmpty ? "none" : failed.map(String.init).joined(separator: " "))")
print("promotions: \(result.promotions), virtual time: \(result.virtualMs / 1000) s")
print(String(format: "wall time: %.1f s with %d jobs, %.1f seeds/s", result.seconds, result.jobs, result.seedsPerSecond))
exit(failed.isEmpty ? 0 : 1)
