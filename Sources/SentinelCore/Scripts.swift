import RESP

/// The queue of user scripts (notification-script, client-reconfig-script), with
/// Redis's limits: at most 256 queued and 16 running; a run longer than
/// script-max-runtime is killed; exit 1 or a signal is retried up to 10 times
/// with a doubling delay; any other non-zero exit is reported and dropped.
struct ScriptQueue {
    static let maxQueue = 256
    static let maxRunning = 16
    static let maxRetry = 10

    struct Job {
        let id: ScriptID
        let argv: [String]
        var running = false
        /// When it started, or (while waiting) when it may start; 0 = now.
        var startTime: Millis = 0
        var retryCount = 0
        var pid: Int32 = 0
    }

    var jobs: [Job] = []
    var nextID = 0
    var running: Int { jobs.filter(\.running).count }
}

extension Sentinel {
    func scheduleScript(path: String, args: [String]) {
        scripts.nextID += 1
        scripts.jobs.append(ScriptQueue.Job(id: ScriptID(scripts.nextID), argv: [path] + args))
        if scripts.jobs.count > ScriptQueue.maxQueue,
           let oldest = scripts.jobs.firstIndex(where: { !$0.running }) {
            scripts.jobs.remove(at: oldest)
        }
    }

    /// client-reconfig-script `<master> <leader|observer> <state> <from-ip> <from-port> <to-ip> <to-port>`.
    func callClientReconfigScript(_ m: Master, role: String, state: String, from: Address, to: Address) {
        guard let script = m.settings.clientReconfigScript else { return }
        scheduleScript(path: script, args: [m.name, role, state, from.host, String(from.port), to.host, String(to.port)])
    }

    func runPendingScripts() {
        var running = scripts.running
        for i in scripts.jobs.indices where running < ScriptQueue.maxRunning {
            var job = scripts.jobs[i]
            if job.running || (job.startTime != 0 && job.startTime > now) { continue }
            job.running = true
            job.startTime = now
            job.retryCount += 1
            scripts.jobs[i] = job
            running += 1
            out.append(.runScript(job.id, path: job.argv[0], args: Array(job.argv.dropFirst())))
        }
    }

    func killTimedOutScripts() {
        for job in scripts.jobs where job.running && elapsed(since: job.startTime) > timing.scriptMaxRuntime {
            emitGlobal(.warning, "-script-timeout", "\(job.argv[0]) \(job.pid)")
            out.append(.killScript(job.id))
        }
    }

    /// The driver started the script as process `pid`.
    public func scriptStarted(_ id: ScriptID, pid: Int32) {
        if let i = scripts.jobs.firstIndex(where: { $0.id == id }) { scripts.jobs[i].pid = pid }
    }

    func scriptFinished(_ id: ScriptID, exitStatus: Int32, signal: Int32) {
        guard let i = scripts.jobs.firstIndex(where: { $0.id == id }) else { return }
        var job = scripts.jobs[i]
        if (signal != 0 || exitStatus == 1) && job.retryCount != ScriptQueue.maxRetry {
            job.running = false
            job.pid = 0
            var delay = timing.scriptRetryDelay
            for _ in 1..<max(1, job.retryCount) { delay = delay *| 2 }
            job.startTime = now +| delay
            scripts.jobs[i] = job
        } else {
            if signal != 0 || exitStatus != 0 {
                emitGlobal(.warning, "-script-error", "\(job.argv[0]) \(signal) \(exitStatus)")
            }
            scripts.jobs.remove(at: i)
        }
    }

    /// SENTINEL PENDING-SCRIPTS.
    func pendingScriptsReply() -> RESPValue {
        .array(scripts.jobs.map { job in
            var fields: [RESPPair] = [
                RESPPair(.bulk("argv"), .array(job.argv.map { .bulk($0) })),
                RESPPair(.bulk("flags"), .bulk(job.running ? "running" : "scheduled")),
                RESPPair(.bulk("pid"), .bulk(String(job.pid))),
            ]
            if job.running {
                fields.append(RESPPair(.bulk("run-time"), .bulk(String(elapsed(since: job.startTime)))))
            } else {
                let delay = job.startTime != 0 ? max(0, job.startTime - now) : 0
                fields.append(RESPPair(.bulk("run-delay"), .bulk(String(delay))))
            }
            fields.append(RESPPair(.bulk("retry-num"), .bulk(String(job.retryCount))))
            return .map(fields)
        })
    }
}
