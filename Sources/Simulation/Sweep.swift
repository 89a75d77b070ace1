import Dispatch
import Synchronization

/// Many seeds of `ChaosRun`, spread over threads: what `warden-sim --seeds` and
/// the CI sweep (ChaosSweepTests) both run.
public enum Sweep {
    public struct Summary: Sendable {
        /// Failing seeds, in increasing order.
        public var failed: [UInt64] = []
        public var runs = 0
        public var promotions = 0
        /// Virtual time simulated, in all runs together.
        public var virtualMs: Int64 = 0
        public var seconds = 0.0
        public var jobs = 0
        public var seedsPerSecond: Double { seconds > 0 ? Double(runs) / seconds : 0 }
    }

    /// Runs every seed of `seeds` on `jobs` threads. `each` sees every result as it
    /// comes, with how many runs are done (one call at a time, in completion order).
    public static func run(_ seeds: ClosedRange<UInt64>, faults: FaultMix = .all, jobs: Int,
                           each: @Sendable (ChaosRun.Result, _ done: Int) -> Void = { _, _ in }) -> Summary {
        let next = Atomic<UInt64>(seeds.lowerBound)
        let summary = Mutex(Summary())
        let total = seeds.count
        let threads = max(1, min(jobs, total))
        let started = DispatchTime.now()
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while true {
                let seed = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard seed <= seeds.upperBound, seed >= seeds.lowerBound else { return }
                let r = ChaosRun.run(seed: seed, faults: faults)
                summary.withLock { s in
                    s.runs += 1
                    s.promotions += r.promotions
                    s.virtualMs += r.duration
                    if !r.passed { s.failed.append(seed) }
                    each(r, s.runs)
                }
            }
        }
        var result = summary.withLock { $0 }
        result.failed.sort()
        result.jobs = threads
        result.seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        return result
    }
}
